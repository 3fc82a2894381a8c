"""`data` as templates and Python sources see it: every source by name, loaded on first
use and noted in the dependency record of what is being rendered.

Its own module, handed the loading function rather than the `Sources` object, so that it
needs nothing of sources.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .errors import did_you_mean
from .records import Record


class DataView(Mapping[str, Any]):
    """Every source by name (`data.posts`, `data["posts"]`), loaded on first use."""

    def __init__(self, value: Callable[[str, Record], Any], names: Mapping[str, Any],
                 record: Record) -> None:
        self._value = value
        self._names = names
        self._record = record

    def __getitem__(self, name: str) -> Any:
        return self._value(name, self._record)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._value(name, self._record)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<data: {', '.join(self._names)}>"


class SiteView(Mapping[str, Any]):
    """`[site]` of site.toml as Python sources see it: `site.title` as in templates, and
    `site["title"]` as a mapping."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"[site] in site.toml has no {name!r}"
                                 f"{did_you_mean(name, self._values)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<site: {dict(self._values)!r}>"
