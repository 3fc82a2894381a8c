"""URL rules: `[[routes]]` compiled to Werkzeug rules, URLs enumerated, URLs to files.

A static host is the model: `/a/b/` and `/a/b` are the file `a/b/index.html`, `/a/b.xml`
is `a/b.xml`. The same mapping serves requests in `serve` and names files in `build`, and
it refuses every URL that would leave the output folder.
"""

from __future__ import annotations

import functools
import mimetypes
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .config import SiteConfig
from .errors import ConfigError, RouteError, SiteError, did_you_mean, display_path
from .records import EARLIEST, LATEST
from .specs import RouteSpec

STATIC = "static"
FORBIDDEN_SEGMENTS = ("", ".", "..")
FORBIDDEN_CHARACTERS = ("/", "\\", "\0", ":")
NAME_MAX = 255  # bytes in one file name, on every common file system
# A rule whose variables all take any text without a "/" (`<slug>`, `<string:slug>`) and
# values made only of these characters: the URL built always matches back.
PLAIN_VARIABLE = re.compile(r"<(?:string:)?\w+>")
PLAIN_VALUE = re.compile(r"[A-Za-z0-9._~-]+")


@dataclass(slots=True)  # not frozen: made 5,000 times a build, and frozen costs 5x
class Target:
    """One file the site produces: a route's URL with its variables, or a static file."""

    url: str
    output: str
    route: RouteSpec | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    page: Any = None
    static_file: Path | None = None
    inputs: frozenset[Path] = frozenset()
    input_globs: frozenset[str] = frozenset()
    input_meta: frozenset[Path] = frozenset()  # Markdown pages of which it read front matter
    # The times its item holds for: a group's items, say, are the posts published by then
    # (Record.after, Record.before).
    input_window: tuple[int, int] = (EARLIEST, LATEST)
    # Restored from the last build's outline (Site.restore_targets): `page`, `variables`
    # and the inputs are loaded when it is rendered, from `page_source` (a Markdown file,
    # relative to the site folder) when it has one; a string, as 5,000 Paths cost 20 ms.
    partial: bool = False
    page_source: str = ""
    generated: str = ""  # a file the site makes from site.toml (assets.py): "pygments.css"
    number: int = 1  # of a paginated route: which page (2, 3, ... at the `paginate` URL)

    @property
    def origin(self) -> str:
        """What makes this file, for messages: a route with its line, or a static file."""
        if self.route is not None:
            line = f" on line {self.route.line}" if self.route.line else ""
            source = self.page.get("source") if isinstance(self.page, Mapping) \
                else self.page_source
            item = f" for {source}" if isinstance(source, str) and source else ""
            return f"{self.route.label}{line}{item}"
        if self.generated:  # the one file made from site.toml so far: the style sheet
            return "[markdown] pygments_style"
        assert self.static_file is not None
        return f"static file {display_path(self.static_file)}"


