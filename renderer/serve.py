"""`renderer serve`: the dev app on livereload's Tornado server, reloaded on every edit.

Threads and order:

- The IOLoop thread does everything that touches the site. Requests render on it (the
  WSGI container runs the app on the loop's own thread, one at a time), and changes are
  applied on it. So a render never sees half-dropped caches.
- Watcher threads (watchfiles, native file events, a debounce of a few tens of ms) only
  collect changed paths and hand them to the loop with `add_callback`. There the app
  drops what depends on them, the *generation* goes up, and only then every open page
  is told to reload, at once (livereload's own 3-second throttle is not used). A page
  whose WebSocket connects later reports the generation it was rendered at, and is
  reloaded if that is older (see devpages/reload.py).

What is watched: site.toml, the templates, content and static folders, and every file
`site.toml` names (sources, Python functions), wherever it lies; never the output folder,
caches, dotfiles, editor backups or logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import signal
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livereload.handlers import LiveReloadHandler
from tornado import web
from tornado.concurrent import dummy_executor
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPServerRequest
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.websocket import WebSocketClosedError, WebSocketHandler
from tornado.wsgi import WSGIContainer

from .app import RendererApp
from .config import CONFIG_NAME, SiteConfig, load_config
from .devpages.reload import SCRIPT_PATH, SOCKET_PATH, ReloadMiddleware, livereload_js
from .errors import SiteError, display_path

logger = logging.getLogger("renderer")

DEBOUNCE_MS = 50  # the longest a burst of events is gathered
STEP_MS = 10  # a batch is handed over once no event came for this long
OLD_WATCHER_GRACE_S = 0.5  # a replaced watcher keeps running this long: no gap
CACHE_FOLDER = ".renderer-cache"
IGNORED_NAMES = ("4913", "__pycache__")  # vim's write test file; Python's caches
IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".swpx", ".tmp", ".pyc", ".pyo", ".log", ".part",
                    ".crdownload", ".orig", ".rej")


def serve(site: Path, *, host: str = "127.0.0.1", port: int = 5000, open_browser: bool = False,
          drafts: bool = True) -> None:
    """Serve the site in `site` until interrupted (Ctrl+C or SIGTERM)."""
    root = Path(site).resolve()
    if not (root / CONFIG_NAME).is_file():
        load_config(root)  # raises the usual "not a site folder" error
    setup_logging()
    if not is_loopback(host):
        logger.warning("warning: serving on %s: anyone who can reach this machine can read the "
                       "site, its drafts and its error pages; the dev server is made for "
                       "127.0.0.1", host)
    server = DevServer(root, host=host, port=port, drafts=drafts)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.run(open_browser=open_browser))
    logger.info("stopped")


class DevServer:
    """The dev app, its watchers and the open pages' WebSockets, on one IOLoop."""

    def __init__(self, root: Path, *, host: str, port: int, drafts: bool) -> None:
        self.root = root
        self.host = host
        self.port = port
        self.app = RendererApp(root, drafts=drafts, dev=True)
        self.generation = 0
        self.watchers = Watchers(self.root, self.schedule)
        self._loop: IOLoop | None = None  # set by run()

    async def run(self, *, open_browser: bool = False) -> None:
        self._loop = IOLoop.current()
        try:
            sockets = bind_sockets(self.port, address=self.host)
        except OSError as error:
            logger.error("error: cannot listen on %s port %s: %s", self.host, self.port,
                         error.strerror or error)
            raise SystemExit(1) from None
        port = sockets[0].getsockname()[1]
        self.watchers.update(self.plan())  # watching before the first page is served
        server = HTTPServer(self.application(), xheaders=False)
        server.add_sockets(sockets)
        url = f"http://{url_host(self.host)}:{port}"
        logger.info("serving %s at %s%s (routing preview: %s/_renderer/); Ctrl+C stops",
                    self.root, url, self.base_path(), url)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url + self.base_path(),),
                             daemon=True).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await stop.wait()
        finally:
            server.stop()
            self.watchers.stop()

    def application(self) -> web.Application:
        middleware = ReloadMiddleware(HostCheck(self.app, self.allowed_host),
                                      lambda: self.generation, lambda: (self.root,))
        container = LoggedContainer(middleware, executor=dummy_executor)
        script = livereload_js()
        handlers: list[Any] = [
            (SOCKET_PATH, ReloadSocket, {"server": self}),
            (SCRIPT_PATH.replace(".", r"\."), ScriptHandler, {"script": script}),
        ]
        if SOCKET_PATH.encode() not in script:  # an unknown livereload.js: its own path
            handlers.append(("/livereload", ReloadSocket, {"server": self}))
        handlers.append((r".*", web.FallbackHandler, {"fallback": container}))
        return web.Application(handlers, debug=False, log_function=lambda handler: None,
                               websocket_ping_interval=None)

    def base_path(self) -> str:
        try:
            return self.app.site.config.base_path
        except SiteError:
            return "/"

    def allowed_host(self, host: str) -> bool:
        """Bound to loopback, answer only requests addressed to a loopback name: a web
        page elsewhere cannot read the dev server through DNS rebinding."""
        if not is_loopback(self.host):
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        return (name in ("localhost", self.host.lower()) or name.endswith(".localhost")
                or is_loopback(name))

    # -- changes ---------------------------------------------------------------------------

    def schedule(self, paths: set[Path]) -> None:
        """From a watcher thread: apply the change on the loop."""
        if self._loop is not None:
            self._loop.add_callback(self.apply, paths)

    def apply(self, paths: set[Path]) -> None:
        """On the loop: drop what the changed files fed, then reload every open page."""
        started = time.perf_counter()
        changed = expand(paths)
        if any(is_structural(path) for path in paths):
            changed.add(self.root / CONFIG_NAME)  # a folder moved: start afresh
        try:
            self.app.changed(changed)
        except Exception:  # a bug in renderer: log it, and start from scratch
            logger.exception("internal error while applying a change (a bug in renderer)")
            self.app.changed({self.root / CONFIG_NAME})
        self.generation += 1
        ONCE.reset()
        self.watchers.update(self.plan(), force=any(self.watchers.is_root(p) for p in paths))
        waiters = reload_pages(paths, self.app)
        names = ", ".join(sorted(display_path(p) for p in paths)[:5])
        more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
        logger.info("changed %s%s: reloading %d page%s (%.0f ms)", names, more, waiters,
                    "" if waiters == 1 else "s", 1000 * (time.perf_counter() - started))

    def plan(self) -> WatchPlan:
        try:
            config: SiteConfig | None = self.app.site.config
        except SiteError:
            config = None
        except Exception:  # a bug in renderer: shown on the pages; watch the defaults
            config = None
        return watch_plan(self.root, config)


