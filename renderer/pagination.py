"""Pages of a list and neighbours in one: `paginate` on a route makes its pages 2, 3, ...
at the table's own URL rule, each rendered with a `pager`; a page of an `each` route
gets `previous` and `next`, the items beside its own.

Both are worked out from their list when a page is rendered, read through the sources
like anything else a template reads, so the page depends on what the list was made
from (a collection's glob and its pages' front matter) and on nothing more. Neighbours
are found only for a template that names `previous` or `next`: who is beside a post
changes with any post's date, and a site that shows no neighbours should not render
every post again for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .config import SiteConfig
from .errors import RouteError, did_you_mean
from .fields import read_path
from .records import Record
from .routing import Router, Target, makes_files, output_path
from .sources import Sources
from .specs import RouteSpec

NEIGHBOURS = ("previous", "next")


class Pager:
    """`pager` in a paginated route's template. `urls`, every page's URL, is made when
    first read: 500 pages of an index would otherwise each build 500 URLs."""

    __slots__ = ("items", "number", "count", "total", "previous_url", "next_url", "_url_of",
                 "_urls")

    def __init__(self, items: list[Any], number: int, count: int, total: int,
                 url_of: Callable[[int], str]) -> None:
        self.items = items  # this page's
        self.number = number  # 1, 2, ...
        self.count = count  # pages
        self.total = total  # items, on every page
        self.previous_url = url_of(number - 1) if number > 1 else None
        self.next_url = url_of(number + 1) if number < count else None
        self._url_of = url_of
        self._urls: list[str] | None = None

    @property
    def urls(self) -> list[str]:
        if self._urls is None:
            self._urls = [self._url_of(number) for number in range(1, self.count + 1)]
        return self._urls

    def __repr__(self) -> str:
        return f"<Pager {self.number} of {self.count}, {self.total} items>"


def page_count(total: int, per_page: int) -> int:
    """Pages for `total` items: no items still make one (empty) page."""
    return max(1, -(-total // per_page))


class Sequences:
    """The pages of paginated routes and the neighbours of items, for one site."""

    def __init__(self, config: SiteConfig, sources: Sources, router: Router) -> None:
        self.config = config
        self.sources = sources
        self.router = router
        # By route: the source's value last stepped along (kept, so that its id stays its
        # own) and the position of each of its items by id: found once, not per page.
        self._positions: dict[int, tuple[Any, dict[int, int]]] = {}

    def pages(self, first: Target, record: Record) -> Iterator[Target]:
        """`first`, and when its route is paginated, its pages 2, 3, ..."""
        yield first
        route = first.route
        if route is None or route.paginate is None:
            return
        total = len(self.list_of(route, first.page, record))
        as_file = makes_files(route.paginate.url)
        for number in range(2, page_count(total, route.paginate.per_page) + 1):
            url = self.router.page_url(route, first.variables, number)
            try:
                output = output_path(url, as_file)
            except RouteError as error:  # the rule ("/../page/<int:page>/"), or a value
                raise RouteError(f"{route.label}: paginate.url: {error.message}",
                                 file=self.config.file, line=route.paginate.line) from None
            yield dataclasses.replace(first, url=url, output=output, number=number)

    def context(self, target: Target, record: Record, names: frozenset[str]) -> dict[str, Any]:
        """`pager` for a paginated route; `previous` and `next` for an `each` route whose
        template `names` them."""
        route = target.route
        assert route is not None
        extra: dict[str, Any] = {}
        if route.paginate is not None:
            items = self.list_of(route, target.page, record)
            per_page = route.paginate.per_page
            start = (target.number - 1) * per_page
            base, variables = self.config.base_path, target.variables

            def url_of(number: int) -> str:
                return base + self.router.page_url(route, variables, number).lstrip("/")

            extra["pager"] = Pager(items[start:start + per_page], target.number,
                                   page_count(len(items), per_page), len(items), url_of)
        if route.each is not None and not names.isdisjoint(NEIGHBOURS):
            extra["previous"], extra["next"] = self.neighbours(route, target, record)
        return extra

    def list_of(self, route: RouteSpec, item: Any, record: Record) -> list[Any]:
        """The list a paginated route pages through: a source, or a field of its item."""
        paginate = route.paginate
        assert paginate is not None
        where = f'{route.label}: paginate.items = "{paginate.items}"'
        if not paginate.field:
            value = self.sources.value(paginate.items, record)
        else:
            present, value = read_path(item, [paginate.items])
            if not present:
                keys = list(item) if isinstance(item, Mapping) else \
                    [name for name in dir(item) if not name.startswith("_")]
                raise RouteError(f"{where}, but the item {_named(item)} has no "
                                 f'"{paginate.items}"{did_you_mean(paginate.items, keys)}',
                                 file=self.config.file, line=paginate.line)
        if value is None or isinstance(value, (Mapping, str, bytes)) \
                or not isinstance(value, Iterable):
            of = f" of the item {_named(item)}" if paginate.field else ""
            raise RouteError(f"{where} gives {type(value).__name__}{of}, not a list of items",
                             file=self.config.file, line=paginate.line)
        return list(value)

    def neighbours(self, route: RouteSpec, target: Target, record: Record
                   ) -> tuple[Any, Any]:
        """The items before and after the target's in the route's list (None at the
        ends). A source's items are found by identity; a function's, made anew by each
        call, by their URL variables."""
        assert route.each is not None
        if route.each_function is not None:
            items = list(self.sources.call(route.each_function, record))
            position = next((i for i, item in enumerate(items)
                             if _has_variables(item, target.variables)), None)
        else:
            value = self.sources.value(route.each, record)
            known = self._positions.get(route.index)
            if known is None or known[0] is not value:
                known = self._positions[route.index] = (
                    value, {id(item): i for i, item in enumerate(value)})
            items = value if isinstance(value, list) else list(value)
            position = known[1].get(id(target.page))
        if position is None:
            return None, None
        return (items[position - 1] if position > 0 else None,
                items[position + 1] if position + 1 < len(items) else None)


def _has_variables(item: Any, variables: Mapping[str, Any]) -> bool:
    return all(read_path(item, [name]) == (True, value) for name, value in variables.items())



def _named(item: Any) -> str:
    """An item as a message names it: its file, or its name (a group's)."""
    if isinstance(item, Mapping) and isinstance(item.get("source"), str):
        return str(item["source"])
    name = getattr(item, "name", None)
    return repr(name) if name is not None else type(item).__name__
