"""Worker processes forked from the build, fed from its one thread.

`multiprocessing.Pool` would do the job, but it runs three threads beside the caller's,
and one of them wakes whenever a result waits in the pipe and loops until another thread
has read it: on two cores, a sixth of a core taken from the workers while they render.
Here the build's own thread sends tasks and reads results, a worker that dies is an
error rather than a hang, and nothing else runs in the parent.
"""

from __future__ import annotations

import gc
import mmap
import os
import struct
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import SiteError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

Task = TypeVar("Task")
Result = TypeVar("Result")


class WorkerDied(SiteError):
    """A worker process ended without a result (killed, out of memory, a crash)."""


class Overdue(SiteError):
    """A worker was still at one task past the time limit and a grace period, and was
    killed: `label` is what it last said it was busy with (`busy`)."""

    def __init__(self, label: int, seconds: float) -> None:
        super().__init__(f"a build worker process was stuck past {seconds:g} s and was killed")
        self.label = label
        self.seconds = seconds


# Each worker's slot in memory shared with the build: when it started its current piece
# of work (time.monotonic(), 0 when idle) and a number saying which. Set in the worker.
_SLOT = struct.Struct("dq")
_clock: tuple[mmap.mmap, int] | None = None


def busy(label: int) -> None:
    """In a worker: say that it starts on `label` now (what the build names, should it
    have to kill the worker for taking too long). Elsewhere nothing."""
    if _clock is not None:
        memory, index = _clock
        _SLOT.pack_into(memory, index * _SLOT.size, time.monotonic(), label)


def grace(limit: float) -> float:
    """How long past its time limit a worker gets to report its own timeout (its alarm
    fired, and the error with the line it was at is on its way) before it is killed."""
    return min(5.0, max(1.0, limit))


def can_fork() -> bool:
    """Whether worker processes can be forked (they inherit the loaded site)."""
    import multiprocessing  # only a build with enough to render pays for importing it

    return "fork" in multiprocessing.get_all_start_methods()


