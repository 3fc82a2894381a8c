"""What the site's own Python code prints goes to stderr, each line marked with its file.

A Python source or a context function that calls `print()` would otherwise write into
renderer's standard output, where `build` prints its summary (and a script may read it).
While user code runs, `sys.stdout` is a router: what the thread running that code prints
goes to stderr as whole lines, `[content/team.py] text`; what any other thread prints goes
where it went before.

Why not `contextlib.redirect_stdout` around each call: it swaps `sys.stdout` for the whole
process and puts back, on exit, what it saw on entry. With two threads in user code at once
(a threaded WSGI server running `create_app`), the one leaving first would put back the
other's writer, which could then stay `sys.stdout` for good; and a thread that runs no
user code meanwhile would have its output marked as the site's. So one router is installed
while any thread runs user code (a count under a lock), each thread keeps its own stack of
labels (a source that reads another source), and the router is removed when the last
thread leaves. Forked build workers start with no user code running, and install their own.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class _Running:
    """One call of user code on one thread: its label and a line not yet ended."""

    __slots__ = ("label", "pending")

    def __init__(self, label: str) -> None:
        self.label = label
        self.pending = ""


class _Router(io.TextIOBase):
    """`sys.stdout` while user code runs: that code's lines to stderr, marked."""

    def __init__(self, original: TextIO) -> None:
        super().__init__()
        self.original = original
        self.local = threading.local()

    def running(self) -> list[_Running]:
        stack: list[_Running] | None = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        return stack

    def write(self, text: str) -> int:
        stack = self.running()
        if not stack:
            return self.original.write(text)
        current = stack[-1]
        current.pending += text
        if "\n" in current.pending:
            *lines, current.pending = current.pending.split("\n")
            _emit(current.label, lines)
        return len(text)

    def flush(self) -> None:
        if not self.running():
            self.original.flush()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


_lock = threading.Lock()
_router: _Router | None = None
_users = 0


@contextmanager
def marked_output(label: str) -> Iterator[None]:
    """Run the block with what this thread prints sent to stderr as `[label] line`."""
    global _router, _users
    with _lock:
        if _router is None:
            _router = _Router(sys.stdout)
            sys.stdout = _router
        router = _router
        _users += 1
    stack = router.running()
    current = _Running(label)
    stack.append(current)
    try:
        yield
    finally:
        stack.pop()
        if current.pending:
            _emit(label, [current.pending])
        with _lock:
            _users -= 1
            if _users == 0:
                if sys.stdout is router:
                    sys.stdout = router.original
                _router = None


def _emit(label: str, lines: list[str]) -> None:
    stream = sys.stderr
    stream.write("".join(f"[{label}] {line}\n" for line in lines))
    stream.flush()
