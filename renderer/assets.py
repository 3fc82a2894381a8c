"""Static assets: fingerprinted static URLs (`[site] fingerprint`) and the Pygments style
sheet (`[markdown] pygments_style`), a file the site makes at `/pygments.css`.

A fingerprint is the start of the SHA-256 of the file's bytes, which a deploy script can
check with `sha256sum`. The page that asks for one depends on the file it was made from
(the dependency record), so editing `static/css/site.css` renders again the pages that
link to it, in `serve` and in an incremental build. The style sheet is made from
site.toml and Pygments alone, which every page depends on already (an upgrade of Pygments
renders everything again).
"""

from __future__ import annotations

import hashlib
import textwrap
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .config import SiteConfig
from .errors import RouteError, SiteError, did_you_mean, display_path
from .records import Record
from .routing import STATIC, Router, Target
from .sources import Sources

PYGMENTS_CSS = "pygments.css"
VERSION_LENGTH = 10  # hex digits of the hash: a collision needs about a million versions


class Assets:
    """The site's `url_for`, which adds fingerprints; and the generated style sheet."""

    def __init__(self, config: SiteConfig, sources: Sources, router: Router) -> None:
        self.config = config
        self.sources = sources
        self.router = router
        self._versions: dict[Path, str] = {}
        self._stylesheet: bytes | None = None
        self._lock = threading.Lock()

    def url_for(self, name: str, variables: Mapping[str, Any], external: bool = False) -> str:
        """`url_for` of the templates; a static file's URL with `?v=<hash>` when the site
        fingerprints them."""
        url = self.router.url_for(name, variables, external)
        if name == STATIC and self.config.fingerprint:
            url += f"?v={self.version(str(variables['filename']))}"
        return url

    def version(self, filename: str) -> str:
        """The fingerprint of a static file (or of the style sheet), noted in the record
        of the page being rendered."""
        relative = filename.lstrip("/")
        if relative == PYGMENTS_CSS and self.config.markdown.pygments_style is not None:
            return _hash(self.stylesheet())  # made from site.toml: every page reads it
        folder = self.config.static
        path = folder / relative
        if not path.resolve().is_relative_to(folder.resolve()):
            raise SiteError(f'url_for("static", filename="{filename}"): the file is outside '
                            f"the static folder {display_path(folder)}")
        self.sources.note(Record({path}))
        known = self._versions.get(path)
        if known is None:
            try:
                known = _hash(path.read_bytes())
            except OSError:
                raise SiteError(self._missing(filename, path)) from None
            with self._lock:
                self._versions[path] = known
        return known

    def _missing(self, filename: str, path: Path) -> str:
        folder = self.config.static
        known = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
                 if p.is_file()] if folder.is_dir() else []
        return (f'url_for("static", filename="{filename}"): no file {display_path(path)} to '
                f"fingerprint{did_you_mean(filename.lstrip('/'), known)}")

    def stylesheet(self) -> bytes:
        """The CSS of the Pygments style(s), for the class codehilite gives code blocks;
        a dark style's rules apply under `prefers-color-scheme: dark`."""
        if self._stylesheet is None:
            self._stylesheet = pygments_css(self.config)
        return self._stylesheet

    def invalidate(self, paths: Iterable[Path]) -> None:
        with self._lock:
            for path in paths:
                self._versions.pop(path, None)


def pygments_css(config: SiteConfig) -> bytes:
    from pygments.formatters import HtmlFormatter

    style = config.markdown.pygments_style
    assert style is not None
    css_class = config.markdown.extension_configs.get("codehilite", {}).get(
        "css_class", "codehilite")
    selector = f".{css_class}"
    text: str = (f"/* Pygments style {style.light}"
            + (f", and {style.dark} for a dark colour scheme" if style.dark else "")
            + f" ([markdown] pygments_style in site.toml), for {selector} */\n"
            + HtmlFormatter(style=style.light).get_style_defs(selector) + "\n")
    if style.dark:
        dark: str = HtmlFormatter(style=style.dark).get_style_defs(selector)
        text += ("@media (prefers-color-scheme: dark) {\n"
                 + textwrap.indent(dark, "  ") + "\n}\n")
    return text.encode("utf-8")


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:VERSION_LENGTH]


def generated_targets(config: SiteConfig) -> list[Target]:
    """The files the site makes besides its routes' pages: the style sheet, unless a
    static file stands at its place (an error naming both)."""
    style = config.markdown.pygments_style
    if style is None:
        return []
    static = config.static / PYGMENTS_CSS
    if static.is_file():
        raise RouteError(f"{PYGMENTS_CSS} is produced twice: by static file "
                         f"{display_path(static)} and by [markdown] pygments_style; remove "
                         "one of them", file=config.file, line=style.line)
    return [Target(f"/{PYGMENTS_CSS}", PYGMENTS_CSS, generated=PYGMENTS_CSS)]
