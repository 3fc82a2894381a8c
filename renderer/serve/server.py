"""`renderer serve`: the dev app on livereload's Tornado server, reloaded on every edit.

This module wires the parts together; each lives in a module of its own: `watch`
(what is watched, the watchfiles threads), `reloading` (the open pages' WebSockets),
`hosts` (loopback and Host header checks), `devlog` (the terminal) and
`devpages.reload` (the script put into every HTML page).

Threads and order:

- Requests render on a pool of `RENDER_THREADS` threads (the WSGI container hands each
  to the pool), so a slow or stuck page holds one thread while static files, the error
  page and `/_renderer/` keep answering; the site is safe to share between threads, and
  the `watchdog` stops a render that passes `--timeout`.
- Watcher threads (watchfiles, native file events, a debounce of a few tens of ms) only
  collect changed paths and hand them to the loop with `add_callback`. The loop has the
  app drop what depends on them on a thread of its own (one change after another, in
  order; never on the loop, which a render holding the site's lock would block), then
  the *generation* goes up, and only then every open page is told to reload, at once
  (livereload's own 3-second throttle is not used). A page reports the generation read
  when its request came in; one that was rendered while a change was being applied, or
  whose WebSocket connects late, shows an older one and is reloaded (see
  devpages/reload.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import sys
import threading
import time
import webbrowser
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.netutil import bind_sockets

from ..config import CONFIG_NAME, SiteConfig, load_config
from ..errors import DEFAULT_TIMEOUT, SiteError, display_path
from .devapp import DevApp
from .devlog import ONCE, LoggedContainer, setup_logging
from .devpages.reload import SCRIPT_PATH, SOCKET_PATH, ReloadMiddleware, livereload_js
from .hosts import (
    MAX_REQUEST_HEAD,
    HostCheck,
    HostPolicy,
    RequestLimits,
    bound_to_loopback,
    url_host,
)
from .reloading import ReloadSocket, ScriptHandler, reload_pages
from .watch import Watchers, WatchPlan, expand, is_structural, watch_plan

logger = logging.getLogger("renderer")
LOGGED_PATHS = 5  # a change names this many files on the terminal, then "and N more"
RENDER_THREADS = 8  # pages rendered at once; more wait their turn
WATCHDOG_MS = 250  # how often renders are checked against the time limit


def serve(site: Path, *, host: str = "127.0.0.1", port: int = 5000, open_browser: bool = False,
          drafts: bool = True, timeout: float | None = DEFAULT_TIMEOUT,
          allow_hosts: Iterable[str] = ()) -> None:
    """Serve the site in `site` until interrupted (Ctrl+C or SIGTERM). While bound to
    loopback, requests are answered only for loopback names, `host` itself and the names
    in `allow_hosts`."""
    root = Path(site).resolve()
    if not (root / CONFIG_NAME).is_file():
        load_config(root)  # raises the usual "not a site folder" error
    setup_logging()
    server = DevServer(root, host=host, port=port, drafts=drafts, timeout=timeout,
                       allow_hosts=allow_hosts)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.run(open_browser=open_browser))
    logger.info("stopped")
    if server.app.watchdog.running:  # a render stuck in C: do not wait for it at exit
        sys.stderr.flush()
        os._exit(0)


class DevServer:
    """The dev app, its watchers and the open pages' WebSockets, on one IOLoop."""

    def __init__(self, root: Path, *, host: str, port: int, drafts: bool,
                 timeout: float | None = DEFAULT_TIMEOUT,
                 allow_hosts: Iterable[str] = ()) -> None:
        self.root = root
        self.host = host
        self.port = port
        self.allow_hosts = tuple(allow_hosts)
        # Until run() has bound its sockets: as strict as loopback.
        self.hosts = HostPolicy(host, loopback=True, allowed=self.allow_hosts)
        self.app = DevApp(root, drafts=drafts, timeout=timeout)
        self.renders = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="render")
        self.changes = ThreadPoolExecutor(1, thread_name_prefix="changes")
        self.generation = 0
        self.watchers = Watchers(self.root, self.schedule)
        self._loop: IOLoop | None = None  # set by run()

    async def run(self, *, open_browser: bool = False) -> None:
        """Listen, watch, and wait for SIGTERM (Ctrl+C ends `asyncio.run` itself)."""
        self._loop = IOLoop.current()
        sockets = self.bind()
        self.check_hosts(sockets)
        self.watchers.update(self.plan())  # watching before the first page is served
        server = HTTPServer(self.application(), xheaders=False,
                            max_header_size=MAX_REQUEST_HEAD)
        server.add_sockets(sockets)
        self.announce(sockets[0].getsockname()[1], open_browser)
        watchdog = PeriodicCallback(self.stop_slow_renders, WATCHDOG_MS)
        watchdog.start()
        self.app.checker.start()  # renders every URL in the background (checker.py)
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError):  # not on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await stop.wait()
        finally:
            watchdog.stop()
            self.app.checker.stop()
            server.stop()
            self.watchers.stop()
            self.renders.shutdown(wait=False, cancel_futures=True)
            self.changes.shutdown(wait=False, cancel_futures=True)

    def stop_slow_renders(self) -> None:
        for url in self.app.watchdog.check():
            logger.error("%s took longer than %g s: stopped", url, self.app.watchdog.limit)

    def bind(self) -> list[Any]:
        """The listening sockets; a port in use is one line and exit 1, not a traceback."""
        try:
            return bind_sockets(self.port, address=self.host)
        except OSError as error:
            hint = f"; another program listens there: --port {self.port + 1} picks another" \
                if error.errno == errno.EADDRINUSE and self.port else ""
            logger.error("error: cannot listen on %s port %s: %s%s", self.host, self.port,
                         error.strerror or error, hint)
            raise SystemExit(1) from None

    def check_hosts(self, sockets: list[Any]) -> None:
        """Bound to loopback (as the OS bound it: no lookup of the --host name), answer
        only requests addressed to a loopback name, the bound address or an allowed name:
        a web page elsewhere cannot read the dev server through DNS rebinding."""
        loopback = bound_to_loopback(str(sock.getsockname()[0]) for sock in sockets)
        self.hosts = HostPolicy(self.host, loopback=loopback, allowed=self.allow_hosts)
        if not loopback:
            logger.warning("warning: serving on %s: anyone who can reach this machine can "
                           "read the site, its drafts and its error pages; the dev server is "
                           "made for 127.0.0.1", self.host)

    def announce(self, port: int, open_browser: bool) -> None:
        """The line that says where the site is (with --port 0, the only way to know)."""
        url = f"http://{url_host(self.host)}:{port}"
        logger.info("serving %s at %s%s (routing preview: %s/_renderer/); Ctrl+C stops",
                    self.root, url, self.base_path(), url)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url + self.base_path(),),
                             daemon=True).start()

    def application(self) -> web.Application:
        """The reload WebSocket and script under /_renderer/; every other URL goes to the
        WSGI app, behind the host check and the reload-script middleware."""
        middleware = ReloadMiddleware(HostCheck(self.app, self.allowed_host),
                                      lambda: self.generation, lambda: (self.root,))
        container = LoggedContainer(RequestLimits(middleware), executor=self.renders)
        script = livereload_js()
        socket_options = {"generation": lambda: self.generation, "app": self.app,
                          "allowed_host": self.allowed_host}
        handlers: list[Any] = [
            (SOCKET_PATH, ReloadSocket, socket_options),
            (SCRIPT_PATH.replace(".", r"\."), ScriptHandler,
             {"script": script, "allowed_host": self.allowed_host}),
        ]
        if SOCKET_PATH.encode() not in script:  # an unknown livereload.js: its own path
            handlers.append(("/livereload", ReloadSocket, socket_options))
        handlers.append((r".*", web.FallbackHandler, {"fallback": container}))
        return web.Application(handlers, debug=False, log_function=lambda handler: None,
                               websocket_ping_interval=None)

    def base_path(self) -> str:
        try:
            return self.app.site.config.base_path
        except SiteError:
            return "/"

    def allowed_host(self, host: str) -> bool:
        """Whether to answer a request with this Host header (see check_hosts)."""
        return self.hosts(host)

    # -- changes ---------------------------------------------------------------------------

    def schedule(self, paths: set[Path]) -> None:
        """From a watcher thread: apply the change on the loop."""
        if self._loop is not None:
            self._loop.add_callback(self.apply, paths)

    async def apply(self, paths: set[Path]) -> None:
        """Drop what the changed files fed (on the changes thread), then, on the loop,
        reload every open page. The order matters: a page reloaded before the caches are
        dropped would show the old text."""
        started = time.perf_counter()
        await IOLoop.current().run_in_executor(self.changes, self.forget, paths)
        self.generation += 1
        ONCE.reset()
        self.watchers.update(self.plan(), force=any(self.watchers.is_root(p) for p in paths))
        waiters = reload_pages(paths, self.app)
        logger.info("changed %s: reloading %d page%s (%.0f ms)", describe(paths), waiters,
                    "" if waiters == 1 else "s", 1000 * (time.perf_counter() - started))

    def forget(self, paths: set[Path]) -> None:
        """Tell the app which files changed; a folder that moved away starts it afresh."""
        changed = expand(paths)
        if any(is_structural(path) for path in paths):
            changed.add(self.root / CONFIG_NAME)
        try:
            self.app.changed(changed)
        except Exception:  # a bug in renderer: log it, and start from scratch
            logger.exception("internal error while applying a change (a bug in renderer)")
            self.app.changed({self.root / CONFIG_NAME})

    def plan(self) -> WatchPlan:
        """What to watch now; with a broken site.toml (or a bug), the default folders."""
        try:
            config: SiteConfig | None = self.app.site.config
        except SiteError:
            config = None
        except Exception:  # a bug in renderer: shown on the pages; watch the defaults
            config = None
        return watch_plan(self.root, config)


def describe(paths: Iterable[Path]) -> str:
    """The changed files for the terminal: a few names, then how many more."""
    names = sorted(display_path(p) for p in paths)
    more = f" and {len(names) - LOGGED_PATHS} more" if len(names) > LOGGED_PATHS else ""
    return ", ".join(names[:LOGGED_PATHS]) + more
