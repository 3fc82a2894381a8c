"""Fields of items as routes, groups and pages read them: a field at a dotted path
(`date.year`), and an item as a message names it.

Items are whatever a source gives: Markdown pages and data tables (mappings), groups
and any Python object (attributes). One module for both ways of reading them, shared by
enumerating URLs (site.py), grouping (groups.py) and paging (pagination.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import RouteError
from .specs import RouteSpec


def read_path(item: Any, path: list[str]) -> tuple[bool, Any]:
    """The value at a dotted path of an item (keys of mappings, attributes of the rest:
    `date.year`), and whether it is there at all."""
    value = item
    for part in path:
        if isinstance(value, Mapping):
            if part not in value:
                return False, None
            value = value[part]
        elif hasattr(value, part):
            value = getattr(value, part)
        else:
            return False, None
    return True, value


def describe(item: Any, position: int) -> str:
    """An item as a message names it: its source file, or its place in the list."""
    if isinstance(item, Mapping) and isinstance(item.get("source"), str):
        return f"{position} ({item['source']})"
    return str(position)


def url_variables(route: RouteSpec, arguments: frozenset[str], item: Any, position: int,
                  config_file: Path) -> dict[str, Any]:
    """The values of a route's URL variables in an item; one it lacks is an error at
    the route's line of `config_file` (site.toml)."""
    variables = {}
    for name in sorted(arguments):
        if isinstance(item, Mapping):
            present = name in item
            value = item[name] if present else None
        else:
            present = hasattr(item, name)
            value = getattr(item, name, None)
        if not present:
            raise RouteError(f'{route.label}: item {describe(item, position)} of '
                             f'"{route.each}" has no "{name}", which the URL needs',
                             file=config_file, line=route.line)
        variables[name] = value
    return variables
