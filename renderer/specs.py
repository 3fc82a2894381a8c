"""The checked entries of site.toml's `[sources]` and `[[routes]]`, as the rest of
renderer is given them (config.py makes them).

Apart from config.py, which is about checking: these are what everything else reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .config_lists import Paginate
from .filenames import FilenamePattern

SourceKind = Literal["collection", "page", "data", "python", "group"]


@dataclass(frozen=True)
class PythonReference:
    """`path/to/file.py:function`, relative to the site folder."""

    file: Path
    function: str

    def __str__(self) -> str:
        return f"{self.file.name}:{self.function}"


@dataclass(frozen=True)
class SourceSpec:
    """One entry of `[sources]`: what to read and how."""

    name: str
    kind: SourceKind
    target: str
    path: Path | None = None
    python: PythonReference | None = None
    sort: str | None = None
    line: int | None = None
    filename: FilenamePattern | None = None  # fields carried by file names (filenames.py)
    by: str | None = None  # a group source's field; `target` names the source it groups


@dataclass(frozen=True)
class RouteSpec:
    """One `[[routes]]` entry."""

    index: int
    url: str
    template: str
    name: str
    each: str | None = None
    page: str | None = None
    context: PythonReference | None = None
    line: int | None = None
    each_function: PythonReference | None = None
    paginate: Paginate | None = None

    @property
    def label(self) -> str:
        return f"routes[{self.index}] ({self.url})"
