"""The Markdown cache: converted Markdown (HTML, table of contents) by the digest of its
text and of the settings and code that converted it, in SQLite under `.renderer-cache/`,
shared by the build's worker processes and kept across builds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING

from .storage import Warn

if TYPE_CHECKING:
    import sqlite3

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
