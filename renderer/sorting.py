"""Sorting a collection by a field (`sort = "date"`, `"-date"` for newest first).

Front matter mixes dates and date-times freely, so they compare as one kind; values that
do not compare at all (a date and a string) are an error naming two of the items, their
files and values, since the mistake is in one of those files, not in site.toml.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import ContentError, display_path
from .specs import SourceSpec


def sort_items(items: list[Any], spec: SourceSpec, config_file: Path,
               warn: Callable[[str], None]) -> list[Any]:
    """Sort by a field (`sort = "date"`, `"-date"` for newest first); items without it last,
    with a warning naming the first of them (`--strict` makes it an error): a post that
    lost its date would otherwise drop to the end of the list unnoticed."""
    assert spec.sort is not None
    key = spec.sort.lstrip("-")
    reverse = spec.sort.startswith("-")

    def value(item: Any) -> Any:
        return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)

    def sortable(item: Any) -> Any:
        """Dates, naive and aware date-times compare as aware date-times (naive as UTC):
        front matter mixes `2024-01-02` and `2024-01-02 10:00` freely."""
        found = value(item)
        if isinstance(found, datetime.datetime):
            return found if found.tzinfo else found.replace(tzinfo=datetime.UTC)
        if isinstance(found, datetime.date):
            return datetime.datetime.combine(found, datetime.time(), datetime.UTC)
        return found

    present = [item for item in items if value(item) is not None]
    missing = [item for item in items if value(item) is None]
    try:
        ordered = sorted(present, key=sortable, reverse=reverse)
    except TypeError as error:
        clash = _incomparable(present, sortable)
        if clash is None:
            raise ContentError(f'cannot sort source "{spec.name}" by "{key}": {error}',
                               file=config_file, line=spec.line) from None
        one, other = (f"{_origin(item)} has {key} {_shown(value(item))} "
                      f"({type(value(item)).__name__})" for item in clash)
        raise ContentError(f'cannot sort source "{spec.name}" by "{key}": {one} and {other}, '
                           "which do not compare; give every item the same kind of value",
                           file=config_file, line=spec.line) from None
    if missing:
        others = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        first = item_file(missing[0], config_file)
        warn(f'{first}{others}: no "{key}", which source "{spec.name}" is sorted by '
             f'({display_path(config_file)}:{spec.line}); sorted last')
    return ordered + missing


def _incomparable(items: list[Any], sortable: Callable[[Any], Any]) -> tuple[Any, Any] | None:
    """Two items whose sort values do not compare, for the message (only on an error):
    the first item of each kind of value, tried against each other."""
    kinds: dict[type, tuple[Any, Any]] = {}
    for item in items:
        found = sortable(item)
        kinds.setdefault(type(found), (item, found))
    for one, first in kinds.values():
        for other, second in kinds.values():
            try:
                first < second  # noqa: B015 - only whether it raises
            except TypeError:
                return one, other
    return None


def _shown(found: Any) -> str:
    return repr(found) if isinstance(found, str) else str(found)


def _origin(item: Any) -> str:
    """An item as a message names it: its source file, else its repr."""
    source = item.get("source") if isinstance(item, Mapping) else None
    return source if isinstance(source, str) else repr(item)[:60]


def item_file(item: Any, config_file: Path) -> str:
    """An item as a warning names it: its file as the other messages name files (the
    site folder is the one holding site.toml), else its repr."""
    origin = _origin(item)
    if isinstance(item, Mapping) and origin == item.get("source"):
        return display_path(config_file.parent / origin)
    return origin
