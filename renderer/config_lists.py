"""The keys of `site.toml` that make lists from lists, checked: a source that groups
another (`tags = { group = "posts", by = "tags" }`) and a route's `paginate` table.

A module of its own below `config.py` (which calls it with its `fail`, an error at a key
path with its line) rather than more of `config.py`: that one reads the whole file, this
one knows what groups and pages need. What can only be known from the data (a grouped
source that gives no list, an item without the paginated field) is checked where the
data is read, in `groups.py` and `pagination.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import ConfigError, did_you_mean

GROUP_KEYS = ("group", "by")
PAGINATE_KEYS = ("items", "per_page", "url")
DEFAULT_PER_PAGE = 10
PAGE_VARIABLE = re.compile(r"<int(?:\([^)]*\))?:page>")
PAGINATE_EXAMPLE = 'paginate = { items = "posts", per_page = 10, url = "/page/<int:page>/" }'

Fail = Callable[..., ConfigError]
Specs = TypeVar("Specs", bound=Mapping[str, Any])


@dataclass(frozen=True)
class Paginate:
    """A route's `paginate`: the list (a source, or on an `each` route a field of the
    item), how many items a page holds, and the URL rule of pages 2, 3, ..."""

    items: str
    per_page: int
    url: str
    field: bool  # `items` names a field of the route's item, not a source
    line: int | None = None


def check_group(name: str, table: Mapping[str, Any], fail: Fail,
                lines: Mapping[tuple[str | int, ...], int]) -> dict[str, Any]:
    """A group source's SourceSpec fields: `target` (the grouped source), `by`, `line`."""
    key = ("sources", name)
    if "group" not in table:  # a table with "by": meant as a group
        for other in table:
            if did_you_mean(other, ("group",)):
                raise fail(f'unknown key "{other}" (did you mean "group"?); a group source '
                           f'takes {" and ".join(GROUP_KEYS)}', *key, other)
        raise fail('"by" belongs to a group source: add group = "<source>"', *key, "by")
    for other in table:
        if other not in GROUP_KEYS:
            raise fail(f'"{other}" does not go with "group": a group source takes '
                       f'{" and ".join(GROUP_KEYS)}, like {{ group = "posts", by = "tags" }}',
                       *key, other)
    group, by = table.get("group"), table.get("by")
    if not isinstance(group, str) or not group.strip():
        raise fail('must name a source, like group = "posts"', *key, "group")
    if by is None:
        raise fail('missing key "by": the field to group by, like by = "tags" or '
                   'by = "date.year"', *key)
    if not isinstance(by, str) or not all(part.strip() for part in by.split(".")):
        raise fail(f"must be a field name or a dotted path like \"date.year\", not {by!r}",
                   *key, "by")
    return {"target": group, "by": by, "line": lines.get(key)}


def check_group_references(specs: Specs, fail: Fail) -> Specs:
    """`specs` (every SourceSpec, by name), once each group names a source that exists
    and can be a list, and no groups go round in a circle."""
    kinds = {name: spec.kind for name, spec in specs.items()}
    groups = {name: spec.target for name, spec in specs.items() if spec.kind == "group"}
    for name, grouped in groups.items():
        if grouped not in kinds:
            raise fail(f'no source named "{grouped}"{did_you_mean(grouped, kinds)}; name one '
                       "of [sources]", "sources", name, "group")
        if kinds[grouped] == "page":
            raise fail(f'"{grouped}" is one Markdown page, not a list of items: group a '
                       "collection, a data file or a Python source that gives a list",
                       "sources", name, "group")
        chain = [name]
        while chain[-1] in groups:
            chain.append(groups[chain[-1]])
            if chain[-1] == name:
                raise fail(f"groups that go round in a circle: {' -> '.join(chain)}",
                           "sources", name, "group")
            if len(chain) > len(groups) + 1:
                break  # a circle that does not pass through `name`: found from its own
    return specs


def check_paginate(entry: Mapping[str, Any], route: tuple[str | int, ...],
                   sources: Collection[str], fail: Fail,
                   lines: Mapping[tuple[str | int, ...], int]) -> Paginate | None:
    """A `[[routes]]` entry's `paginate` table, if it has one (its `url`, checked)."""
    if "paginate" not in entry:
        return None
    key = (*route, "paginate")
    value, route_url, each = entry["paginate"], entry["url"], "each" in entry
    if not isinstance(value, dict):
        raise fail(f"must be a table, like {PAGINATE_EXAMPLE}", *key)
    for name in value:
        if name not in PAGINATE_KEYS:
            raise fail(f'unknown key "{name}"{did_you_mean(name, PAGINATE_KEYS)}; known keys: '
                       f"{', '.join(PAGINATE_KEYS)}", *key, name)
    items, url = value.get("items"), value.get("url")
    per_page = value.get("per_page", DEFAULT_PER_PAGE)
    for name, given in (("items", items), ("url", url)):
        if given is None:
            raise fail(f'missing key "{name}", as in {PAGINATE_EXAMPLE}', *key)
        if not isinstance(given, str) or not given.strip():
            raise fail(f"must be a non-empty string, not {given!r}", *key, name)
    assert isinstance(items, str) and isinstance(url, str)
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        raise fail(f"must be a whole number of 1 or more, not {per_page!r}", *key, "per_page")
    if not url.startswith("/"):
        raise fail(f'"{url}" must start with "/"', *key, "url")
    if not PAGE_VARIABLE.search(url):
        raise fail(f'"{url}" has no <int:page>, which numbers the pages after the first '
                   '(2, 3, ...); write it like "/page/<int:page>/"', *key, "url")
    if re.search(r"<(?:[^<>:]*:)?page>", route_url):
        raise fail(f'the route\'s own URL "{route_url}" has a variable "page", which names '
                   "the pages of `paginate`; call it something else", *route, "url")
    if not each and items not in sources:
        raise fail(f'no source named "{items}"{did_you_mean(items, sources)}; name one of '
                   '[sources] (a field of the item, like items = "items", on a route with '
                   '"each")', *key, "items")
    return Paginate(items, per_page, url, each, lines.get(key))