class Router:
    """The site's rules: one Werkzeug map for url_for, one rule per route for enumeration.

    URLs already built are remembered in `memo` (the build keeps it between builds, with the
    rest of its cache), and Werkzeug itself is only compiled on the first URL not in it:
    a rebuild that makes no new URL never pays for importing and compiling it.
    """

    def __init__(self, config: SiteConfig, memo: dict[str, str] | None = None) -> None:
        self.config = config
        self.memo: dict[str, str] = {} if memo is None else memo
        self.names = sorted({route.name for route in config.routes} | {STATIC})
        self._compiled: _Compiled | None = None
        self._lock = threading.Lock()  # compiled once, whatever thread asks first

    def arguments(self, route: RouteSpec) -> frozenset[str]:
        """The URL variables of a route's rule."""
        key = f"args:{route.index}"
        if key not in self.memo:
            self.memo[key] = "\0".join(sorted(self.compiled.rules[route.index].arguments))
        return frozenset(self.memo[key].split("\0")) - {""}

    @property
    def compiled(self) -> _Compiled:
        compiled = self._compiled
        if compiled is None:
            with self._lock:
                compiled = self._compiled
                if compiled is None:
                    compiled = self._compiled = _Compiled(self.config)
        return compiled

    def url(self, route: RouteSpec, variables: Mapping[str, Any]) -> str:
        """The site-relative URL of `route` for `variables`, checked by matching it back."""
        key = f"url:{route.index}:{_memo_key(variables)}"
        url = self.memo.get(key)
        if url is None:
            url = self.memo[key] = self.compiled.url(route, variables)
        return url

    def matches(self, route: RouteSpec, output: str) -> bool:
        """Whether `route` may make the file `output`: its rule (or its `paginate` rule)
        matches a URL written there. A request lists only such routes (lookup.py)."""
        return self.compiled.matches(route.index, url_forms(output))

    def page_url(self, route: RouteSpec, variables: Mapping[str, Any], number: int) -> str:
        """The site-relative URL of page `number` (1, 2, ...) of a paginated route."""
        if number == 1:
            return self.url(route, variables)
        variables = {**variables, "page": number}
        key = f"page:{route.index}:{_memo_key(variables)}"
        url = self.memo.get(key)
        if url is None:
            url = self.memo[key] = self.compiled.url(route, variables, paged=True)
        return url

    def url_for(self, name: str, variables: Mapping[str, Any], external: bool = False) -> str:
        """`url_for` of the templates: a route name, or "static" with `filename`. A
        paginated route's page 2 is `url_for(name, page=2)`; page 1 is its own URL."""
        base_url = self.config.base_url
        if external and not base_url:
            raise SiteError("url_for(..., _external=True) needs [site] base_url in site.toml")
        if name == STATIC:
            filename = variables.get("filename")
            if not isinstance(filename, str):
                raise SiteError('url_for("static", filename="css/site.css") needs a filename')
            if len(variables) > 1:
                unknown = ", ".join(sorted(set(variables) - {"filename"}))
                raise SiteError(f'url_for("static") takes filename= (and _external=True), not '
                                f"{unknown}: a static URL has no other part")
            path = self.config.base_path + quote(filename.lstrip("/"))
        else:
            if name not in self.names:
                raise SiteError(f'url_for: no route named "{name}"{did_you_mean(name, self.names)}'
                                f"; route names: {', '.join(self.names)}")
            key = f"for:{name}:{_memo_key(variables)}"
            known = self.memo.get(key)
            if known is None:
                known = self.memo[key] = self.compiled.url_for(name, variables)
            path = known
        if external:
            assert base_url is not None
            parts = urlsplit(base_url)
            return f"{parts.scheme}://{parts.netloc}{path}"
        return path


