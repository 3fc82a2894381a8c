"""Fields of items as routes, groups and pages read them: a field at a dotted path
(`date.year`), and an item as a message names it.

Items are whatever a source gives: Markdown pages and data tables (mappings), groups
and any Python object (attributes). One module for both ways of reading them, shared by
enumerating URLs (site.py), grouping (groups.py) and paging (pagination.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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
