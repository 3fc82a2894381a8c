"""Dependency records: what a load or a render read, how files changed, and the
front matter cache a site may be handed.

Every source load and every render fills a `Record`; `serve` compares them with a
`Change` to drop only what an edit touched, and the build keeps them to render again
only what changed.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .config import SiteConfig

EARLIEST, LATEST = -(2**63), 2**63 - 1  # no date before or after (ns since the epoch)


class Record:
    """The files (and globs, for files yet to come) that a load or a render read.

    `meta` holds Markdown pages of which only the front matter was read (a list of posts
    by title): an edit to such a page's body alone does not touch what was made from it.
    A page whose body is read moves to `files`.

    A record may share its `meta` with others as one frozenset (`frozen_meta`, `update`),
    copied into a set of its own only when it changes: each of the 764 list pages of a
    5,000-post blog read the 5,000 posts, and copying, merging and comparing four sets
    of 5,000 paths a page cost 0.4 s of a build's CPU and of each title edit.
    """

    def __init__(self, files: set[Path] | None = None, globs: set[str] | None = None,
                 meta: set[Path] | frozenset[Path] | None = None,
                 warnings: set[str] | None = None, after: int = EARLIEST,
                 before: int = LATEST) -> None:
        self.files: set[Path] = set() if files is None else files
        self.globs: set[str] = set() if globs is None else globs
        # The meta pages: a set of this record's own, or while it has none (None), the
        # frozenset it shares. Neither is ever emptied: another thread may be reading it.
        self._meta: set[Path] | None = meta if isinstance(meta, set) else None
        self._shared: frozenset[Path] = meta if isinstance(meta, frozenset) else frozenset()
        self.warnings: set[str] = set() if warnings is None else warnings  # found while
        # loading (a sort key missing)
        # The clock is an input too: what is described holds from `after` until `before` (ns
        # since the epoch), the dates of the pages it published and of those it left out as
        # dated in the future (see items.py).
        self.after = after
        self.before = before

    @property
    def meta(self) -> set[Path]:
        """The meta pages, as a set this record may change (a shared one is copied)."""
        if self._meta is None:
            self._meta = set(self._shared)
        return self._meta

    def frozen_meta(self) -> frozenset[Path]:
        """The meta pages as a frozenset: the shared one itself while unchanged."""
        return self._shared if self._meta is None else frozenset(self._meta)

    def freeze_meta(self) -> None:
        """Make the meta pages one frozenset, which records it is merged into share (a
        source's record, once loaded)."""
        if self._meta is not None:
            self._shared = frozenset(self._meta)
            self._meta = None

    def update(self, other: Record) -> None:
        self.files |= other.files
        self.globs |= other.globs
        self._update_meta(other)
        self.warnings |= other.warnings
        self.after = max(self.after, other.after)
        self.before = min(self.before, other.before)

    def _update_meta(self, other: Record) -> None:
        if other._meta is not None:
            if other._meta:
                self.meta.update(other._meta)
            return
        shared = other._shared
        if not shared or shared is self._shared and self._meta is None:
            return
        if self._meta is None and not self._shared:
            self._shared = shared  # nothing of its own yet: share it
        else:
            self.meta.update(shared)

    def dated(self, moment: int, now: int) -> None:
        """Note that what is described depends on whether `moment` has come at `now`."""
        if moment <= now:
            self.after = max(self.after, moment)
        else:
            self.before = min(self.before, moment)

    def depends_on(self, path: Path) -> bool:
        meta = self._shared if self._meta is None else self._meta
        return path in self.files or path in meta \
            or any(fnmatch.fnmatch(str(path), g) for g in self.globs)

    def __repr__(self) -> str:
        return (f"Record(files={self.files!r}, globs={self.globs!r}, "
                f"meta={self.frozen_meta()!r}, warnings={self.warnings!r}, "
                f"after={self.after!r}, before={self.before!r})")


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
