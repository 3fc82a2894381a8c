"""Worker processes forked from the build, fed from its one thread.

`multiprocessing.Pool` would do the job, but it runs three threads beside the caller's,
and one of them wakes whenever a result waits in the pipe and loops until another thread
has read it: on two cores, a sixth of a core taken from the workers while they render.
Here the build's own thread sends tasks and reads results, a worker that dies is an
error rather than a hang, and nothing else runs in the parent.
"""

from __future__ import annotations

import gc
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
    """

    def __init__(self, jobs: int, function: Callable[[Task], Result],
                 initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (), *, ahead: int = 2) -> None:
        import multiprocessing

        self.ahead = ahead
        context = multiprocessing.get_context("fork")
        self._connections: list[Connection] = []
        self._processes: list[Any] = []
        gc.freeze()
        try:
            for _ in range(jobs):
                here, there = context.Pipe()
                process = context.Process(target=_serve, daemon=True,
                                          args=(there, function, initializer, initargs))
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
            for ready in wait([c for c, owed in waiting.items() if owed]):
                connection: Connection = ready  # type: ignore[assignment]
                ok, value = self._receive(connection)
                waiting[connection] -= 1
                if not ok:
                    raise value
                self._send_next(connection, pending, waiting)
                yield value

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


def _serve(connection: Connection, function: Callable[[Any], Any],
           initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """A worker's life: run `function` on each task received until told to stop. Ctrl-C
    is the build's to handle (it stops the workers): a worker ignores it rather than
    print a traceback of its own."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
        try:
            connection.send(reply)
        except Exception as error:  # noqa: BLE001 - a result or error pickle refused
            connection.send((False, SiteError(f"a build worker could not send back "
                                              f"{type(error).__name__}: {error}")))
        del task, reply

