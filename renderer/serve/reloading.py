"""Telling the open pages to reload: livereload's WebSocket, its script, its message.

`serve` uses livereload's browser side as it is (`livereload.js` and its protocol) but
not its server-side timing: livereload drops a change that comes less than 3 s after
a reload, and `serve` sends every message itself, at once, the moment a change has been
applied. A page that connects late says which *generation* of the site it shows (see
devpages/reload.py), and is reloaded then if it is older than the server's.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from livereload.handlers import LiveReloadHandler
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..app import RendererApp
from ..errors import SiteError
from .hosts import refusal


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
    """Send to one page; a page that went away meanwhile is forgotten, not an error."""
    try:
        waiter.write_message(message)
    except WebSocketClosedError:
        LiveReloadHandler.waiters.discard(waiter)


class HostChecked(web.RequestHandler):
    """A Tornado handler that answers 400, before anything else (a WebSocket upgrade
    too), to a request whose Host header the server does not allow: the same check as
    hosts.HostCheck gives the WSGI app, for the handlers that are not behind it."""

    allowed_host: Callable[[str], bool]

    def prepare(self) -> None:
        host = self.request.headers.get("Host", "")
        if host and not self.allowed_host(host):
            self.set_status(400)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(refusal(host))


class ReloadSocket(HostChecked, LiveReloadHandler):  # type: ignore[misc]
    """livereload's WebSocket handler; only for an allowed Host and from the page's own
    origin, and a page rendered at an older generation is reloaded as soon as it says
    hello."""

    def initialize(self, generation: Callable[[], int], app: RendererApp,
                   allowed_host: Callable[[str], bool]) -> None:
        self.generation = generation
        self.app = app
        self.allowed_host = allowed_host

    def check_origin(self, origin: str) -> bool:
        # livereload accepts any origin; Tornado's own check allows the page's host only.
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
            if shown != self.generation():
                send(self, reload_message((), self.app))


class ScriptHandler(HostChecked):
    """livereload.js, pointed at the WebSocket under /_renderer/."""

    def initialize(self, script: bytes, allowed_host: Callable[[str], bool]) -> None:
        self.script = script
        self.allowed_host = allowed_host

    def get(self) -> None:
        self.set_header("Content-Type", "application/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.write(self.script)
