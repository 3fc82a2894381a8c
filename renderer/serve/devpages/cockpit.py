"""The inspector (`/_renderer/inspect`) and the badge's status (`/_renderer/status.json`).

`?url=/posts/x/` renders the URL once more, as a request would, and shows its rule with
its line in site.toml, the templates it extended, included and imported, every file its
render read (the dependency record), its render time and its error, beside what the
background check last found for it. `?file=content/posts/a.md` lists the pages whose last
check read that file: what an edit to it will change. Everything shown is escaped by
the pages' environment (autoescape), file names and URLs included.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from ...errors import RenderTimeout, SiteError, display_path, site_relative, timeout_error
from ...routing import Target
from . import PATIENCE, page
from .templatetree import template_tree

if TYPE_CHECKING:
    from ...site import Site
    from ..checker import Checker
    from ..devapp import DevApp

STATUS_PATH = "/_renderer/status.json"
INSPECT_PATH = "/_renderer/inspect"
PATHS = frozenset({STATUS_PATH, INSPECT_PATH})
SHOWN_PAGES = 200  # a list of front-matter pages (5,000 posts) is cut here


def respond(app: DevApp, checker: Checker, request: Request) -> Response:
    if request.path == STATUS_PATH:
        return status(checker)
    site = app.site
    with site.sources.patience(PATIENCE):
        if request.args.get("url"):
            return page("inspect.html", **inspect_url(app, site, checker, request.args["url"]))
        if request.args.get("file"):
            return page("inspect.html", **inspect_file(site, checker, request.args["file"]))
    return page("inspect.html", mode="form", title="Inspector")


def status(checker: Checker) -> Response:
    """What the badge shows: the number of problems, and how far the check is."""
    report = checker.report(listed=False)
    body = {"problems": report.problems, "failing": report.failing_count,
            "broken_links": report.broken_count, "site_error": report.site_error is not None,
            "checked": report.checked, "total": report.total, "running": report.running,
            "started": report.started, "version": report.version, "renders": report.renders}
    return Response(json.dumps(body), content_type="application/json",
                    headers={"Cache-Control": "no-store"})


# -- a URL ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Render:
    """The render the inspector did now."""

    seconds: float
    error: SiteError | None
    files: frozenset[Path]
    meta: frozenset[Path]
    globs: frozenset[str]


def inspect_url(app: DevApp, site: Site, checker: Checker, url: str) -> dict[str, Any]:
    context: dict[str, Any] = {"mode": "url", "title": f"Inspector: {url}", "url": url}
    target, message = find(site, url)
    if target is None:
        return {**context, "missing": message}
    context["url"] = target.url
    if target.route is None:
        return {**context, "static": display_path(target.static_file or site.config.file)}
    route = target.route
    config = site.config
    render = render_now(app, site, target)
    checked = checker.result(target.output)
    line = config.line_of("routes", route.index, "url") or route.line
    return {**context, "missing": None, "static": None,
            "rule": {"url": route.url, "name": route.name, "each": route.each,
                     "location": f"{display_path(config.file)}:{line}"},
            "templates": template_tree(site.templates.env, route.template),
            "render": render, "error": render.error,
            "files": files_read(site, render.files),
            "meta": files_read(site, render.meta - render.files)[:SHOWN_PAGES],
            "meta_count": len(render.meta - render.files),
            "globs": sorted(render.globs), "checked": checked}


def find(site: Site, url: str) -> tuple[Target | None, str]:
    """The target of a site-relative URL (or of the path a browser asked for, with the
    base path); else None and why."""
    base_path = site.config.base_path
    if base_path != "/" and url.startswith(base_path):
        url = "/" + url[len(base_path):]
    try:
        found = site.find(url)
        if isinstance(found, str):  # a folder without its slash
            found = site.find(found)
    except SiteError as error:
        return None, str(error)
    if not isinstance(found, Target):
        return None, "The site makes no file for this URL."
    return found, ""


def render_now(app: DevApp, site: Site, target: Target) -> Render:
    """Render `target` as a request would (the watchdog's limit too), timed."""
    started = time.perf_counter()
    try:
        try:
            with app.watchdog.watching(target.url):
                rendered = site.render_target(target)
        except RenderTimeout as stop:
            raise timeout_error(f"rendering {target.url}", app.watchdog.limit or 0,
                                stop.__traceback__, app.site_dir,
                                "the limit is renderer serve --timeout SECONDS") from None
    except SiteError as error:
        return Render(time.perf_counter() - started, error, frozenset(), frozenset(),
                      frozenset())
    return Render(time.perf_counter() - started, None, rendered.dependencies,
                  rendered.meta, rendered.globs)


def files_read(site: Site, files: frozenset[Path]) -> list[tuple[str, str]]:
    """(shown name, name for ?file=) of each file, relative to the site folder."""
    root = site.config.root
    named = sorted(site_relative(p, root) for p in files)
    return [(name, name) for name in named]


# -- a file --------------------------------------------------------------------------------


def inspect_file(site: Site, checker: Checker, name: str) -> dict[str, Any]:
    """The pages whose last check read the file `name` (relative to the site folder)."""
    path = Path(os.path.abspath(site.config.root / name))
    pages = {r.output: r for r in checker.reading(path)}
    pages.update({r.output: r for r in checker.reading(path.resolve())})
    report = checker.report(listed=False)
    rows = [{"url": r.url, "how": "front matter only" if path in r.meta and path not in r.files
             else "its contents" if path in r.files or path.resolve() in r.files
             else "a pattern it listed"} for r in sorted(pages.values(), key=lambda r: r.url)]
    return {"mode": "file", "title": f"Inspector: {name}", "file": name,
            "exists": path.is_file(), "pages": rows, "report": report}
