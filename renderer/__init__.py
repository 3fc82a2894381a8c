"""renderer: URL rules in site.toml, Jinja2 templates and data sources, served live or frozen.

The public surface is small on purpose: `create_app` for any WSGI server, `Site` for
code that wants to render a URL itself, and `SiteError` for what goes wrong in a site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Site", "SiteError", "__version__", "create_app"]

if TYPE_CHECKING:
    from .app import create_app
    from .errors import SiteError
    from .site import Site


def __getattr__(name: str) -> Any:
    # Imported lazily so that `renderer --version` and the build workers start fast.
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Site":
        from .site import Site

        return Site
    if name == "SiteError":
        from .errors import SiteError

        return SiteError
    raise AttributeError(name)
