"""Template filters and globals beyond Jinja's: the built-in ones (`slugify`, `date`,
`absolute_url`, and the `site_urls()` list) and the site's own, the public functions of
the files `[templates] filters` and `globals` name.

A site's function is wrapped so that calling it notes its file in the record of the page
being rendered: a page depends on a filters file when it uses one of its filters, not
whenever the file exists. (A page that looks up a global that does not exist depends on
the globals files too, see `templates.py`: adding the function changes that page.)
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urljoin, urlsplit

from .config import SiteConfig
from .errors import SiteError, SourceError
from .routing import Target
from .slugs import slugify

# Names every template gets in its context: a global of that name would never be seen.
CONTEXT_NAMES = frozenset({"site", "data", "page", "url", "url_for"})


def builtin_filters(base_url: str | None) -> dict[str, Callable[..., Any]]:
    return {"slugify": slugify, "date": date_filter,
            "absolute_url": functools.partial(absolute_url, base_url)}


def date_filter(value: Any, format: str = "%Y-%m-%d") -> str:
    """`{{ page.date | date("%d %B %Y") }}`: a date or date-time with a strftime format."""
    if not isinstance(value, datetime.date):
        raise SiteError(f"date filter: {_describe(value)} is not a date or a date-time "
                        "(front matter dates are; a date in a string is not)")
    if not isinstance(format, str):
        raise SiteError(f'date filter: the format must be a string like "%d %B %Y", '
                        f"not {_describe(format)}")
    return value.strftime(format)


def absolute_url(base_url: str | None, value: Any) -> str:
    """A URL made absolute from `[site] base_url`, resolved as a link on the site's home
    page would be: `/docs/a/` (as `url_for` gives it) and `a/` both become
    `https://example.org/docs/a/`; an absolute URL stays as it is."""
    if not base_url or not urlsplit(base_url).netloc:
        raise SiteError('absolute_url needs [site] base_url in site.toml, with a host: '
                        'base_url = "https://example.org/"')
    if not isinstance(value, str):
        raise SiteError(f"absolute_url: {_describe(value)} is not a URL or a path")
    return urljoin(base_url, value)


def _describe(value: Any) -> str:
    import jinja2

    if isinstance(value, jinja2.Undefined):  # its message names the page it was asked of
        return f"an undefined value ({value._undefined_message})"
    return f"{value!r} ({type(value).__name__})"


@dataclass(frozen=True, slots=True)
class SiteURL:
    """One URL of `site_urls()`: `url` as `url_for` gives it (with the base_url path),
    `absolute` (from base_url), the route's `name`, its `page` item and URL variables."""

    url: str
    name: str
    page: Any
    variables: Mapping[str, Any]
    base_url: str | None = field(default=None, repr=False)

    @property
    def absolute(self) -> str:
        return absolute_url(self.base_url, self.url)


def url_list(targets: Iterable[Target], config: SiteConfig) -> list[SiteURL]:
    """The URLs of the routes' targets (static files are not pages), in the order of the
    routes and their items."""
    return [SiteURL(config.base_path + target.url.lstrip("/"), target.route.name, target.page,
                    target.variables, config.base_url)
            for target in targets if target.route is not None]


def site_functions(module: ModuleType, path: Path, kind: str, taken: Iterable[str]
                   ) -> dict[str, Callable[..., Any]]:
    """The public functions defined in `module` (not imported into it, not classes), by
    name. One whose name is taken (a built-in filter, a global every template has) is an
    error at its line: replacing `truncate` or `url_for` by accident would break
    templates far from the file that did it."""
    taken = frozenset(taken)
    found = {}
    for name, value in vars(module).items():
        if name.startswith("_") or not callable(value) or isinstance(value, type) \
                or getattr(value, "__module__", None) != module.__name__:
            continue
        if name in taken:
            what = "a name every template has" if name in CONTEXT_NAMES else \
                f"the built-in {kind} of that name"
            raise SourceError(f'{kind} "{name}" would replace {what}; rename the function '
                              '(a name starting with "_" stays out of the templates)',
                              file=path, line=line_of(value))
        found[name] = value
    return found


def line_of(function: Any) -> int | None:
    """The line of a function's `def`."""
    code = getattr(function, "__code__", None) or getattr(
        getattr(function, "__wrapped__", None), "__code__", None)
    return code.co_firstlineno if code is not None else None


def recorded(function: Callable[..., Any], note: Callable[[], None]) -> Callable[..., Any]:
    """`function`, telling `note` on every call (Jinja's `pass_context` and the like, set
    as attributes, are kept)."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        note()
        return function(*args, **kwargs)

    return call