def expand(paths: Iterable[Path]) -> set[Path]:
    """The changed paths, with the files of a folder that was added or moved in."""
    changed: set[Path] = set()
    for path in paths:
        changed.add(path)
        if path.is_dir():
            changed.update(p for p in path.rglob("*") if p.is_file())
    return changed


def is_structural(path: Path) -> bool:
    """A folder that went away (moved or deleted): its files were not reported one by one."""
    return not path.exists() and not path.suffix


# -- reloading the open pages ----------------------------------------------------------------


def reload_message(paths: Iterable[Path], app: RendererApp) -> dict[str, Any]:
    """livereload's message: one stylesheet of the static folder is swapped in place,
    anything else reloads the page."""
    paths = list(paths)
    path = "*"
    if len(paths) == 1 and paths[0].suffix == ".css":
        with contextlib.suppress(SiteError):
            static = app.site.config.static
            if paths[0].is_relative_to(static):
                path = paths[0].relative_to(static).as_posix()
    return {"command": "reload", "path": path, "liveCSS": path != "*", "liveImg": False}


def reload_pages(paths: Iterable[Path], app: RendererApp) -> int:
    """Send the reload message to every connected page now; return how many."""
    message = reload_message(paths, app)
    waiters = list(LiveReloadHandler.waiters)
    for waiter in waiters:
        send(waiter, message)
    return len(waiters)


def send(waiter: Any, message: dict[str, Any]) -> None:
    try:
        waiter.write_message(message)
    except WebSocketClosedError:
        LiveReloadHandler.waiters.discard(waiter)


