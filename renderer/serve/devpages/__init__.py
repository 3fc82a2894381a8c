"""Pages that exist only under `renderer serve`: the routing preview and the error pages.

The dev app (`serve.devapp.DevApp`) sends `/_renderer/...` here, and every `SiteError`
to `error_page`; `serve` sends any other exception to `crash_page`. The pages are Jinja
templates shipped beside this module (package data), rendered by an environment of
their own, so a broken site can never break them.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from werkzeug.wrappers import Request, Response

from ...errors import Frame, SiteError, TemplateError, display_path
from ...records import Record

if TYPE_CHECKING:
    from ...app import RendererApp
    from ...site import Site

HERE = Path(__file__).resolve().parent
PREVIEW_PATH = "/_renderer/"
PATIENCE = 0.5  # seconds the preview waits for data a page is loading, then says so
EXCERPT_CONTEXT = 5
FRAME_CONTEXT = 2
HTML = "text/html; charset=utf-8"

Line = tuple[int, str, bool]  # number, text, the line the error is on


@dataclass(frozen=True)
class Problem:
    kind: str
    location: str
    message: str


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(HERE), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def page(template: str, status: int = 200, **context: Any) -> Response:
    body = environment().get_template(template).render(context)
    return Response(body, status=status, content_type=HTML,
                    headers={"Cache-Control": "no-store"})


# -- the routing preview -------------------------------------------------------------------


def respond(app: RendererApp, request: Request) -> Response:
    """`/_renderer/`: every rule, its URLs, and every problem found. A SiteError raised
    here (a broken site.toml) is shown by the app as the error page."""
    if request.path != PREVIEW_PATH:
        return page("error.html", 404, kind="Not found", message="No such page of renderer",
                    location="", request_path=request.path, excerpt=[], frames=[],
                    traceback="", hint=f"The routing preview is at {PREVIEW_PATH}.")
    site = app.site
    check = getattr(app, "checker", None)  # the background check (serve/checker.py)
    with site.sources.patience(PATIENCE):
        return page("routes.html", **preview(site),
                    check=check.report() if check is not None else None)


def preview(site: Site) -> dict[str, Any]:
    """The routing preview's context: rules with their URLs, static files, problems."""
    config = site.config

    def link(url: str) -> tuple[str, str]:
        return config.base_path + url.lstrip("/"), url

    rules = []
    total = 0
    for route in config.routes:
        try:
            urls = [link(target.url) for target in site.route_targets(route)]
            count: int | None = len(urls)
            total += len(urls)
        except SiteError:
            urls, count = [], None  # listed among the problems
        rules.append({"index": route.index, "url": route.url, "name": route.name,
                      "template": route.template, "each": route.each, "page": route.page,
                      "context": str(route.context) if route.context else None,
                      "count": count, "urls": urls})
    try:
        static = [link(t.url) for _, t in sorted(site.targets().items())
                  if t.route is None]  # and pygments.css, made from site.toml
    except SiteError:
        static = []  # a clash: listed among the problems
    return {"title": str(config.site.get("title") or config.root.name),
            "root": display_path(config.root), "base_path": config.base_path,
            "rules": rules, "total": total, "static": static,
            "problems": [Problem(p.kind, p.location, p.message) for p in problems(site)]}


def check_site(site: Site) -> list[SiteError]:
    """Every problem found in the site without rendering it: for the routing preview."""
    problems: list[SiteError] = []
    for route in site.config.routes:
        try:
            site.route_targets(route)
        except SiteError as error:
            problems.append(error)
    try:
        site.targets()
    except SiteError as error:
        if not any(str(error) == str(p) for p in problems):
            problems.append(error)
    return problems


def problems(site: Site) -> list[SiteError]:
    """`check_site`, plus what only loading can tell: every route template (and the
    templates it uses) compiles, and every source loads."""
    found = list(check_site(site))
    templates = site.templates
    try:
        templates.load_site_functions()  # [templates] filters and globals files
    except SiteError as error:
        found.append(error)
    checked: set[Path] = set()
    for route in site.config.routes:
        if not (templates.folder / route.template).is_file():
            found.append(TemplateError(f'{route.label}: no template "{route.template}" in '
                                       f"{templates.folder.name}/", file=site.config.file,
                                       line=route.line))
            continue
        for path in sorted(templates.dependencies(route.template)[0] - checked):
            checked.add(path)
            name = path.relative_to(templates.folder).as_posix()
            try:
                templates.env.get_template(name)
            except jinja2.TemplateSyntaxError as error:
                found.append(TemplateError(f"TemplateSyntaxError: {error.message}",
                                           file=path, line=error.lineno))
            except jinja2.TemplateError as error:
                found.append(TemplateError(f"{type(error).__name__}: {error}", file=path))
    for name in site.config.sources:
        try:
            site.sources.value(name, Record())
        except SiteError as error:
            found.append(error)
    unique: dict[str, SiteError] = {}
    for problem in found:
        unique.setdefault(str(problem), problem)
    return list(unique.values())


# -- error pages ---------------------------------------------------------------------------


def error_page(error: SiteError, request: Request) -> Response:
    """A mistake in the site, with its place, the lines around it and the user's frames."""
    main = (error.file, error.line)
    frames = [{"location": frame_location(frame), "function": frame.function,
               "excerpt": [] if (frame.file, frame.line) == main
               else excerpt(frame.file, frame.line, FRAME_CONTEXT)}
              for frame in error.frames]
    return page("error.html", 500, kind=error.kind, message=error.message,
                location=error.location, request_path=request.path,
                excerpt=excerpt(error.file, error.line, EXCERPT_CONTEXT), frames=frames,
                traceback="", hint=hint(error))


def crash_page(error: BaseException, request_path: str, roots: Iterable[Path] = ()) -> Response:
    """An exception that is not a SiteError: a bug in renderer. The server lives on."""
    from ...errors import user_frames

    frames = [{"location": frame_location(frame), "function": frame.function,
               "excerpt": excerpt(frame.file, frame.line, FRAME_CONTEXT)}
              for frame in user_frames(error.__traceback__, roots)]
    return page("error.html", 500, kind="Internal error in renderer",
                message=f"{type(error).__name__}: {error}", location="",
                request_path=request_path, excerpt=[], frames=frames,
                traceback="".join(traceback.format_exception(error)),
                hint="This is a bug in renderer, not in your site: please report it with "
                     "the traceback below. The server keeps running.")


def hint(error: SiteError) -> str:
    if error.file is not None and error.file.name == "site.toml":
        return "Every URL shows this page until site.toml is fixed."
    return "Fix the file and save it."


def frame_location(frame: Frame) -> str:
    return f"{display_path(frame.file)}:{frame.line}" if frame.line else display_path(frame.file)


def excerpt(file: Path | None, line: int | None, context: int) -> list[Line]:
    """The lines around `line` of `file`, numbered, the line itself marked."""
    if file is None or not line or not file.is_file():
        return []
    try:
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    if line > len(lines):
        return []
    first = max(1, line - context)
    last = min(len(lines), line + context)
    return [(number, lines[number - 1], number == line) for number in range(first, last + 1)]