class _Compiled:
    """The Werkzeug side of the Router, made only when a URL must really be built."""

    def __init__(self, config: SiteConfig) -> None:
        from werkzeug.routing import Map, MapAdapter, Rule

        self.rules: dict[int, Rule] = {}
        self.single: dict[int, Map] = {}
        self.adapters: dict[tuple[int, bool], MapAdapter] = {}  # bound once: binding costs
        # a URL's worth. (index, True): the `paginate` rule of a route.
        self.paged: dict[int, Map] = {}
        self.plain = {route.index for route in config.routes
                      if all(PLAIN_VARIABLE.fullmatch(part)
                             for part in re.findall(r"<[^>]*>", route.url))}
        for route in config.routes:
            rule = Rule(route.url, endpoint=route.name)
            try:
                self.single[route.index] = Map([rule])
            except (ValueError, LookupError, AssertionError, SyntaxError) as error:
                # Werkzeug compiles a rule to Python: a variable named twice is a SyntaxError
                why = "a variable is named twice" if isinstance(error, SyntaxError) else error
                raise ConfigError(f"routes[{route.index}].url: bad URL rule {route.url!r}: "
                                  f"{why}", file=config.file,
                                  line=config.line_of("routes", route.index, "url")) from None
            self.rules[route.index] = rule
            if route.paginate is not None:
                self.paged[route.index] = _page_map(config, route, rule)
        # As Flask pages a view: the route's own rule is page 1 (a default), so that
        # url_for(name, page=1) is its URL and url_for(name, page=2) the paginate rule's.
        self.map = Map([Rule(r.url, endpoint=r.name, defaults={"page": 1} if r.paginate else None)
                        for r in config.routes]
                       + [Rule(r.paginate.url, endpoint=r.name) for r in config.routes
                          if r.paginate is not None])
        self.builder = self.map.bind("localhost", script_name=config.base_path)

    def url(self, route: RouteSpec, variables: Mapping[str, Any], paged: bool = False) -> str:
        from werkzeug.exceptions import HTTPException
        from werkzeug.routing.exceptions import BuildError, RoutingException

        adapter = self.adapters.get((route.index, paged))
        if adapter is None:
            adapter = self.adapters[(route.index, paged)] = (
                self.paged if paged else self.single)[route.index].bind("localhost",
                                                                        script_name="/")
        try:
            url = adapter.build(route.name, dict(variables))
        except (ValueError, TypeError) as error:
            raise RouteError(f"{route.label}: {error}") from None
        except BuildError:  # Werkzeug leaves out a None value, and then misses it
            empty = sorted(name for name, value in variables.items() if value is None)
            raise RouteError(f"{route.label}: no value for {empty or sorted(variables)} "
                             "(null or empty in the item)") from None
        if route.index in self.plain and not paged \
                and all(PLAIN_VALUE.fullmatch(str(value)) for value in variables.values()):
            return str(url)  # matching it back costs as much as building it, and cannot fail
        if "//" in url:  # a <path:> value starting or ending with "/", or holding "//"
            raise RouteError(f"{route.label}: the values {dict(variables)!r} make the URL "
                             f"{url!r}, with an empty segment (//): a value may not be "
                             "empty, and a <path:> value may not start or end with '/' or "
                             "hold '//'") from None
        try:
            adapter.match(unquote(url))
        except (HTTPException, RoutingException):
            raise RouteError(f"{route.label}: the values {dict(variables)!r} make the URL "
                             f"{url!r}, which the rule does not match back (a value its "
                             "converter does not accept, or a '/' where only <path:> "
                             "takes one)") from None
        return str(url)

    def matches(self, index: int, paths: tuple[str, ...]) -> bool:
        from werkzeug.exceptions import HTTPException
        from werkzeug.routing.exceptions import RoutingException

        for maps in (self.single, self.paged):
            if index not in maps:
                continue
            adapter = maps[index].bind("localhost", script_name="/")
            for path in paths:
                try:
                    adapter.match(path)
                    return True
                except (HTTPException, RoutingException):  # no match, or a redirect
                    continue
        return False

    def url_for(self, name: str, variables: Mapping[str, Any]) -> str:
        from werkzeug.routing import BuildError

        try:
            return str(self.builder.build(name, dict(variables)))
        except BuildError as error:
            needed = sorted({arg for r in self.map.iter_rules(name) for arg in r.arguments})
            raise SiteError(f'url_for("{name}") needs the variables {needed}, '
                            f"got {sorted(variables)}") from error
        except (ValueError, TypeError) as error:
            raise SiteError(f'url_for("{name}"): {error}') from None


def _page_map(config: SiteConfig, route: RouteSpec, own: Any) -> Any:
    """The map of a route's `paginate` URL rule, which holds the route's variables and
    `<int:page>`: pages 2, 3, ... of every item get URLs of their own."""
    from werkzeug.routing import Map, Rule

    assert route.paginate is not None
    key = ("routes", route.index, "paginate", "url")
    rule = Rule(route.paginate.url, endpoint=route.name)
    try:
        paged = Map([rule])
    except (ValueError, LookupError, AssertionError) as error:
        raise ConfigError(f"routes[{route.index}].paginate.url: bad URL rule "
                          f"{route.paginate.url!r}: {error}", file=config.file,
                          line=config.line_of(*key)) from None
    wanted = set(own.arguments) | {"page"}
    if set(rule.arguments) != wanted:
        raise ConfigError(f"routes[{route.index}].paginate.url: {route.paginate.url!r} has the "
                          f"variables {sorted(rule.arguments)}; it needs those of the route's "
                          f"URL and <int:page>: {sorted(wanted)}", file=config.file,
                          line=config.line_of(*key))
    return paged


def _memo_key(variables: Mapping[str, Any]) -> str:
    """Variables as text that tells apart values a converter could treat differently
    (the one-variable case first: a template calls url_for for every post it lists)."""
    if len(variables) == 1:
        for name, value in variables.items():
            return f"{name}\0{type(value).__name__}\0{str(value)!r}"
    return "\0".join(f"{name}\0{type(value).__name__}\0{str(value)!r}"
                     for name, value in sorted(variables.items()))


