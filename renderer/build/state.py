"""The build cache in `<site>/.renderer-cache/`: what the last build read and wrote,
front matter already parsed, and Markdown already converted.

Nothing here is trusted blindly: a file that does not parse, has another format version,
or was written by another renderer version is discarded with a warning, and every input
file is checked by size and modification time, and by content hash where those changed or
are too recent to tell (the "racy" case git knows well).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..digests import code_stamp, file_digest, text_digest

if TYPE_CHECKING:
    import sqlite3

FORMAT = 6
RACY_NS = 2_000_000_000  # a file changed this close to the last build is hashed, not trusted
Warn = Callable[[str], None]


def dump_json(path: Path, value: Any) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value, indent=0))
    os.replace(temporary, path)


# -- Markdown HTML by content hash ----------------------------------------------------------

PRUNE_SLACK = 50  # bodies past twice the pages' before a build prunes the Markdown cache
LOOK_AGAIN = 16  # keys not known to be stored, after a clean start, before asking SQLite again


class MarkdownStore(MutableMapping[str, tuple[str, str]]):
    """Converted Markdown (HTML, table of contents) by key, in SQLite.

    Opened lazily and once per process, so forked build workers each get their own
    connection; writes are batched and committed by `flush`.

    Once emptied (`clear`), the store knows which keys it holds: its own writes, and
    the other workers', read in one query every `LOOK_AGAIN` keys it does not know. A
    miss then costs no SQLite query, where it cost 25-50 us inside a build of 5,000
    posts, every post a miss, while another worker writes (3.6 us with no writer): the
    query starts a read transaction that finds the other's commits. A key another
    worker stored since the last look is missed and its text converted again.
    """

    def __init__(self, path: Path, warn: Warn) -> None:
        self.path = path
        self.warn = warn
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._pending: dict[str, tuple[str, str]] = {}
        self._cleared = False  # emptied by this build: all it holds, this build wrote
        self._stored: set[str] = set()  # when cleared: keys known to be in the file
        self._last_row = 0  # the last row read into `_stored`
        self._unknown = LOOK_AGAIN  # keys not in `_stored` since the last look

    def _db(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self._pending = {}
            self._connection = self._open()
        return self._connection

    def _open(self) -> sqlite3.Connection:
        """A connection to the store, made (or its files replaced, if they are not such a
        store) as needed. Build workers open it at the same moment, and one of them
        switching a new file to WAL mode makes the others' statements fail as "locked"
        at once, without waiting: they try again, as that says nothing of the file."""
        import sqlite3

        deadline = time.monotonic() + 30
        discarded = False
        while True:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=OFF")  # a cache: lost is fine, slow is not
                connection.execute("CREATE TABLE IF NOT EXISTS html "
                                   "(key TEXT PRIMARY KEY, html TEXT, toc TEXT)")
                connection.execute("SELECT key, html, toc FROM html LIMIT 1").fetchone()
                return connection
            except sqlite3.DatabaseError as error:
                connection.close()
                busy = getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY,
                                                                    sqlite3.SQLITE_LOCKED)
                if busy and time.monotonic() < deadline:
                    time.sleep(0.005)
                    continue
                if busy or discarded:
                    raise
                self.warn(f"{self.path}: discarding a corrupt Markdown cache ({error})")
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                discarded = True

    def __getitem__(self, key: str) -> tuple[str, str]:
        if key in self._pending:
            return self._pending[key]
        if self._cleared and not self._may_hold(key):
            raise KeyError(key)
        row = self._db().execute("SELECT html, toc FROM html WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0], row[1]

    def _may_hold(self, key: str) -> bool:
        """Whether a store this build emptied may hold `key` (see the class)."""
        if key in self._stored:
            return True
        if self._unknown < LOOK_AGAIN:
            self._unknown += 1
            return False
        self._unknown = 0
        rows = self._db().execute("SELECT rowid, key FROM html WHERE rowid > ? ORDER BY rowid",
                                  (self._last_row,)).fetchall()
        if rows:
            self._last_row = rows[-1][0]
            self._stored.update(row[1] for row in rows)
        return key in self._stored

    def __setitem__(self, key: str, value: tuple[str, str]) -> None:
        self._db()
        self._pending[key] = value
        if len(self._pending) >= 200:
            self.flush()

    def __delitem__(self, key: str) -> None:
        self._db().execute("DELETE FROM html WHERE key = ?", (key,))

    def __iter__(self) -> Iterator[str]:
        return (row[0] for row in self._db().execute("SELECT key FROM html"))

    def __len__(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM html").fetchone()[0])

    def flush(self) -> None:
        if not self._pending or self._connection is None or self._pid != os.getpid():
            return
        with self._connection:
            self._connection.execute("BEGIN")
            self._connection.executemany("INSERT OR REPLACE INTO html VALUES (?, ?, ?)",
                                         [(k, h, t) for k, (h, t) in self._pending.items()])
        if self._cleared:
            self._stored.update(self._pending)
        self._pending = {}

    def clear(self) -> None:
        """Empty the cache. The files are removed rather than their rows: deleting the
        rows of 5,000 pages costs SQLite a tenth of a second, while every core but one
        waits. What this build converts is read back from it as usual: a feed that
        prints every post's body finds the HTML the workers made for the posts."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self._cleared = True
        self._stored, self._last_row, self._unknown = set(), 0, LOOK_AGAIN

    def prune(self, keeping: Callable[[], set[str]]) -> int:
        """Delete the HTML of texts that no page has any more, once there are more of
        them than of pages: each edit of a post adds a body, and a cache that only grew
        would in the end outweigh the site. Only if this process opened the store (it
        converted something), so that a build converting nothing does not load SQLite
        for it. `keeping` gives the keys to keep. Returns how many were deleted."""
        if self._connection is None or self._pid != os.getpid() or self._cleared:
            return 0
        self.flush()
        db = self._connection
        keep = keeping()
        (count,) = db.execute("SELECT count(*) FROM html").fetchone()
        if count <= 2 * len(keep) + PRUNE_SLACK:
            return 0
        with db:
            db.execute("BEGIN")
            db.execute("CREATE TEMP TABLE keep (key TEXT PRIMARY KEY)")
            db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((key,) for key in keep))
            deleted = db.execute("DELETE FROM html WHERE key NOT IN (SELECT key FROM keep)"
                                 ).rowcount
            db.execute("DROP TABLE keep")
        return int(deleted)

    def close(self) -> None:
        self.flush()
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None


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


