"""Renders that run too long under `serve` are stopped where they are.

`serve` renders on a pool of threads, so a page stuck in an endless loop of the site's
own code holds one thread and the rest of the site (static files, the error page,
`/_renderer/`) keeps answering. The watchdog, called from the event loop every few
tenths of a second, raises `RenderTimeout` inside a render that passed the limit
(`PyThreadState_SetAsyncExc`, CPython's way to raise in another thread): it surfaces at
the next line of Python that thread runs, so its traceback names the line the render
was stuck at, and the `with` blocks it unwinds release their locks. A thread blocked in
a single call into C is stopped when that call returns.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import RenderTimeout


@dataclass
class Running:
    url: str
    started: float  # time.monotonic()
    stopped: bool = False
    background: bool = False  # the background check's (serve/checker.py), not a request's


@dataclass
class Watchdog:
    """The renders running now, by thread, and the limit they must keep to."""

    limit: float | None
    running: dict[int, Running] = field(default_factory=dict)
    finished: float = 0.0  # time.monotonic() when the last request's render ended
    requests: int = 0  # requests' renders running now (read without the lock: an int)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def watching(self, url: str, *, background: bool = False) -> Iterator[Running]:
        """Watch the render of `url` on this thread while the block runs."""
        ident = threading.get_ident()
        render = Running(url, time.monotonic(), background=background)
        with self._lock:
            self.running[ident] = render
            self.requests += not background
        try:
            yield render
        finally:
            with self._lock:
                self.running.pop(ident, None)
                if not background:
                    self.requests -= 1
                    self.finished = time.monotonic()

    def busy(self, quiet: float) -> bool:
        """Whether a request is rendering, or one ended less than `quiet` seconds ago (a
        page's style sheets and images follow it): the background check waits then."""
        with self._lock:
            if any(not render.background for render in self.running.values()):
                return True
            return time.monotonic() - self.finished < quiet

    def check(self) -> list[str]:
        """Stop every render past the limit; returns their URLs."""
        if not self.limit:
            return []
        now = time.monotonic()
        stopped = []
        with self._lock:
            for ident, render in self.running.items():
                if not render.stopped and now - render.started > self.limit:
                    render.stopped = True
                    raise_in(ident, RenderTimeout)
                    stopped.append(render.url)
        return stopped


def raise_in(ident: int, error: type[BaseException]) -> None:
    """Raise `error` in the thread `ident` at its next line of Python."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(error))
