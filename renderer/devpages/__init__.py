"""Pages that exist only under `renderer serve`: the routing preview and the error page."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from ..errors import SiteError

if TYPE_CHECKING:
    from ..app import RendererApp


def respond(app: RendererApp, request: Request) -> Response:
    """`/_renderer/`: every rule, its URLs, and every problem found."""
    from ..site import check_site

    site = app.site
    problems = check_site(site)
    rows = []
    for route in site.config.routes:
        try:
            urls = [t.url for t in site.route_targets(route)]
        except SiteError:
            urls = []
        links = "".join(f'<li><a href="{html.escape(site.config.base_path + u.lstrip("/"))}">'
                        f"{html.escape(u)}</a></li>" for u in urls)
        rows.append(f"<tr><td>{html.escape(route.url)}</td><td>{html.escape(route.name)}</td>"
                    f"<td>{html.escape(route.template)}</td><td>{len(urls)}</td>"
                    f"<td><ul>{links}</ul></td></tr>")
    issues = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems)
    body = (f"<!doctype html><html><head><title>Routes</title></head><body><h1>Routes</h1>"
            f"<table>{''.join(rows)}</table><h2>Problems</h2><ul>{issues}</ul></body></html>")
    return Response(body, content_type="text/html; charset=utf-8")


def error_page(error: SiteError, request: Request) -> Response:
    body = (f"<!doctype html><html><head><title>{html.escape(error.kind)}</title></head><body>"
            f"<h1>{html.escape(error.kind)}</h1><pre>{html.escape(str(error))}</pre></body></html>")
    return Response(body, status=500, content_type="text/html; charset=utf-8")
