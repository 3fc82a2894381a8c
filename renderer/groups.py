"""Group sources: `tags = { group = "posts", by = "tags" }` makes one `Group` per value
of a field of another source's items, each with the items that hold it.

Groups are made from the grouped source's value, which the source loader hands in: the
group then records what that source read (a collection's glob and its pages' front
matter), no more. Reading a field of a Markdown page reads its front matter, never its
body, so a tag page that lists titles does not depend on the posts' text.

A `Group` is not a mapping, unlike pages and data: Jinja looks attributes up first, and
`tag.items` must be the group's items, not `dict.items`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SourceError, did_you_mean
from .fields import read_path
from .slugs import slugify
from .specs import SourceSpec

NAME_TYPES = (str, int, float, datetime.date)  # and bool, an int; datetime, a date
FIELDS = ("name", "slug", "items")


@dataclass(frozen=True, eq=False)  # compared by identity, as pages are
class Group:
    """One group: the first spelling of its name met in the grouped source's order, its
    slug (the URL-safe form shared by every spelling), and its items, in that order."""

    name: Any
    slug: str
    items: tuple[Any, ...]

    def __getitem__(self, key: str) -> Any:
        """`group["items"]`, for Python sources."""
        if key not in FIELDS:
            raise KeyError(key)
        return getattr(self, key)


def make_groups(spec: SourceSpec, value: Any, config_file: Path) -> list[Group]:
    """The groups of `value` (the grouped source's items) by `spec.by`, sorted by name."""
    assert spec.by is not None  # and spec.target names the grouped source
    if value is None or isinstance(value, (Mapping, str, bytes)) \
            or not isinstance(value, Iterable):
        raise SourceError(f'source "{spec.name}" groups "{spec.target}", which gives '
                          f"{type(value).__name__}, not a list of items", file=config_file,
                          line=spec.line)
    items = list(value)
    path = spec.by.split(".")
    found, seen_any = _members(items, path, spec, config_file)
    if not seen_any:
        _check_field(items, path, spec, config_file)
    groups = [Group(name, slug, tuple(members)) for slug, (name, members) in found.items()]
    return sorted(groups, key=lambda group: name_order(group.name))


def _members(items: list[Any], path: list[str], spec: SourceSpec, config_file: Path
             ) -> tuple[dict[str, tuple[Any, list[Any]]], bool]:
    """By slug: the first spelling of the name met, and the items that hold it, in order;
    and whether any item has the field.
    A name is slugified once, not once per item, and membership is asked of a set of ids
    (the items are alive in `items`): asking each group's list walked 1.7 million
    members for 5,000 posts in 30 tags, 0.15 s before a build could render anything."""
    found: dict[str, tuple[Any, list[Any]]] = {}
    member_ids: dict[str, set[int]] = {}
    slugs: dict[tuple[type, Any], str] = {}
    seen_any = False
    for item in items:
        present, field = read_path(item, path)
        if not present or field is None:
            continue
        seen_any = True
        for name in field if isinstance(field, (list, tuple)) else (field,):
            if name is None:
                continue
            key = (type(name), name) if isinstance(name, NAME_TYPES) else None
            slug = slugs.get(key) if key is not None else None
            if slug is None:
                slug = group_slug(name, item, spec, config_file)
                if key is not None:
                    slugs[key] = slug
            _, members = found.setdefault(slug, (name, []))
            ids = member_ids.setdefault(slug, set())
            if id(item) not in ids:  # a tag given twice
                ids.add(id(item))
                members.append(item)
    return found, seen_any


def _check_field(items: list[Any], path: list[str], spec: SourceSpec,
                 config_file: Path) -> None:
    """No item made a group: a typo in `by` is an error; a site whose posts have no tags
    yet is not."""
    keys = {key for item in items if isinstance(item, Mapping) for key in item}
    if len(path) > 1 and path[0] in keys:  # "date.yaer": the typo is after the dot
        raise SourceError(f'source "{spec.name}": no item of "{spec.target}" has '
                          f'"{spec.by}": their "{path[0]}" has no '
                          f'"{".".join(path[1:])}"', file=config_file, line=spec.line)
    near = did_you_mean(path[0], keys)
    if near:
        raise SourceError(f'source "{spec.name}": no item of "{spec.target}" has '
                          f'"{path[0]}"{near}', file=config_file, line=spec.line)


def group_slug(name: Any, item: Any, spec: SourceSpec, config_file: Path) -> str:
    """The slug of a group's name; a name that cannot make one is an error at the item."""
    if not isinstance(name, NAME_TYPES):
        problem = f"is {type(name).__name__}, not a name (text, a number or a date)"
    else:
        slug = slugify(name)
        if slug:
            return slug
        problem = "has no letter or digit to make a URL of"
    file = getattr(item, "path", None)
    where = f" of {item['source']}" if file is None and isinstance(item, Mapping) \
        and isinstance(item.get("source"), str) else ""
    raise SourceError(f'source "{spec.name}": the "{spec.by}" value {name!r}{where} {problem}',
                      file=file if isinstance(file, Path) else config_file,
                      line=None if isinstance(file, Path) else spec.line)


def name_order(name: Any) -> tuple[int, Any, str]:
    """Numbers by value (years: 2009 before 2010), then the rest by their text, case
    aside."""
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        return (0, name, "")
    text = name.isoformat() if isinstance(name, datetime.date) else str(name)
    return (1, text.casefold(), text)