def output_path(url: str, as_file: bool | None = None) -> str:
    """The file a site-relative URL is written to, as a relative POSIX path: a URL
    ending in "/" is a folder's index.html; another is the file itself if `as_file`,
    else a folder's index.html, and when `as_file` is None (a static file, a request), a
    file if its last segment has an extension.

    Raises RouteError for any URL that would name a place outside the output folder.
    """
    path = urlsplit(url).path if "?" in url or "#" in url else url
    if not path.startswith("/"):
        raise RouteError(f"URL {url!r} does not start with /")
    segments = [unquote(s) if "%" in s else s for s in path[1:].split("/")]
    if segments[-1] == "":
        segments[-1] = "index.html"
    elif not (as_file if as_file is not None else PurePosixPath(segments[-1]).suffix):
        segments.append("index.html")
    for segment in segments:
        if segment in FORBIDDEN_SEGMENTS or any(c in segment for c in FORBIDDEN_CHARACTERS):
            raise RouteError(f"URL {url!r} would write outside the output folder or to an "
                             f"unsafe name (segment {segment!r}); renderer refuses it")
        try:
            size = len(segment.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: no file system takes it
            raise RouteError(f"URL {url!r} holds a character that no file name can hold "
                             f"(segment {segment!r}); renderer refuses it") from None
        if size > NAME_MAX:
            raise RouteError(f"URL {url!r} has a segment of {size} bytes, longer than a file "
                             f"name may be ({NAME_MAX}); renderer refuses it")
    return "/".join(segments)


def url_forms(output: str) -> tuple[str, ...]:
    """The URLs (unquoted) that `output_path` writes to `output`: `/a/b.xml` for a file,
    and for `a/b/index.html` also `/a/b/` and `/a/b`."""
    if output != "index.html" and not output.endswith("/index.html"):
        return ("/" + output,)
    folder = "/" + output.removesuffix("index.html")
    return ("/" + output, folder, folder.rstrip("/")) if folder != "/" else ("/" + output, "/")


def request_candidates(path: str) -> tuple[str | None, str | None]:
    """For a request path, the output file to serve and, failing that, the one whose
    existence means a redirect to `path + "/"` (as a static host does for a folder,
    whatever the name: `/2019/dask-2.0` may be a folder)."""
    try:
        if path.endswith("/"):
            return output_path(path), None
        return output_path(path, as_file=True), output_path(path + "/")
    except RouteError:
        return None, None


def makes_files(rule: str) -> bool:
    """Whether a URL rule makes files rather than folders: only a literal extension in
    its last segment (`/feed.xml`, `/posts/<slug>.html`) says so. A dot in a variable's
    value (`/<name>` for "dask-2.0") must not turn one of its URLs into a bare file."""
    last = rule.rpartition("/")[2]
    return "." in re.sub(r"<[^>]*>", "", last)


def static_url(relative: PurePosixPath) -> str:
    return "/" + quote(relative.as_posix())


def collect(targets: Iterable[Target], config_file: Path | None = None) -> dict[str, Target]:
    """Index targets by output file; two that share one are an error naming both, at the
    line of the later route in `config_file` (site.toml)."""
    table: dict[str, Target] = {}
    for target in targets:
        other = table.get(target.output)
        if other is not None:
            route = target.route or other.route
            raise RouteError(f"{target.output} is produced twice: by {other.origin} "
                             f"({other.url}) and by {target.origin} ({target.url})",
                             file=config_file, line=route.line if route else None)
        table[target.output] = target
    return table


def url_for_function(build: Callable[[str, Mapping[str, Any], bool], str]) -> Callable[..., str]:
    """`url_for(name, **variables)` as templates call it, with `_external` for absolute URLs."""

    def url_for(name: str, /, _external: bool = False, **variables: Any) -> str:
        return build(name, variables, _external)

    return url_for


def media_type_of(output: str) -> str:
    """The Content-Type of an output path; it depends on the file name alone (an output
    path holds no ":", so no URL scheme), and 5,000 posts share the name index.html."""
    return _media_type_of_name(output.rpartition("/")[2])


@functools.lru_cache(maxsize=1024)
def _media_type_of_name(name: str) -> str:
    if name.endswith(".html"):  # most outputs; mimetypes would first read the system's
        return "text/html; charset=utf-8"  # tables (3 ms) to say the same
    guessed, _ = mimetypes.guess_type(name)
    media_type = guessed or "application/octet-stream"
    if media_type.startswith("text/") or media_type in ("application/xml", "application/json",
                                                        "application/javascript",
                                                        "image/svg+xml", "application/rss+xml",
                                                        "application/atom+xml"):
        media_type += "; charset=utf-8"
    return media_type
