"""The WSGI app: a request path to `Site.render`, a static host's rules, the 404 page.

`create_app(site_dir)` is the production app any WSGI server can run. `serve` runs a
subclass of it (`serve.devapp.DevApp`) that adds the `/_renderer/` pages and shows errors
as pages that heal: this module knows nothing of them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.http import generate_etag
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .config import CONFIG_NAME
from .errors import SiteError
from .records import Change, Record
from .responses import Kept, ResponseCache
from .site import Rendered, Site

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger("renderer")


class RendererApp:
    """A site as a WSGI application. The site is loaded on the first request and again
    after `site.toml` changes; a load error is kept and shown until the next change.
    A request lists only the routes its URL may belong to (`Site.find`): a broken rule,
    source or template fails the URLs that need it, and every other URL still answers.

    A page once rendered is answered from memory until a file it was made from changes
    (see `responses`), looked at every `check_interval` seconds at most."""

    keeps_responses = True

    def __init__(self, site_dir: Path | str, *, drafts: bool = False,
                 check_interval: float = 1.0) -> None:
        self.site_dir = Path(site_dir).resolve()
        self.drafts = drafts
        self.future: bool | None = None  # pages dated after now: as [site] future says
        self._site: Site | None = None
        self._load_error: SiteError | None = None
        self._lock = threading.Lock()  # the first requests, on many threads, load it once
        self.responses: ResponseCache | None = None
        # What the URL lists found so far were made from, watched (by id) for this site:
        # a new post or static file counts.
        self._watched: tuple[Site | None, dict[int, Record]] = (None, {})
        self._watching = threading.Lock()
        if self.keeps_responses:
            self.responses = ResponseCache(self.changed, check_interval)
            self.responses.watch([self.site_dir / CONFIG_NAME])

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        site = self._site
        if site is not None and site.sources.items.expires <= time.time_ns():
            self.expire()
        if self.responses is not None and environ.get("REQUEST_METHOD") in ("GET", "HEAD") \
                and "HTTP_RANGE" not in environ:
            kept = self.responses.get(environ.get("PATH_INFO", ""))
            if kept is not None:
                return kept.answer(environ, start_response)
        request = Request(environ)
        response = self.respond(request)
        return response(environ, start_response)

    @property
    def site(self) -> Site:
        """The loaded site; raises the load error (a bad site.toml) until it is fixed."""
        site = self._site
        if site is None:
            with self._lock:
                site = self._site
                if site is None:
                    if self._load_error is not None:
                        raise self._load_error
                    try:
                        site = self._site = Site.load(self.site_dir, drafts=self.drafts,
                                                      future=self.future, lenient=True)
                    except SiteError as error:
                        self._load_error = error
                        raise
        return site

    def expire(self) -> None:
        """The clock passed the date of a page that was left out as dated in the future
        (or shown marked `future`): the site is loaded afresh, as after an edit."""
        self._site = None
        if self.responses is not None:
            self.responses.drop()

    def changed(self, paths: Iterable[Path]) -> Change | None:
        """Forget what was read from `paths`; re-read site.toml if it is among them. The
        change as the site saw it (None: the site is loaded afresh)."""
        # Each path as named and as resolved: a symbolic link that changed is known to
        # what read it by its own name, not by its (new) target's.
        changed = {Path(os.path.abspath(p)) for p in paths} | {Path(p).resolve() for p in paths}
        if self._site is None or self.site_dir / CONFIG_NAME in changed:
            self._site = None
            self._load_error = None
            return None
        return self._site.invalidate(changed)

    def respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return MethodNotAllowed(valid_methods=["GET", "HEAD"]).get_response()
        try:
            return self._respond_site(request)
        except SiteError as error:
            if self.responses is not None:  # so that the fix counts: the files it names
                named = [error.file, *(frame.file for frame in error.frames)]
                self.responses.watch(path for path in named if path is not None)
            return self.error_response(error, request)

    def _respond_site(self, request: Request) -> Response:
        base_path = self.site.config.base_path
        path = quote(request.path)
        if base_path != "/" and not path.startswith(base_path):
            if path + "/" == base_path or path == "/":
                return redirect(base_path, 301)
            return self.not_found()
        url = "/" + path[len(base_path):]
        found = self.site.find(url)
        if self.responses is not None:  # a file that comes later must count, a 404's too
            self._watch_listings(self.site)
        if isinstance(found, str):
            query = f"?{request.query_string.decode('latin-1')}" if request.query_string else ""
            return redirect(base_path + found.lstrip("/") + query, 301)
        if found is None:
            return self.not_found()
        generation = self.responses.generation if self.responses is not None else 0
        started = time.time_ns()
        rendered = self.site.render_target(found)
        response = Response(rendered.body, status=200, content_type=rendered.media_type)
        self.cache_headers(response, request)
        if self.responses is not None:
            self._keep(request, rendered, started, generation)
        return response

    def _keep(self, request: Request, rendered: Rendered, started: int, generation: int) -> None:
        """Keep a rendered page for the next requests of its path (see `responses`)."""
        assert self.responses is not None
        self._watch_listings(self.site)
        etag = f'"{generate_etag(rendered.body)}"'
        headers = [("Content-Type", rendered.media_type),
                   ("Content-Length", str(len(rendered.body))), ("ETag", etag)]
        self.responses.keep(request.environ.get("PATH_INFO", ""),
                            Kept(headers, rendered.body, etag),
                            rendered.dependencies | rendered.meta, rendered.globs,
                            started, generation)

    def _watch_listings(self, site: Site) -> None:
        """Watch what each URL list found so far was made from (once each)."""
        assert self.responses is not None
        with self._watching:
            watched_site, watched = self._watched
            if watched_site is not site:  # and each route's template, were it missing
                watched = {}
                self._watched = (site, watched)
                self.responses.watch(site.config.templates / route.template
                                     for route in site.config.routes)
            for record in site.listings():
                if id(record) not in watched:
                    watched[id(record)] = record  # kept: its id is not reused
                    self.responses.watch(record.files | record.meta, record.globs)

    def cache_headers(self, response: Response, request: Request) -> None:
        """An ETag, and 304 for a request that has the same bytes already."""
        response.add_etag()
        response.make_conditional(request)

    def not_found(self) -> Response:
        """The site's /404.html as the body of every 404, or a plain one."""
        target = self.site.target_at("404.html")
        if target is None:
            return Response("404 Not Found\n", status=404, content_type="text/plain; charset=utf-8")
        rendered = self.site.render_target(target)
        return Response(rendered.body, status=404, content_type=rendered.media_type)

    def error_response(self, error: SiteError, request: Request) -> Response:
        logger.error("%s", error)
        return Response(f"500 Internal Server Error\n\n{error}\n", status=500,
                        content_type="text/plain; charset=utf-8")


def create_app(site_dir: Path | str, *, drafts: bool = False,
               check_interval: float = 1.0) -> RendererApp:
    """A WSGI app serving the site in `site_dir` as `renderer build` would write it.

    Pages are kept in memory once rendered; the files they were made from are looked at
    every `check_interval` seconds at most (0: on every request), and a change is
    answered with the new page from then on."""
    return RendererApp(site_dir, drafts=drafts, check_interval=check_interval)