# -- parsed front matter ---------------------------------------------------------------------

class _DatesOnly(pickle.Unpickler):
    """Unpickles plain data and dates, nothing else: a cache file is never trusted with
    more (pickle would otherwise import and call whatever the file names)."""

    ALLOWED = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"),
               ("datetime", "timedelta"), ("datetime", "timezone")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache file")


def safe_loads(data: bytes) -> Any:
    return _DatesOnly(io.BytesIO(data)).load()


RESTAMP_LIMIT = 50


def pickle_fields(fields: dict[str, Any]) -> bytes | None:
    """Front matter as the page cache keeps it; None when it holds more than plain data
    and dates (a page whose fields then are not cached)."""
    try:
        pickled = pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)
        safe_loads(pickled)
    except (pickle.PicklingError, pickle.UnpicklingError, TypeError, AttributeError):
        return None
    return pickled


class PageCache:
    """Front matter and body digest of Markdown files, by path, size and mtime.

    Each page's fields are kept pickled, and unpickled (through the restricted
    unpickler) only when a page asks for them: after editing one post, a build looks
    at that post's entry alone, and reading 5,000 entries of fields in one go cost
    more than rendering the post. Unpickled anew, they are each page's own copy, so a
    source that changes a page's fields in place cannot change the cache. Fields parsed
    by another version of PyYAML (or of renderer) are not used.
    """

    def __init__(self, path: Path, warn: Warn, *, clean: bool) -> None:
        self.path = path
        self.warn = warn
        # relative path -> (mtime, size, pickled fields, body digest, front matter digest)
        self.entries: dict[str, tuple[int, int, bytes, str, str]] = {}
        self.written_at = 0
        self.put_at: dict[str, int] = {}  # entries made by this process, and when
        self.dirty = clean
        self.restamped = 0  # entries put again with the front matter they had
        self.code = code_stamp(["yaml"])
        if not clean and path.exists():
            self._load()

    def _load(self) -> None:
        try:
            value = safe_loads(self.path.read_bytes())
            if not isinstance(value, dict) or value.get("format") != FORMAT \
                    or value.get("code") != self.code:
                self.warn(f"{self.path}: discarding a front matter cache made by another "
                          "version of renderer, Python or PyYAML")
                return
            entries = value["pages"]
            if not isinstance(entries, dict) or not all(
                    type(e) is tuple and len(e) == 5 and type(e[2]) is bytes
                    and type(e[3]) is str and type(e[4]) is str
                    for e in entries.values()):
                raise ValueError("entries of the wrong shape")
            self.entries = entries
            self.written_at = value["written_at"]
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError,
                AttributeError, IndexError) as error:
            self.warn(f"{self.path}: discarding a corrupt front matter cache ({error})")

    def get(self, relative: str, stat: os.stat_result) -> tuple[dict[str, Any], str] | None:
        """The fields (a copy of its own) and body digest of an unchanged page."""
        entry = self.entries.get(relative)
        if entry is None:
            return None
        mtime, size, _, digest, _ = entry
        if mtime != stat.st_mtime_ns or size != stat.st_size \
                or mtime >= self.put_at.get(relative, self.written_at) - RACY_NS:
            return None
        fields = self.fields(relative)
        return None if fields is None else (fields, digest)

    def body_digests(self) -> set[str]:
        """The digest of every body the cache knows: the Markdown cache keeps their HTML."""
        return {entry[3] for entry in self.entries.values()}

    def same_front_matter(self, relative: str, front_digest: str) -> bool:
        """Whether a page's front matter text is as the cache saw it (its body may not be)."""
        entry = self.entries.get(relative)
        return entry is not None and entry[4] == front_digest

    def fields_for(self, relative: str, front_digest: str) -> dict[str, Any] | None:
        """The fields (a copy of its own) of a page whose front matter text is as the
        cache saw it, whatever its body: equal text, equal fields."""
        if not self.same_front_matter(relative, front_digest):
            return None
        return self.fields(relative)

    def put(self, relative: str, stat: os.stat_result, fields: dict[str, Any],
            digest: str, front_digest: str) -> None:
        pickled = pickle_fields(fields)
        if pickled is not None:
            self.put_pickled(relative, stat, pickled, digest, front_digest)

    def put_pickled(self, relative: str, stat: os.stat_result, pickled: bytes,
                    digest: str, front_digest: str) -> None:
        """`put`, for fields `pickle_fields` pickled (in a worker process, say)."""
        previous = self.entries.get(relative)
        self.entries[relative] = (stat.st_mtime_ns, stat.st_size, pickled, digest, front_digest)
        self.put_at[relative] = time.time_ns()
        if previous is None or previous[2] != pickled or previous[4] != front_digest:
            self.dirty = True
        else:
            self.restamped += 1

    def save(self, started: int) -> None:
        """Write the cache; its entries are trusted as of `started` (the build's start).

        Not when all this build learned is new stamps for pages whose front matter is as
        the file has it (after editing a post's text): the next build parses those few
        again, which costs less than writing 5,000 entries. The front matter the file
        keeps is what matters (it tells a body edit from a front matter edit), and it is
        current. Past `RESTAMP_LIMIT` such pages, the file is written after all."""
        if self.dirty or self.restamped > RESTAMP_LIMIT:
            _write_pickle(self.path, {"format": FORMAT, "code": self.code,
                                      "written_at": started, "pages": self.entries})
            self.dirty = False

    def fields(self, relative: str) -> dict[str, Any] | None:
        """The front matter of a page as the last build saw it, whatever the file is now
        (a copy of its own). An entry that does not unpickle to a mapping of plain data is
        dropped with a warning, and its page is read again."""
        entry = self.entries.get(relative)
        if entry is None:
            return None
        try:
            fields = safe_loads(entry[2])
            if type(fields) is not dict:
                raise ValueError("not a mapping")
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError,
                AttributeError, IndexError) as error:
            self.warn(f"{self.path}: discarding a corrupt entry for {relative} ({error})")
            del self.entries[relative]
            self.dirty = True
            return None
        return fields


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


