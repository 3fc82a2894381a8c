"""The dev app: the production app (`app.RendererApp`) with what only `serve` shows.

A subclass rather than a flag on the production app: `/_renderer/` pages, error pages
with source lines and `no-store` pages live here, so `create_app` cannot serve them by
mistake and `app.py` never imports the dev pages (the arrows point one way).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.wrappers import Request, Response

from ..app import RendererApp, logger
from ..config import CONFIG_NAME
from ..errors import RenderTimeout, SiteError, timeout_error
from ..records import Change
from ..symlinks import refusal
from . import devpages
from .checker import Checker
from .devpages import cockpit
from .watchdog import Watchdog

DEV_PREFIX = "/_renderer/"


class DevApp(RendererApp):
    """The site as `serve` shows it: drafts, the routing preview, errors as pages."""

    keeps_responses = False  # the watcher says what changed, and every page is rendered anew
    _said: set[object] | None = None  # warnings logged since the last change

    def __init__(self, site_dir: Path | str, *, drafts: bool = True,
                 timeout: float | None = None) -> None:
        super().__init__(site_dir, drafts=drafts)
        self.future = True if drafts else None  # pages dated in the future: shown, marked
        self.watchdog = Watchdog(timeout)
        self.checker = Checker(self, self.watchdog)  # started by `serve` (server.py)

    def respond(self, request: Request) -> Response:
        try:
            return self._respond_dev(request)
        finally:
            self.say_skipped()

    def _respond_dev(self, request: Request) -> Response:
        if not request.path.startswith(DEV_PREFIX):
            try:
                with self.watchdog.watching(request.path):
                    return super().respond(request)
            except RenderTimeout as stop:
                return self.timed_out(request, stop)
        if request.method not in ("GET", "HEAD"):
            return MethodNotAllowed(valid_methods=["GET", "HEAD"]).get_response()
        try:
            if request.path in cockpit.PATHS:  # the badge's status, the inspector
                return cockpit.respond(self, self.checker, request)
            return devpages.respond(self, request)
        except SiteError as error:
            return self.error_response(error, request)

    def timed_out(self, request: Request, stop: RenderTimeout) -> Response:
        """The error page of a render the watchdog stopped, at the line it was on. The
        site is loaded afresh for the next request: the render may have been stopped
        halfway through filling a cache."""
        assert self.watchdog.limit is not None
        error = timeout_error(f"rendering {request.path}", self.watchdog.limit,
                              stop.__traceback__, self.site_dir,
                              "the limit is renderer serve --timeout SECONDS")
        self.changed({self.site_dir / CONFIG_NAME})
        return self.error_response(error, request)

    def changed(self, paths: Iterable[Path]) -> Change | None:
        change = super().changed(paths)
        self._said = None
        self.checker.restart(change)
        return change

    def say_skipped(self) -> None:
        """Log each symbolic link the site skipped (it leads out of the site folder), and
        each warning its sources found (items.py, sorting.py), once per change, as the
        build warns of them."""
        if self._site is None:
            return
        said = self._said if self._said is not None else set()
        self._said = said
        for link, target in sorted(self._site.sources.links.skipped.items()):
            if link not in said:
                said.add(link)
                logger.warning("warning: %s", refusal(link, target, "skipped"))
        for warning in self._site.sources.found_warnings():
            if warning not in said:
                said.add(warning)
                logger.warning("warning: %s", warning)

    def cache_headers(self, response: Response, request: Request) -> None:
        # Never kept by the browser: the next look after an edit must render again.
        response.headers["Cache-Control"] = "no-store"

    def error_response(self, error: SiteError, request: Request) -> Response:
        logger.error("%s", error)
        return devpages.error_page(error, request, everywhere=error is self._load_error)
