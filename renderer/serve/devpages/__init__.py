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

from ...config import missing_template
from ...errors import Frame, SiteError, TemplateError, display_path
from ...records import Record

if TYPE_CHECKING:
    from ...app import RendererApp
    from ...routing import Target
    from ...site import Site
    from ...specs import RouteSpec
    from ...templates import Templates

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
    rules: tuple[str, ...] = ()  # the rules whose URLs it fails: "/x/<id>/ (site.toml:12)"


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
    """The routing preview's context: rules with their URLs, static files, problems. The
    URLs of a rule with a problem are listed as failing, not as links."""
    config = site.config

    def link(url: str) -> tuple[str, str]:
        return config.base_path + url.lstrip("/"), url

    listed = list_rules(site)
    found = problems(site, listed)
    failing = rule_problems(site, listed)
    rules = []
    for route in config.routes:
        targets = listed[route.index]
        urls = [link(t.url) for t in targets] if isinstance(targets, list) else []
        problem = failing.get(route.index)
        rules.append({"index": route.index, "url": route.url, "name": route.name,
                      "template": route.template, "each": route.each, "page": route.page,
                      "context": str(route.context) if route.context else None,
                      "where": rule_location(site, route),
                      "count": len(urls) if isinstance(targets, list) else None,
                      "urls": urls, "problem": problem and as_problem(problem)})
    at_rules: dict[str, list[str]] = {}
    for index, problem in failing.items():
        route = config.routes[index]
        at_rules.setdefault(str(problem), []).append(
            f"{route.url} ({rule_location(site, route)})")
    return {"title": str(config.site.get("title") or config.root.name),
            "root": display_path(config.root), "base_path": config.base_path,
            "rules": rules, "total": sum(rule["count"] or 0 for rule in rules),
            "static": [link(t.url) for _, t in sorted(site.lookup.static().items())],
            "problems": [as_problem(p, at_rules.get(str(p), ())) for p in found]}


def as_problem(error: SiteError, rules: Iterable[str] = ()) -> Problem:
    return Problem(error.kind, error.location, error.message, tuple(rules))


def rule_location(site: Site, route: RouteSpec) -> str:
    """`site.toml:LINE` of a rule's `[[routes]]` table."""
    return f"{display_path(site.config.file)}:{route.line}" if route.line \
        else display_path(site.config.file)


Listing = list["Target"] | SiteError


def list_rules(site: Site) -> dict[int, Listing]:
    """Each rule's targets, or the error that stops it from listing them."""
    listed: dict[int, Listing] = {}
    for route in site.config.routes:
        try:
            listed[route.index] = site.route_targets(route)
        except SiteError as error:
            listed[route.index] = error
    return listed


def check_site(site: Site, listed: dict[int, Listing] | None = None) -> list[SiteError]:
    """Every problem found in the site without rendering it: for the routing preview."""
    listed = list_rules(site) if listed is None else listed
    problems = [error for error in listed.values() if isinstance(error, SiteError)]
    try:
        site.targets()  # two rules, or a rule and a static file, that make one file
    except SiteError as error:
        if not any(str(error) == str(p) for p in problems):
            problems.append(error)
    return problems


def rule_problems(site: Site, listed: dict[int, Listing]) -> dict[int, SiteError]:
    """By rule, what fails its URLs: the error that stops it from listing them, or its
    template (missing, or not compiling with the templates it uses)."""
    failing = {index: error for index, error in listed.items() if isinstance(error, SiteError)}
    templates = site.templates
    compiled: dict[Path, SiteError | None] = {}
    for route in site.config.routes:
        if route.index in failing:
            continue
        if not (templates.folder / route.template).is_file():
            failing[route.index] = missing_template(site.config, route)
            continue
        for path in sorted(templates.dependencies(route.template)[0]):
            error = compiled[path] = compiled[path] if path in compiled \
                else compile_error(templates, path)
            if error is not None:
                failing[route.index] = error
                break
    return failing


def compile_error(templates: Templates, path: Path) -> SiteError | None:
    name = path.relative_to(templates.folder).as_posix()
    try:
        templates.env.get_template(name)
    except jinja2.TemplateSyntaxError as error:
        return TemplateError(f"TemplateSyntaxError: {error.message}", file=path,
                             line=error.lineno)
    except jinja2.TemplateError as error:
        return TemplateError(f"{type(error).__name__}: {error}", file=path)
    return None


def problems(site: Site, listed: dict[int, Listing] | None = None) -> list[SiteError]:
    """`check_site`, plus what only loading can tell: every route template (and the
    templates it uses) compiles, and every source loads."""
    listed = list_rules(site) if listed is None else listed
    found = list(check_site(site, listed))
    try:
        site.templates.load_site_functions()  # [templates] filters and globals files
    except SiteError as error:
        found.append(error)
    found.extend(rule_problems(site, listed).values())
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


def error_page(error: SiteError, request: Request, *, everywhere: bool = False) -> Response:
    """A mistake in the site, with its place, the lines around it and the user's frames;
    `everywhere`: one that stops the whole site (site.toml cannot be read)."""
    main = (error.file, error.line)
    frames = [{"location": frame_location(frame), "function": frame.function,
               "excerpt": [] if (frame.file, frame.line) == main
               else excerpt(frame.file, frame.line, FRAME_CONTEXT)}
              for frame in error.frames]
    return page("error.html", 500, kind=error.kind, message=error.message,
                location=error.location, request_path=request.path,
                excerpt=excerpt(error.file, error.line, EXCERPT_CONTEXT), frames=frames,
                traceback="", hint=hint(error, everywhere))


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


def hint(error: SiteError, everywhere: bool = False) -> str:
    if everywhere:
        return "Every URL shows this page until site.toml is fixed."
    if error.file is not None and error.file.name == "site.toml":
        return "Fix this rule in site.toml and save it: only the URLs that need it fail."
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