@dataclass(frozen=True)
class ListingRecord:
    """A `Record` as the cache keeps it: paths relative to the site folder."""

    files: frozenset[str] = frozenset()
    meta: frozenset[str] = frozenset()
    globs: frozenset[str] = frozenset()


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
            files, meta, globs = value["listing"]
            state = cls(config_key, stamps, _globs(value["globs"]), outputs, value["urls"],
                        value["outline"], ListingRecord(frozenset(files), frozenset(meta),
                                                        frozenset(globs)))
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
            _write_pickle(_delta_path(path), delta)
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
                               e.links, e.broken, e.mtime, e.size)
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
                             entry.broken, entry.mtime, entry.size)
        listing = self.listing
        _write_pickle(path, {
            "format": FORMAT, "renderer": __version__, "config": self.config_key,
            "token": os.urandom(8).hex(), "written_at": self.stamps.written_at,
            "stamps": {one(k, k): v for k, v in self.stamps.entries.items()},
            "globs": self.globs,
            "depsets": [tuple(one(p, p) for p in d) for d in depsets],
            "outputs": outputs, "urls": self.urls,
            "outline": {k: (url, index, one(source, source))
                        for k, (url, index, source) in self.outline.items()},
            "listing": (tuple(one(p, p) for p in listing.files),
                        tuple(one(p, p) for p in listing.meta), tuple(listing.globs)),
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


def _write_pickle(path: Path, value: Any) -> None:
    """Write atomically: a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(temporary, path)


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
