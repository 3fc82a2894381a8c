"""The build state: the record of the last build into one output folder (what each
output read, wrote and linked to, the URL list and what it was made from), and the stamps
of every input file it read.

Every input file is checked by size and modification time, and by content hash where
those changed or are too recent to tell (the "racy" case git knows well).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..digests import RACY_NS, file_digest, text_digest
from ..records import EARLIEST, LATEST
from .storage import FORMAT, Warn, safe_loads, write_pickle

ALWAYS = (EARLIEST, LATEST)  # what does not depend on the clock holds at every time

# -- stamps of input files ----------------------------------------------------------------

@dataclass
class Stamps:
    """Size, modification time and content hash of the files builds read.

    A stamp is taken when a file is checked, before the build reads it, so an edit made
    while a build runs is seen by the next one.
    """

    entries: dict[str, list[Any]] = field(default_factory=dict)  # relpath -> [mtime, size, hash]
    written_at: int = 0

    def check(self, root: Path) -> set[str]:
        """The files (relative to root) that differ from their stamp (missing ones
        included); re-stamps them."""
        changed = set()
        prefix = f"{root}{os.sep}"  # joined by hand: os.path.join took a third of the loop
        trusted = self.written_at - RACY_NS
        for relative, (mtime, size, digest) in list(self.entries.items()):
            path = relative if os.path.isabs(relative) else prefix + relative
            try:
                stat = os.stat(path)
            except OSError:
                changed.add(relative)
                del self.entries[relative]
                continue
            if stat.st_mtime_ns == mtime and stat.st_size == size and mtime < trusted:
                continue
            current = file_digest(Path(path))
            self.entries[relative] = [stat.st_mtime_ns, stat.st_size, current]
            if current != digest:
                changed.add(relative)
        return changed

    def keep_only(self, root: Path, files: set[str], started: int,
                  hashed: dict[str, list[Any]] | None = None) -> None:
        """Stamp the `files` (relative to root) not stamped yet; forget the others.

        A file first read by this build is stamped now, after the reading: one modified
        since the build `started` (ns) may have been read before the change, so it gets
        no hash and the next build looks at it again. `hashed` holds stamps taken while
        the build read the files (mtime, size, hash), used while the file matches them."""
        hashed = hashed or {}
        entries = {}
        for relative in files:
            if relative in self.entries:
                entries[relative] = self.entries[relative]
                continue
            path = os.path.join(root, relative)
            try:
                stat = os.stat(path)
            except OSError:
                continue
            known = hashed.get(relative)
            mtime = stat.st_mtime_ns
            if mtime % 1_000_000_000 == 0:  # a file system that keeps whole seconds
                changed_since = mtime >= started - started % 1_000_000_000
            else:  # a file read (so stat'ed) gets a fine-grained mtime on its next change
                changed_since = mtime > started
            if changed_since:
                digest = ""
            elif known is not None and known[:2] == [stat.st_mtime_ns, stat.st_size]:
                digest = known[2]
            else:
                try:
                    digest = file_digest(Path(path))
                except OSError:
                    continue
            entries[relative] = [stat.st_mtime_ns, stat.st_size, digest]
        self.entries = entries
        # The stamps are as of the build's start: a same-size edit made while it ran, in
        # the same second as a stamp, must still look racy to the next build.
        self.written_at = started


# -- what the last build did ---------------------------------------------------------------

@dataclass
class OutputEntry:
    """One output file of the last build: what went into it, its digest, its links and
    which of them were broken (as (link, URL, "draft" or "missing"))."""

    dependencies: frozenset[str]
    meta: frozenset[str]  # Markdown pages of which only the front matter was read
    globs: tuple[str, ...]
    digest: str
    links: tuple[str, ...]
    broken: tuple[tuple[str, str, str], ...]
    mtime: int
    size: int
    warnings: tuple[str, ...] = ()  # found by the sources it read
    window: tuple[int, int] = ALWAYS  # it is right while the clock is in it (Record.dated)


@dataclass(frozen=True)
class ListingRecord:
    """A `Record` as the cache keeps it: paths relative to the site folder."""

    files: frozenset[str] = frozenset()
    meta: frozenset[str] = frozenset()
    globs: frozenset[str] = frozenset()
    warnings: frozenset[str] = frozenset()
    window: tuple[int, int] = ALWAYS


DELTA_LIMIT = 500  # entries changed since the full record was written; past it, rewrite it


@dataclass
class _Base:
    """The full record a state was read from, as read (a shallow copy of each table), so
    that a build that changed a few entries writes only those, beside it."""

    token: str
    outputs: dict[str, OutputEntry]
    stamps: dict[str, list[Any]]
    urls: dict[str, str]
    outline: dict[str, tuple[str, int, str]]
    listing: ListingRecord


@dataclass
class BuildState:
    """The record of the last build into one output folder: enough to render only what
    an edit touched, and to know what an unchanged page links to.

    On disk it is a full record, and beside it (`<name>.delta`) what the builds since
    changed, as long as that is little: after editing one post, rewriting 5,000 entries
    cost more than rendering the post. The full record alone is an older, still valid
    state (a build that trusts it renders more, never less), so a delta that is missing,
    corrupt or made for another full record is simply left out."""

    config_key: str = ""
    stamps: Stamps = field(default_factory=Stamps)
    globs: dict[str, GlobMatch] = field(default_factory=dict)
    outputs: dict[str, OutputEntry] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    # The URL list (Site.outline) and what it was made from: files, pages' front matter,
    # globs. While none of those changed, a build need not enumerate the site again.
    outline: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    listing: ListingRecord = field(default_factory=lambda: ListingRecord())
    base: _Base | None = field(default=None, repr=False)

    @classmethod
    def load(cls, path: Path, config_key: str, warn: Warn) -> BuildState:
        if not path.exists():
            return cls(config_key)
        try:
            value = safe_loads(path.read_bytes())
            if not isinstance(value, dict) or value.get("format") != FORMAT \
                    or value.get("renderer") != __version__:
                warn(f"{path}: discarding a build cache of another renderer version")
                return cls(config_key)
            if value["config"] != config_key:
                return cls(config_key)  # site.toml, drafts or output changed: render all
            depsets = [frozenset(d) for d in value["depsets"]]
            outputs = {name: OutputEntry(depsets[e[0]], depsets[e[1]], *e[2:])
                       for name, e in value["outputs"].items()}
            stamps = Stamps(value["stamps"], value["written_at"])
            files, meta, globs, warnings, (after, before) = value["listing"]
            state = cls(config_key, stamps, _globs(value["globs"]), outputs, value["urls"],
                        value["outline"], ListingRecord(frozenset(files), frozenset(meta),
                                                        frozenset(globs), frozenset(warnings),
                                                        (int(after), int(before))))
            state.base = _Base(value["token"], dict(outputs), dict(stamps.entries),
                               dict(state.urls), state.outline, state.listing)
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, IndexError, TypeError,
                ValueError, AttributeError) as error:
            warn(f"{path}: discarding a corrupt build cache ({error!r})")
            return cls(config_key)
        state._apply_delta(_delta_path(path), warn)
        return state

    def _apply_delta(self, path: Path, warn: Warn) -> None:
        if not path.exists() or self.base is None:
            return
        try:
            value = safe_loads(path.read_bytes())
            if not isinstance(value, dict) or value.get("format") != FORMAT \
                    or value.get("renderer") != __version__:
                warn(f"{path}: discarding a build cache of another renderer version")
                return
            if value["config"] != self.config_key or value["base"] != self.base.token:
                return  # made for another full record: that one is newer than it
            outputs = {name: OutputEntry(frozenset(e[0]), frozenset(e[1]), *e[2:])
                       for name, e in value["outputs"].items()}
            stamps = dict(value["stamps"])
            urls = dict(value["urls"])
            globs = _globs(value["globs"])
            gone_outputs, gone_stamps = list(value["outputs_gone"]), list(value["stamps_gone"])
            written_at = int(value["written_at"])
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, IndexError, TypeError,
                ValueError, AttributeError) as error:
            warn(f"{path}: discarding a corrupt build cache ({error!r})")
            return
        for name in gone_outputs:
            self.outputs.pop(name, None)
        for name in gone_stamps:
            self.stamps.entries.pop(name, None)
        self.outputs.update(outputs)
        self.stamps.entries.update(stamps)
        self.urls.update(urls)
        self.globs = globs
        self.stamps.written_at = written_at

    def save(self, path: Path) -> None:
        """Write what differs from the full record, or, when that is much or the URL list
        was made anew, the full record."""
        delta = self._delta()
        if delta is not None:
            write_pickle(_delta_path(path), delta)
        else:
            self._save_full(path)

    def _delta(self) -> dict[str, Any] | None:
        base = self.base
        if base is None or self.listing != base.listing or self.outline is not base.outline \
                and self.outline != base.outline:  # enumerated again, after a title changed
            return None
        outputs = {name: entry for name, entry in self.outputs.items()
                   if base.outputs.get(name) is not entry}
        stamps = {name: stamp for name, stamp in self.stamps.entries.items()
                  if base.stamps.get(name) is not stamp}
        urls = {key: url for key, url in self.urls.items() if base.urls.get(key) != url}
        gone_outputs = [name for name in base.outputs if name not in self.outputs]
        gone_stamps = [name for name in base.stamps if name not in self.stamps.entries]
        if len(outputs) + len(stamps) + len(urls) + len(gone_outputs) + len(gone_stamps) \
                > DELTA_LIMIT:
            return None
        return {
            "format": FORMAT, "renderer": __version__, "config": self.config_key,
            "base": base.token, "written_at": self.stamps.written_at, "globs": self.globs,
            "outputs": {name: (tuple(e.dependencies), tuple(e.meta), e.globs, e.digest,
                               e.links, e.broken, e.mtime, e.size, e.warnings, e.window)
                        for name, e in outputs.items()},
            "stamps": stamps, "urls": urls,
            "outputs_gone": gone_outputs, "stamps_gone": gone_stamps,
        }

    def _save_full(self, path: Path) -> None:
        # Equal strings made one object, so that pickle writes each path once (the same
        # file names recur in thousands of dependency sets). Links are shared already:
        # by the build (Rendering.shared), and by the unpickler for those it read.
        strings: dict[str, str] = {}
        one = strings.setdefault
        depsets: dict[frozenset[str], int] = {}
        outputs = {}
        for name, entry in self.outputs.items():
            index = depsets.setdefault(entry.dependencies, len(depsets))
            meta = depsets.setdefault(entry.meta, len(depsets))
            outputs[name] = (index, meta, entry.globs, entry.digest, entry.links,
                             entry.broken, entry.mtime, entry.size, entry.warnings, entry.window)
        listing = self.listing
        write_pickle(path, {
            "format": FORMAT, "renderer": __version__, "config": self.config_key,
            "token": os.urandom(8).hex(), "written_at": self.stamps.written_at,
            "stamps": {one(k, k): v for k, v in self.stamps.entries.items()},
            "globs": self.globs,
            "depsets": [tuple(one(p, p) for p in d) for d in depsets],
            "outputs": outputs, "urls": self.urls,
            "outline": {k: (url, index, one(source, source))
                        for k, (url, index, source) in self.outline.items()},
            "listing": (tuple(one(p, p) for p in listing.files),
                        tuple(one(p, p) for p in listing.meta), tuple(listing.globs),
                        tuple(listing.warnings), listing.window),
        })
        _delta_path(path).unlink(missing_ok=True)  # its base is gone: it would be ignored


def _globs(value: Any) -> dict[str, GlobMatch]:
    """The globs of a record, checked: their values are used as they are."""
    if not isinstance(value, dict) or not all(
            isinstance(match, tuple) and len(match) == 3 and isinstance(match[0], str)
            for match in value.values()):
        raise ValueError("globs of the wrong shape")
    return dict(value)


def _delta_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.delta")


GlobMatch = tuple[str, int, int]  # digest of the matches; inode and mtime of the folder


def glob_match(pattern: str, known: GlobMatch | None = None, before: int = 0) -> GlobMatch:
    """A digest of the files a glob matches now (a new or deleted file changes it), with
    the inode and modification time (ns) of the one folder it lists, when only its last
    part has wildcards. While that folder's are as `known` has them and older than
    `before` (see RACY_NS), no file in it came or went, and the known digest holds
    without listing and matching 5,000 names again."""
    import glob

    folder, _, last = pattern.rpartition(os.sep)
    stamp = (0, 0)
    if folder and not glob.has_magic(folder) and "**" not in last:
        try:
            stat = os.stat(folder)  # before listing: a file added meanwhile is seen next time
            stamp = (stat.st_ino, stat.st_mtime_ns)
        except OSError:
            pass
    if known is not None and stamp[1] and known[1:] == stamp and stamp[1] < before:
        return known
    matches = sorted(glob.glob(pattern, recursive=True))
    return text_digest("\n".join(matches)), *stamp