class ReloadSocket(LiveReloadHandler):  # type: ignore[misc]
    """livereload's WebSocket handler; pages from other origins may not connect, and a
    page rendered at an older generation is reloaded as soon as it says hello."""

    def initialize(self, server: DevServer) -> None:
        self.server = server

    def check_origin(self, origin: str) -> bool:
        return WebSocketHandler.check_origin(self, origin)

    def on_message(self, message: str | bytes) -> None:
        try:
            parsed = json.loads(message)
            super().on_message(message)
        except (ValueError, TypeError, AttributeError):
            self.close()
            return
        if isinstance(parsed, dict) and parsed.get("command") == "info":
            plugins = parsed.get("plugins") or {}
            shown = (plugins.get("renderer") or {}).get("generation")
            if shown != self.server.generation:
                send(self, reload_message((), self.server.app))


class ScriptHandler(web.RequestHandler):
    """livereload.js, pointed at the WebSocket under /_renderer/."""

    def initialize(self, script: bytes) -> None:
        self.script = script

    def get(self) -> None:
        self.set_header("Content-Type", "application/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.write(self.script)


class LoggedContainer(WSGIContainer):
    """Tornado's WSGI container, logging one short line per request."""

    def _log(self, status_code: int, request: HTTPServerRequest) -> None:
        took = 1000.0 * request.request_time()
        logger.info("%s %s %d %.0f ms", request.method, request.uri, status_code, took)


# -- the host check ------------------------------------------------------------------------


class HostCheck:
    """WSGI: answer 400 to a request whose Host header is not one the server allows."""

    def __init__(self, app: Any, allowed: Callable[[str], bool]) -> None:
        self.app = app
        self.allowed = allowed

    def __call__(self, environ: Any, start_response: Any) -> Any:
        host = environ.get("HTTP_HOST", "")
        if host and not self.allowed(host):
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [f"400 Bad Request: unknown host {host!r}; the dev server answers "
                    "requests to localhost only (serve --host to change)\n".encode()]
        return self.app(environ, start_response)


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) means this machine only."""
    host = host.strip("[]")
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback
                               for info in infos)


def url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1" if host != "::" else "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


# -- watching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchPlan:
    """What to watch: folders with everything under them, folders for their own entries,
    and which paths count."""

    site: Path
    recursive: frozenset[Path]
    shallow: frozenset[Path]
    files: frozenset[Path]  # files that count wherever they are
    roots: frozenset[Path]  # folders that count once they exist (watched recursively then)
    ignored: frozenset[Path]  # the output folder and the caches

    def counts(self, path: Path) -> bool:
        if any(path.is_relative_to(folder) for folder in self.ignored):
            return False
        if path in self.files:
            return True
        base = next((r for r in self.recursive if path.is_relative_to(r)), None)
        if base is not None:
            return not is_noise(path.relative_to(self.site if path.is_relative_to(self.site)
                                                 else base))
        return any(path == root or root.is_relative_to(path) for root in self.roots)


def watch_plan(root: Path, config: SiteConfig | None) -> WatchPlan:
    """The plan for a site; with no config (a broken site.toml), the default folders."""
    files = {root / CONFIG_NAME}
    if config is None:
        folders = {root / name for name in ("templates", "content", "static")}
        ignored = {root / "build", root / CACHE_FOLDER}
        shallow_dirs: set[Path] = set()
    else:
        folders = {config.templates, config.content, config.static}
        ignored = {config.output, root / CACHE_FOLDER}
        shallow_dirs = set()
        for spec in config.sources.values():
            if spec.path is not None:
                files.add(spec.path)
            if spec.python is not None:
                files.add(spec.python.file)
            if spec.kind == "collection":
                base, deep = glob_base(root, spec.target)
                (folders if deep else shallow_dirs).add(base)
        for route in config.routes:
            for reference in (route.context, route.each_function):
                if reference is not None:
                    files.add(reference.file)
    recursive = {f for f in folders if f.is_dir()}
    recursive = {f for f in recursive
                 if not any(f != other and f.is_relative_to(other) for other in recursive)}

    def covered(path: Path) -> bool:
        return any(path.is_relative_to(folder) for folder in recursive)

    shallow = {root} | {d for d in shallow_dirs if d.is_dir() and not covered(d)}
    roots = set(folders)
    for path in list(files) + [f for f in folders if not f.is_dir()]:
        if covered(path):
            continue
        parent = path.parent
        while not parent.is_dir() and parent != parent.parent:
            parent = parent.parent
        shallow.add(parent)
    for folder in shallow_dirs:
        roots.add(folder)
        if folder.is_dir() and not covered(folder):
            files.update(p for p in folder.iterdir() if p.is_file())
    return WatchPlan(root, frozenset(recursive), frozenset(shallow), frozenset(files),
                     frozenset(roots), frozenset(ignored))


def glob_base(root: Path, pattern: str) -> tuple[Path, bool]:
    """The folder a glob starts in, and whether it reaches below that folder's entries."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if any(char in part for char in "*?["):
            break
        fixed.append(part)
    rest = parts[len(fixed):]
    base = (root.joinpath(*fixed)).resolve()
    return base, len(rest) > 1 or any("**" in part for part in rest)


