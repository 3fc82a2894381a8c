"""Links in Markdown: to other Markdown files of the site, and from the site's root.

`[x](setup.md#part)` becomes the URL of the page made from `setup.md`, and `[x](/docs/)`
gets the `base_url` path, as `url_for` gives it.

The second needs only the site's settings, so a Python-Markdown treeprocessor does it
while converting, and the base path is part of the Markdown cache's key. The first
needs the page's own file and the URL every other file gets today: putting those in
the cache's key would make a post's HTML depend on the whole URL list, and renaming one
slug would convert every page again. So the treeprocessor only marks such a link (a
character Markdown never writes, before the link as written), the cache keeps the marked
HTML by its text alone, and `MarkdownLinks.resolve` replaces the marks each time the HTML
is read: a scan that finds no mark costs a `str.find`. Resolving notes in the reading
render's record what the URL depends on (the target's front matter; a file yet to come,
as a glob), so renaming a slug renders again the pages that link to it.

MkDocs resolves `.md` links the same way (relative to the linking file, `#fragment`
kept); a link that no route renders is left as written, and the build's link check
warns of it with the Markdown file and line (`renderer/linkscan.py`).
"""

from __future__ import annotations

import glob
import html
import os
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .config import MARKDOWN_SUFFIXES, SiteConfig
from .errors import SiteError
from .records import Record
from .routing import Target

MARK = "\ue000"  # a private-use character: in the HTML of no Markdown text but ours
MARKED = re.compile(MARK + r'([^"]*)')
VERSION = "1"  # of what the treeprocessor writes: part of the Markdown cache's key


def rewrite(href: str, base_path: str) -> str:
    """A link as the treeprocessor leaves it: marked when it names a Markdown file,
    prefixed with `base_path` when it starts at the site's root, else as it is."""
    if not href or href.startswith(("#", "//")) or _scheme(href):
        return href
    path = href.split("#", 1)[0].split("?", 1)[0]
    if path.lower().endswith(MARKDOWN_SUFFIXES):
        return MARK + href
    if href.startswith("/") and base_path != "/":
        return base_path + href[1:]
    return href


def _scheme(href: str) -> bool:
    head = href.split("/", 1)[0]
    return ":" in head and bool(urlsplit(href).scheme)


def unmarked(text: str, source: Path | None = None) -> str:
    """HTML with its marks taken out, the links as written: for a converter that no site
    gave a `MarkdownLinks`."""
    return text.replace(MARK, "")


def markdown_extension(base_path: str) -> Any:
    """The Python-Markdown extension that rewrites links (see `rewrite`)."""
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    class LinkRewriter(Treeprocessor):
        def run(self, root: Any) -> None:
            for tag, attribute in (("a", "href"), ("img", "src")):
                for element in root.iter(tag):
                    value = element.get(attribute)
                    if value:
                        new = rewrite(value, base_path)
                        if tag == "img" and new.startswith(MARK):
                            continue  # an image is no page: left as written
                        if new != value:
                            element.set(attribute, new)

    class MarkdownLinks(Extension):
        def extendMarkdown(self, md: Any) -> None:  # noqa: N802 - Python-Markdown's name
            # After "inline" (20), which makes the links, reference-style ones too.
            md.treeprocessors.register(LinkRewriter(md), "renderer_links", 8)

    return MarkdownLinks()


UrlTable = Mapping[str, tuple[str, frozenset[Path]]]


class MarkdownLinks:
    """Marked links in converted HTML to URLs, with what each URL depends on noted in
    the record being filled (`current`)."""

    def __init__(self, config: SiteConfig, targets: Callable[[], dict[str, Target]],
                 current: Callable[[], Record | None],
                 dated: Callable[[Path, Record], None] | None = None) -> None:
        self.root = config.root
        self._dated = dated  # notes a page's date: a future page has no URL until its day
        self.base_path = config.base_path
        self.routes = config.routes
        self.sources = config.sources
        self._targets = targets
        self._current = current
        self._table: tuple[dict[str, Target], UrlTable] | None = None
        self._local = threading.local()  # .busy: this thread is asking for the URL list

    def resolve(self, text: str, source: Path | None) -> str:
        """`text` (HTML) with every marked link made a URL; `source` is the Markdown file
        it came from (None: the `markdown` filter, whose links start at the site folder)."""
        table = self.table()
        record = self._current()
        folder = source.parent if source is not None else self.root

        def replace(match: re.Match[str]) -> str:
            written = html.unescape(match.group(1))
            url = self._url(written, folder, table, record)
            return html.escape(url if url is not None else written)

        return MARKED.sub(replace, text)

    def table(self) -> UrlTable:
        """Markdown file (relative to the site folder) -> its page's URL and the files
        that URL depends on beyond the file's front matter."""
        if getattr(self._local, "busy", False):
            raise SiteError("a Markdown page with a link to a Markdown file (name.md) was "
                            "read while the site's URLs were being listed (by an `each` "
                            "function): its URL is not known yet; read it in a `context` "
                            "function or a template instead")
        self._local.busy = True
        try:
            targets = self._targets()
        finally:
            self._local.busy = False
        known = self._table
        if known is None or known[0] is not targets:
            known = self._table = (targets, self._make_table(targets))
        return known[1]

    def _make_table(self, targets: dict[str, Target]) -> UrlTable:
        prefix = f"{self.root}{os.sep}"
        found: dict[str, tuple[int, str, frozenset[Path]]] = {}
        for target in targets.values():
            route = target.route
            if route is None:
                continue
            page_path = getattr(target.page, "path", None)
            source = str(page_path).removeprefix(prefix).replace(os.sep, "/") \
                if isinstance(page_path, Path) else target.page_source
            if not source or not source.endswith(MARKDOWN_SUFFIXES):
                continue
            known = found.get(source)
            if known is None or route.index < known[0]:  # the first route that renders it
                found[source] = (route.index, target.url, self._route_files(route.index))
        return {source: (url, files) for source, (_, url, files) in found.items()}

    def _route_files(self, index: int) -> frozenset[Path]:
        """What decides which items a route's `each` makes pages of, beyond their own
        front matter: the Python file of a function (a collection's glob and drafts are
        in the items' files and site.toml)."""
        route = self.routes[index]
        if route.each_function is not None:
            return frozenset({route.each_function.file})
        spec = self.sources.get(route.each or "")
        if spec is not None and spec.python is not None:
            return frozenset({spec.python.file})
        return frozenset()

    def _url(self, written: str, folder: Path, table: UrlTable,
             record: Record | None) -> str | None:
        parts = urlsplit(written)
        path = unquote(parts.path)
        target = Path(os.path.normpath(self.root / path.lstrip("/") if path.startswith("/")
                                       else folder / path))
        if not target.is_relative_to(self.root):
            return None
        entry = table.get(target.relative_to(self.root).as_posix())
        if record is not None:
            if entry is not None or target.exists():
                record.meta.add(target)  # its slug, its draft flag: its front matter
                if self._dated is not None:
                    self._dated(target, record)
            else:
                record.globs.add(glob.escape(str(target)))  # a file yet to come
            if entry is not None:
                record.files |= entry[1]
        if entry is None:
            return None
        url = self.base_path + entry[0].lstrip("/")
        if parts.query:
            url += "?" + parts.query
        return url + "#" + parts.fragment if parts.fragment else url