class Workers(Generic[Task, Result]):
    """`jobs` processes forked from this one, each running `function` on the tasks it is
    sent. They inherit everything loaded so far (the site, its templates, its imports);
    `initializer(*initargs)` runs once in each before its first task. Each worker is
    sent `ahead` tasks at first and one more per result, so it never waits for work.

    What this process holds is moved out of the cycle collector's sight while forking
    (gc.freeze): a worker's collections would otherwise walk, and so copy page by page,
    all the memory it shares with this process.

    With a `limit` (seconds), a worker that owes a result and has been busy with one
    piece of work (`busy`) for longer than the limit and a grace period is killed, and
    `Overdue` raised: the task function is expected to enforce the limit itself, and
    this catches what does not let itself be stopped.
    """

    def __init__(self, jobs: int, function: Callable[[Task], Result],
                 initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (), *, ahead: int = 2,
                 limit: float | None = None) -> None:
        import multiprocessing

        self.ahead = ahead
        self.limit = limit
        self._clock = mmap.mmap(-1, _SLOT.size * jobs) if limit else None
        context = multiprocessing.get_context("fork")
        self._connections: list[Connection] = []
        self._processes: list[Any] = []
        gc.freeze()
        try:
            for number in range(jobs):
                here, there = context.Pipe()
                # The child closes the build's ends of every pipe it inherits (its own
                # and the earlier workers'): held open there, they would keep a worker
                # whose build is gone waiting for a task that never comes.
                process = context.Process(target=_serve, daemon=True,
                                          args=(there, [*self._connections, here],
                                                function, initializer, initargs,
                                                self._clock, number, os.getpid()))
                process.start()
                there.close()
                self._connections.append(here)
                self._processes.append(process)
        except BaseException:
            self.stop()
            raise
        finally:
            gc.unfreeze()

    def map_unordered(self, tasks: Iterable[Task]) -> Iterator[Result]:
        """The results of all `tasks`, in the order they are done. The first tasks are
        sent now: the workers start while this process does something else. An exception
        raised by a task is raised here, with no more tasks sent."""
        pending = deque(tasks)
        waiting = dict.fromkeys(self._connections, 0)  # results each worker owes
        for connection in self._connections:
            for _ in range(self.ahead):
                self._send_next(connection, pending, waiting)
        return self._results(pending, waiting)

    def _results(self, pending: deque[Task], waiting: dict[Connection, int]
                 ) -> Iterator[Result]:
        from multiprocessing.connection import wait

        while any(waiting.values()):
            ready_ones = wait([c for c, owed in waiting.items() if owed],
                              timeout=1.0 if self._clock is not None else None)
            if self._clock is not None:
                self._check_overdue(waiting)
            for ready in ready_ones:
                connection: Connection = ready  # type: ignore[assignment]
                ok, value = self._receive(connection)
                waiting[connection] -= 1
                if not ok:
                    raise value
                self._send_next(connection, pending, waiting)
                yield value

    def _check_overdue(self, waiting: dict[Connection, int]) -> None:
        assert self._clock is not None and self.limit is not None
        now = time.monotonic()
        for number, connection in enumerate(self._connections):
            started, label = _SLOT.unpack_from(self._clock, number * _SLOT.size)
            if waiting.get(connection) and started \
                    and now - started > self.limit + grace(self.limit):
                self._processes[number].kill()
                raise Overdue(label, self.limit)

    def stop(self) -> None:
        """End the workers: politely when they are idle, at once when not."""
        for connection in self._connections:
            try:
                connection.send(None)
            except OSError:
                pass
        for process in self._processes:
            process.join(timeout=1)
            if process.is_alive():
                process.kill()
                process.join()
        for connection in self._connections:
            connection.close()
        self._connections, self._processes = [], []

    def __enter__(self) -> Workers[Task, Result]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is not None:  # an error: workers may be busy, do not wait for them
            for process in self._processes:
                process.kill()
        self.stop()

    def _send_next(self, connection: Connection, pending: deque[Task],
                   waiting: dict[Connection, int]) -> None:
        if pending:
            try:
                connection.send(pending.popleft())
            except OSError:  # a broken pipe: it died since its last result
                raise self._died(connection) from None
            waiting[connection] += 1

    def _receive(self, connection: Connection) -> tuple[bool, Any]:
        try:
            return connection.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):
            raise self._died(connection) from None

    def _died(self, connection: Connection) -> WorkerDied:
        process = self._processes[self._connections.index(connection)]
        process.join(timeout=1)
        code = process.exitcode
        how = f"was killed by signal {-code}" if code is not None and code < 0 \
            else f"exited with code {code}"
        return WorkerDied(f"a build worker process {how} before it finished "
                          "(out of memory?); nothing was written")


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent ends (Linux's
    PR_SET_PDEATHSIG); elsewhere nothing (the closed pipe ends the worker)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _serve(connection: Connection, inherited: list[Connection],
           function: Callable[[Any], Any], initializer: Callable[..., None] | None,
           initargs: tuple[Any, ...], clock: mmap.mmap | None, number: int,
           parent: int) -> None:
    """A worker's life: run `function` on each task received until told to stop. Ctrl-C
    is the build's to handle (it stops the workers): a worker ignores it rather than
    print a traceback of its own, and takes back the default SIGTERM. It dies with the
    build: killed by the kernel when the build's process ends (Linux), and, elsewhere,
    at the end of its pipe."""
    import signal

    die_with_parent()
    if os.getppid() != parent:  # the build died before the line above
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for other in inherited:
        other.close()
    global _clock
    _clock = (clock, number) if clock is not None else None
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return  # the build is gone
        if task is None:
            return
        try:
            reply: tuple[bool, Any] = (True, function(task))
        except Exception as error:  # noqa: BLE001 - it is the build's to report
            reply = (False, error)
        except (SystemExit, KeyboardInterrupt) as error:  # the site's code: not the end
            reply = (False, SiteError(f"{type(error).__name__} raised in a build worker; "
                                      "a site's code cannot end renderer"))
        if _clock is not None:
            _SLOT.pack_into(_clock[0], _clock[1] * _SLOT.size, 0.0, 0)
        try:
            connection.send(reply)
        except Exception as error:  # noqa: BLE001 - a result or error pickle refused
            connection.send((False, SiteError(f"a build worker could not send back "
                                              f"{type(error).__name__}: {error}")))
        del task, reply
