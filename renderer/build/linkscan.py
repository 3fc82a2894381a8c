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
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ..config import DATA_SUFFIXES, MARKDOWN_SUFFIXES

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
