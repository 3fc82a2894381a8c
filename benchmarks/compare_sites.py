"""The benchmark site of generate.py, laid out for Hugo, Eleventy, Pelican and MkDocs.

compare.py times each tool on the same posts; this module only writes the folders. Each layout
is the tool's folder of compare_templates/ (its configuration and templates, which make what the
renderer site's templates make, as far as the tool allows: one page per post with its date, tag
links and body, an index listing every post with its date and summary and linking every tag,
one page per tag, the about and colophon pages) plus the posts of a site that generate.py made:
the same Markdown bodies and the same front matter (title, date, tags, summary). What a tool
cannot do the same way is said in compare.py's docstring.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "compare_templates"
FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def _start(tool: str, root: Path) -> None:
    """A fresh copy of the tool's templates at root (a folder of compare.py's work folder)."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(TEMPLATES / tool, root)


def _posts(site: Path) -> list[Path]:
    return sorted((site / "content" / "posts").glob("*.md"))


def _copy_posts(site: Path, dest: Path) -> None:
    """The posts as they are: YAML front matter, which Hugo, Eleventy and MkDocs all read."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in _posts(site):
        shutil.copyfile(path, dest / path.name)


def _copy_pages(site: Path, dest: Path, extra: str = "") -> None:
    """about.md and colophon.md, with `extra` lines added to their YAML front matter."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("about.md", "colophon.md"):
        text = (site / "content" / name).read_text(encoding="utf-8")
        match = FRONT.match(text)
        assert match, f"{site / 'content' / name}: no front matter"
        front = f"---\n{match.group(1)}\n{extra}---\n"
        (dest / name).write_text(front + text[match.end() :], encoding="utf-8")


def hugo(site: Path, root: Path) -> None:
    """content/posts/*.md as they are; tags are Hugo's `tags` taxonomy (its term pages)."""
    _start("hugo", root)
    _copy_posts(site, root / "content" / "posts")
    _copy_pages(site, root / "content")


def eleventy(site: Path, root: Path) -> None:
    """posts/*.md as they are (their `tags` make Eleventy's tag collections), Nunjucks
    templates, tag pages by paginating over the collections."""
    _start("eleventy", root)
    _copy_posts(site, root / "posts")
    _copy_pages(site, root, extra="layout: page.njk\n")


def pelican_text(text: str) -> str:
    """A post in Pelican's Markdown layout: `Key: value` metadata, then the same body.

    Pelican reads YAML front matter only through a plugin; the values are the same (the
    title and summary without YAML's quotes, the tags comma-separated).
    """
    match = FRONT.match(text)
    assert match, "no front matter"
    lines = []
    for line in match.group(1).splitlines():
        key, _, value = line.partition(": ")
        if value[:1] + value[-1:] in ('""', "[]"):
            value = value[1:-1]
        lines.append(f"{key.title()}: {value}")
    return "\n".join(lines) + "\n" + text[match.end() :]


def pelican(site: Path, root: Path) -> None:
    """content/posts/*.md with Pelican's metadata, content/pages/ the two pages."""
    _start("pelican", root)
    for folder, paths in (
        (root / "content" / "posts", _posts(site)),
        (root / "content" / "pages", [site / "content" / "about.md",
                                      site / "content" / "colophon.md"]),
    ):  # fmt: skip
        folder.mkdir(parents=True)
        for path in paths:
            text = pelican_text(path.read_text(encoding="utf-8"))
            (folder / path.name).write_text(text, encoding="utf-8")


def mkdocs(site: Path, root: Path) -> None:
    """docs/posts/*.md as they are, docs/index.md, one template; no tag pages (MkDocs has
    none built in: its post pages show the tags as text)."""
    _start("mkdocs", root)
    _copy_posts(site, root / "docs" / "posts")
    _copy_pages(site, root / "docs")
