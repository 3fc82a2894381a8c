"""Responses the production app keeps in memory, and the check that drops them.

`create_app` answers a URL it has rendered from memory, as a static server would, until a
file the render read changes. Knowing that must cost less than rendering: the files and
globs (for files yet to come) that kept responses were made from are looked at no more
than once per `interval` seconds, by one request while the others go on being answered,
and a change drops every kept response and tells the site what changed (the site then
drops only what depended on it, as in `serve`).

A file edited while a page rendered could leave a page made from the old text with the
stamp of the new one: a page whose files are that new (`RACY_NS`, as the build's cache
does) is answered but not kept, and neither is one whose render overlapped a change.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING

from .digests import RACY_NS

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Stamp = tuple[int, int]  # modification time (ns) and size; (0, -1): no such file


@dataclass(frozen=True)
class Kept:
    """One response in memory: its headers and bytes, ready for `start_response`."""

    headers: list[tuple[str, str]]
    body: bytes
    etag: str  # quoted, as in the ETag header

    def answer(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        """200 with the body, the headers alone for HEAD, 304 for a request that holds
        these bytes already (If-None-Match)."""
        match = environ.get("HTTP_IF_NONE_MATCH")
        if match and (match.strip() == "*" or self.etag in _etags(match)):
            start_response("304 Not Modified", [("ETag", self.etag)])
            return []
        start_response("200 OK", [*self.headers, ("Date", http_date_now())])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


def http_date_now() -> str:
    """The Date header a rendered response has (Werkzeug's `make_conditional` adds it),
    made once a second rather than once a request."""
    now = int(time.time())
    if _date[0] != now:
        _date[:] = [now, formatdate(now, usegmt=True)]
    return str(_date[1])


_date: list[int | str] = [0, ""]  # the second and its Date header; a race writes the same


def _etags(header: str) -> list[str]:
    return [part.strip().removeprefix("W/") for part in header.split(",")]


@dataclass
class ResponseCache:
    """Kept responses by request path, and the stamps of every file they were made from
    (and of every file ever watched: site.toml, what the URL list was made from).

    `changed` is told the paths that changed (the app's `changed`); it runs on the thread
    that found them, while other threads answer from what is kept or render anew."""

    changed: Callable[[set[Path]], object]  # what it returns is not used
    interval: float = 1.0
    kept: dict[str, Kept] = field(default_factory=dict)
    stamps: dict[Path, Stamp] = field(default_factory=dict)
    globs: dict[str, frozenset[str]] = field(default_factory=dict)
    generation: int = 0  # goes up with every change found
    _checked: float = 0.0
    _checking: threading.Lock = field(default_factory=threading.Lock)
    _adding: threading.Lock = field(default_factory=threading.Lock)

    def get(self, path: str) -> Kept | None:
        self.check()
        return self.kept.get(path)

    def check(self) -> None:
        """Look for changed files, if `interval` has passed since the last look and no
        other thread is looking."""
        now = time.monotonic()
        if now - self._checked < self.interval or not self._checking.acquire(blocking=False):
            return
        try:
            self._checked = now
            changed = set()
            for path, stamp in list(self.stamps.items()):
                now_stamp = stamp_of(path)
                if now_stamp != stamp:
                    changed.add(path)
                    self.stamps[path] = now_stamp
            for pattern, matches in list(self.globs.items()):
                now_matching = frozenset(glob.glob(pattern, recursive=True))
                if now_matching != matches:
                    changed.update(Path(p) for p in matches ^ now_matching)
                    self.globs[pattern] = now_matching
            if changed:
                with self._adding:
                    self.generation += 1
                    self.kept.clear()
                self.changed(changed)
        finally:
            self._checking.release()

    def drop(self) -> None:
        """Forget every kept response (the clock passed the date of a page)."""
        with self._adding:
            self.generation += 1
            self.kept.clear()

    def keep(self, path: str, kept: Kept, files: Iterable[Path], globs: Iterable[str],
             started_ns: int, generation: int) -> bool:
        """Keep a response rendered since `started_ns` under `generation` from `files` and
        `globs`, unless a change may have met the render. Returns whether it was kept."""
        files = tuple(files)
        self.watch(files, globs)
        stamps = self.stamps
        with self._adding:
            if generation != self.generation \
                    or any(stamps[p][0] >= started_ns - RACY_NS for p in files):
                return False
            self.kept[path] = kept
            return True

    def watch(self, files: Iterable[Path], globs: Iterable[str] = ()) -> None:
        """Also look at `files` and `globs` (site.toml, what the URL list was made from)."""
        with self._adding:
            for path in files:
                if path not in self.stamps:
                    self.stamps[path] = stamp_of(path)
            for pattern in globs:
                if pattern not in self.globs:
                    self.globs[pattern] = frozenset(glob.glob(pattern, recursive=True))


def stamp_of(path: Path) -> Stamp:
    try:
        stat = os.stat(path)
    except OSError:
        return (0, -1)
    return stat.st_mtime_ns, stat.st_size
