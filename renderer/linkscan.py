"""Links in rendered HTML, and where a broken one came from.

`links_in` runs over every page a build renders, so it is one regular expression over the
bytes, not an HTML parser (html.parser takes 100 times as long). The text of `<script>`
and `<style>` elements and of comments is not HTML, and what looks like a link there is
none: the expression matches those spans whole, and they give no link (a `<script src>`
is a link, the code inside it is not).

`Origins` answers "where does this broken link come from?" only for the few links that
are broken, by looking for the link as written in the files the page read: its
Markdown bodies first (the line of the link in the file), then data files, templates and
Python sources. Recording where each link of each page came from while rendering would
cost every page something, to say what a broken one alone needs.

The build (`build/links.py`) and the dev server's background check (`serve/checker.py`)
both resolve links with `resolve_link`, `produces` and `ignored`: pure functions, here in
the core because neither of the two may import the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .config import DATA_SUFFIXES, MARKDOWN_SUFFIXES
from .routing import Target, request_candidates

# The lookahead turns away most tags (<p>, <code>, <em>) at their first letter before the
# case-blind alternatives are tried: 11 us for a 7 KB post (benchmarks/NOTES.md).
LINK = re.compile(
    rb"<(?=[aAlLiIsS!])(?:"
    rb"!--.*?-->"
    rb"|(?i:script)\b(?:[^>]*?\s(?i:src)\s*=\s*[\"']([^\"'#?]*))?[^>]*>.*?</(?i:script)"
    rb"|(?i:style)\b.*?</(?i:style)"
    rb"|(?i:a|link|img|source|iframe)\b[^>]*?\s(?i:href|src)\s*=\s*[\"']([^\"'#?]*))",
    re.DOTALL)
URL_CHARACTER = r"[\w/.~%-]"


def links_in(body: bytes) -> set[str]:
    """The links of an HTML page (the path part: up to a "#" or "?")."""
    return {(script or other).decode("utf-8", "replace")
            for script, other in LINK.findall(body) if script or other}


def resolve_link(page_url: str, link: str) -> str | None:
    """A link as a path from the server's root, or None when it points elsewhere (another
    host, another scheme)."""
    if not link or link.startswith(("https:", "http:", "//", "mailto:", "tel:", "data:",
                                    "javascript:")):
        return None  # the common schemes without urlsplit's cost: a site links out a lot
    if link.startswith("/") and "/." not in link:
        return link  # already absolute and plain: the common case, without urljoin's cost
    if urlsplit(link).scheme:
        return None
    return urlsplit(urljoin(page_url, link)).path


def produces(url: str, targets: Mapping[str, Target]) -> bool:
    """Whether a site-relative URL is answered by one of `targets` (as a static host would)."""
    exact, folder = request_candidates(url)
    return (exact is not None and exact in targets) or (folder is not None and folder in targets)


def ignored(link: str, path: str, base_path: str, patterns: Iterable[str]) -> bool:
    """Whether `[build] ignore_links` skips a link: a pattern matches it as written,
    as a path from the server's root, or as a path from the site's base path."""
    inside = "/" + path[len(base_path):] if path.startswith(base_path) else path
    return any(fnmatchcase(form, pattern) for pattern in patterns
               for form in (link, path, inside))


Problem = tuple[str, str, str]  # the link as written, the URL it points to, "missing"/"outside"


class BrokenLinks:
    """The links of pages that point to URLs among `targets` the site does not produce,
    or outside its base path; `[build] ignore_links` patterns are skipped. A site links
    to the same few URLs from many pages, so each answer is remembered."""

    def __init__(self, targets: Mapping[str, Target], base_path: str,
                 ignore: Iterable[str] = ()) -> None:
        self.targets = targets
        self.base_path = base_path
        self.ignore = tuple(ignore)
        self.known: dict[str, bool] = {}
        self.rooted: dict[str, str | None] = {}  # links from the root resolve alike anywhere

    def of(self, url: str, links: Iterable[str]) -> list[Problem]:
        """The broken links among `links` of the page at site-relative `url`."""
        base_path = self.base_path
        page_url = base_path + url.lstrip("/")
        problems = []
        for link in links:
            if link in self.rooted:
                path = self.rooted[link]
            else:
                path = resolve_link(page_url, link)
                if link.startswith("/"):
                    self.rooted[link] = path
            if path is None or self.ignore and ignored(link, path, base_path, self.ignore):
                continue
            if path + "/" == base_path:
                path = base_path  # "/docs" for "/docs/": hosts and serve redirect it
            elif not path.startswith(base_path):
                problems.append((link, path, "outside"))  # another site's on this host?
                continue
            target_url = "/" + path[len(base_path):]
            if target_url not in self.known:
                self.known[target_url] = produces(target_url, self.targets)
            if not self.known[target_url]:
                problems.append((link, target_url, "missing"))
        return problems


class Origins:
    """Where a page's links come from, found by looking in the files it read."""

    def __init__(self, root: Path, templates: Path, base_path: str) -> None:
        self.root = root
        self.templates = templates
        self.base_path = base_path
        self._texts: dict[str, str | None] = {}

    def find(self, link: str, read: Iterable[str], template: Path | None
             ) -> tuple[str, int | None] | None:
        """The file and line of the first file among `read` (paths relative to the site
        folder) that holds `link` as written: a Markdown file, a data file, a template, a
        Python source, in this order; else the page's `template` (no line), else None."""
        forms = [link]
        if self.base_path != "/" and link.startswith(self.base_path):
            forms.append("/" + link[len(self.base_path):])  # Markdown gets the base path
        if "&" in link:
            import html

            forms.append(html.unescape(link))
        pattern = re.compile(f"(?<!{URL_CHARACTER})(?:{'|'.join(map(re.escape, forms))})"
                             f"(?!{URL_CHARACTER})")
        ranked = sorted((rank, name) for name in read if (rank := self._rank(name)) is not None)
        for _, name in ranked:
            text = self._text(name)
            found = pattern.search(text) if text is not None else None
            if text is not None and found is not None:
                return name, text.count("\n", 0, found.start()) + 1
        if template is None:
            return None
        return (template.relative_to(self.root).as_posix()
                if template.is_relative_to(self.root) else str(template)), None

    def _rank(self, name: str) -> int | None:
        """Markdown first, then data files, templates, Python sources; nothing else."""
        if name.endswith(MARKDOWN_SUFFIXES):
            return 0
        if name.endswith(DATA_SUFFIXES) and name != "site.toml":
            return 1
        if (self.root / name).is_relative_to(self.templates):
            return 2
        return 3 if name.endswith(".py") else None

    def _text(self, name: str) -> str | None:
        if name not in self._texts:
            try:
                self._texts[name] = (self.root / name).read_text(encoding="utf-8",
                                                                 errors="replace")
            except OSError:
                self._texts[name] = None
        return self._texts[name]
