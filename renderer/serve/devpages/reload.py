"""The live-reload script and the WSGI middleware that puts it into HTML pages.

The script loads livereload's own `livereload.js` and registers a tiny livereload.js
plugin that reports the *generation* the page was rendered at (the number of changes
the server had applied). When the page's WebSocket says hello, the server compares it
with its current generation and reloads a page that is already stale: a page rendered
before an edit can never stay on screen after it, however the reload message and the
page load race.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.http import parse_options_header
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SCRIPT_PATH = "/_renderer/livereload.js"
SOCKET_PATH = "/_renderer/livereload"
MARKER = b"<script data-renderer-reload>"
HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)
HTML_TYPES = frozenset({"text/html"})
NO_BODY = frozenset({204, 304})
logger = logging.getLogger("renderer")

_SCRIPT = """(function(){
var P=function(){};P.identifier="renderer";P.version="1";
P.prototype.analyze=function(){return {generation:%d};};
window.LiveReloadPluginRenderer=P;
var l=window.location,s=document.createElement("script");
s.src="//"+l.host+"%s?host="+encodeURIComponent(l.hostname)+"&port="+(l.port||(l.protocol=="https:"?443:80));
(document.head||document.documentElement).appendChild(s);
})();"""


def reload_script(generation: int) -> bytes:
    """The `<script>` element that `serve` adds to every HTML page: the reload, and the
    badge of the background check (`badge.js`), in one element that `build` never
    writes and `strip_reload_script` removes whole."""
    return MARKER + (_SCRIPT % (generation, SCRIPT_PATH)).encode("ascii") + badge_js() \
        + b"</script>"


@functools.cache
def badge_js() -> bytes:
    return (Path(__file__).resolve().parent / "badge.js").read_bytes()


def strip_reload_script(body: bytes) -> bytes:
    """`body` without the injected script (for tests and parity checks)."""
    start = body.find(MARKER)
    if start < 0:
        return body
    end = body.index(b"</script>", start) + len(b"</script>")
    return body[:start] + body[end:]


def inject(body: bytes, script: bytes) -> bytes:
    """`script` before the first `</head>` (any case), or at the end when there is none."""
    found = HEAD_END.search(body)
    if found is None:
        return body + script
    return body[:found.start()] + script + body[found.start():]


def wants_script(method: str, status: int, content_type: str | None,
                 content_encoding: str | None) -> bool:
    """Only HTML pages a browser shows get the script: no HEAD, no 1xx/204/3xx (a
    redirect's body is never shown), no compressed body, no other media type."""
    if method == "HEAD" or status in NO_BODY or 100 <= status < 200 or 300 <= status < 400 \
            or content_encoding:
        return False
    media_type, _ = parse_options_header(content_type or "")
    return media_type.lower() in HTML_TYPES


def livereload_js() -> bytes:
    """livereload's own `livereload.js`, pointed at the WebSocket under /_renderer/ so that
    `serve` takes no URL out of the site's own space. If a later livereload changes the
    line, the script is served as it is and `serve` also answers at `/livereload`."""
    import livereload

    source = (Path(livereload.__file__).parent / "vendors" / "livereload.js").read_bytes()
    original = b'this.options.port + "/livereload";'
    if source.count(original) == 1:
        return source.replace(original, b'this.options.port + "%s";' % SOCKET_PATH.encode())
    return source


class ReloadMiddleware:
    """Wraps the dev app: the reload script into HTML, revalidation headers, and a page
    (never a dead server) for any exception that escapes the app."""

    def __init__(self, app: WSGIApplication, generation: Callable[[], int],
                 roots: Callable[[], Iterable[Path]] = tuple) -> None:
        self.app = app
        self.generation = generation
        self.roots = roots

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        generation = self.generation()  # before rendering: a change applied meanwhile
        # leaves this page older than the server, and so reloaded when it says hello
        # HEAD is answered from the response GET would give, script included, so that its
        # Content-Length is what GET sends (the body is dropped on the way out).
        inner = {**environ, "REQUEST_METHOD": "GET"} if request.method == "HEAD" else environ
        try:
            response = Response.from_app(self.app, inner, buffered=True)
        except Exception as error:  # a bug in renderer: show it, keep serving
            from . import crash_page

            logger.error("internal error while serving %s (a bug in renderer)", request.path,
                         exc_info=error)
            response = crash_page(error, request.path, self.roots())
        self.finish(request, response, generation)
        return response(environ, start_response)

    def finish(self, request: Request, response: Response, generation: int) -> None:
        html = wants_script("GET", response.status_code, response.headers.get("Content-Type"),
                            response.headers.get("Content-Encoding"))
        if html:
            response.headers["Cache-Control"] = "no-store"
        elif response.status_code == 200:
            # Revalidated on every use (CSS, images, feeds): a 304 when the bytes are the same.
            response.headers["Cache-Control"] = "no-cache"
        if html and response.status_code not in NO_BODY:
            response.set_data(inject(response.get_data(), reload_script(generation)))
        if response.status_code == 200 and not html:
            response.add_etag()
            response.make_conditional(request)
