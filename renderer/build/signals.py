"""How a build stops: on SIGTERM or Ctrl+C, and when a page takes too long.

Both arrive as signals and become exceptions in the build's one thread, derived from
BaseException so that a site's `except Exception:` cannot swallow them: `Interrupted`
(SIGINT, SIGTERM) and `RenderTimeout` (SIGALRM, set by `time_limit` around each
render). The traceback of a `RenderTimeout` passes through the site's own code, which is
how the error names the line a render was stuck at. A thread watching a clock could not
do that: it cannot stop the main thread, let alone say where it was.

The alarm interrupts Python code, and a `time.sleep`; not a single call into C that never
returns (a pathological regular expression). In worker processes the build then kills
the worker (workers.py); in the build's own process `LastResort` ends the build.

A KeyboardInterrupt is never the build's way to stop: with the handlers here in place,
one comes from the site's code, which `Sources` reports as that source's error.
"""

from __future__ import annotations

import faulthandler
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, TracebackType

from ..errors import RenderTimeout, SiteError
from ..errors import timeout_error as located_timeout

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):  # noqa: N818 - what the user sees: "interrupted"
    """The build was asked to stop (Ctrl+C, SIGTERM); `signal` is its number."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.signal = number


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, the first SIGINT or SIGTERM raises `Interrupted` (the build
    then stops its workers and removes its staging folder on its way out); a second one
    ends the process at once, as it would without renderer's handlers."""
    if not _main_thread():
        yield
        return

    def stop(number: int, frame: FrameType | None) -> None:
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_DFL)
        raise Interrupted(number)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends (the commit: it runs to its end, so
    the output is the old build or the new one, never a mix); they are delivered after."""
    if not hasattr(signal, "pthread_sigmask") or not _main_thread():
        yield
        return
    disarm()  # a render's alarm never reaches the commit
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _alarm(number: int, frame: FrameType | None) -> None:
    raise RenderTimeout


def disarm() -> None:
    """Stop the alarm of `time_limit`: called again where a `RenderTimeout` is caught, as
    the alarm may have fired before the block's own `finally` stopped it."""
    if hasattr(signal, "setitimer") and _main_thread():
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise `RenderTimeout` in the block once it has run `seconds` (and again each
    second after, should the site's code catch it). No limit where there is no
    interval timer (Windows) or off the main thread."""
    if not seconds or not hasattr(signal, "setitimer") or not _main_thread():
        yield
        return
    if signal.getsignal(signal.SIGALRM) is not _alarm:
        signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        disarm()


class LastResort:
    """In the build's own process, where no parent can kill it: should a block still run
    `grace` seconds past `seconds` (a single call into C that never returns, which the
    alarm cannot interrupt, or code that swallows `RenderTimeout`), end the process with
    the tracebacks of its threads on stderr and exit code 1 (faulthandler's watchdog
    thread needs no help from the stuck one). Nothing is committed while it is armed, and
    the next build removes the staging folder left.

    `with LastResort(...)` guards one block. For many short ones (the pages a build
    renders in its own process), guard the loop and call `pace()` as each block begins:
    arming faulthandler starts a thread and disarming joins it, 0.13 ms, as much as
    rendering a small page, so the watchdog is armed again only once half of `grace` has
    passed since it last was. A block is then ended between `seconds` + `grace` / 2 and
    `seconds` + `grace` after it began."""

    def __init__(self, seconds: float | None, grace: float) -> None:
        self.seconds = seconds
        self.grace = grace
        stream = sys.stderr if _has_fileno(sys.stderr) else sys.__stderr__
        self.stream = stream if seconds and stream is not None and _has_fileno(stream) \
            else None
        self.armed = 0.0

    def __enter__(self) -> LastResort:
        self._arm()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.stream is not None:
            faulthandler.cancel_dump_traceback_later()

    def pace(self) -> None:
        """A block begins: arm the watchdog again if half the grace period has passed."""
        if self.stream is not None and time.monotonic() - self.armed >= self.grace / 2:
            self._arm()

    def _arm(self) -> None:
        if self.stream is None or self.seconds is None:
            return
        faulthandler.dump_traceback_later(self.seconds + self.grace, exit=True,
                                          file=self.stream)
        self.armed = time.monotonic()


def _has_fileno(stream: object) -> bool:
    """Whether faulthandler can write to `stream` (click's test runner's has no file)."""
    try:
        stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
    return True


def timeout_error(what: str, seconds: float, traceback: TracebackType | None,
                  root: Path, command: str = "build") -> SiteError:
    """`errors.timeout_error`, naming the option of the command that runs (build, check)."""
    return located_timeout(what, seconds, traceback, root,
                           f"the limit is renderer {command} --timeout SECONDS")
