"""Shared helpers: sites written into tmp_path, and the `renderer` command run for real.

Tests import the plain functions (`from conftest import make_site, run_renderer`) or use
the fixtures of the same job below. Everything here touches real files and real
processes; nothing of renderer's core is mocked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
EXAMPLES = TESTS / "examples"
BLOG = EXAMPLES / "blog"
BLOG_EXPECTED = EXAMPLES / "blog-expected"
REPOSITORY = TESTS.parent


@dataclass(frozen=True)
class Result:
    """What a run of `renderer` gave: exit code, standard output, standard error."""

    code: int
    stdout: str
    stderr: str

    def __iter__(self) -> Iterator[object]:  # so that `code, out, err = run(...)` works
        return iter((self.code, self.stdout, self.stderr))


def make_site(tmp_path: Path, files: Mapping[str, str | None], *,
              folder: str = "site") -> Path:
    """Write `files` (relative path -> text, dedented) into `tmp_path/folder`; return it.

    A value of None is skipped, so a case can remove a file of a base site."""
    root = tmp_path / folder
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if text is None:
            continue
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def copy_example(tmp_path: Path, name: str = "blog") -> Path:
    """A fresh copy of an example site (a build writes its cache into the site folder)."""
    target = tmp_path / name
    shutil.copytree(EXAMPLES / name, target,
                    ignore=shutil.ignore_patterns(".renderer-cache", "__pycache__", "build"))
    return target


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RENDERER_REGENERATE", None)
    env["PYTHONIOENCODING"] = "utf-8"
    env["NO_COLOR"] = "1"
    return env


def run_renderer(*args: str | os.PathLike[str], cwd: Path | None = None,
                 timeout: float = 60) -> Result:
    """Run the real command, `python -m renderer ARGS`, in a subprocess."""
    completed = subprocess.run(
        [sys.executable, "-m", "renderer", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=timeout,
        env=_environment(), check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def run_cli(*args: str | os.PathLike[str], cwd: Path | None = None) -> Result:
    """Run `renderer ARGS` in this process through click's CliRunner: the same command
    line and the same output, for the tests with many cases where a process each would
    be slow. At least one test per command uses `run_renderer` instead."""
    from click.testing import CliRunner

    from renderer.cli import main

    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        result = runner.invoke(main, [str(arg) for arg in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # An exception that escaped the command is a bug: show it as the process would.
        import traceback

        shown = "".join(traceback.format_exception(result.exception))
        return Result(1, result.stdout, result.stderr + shown)
    return Result(result.exit_code, result.stdout, result.stderr)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and mtime (ns), by relative path."""
    if not folder.exists():
        return {}
    return {path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes, by relative path."""
    return {name: data for name, (data, _) in snapshot(folder).items()}


@pytest.fixture
def site_factory(tmp_path: Path) -> Callable[..., Path]:
    """`site_factory(files)`: make_site bound to this test's tmp_path."""

    def factory(files: Mapping[str, str | None], *, folder: str = "site") -> Path:
        return make_site(tmp_path, files, folder=folder)

    return factory


@pytest.fixture
def blog(tmp_path: Path) -> Path:
    """A fresh copy of tests/examples/blog in tmp_path."""
    return copy_example(tmp_path)


@contextlib.contextmanager
def wsgi_server(app: Callable[..., object], *, threads: int = 2) -> Iterator[str]:
    """Run a WSGI app under waitress on 127.0.0.1 (a free port) in a thread, with
    `threads` threads answering requests; yield its base URL ("http://127.0.0.1:PORT");
    stop it at the end."""
    import threading

    waitress = pytest.importorskip("waitress")
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads,
                                    clear_untrusted_proxy_headers=True)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:

        def stop() -> None:  # runs in the server's own loop: close every socket it polls
            for channel in list(server._map.values()):
                if channel is not server and channel is not server.trigger:
                    channel.handle_close()
            server.close()  # the listener and the trigger: the loop ends with nothing left

        try:
            server.trigger.pull_trigger(stop)
        except OSError:  # the loop ended by itself, its sockets closed: nothing left to stop
            pass
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        assert not thread.is_alive(), "waitress did not stop"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def http_get(base: str, path: str, *, method: str = "GET",
             headers: Mapping[str, str] | None = None) -> Response:
    """One real HTTP request, redirects not followed."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                            timeout=30)
    try:
        connection.request(method, path, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()
