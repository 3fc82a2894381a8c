"""Dependency records: what a load or a render read, how files changed, and the
front matter cache a site may be handed.

Every source load and every render fills a `Record`; `serve` compares them with a
`Change` to drop only what an edit touched, and the build keeps them to render again
only what changed.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .config import SiteConfig

EARLIEST, LATEST = -(2**63), 2**63 - 1  # no date before or after (ns since the epoch)


@dataclass
class Record:
    """The files (and globs, for files yet to come) that a load or a render read.

    `meta` holds Markdown pages of which only the front matter was read (a list of posts
    by title): an edit to such a page's body alone does not touch what was made from it.
    A page whose body is read moves to `files`.
    """

    files: set[Path] = field(default_factory=set)
    globs: set[str] = field(default_factory=set)
    meta: set[Path] = field(default_factory=set)
    warnings: set[str] = field(default_factory=set)  # found while loading (a sort key missing)
    # The clock is an input too: what is described holds from `after` until `before` (ns
    # since the epoch), the dates of the pages it published and of those it left out as
    # dated in the future (see items.py).
    after: int = EARLIEST
    before: int = LATEST

    def update(self, other: Record) -> None:
        self.files |= other.files
        self.globs |= other.globs
        self.meta |= other.meta
        self.warnings |= other.warnings
        self.after = max(self.after, other.after)
        self.before = min(self.before, other.before)

    def dated(self, moment: int, now: int) -> None:
        """Note that what is described depends on whether `moment` has come at `now`."""
        if moment <= now:
            self.after = max(self.after, moment)
        else:
            self.before = min(self.before, moment)

    def depends_on(self, path: Path) -> bool:
        return path in self.files or path in self.meta \
            or any(fnmatch.fnmatch(str(path), g) for g in self.globs)


@dataclass
class Change:
    """Files changed on disk: `bodies` are Markdown pages of which only the body changed."""

    paths: set[Path]
    bodies: set[Path]

    def touches(self, record: Record) -> bool:
        """Whether what `record` describes was made from a changed file."""
        return not self.bodies.isdisjoint(record.files) \
            or any(record.depends_on(path) for path in self.paths)

    def opaque(self, config: SiteConfig) -> bool:
        """Whether a changed file may have been read behind renderer's back (by a Python
        function): anything but a template, a static file or a page's body."""
        return any(not (path.is_relative_to(config.templates)
                        or path.is_relative_to(config.static)) for path in self.paths)


class FrontMatterCache(Protocol):
    """Parsed front matter kept between runs, by file (the build's page cache is one): a
    page whose file is unchanged is not parsed again, and one whose front matter text is
    unchanged keeps its fields."""

    def get(self, relative: str, stat: os.stat_result) -> tuple[dict[str, Any], str] | None:
        """The fields and body digest of an unchanged page."""

    def fields_for(self, relative: str, front_digest: str) -> dict[str, Any] | None:
        """The fields of a page whose front matter text is as the cache saw it."""

    def put(self, relative: str, stat: os.stat_result, fields: dict[str, Any],
            digest: str, front_digest: str) -> None:
        """Keep a page's fields and body digest."""