def is_noise(relative: Path) -> bool:
    """Dotfiles and dot-folders, editor backups and swap files, Python caches, logs."""
    name = relative.name
    return (any(part.startswith(".") for part in relative.parts) or name.startswith("#")
            or name.endswith(IGNORED_SUFFIXES) or name in IGNORED_NAMES
            or "__pycache__" in relative.parts)


class Watchers:
    """A recursive and a shallow watchfiles watcher, replaced when the plan changes."""

    def __init__(self, root: Path, on_change: Callable[[set[Path]], None]) -> None:
        self.root = root
        self.on_change = on_change
        self.plan: WatchPlan | None = None
        self.threads: list[WatchThread] = []

    def update(self, plan: WatchPlan, *, force: bool = False) -> None:
        if plan == self.plan and not force:
            return
        old = self.threads
        self.plan = plan
        self.threads = [WatchThread(sorted(paths), recursive, plan.counts, self.on_change)
                        for paths, recursive in ((plan.recursive, True), (plan.shallow, False))
                        if paths]
        for thread in self.threads:
            thread.start_watching()
        if old:  # the new ones already watch: stop the old ones a little later
            def stop_old() -> None:
                for thread in old:
                    thread.stop()

            timer = threading.Timer(OLD_WATCHER_GRACE_S, stop_old)
            timer.daemon = True
            timer.start()

    def is_root(self, path: Path) -> bool:
        """Whether `path` is (or holds) a watched folder: it moving needs new watchers."""
        plan = self.plan
        if plan is None:
            return False
        return any(folder == path or folder.is_relative_to(path)
                   for folder in plan.recursive | plan.roots if folder != self.root)

    def stop(self) -> None:
        for thread in self.threads:
            thread.stop()


@dataclass
class WatchThread:
    """One watchfiles watcher on a thread of its own, set up before start_watching returns."""

    paths: list[Path]
    recursive: bool
    counts: Callable[[Path], bool]
    on_change: Callable[[set[Path]], None]
    stop_event: threading.Event = field(default_factory=threading.Event)

    def start_watching(self) -> None:
        from watchfiles._rust_notify import RustNotify

        existing = [str(path) for path in self.paths if path.exists()]
        if not existing:
            return
        try:
            notify = RustNotify(existing, False, False, 300, self.recursive, True)
        except (FileNotFoundError, OSError) as error:  # a folder went away meanwhile
            logger.warning("warning: cannot watch %s: %s", ", ".join(existing), error)
            return
        threading.Thread(target=self._loop, args=(notify,), daemon=True,
                         name="renderer-watch").start()

    def _loop(self, notify: Any) -> None:
        with notify:
            while not self.stop_event.is_set():
                result = notify.watch(DEBOUNCE_MS, STEP_MS, 1000, self.stop_event)
                if isinstance(result, str):  # "timeout", "stop", "signal"
                    continue
                paths = {Path(path) for _, path in result}
                paths = {path for path in paths if self.counts(path)}
                if paths:
                    self.on_change(paths)

    def stop(self) -> None:
        self.stop_event.set()


# -- the terminal ----------------------------------------------------------------------------


class OncePerChange(logging.Filter):
    """Errors are shown once until the next change, however often a page is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        key = record.getMessage()
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
        return True

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()


ONCE = OncePerChange()


class TerminalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR and not message.startswith("error:"):
            message = f"error: {message}"
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return message


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TerminalFormatter())
    handler.addFilter(ONCE)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    tornado_handler = logging.StreamHandler(sys.stderr)
    tornado_handler.addFilter(ONCE)
    tornado = logging.getLogger("tornado")
    tornado.addHandler(tornado_handler)
    tornado.setLevel(logging.WARNING)
    tornado.propagate = False
    logging.getLogger("livereload").setLevel(logging.WARNING)

