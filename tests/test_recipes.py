"""The Recipes page (content/docs/recipes.md) is a site: every code block it introduces
with its file's name (a line ending in "`templates/index.html`:") goes into a new site
folder, the `site.toml` excerpts joined under their tables, and a real `renderer build
--strict` must build it into the pages the recipes promise. So the page cannot go stale:
a recipe that stops working fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPOSITORY, run_renderer

RECIPES = REPOSITORY / "content" / "docs" / "recipes.md"
BLOCK = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                   re.M | re.S)
NAMED = re.compile(r"`([\w./-]+)`:$")
# Eleven posts of 2023 besides the page's own: two pages of the index and of a tag.
POSTS = {f"content/posts/2023-01-{day:02d}-post-{day}.md":
         f"---\ntitle: Post {day}\ntags: [python]\n---\nText of post {day}.\n"
         for day in range(1, 12)}


def recipe_files(text: str) -> dict[str, list[str]]:
    """The code blocks of the page by the file the line before each names, in order."""
    files: dict[str, list[str]] = {}
    for match in BLOCK.finditer(text):
        before = text[:match.start()].rstrip().splitlines()[-1]
        if named := NAMED.search(before):
            files.setdefault(named.group(1), []).append(match.group("body"))
    return files


def join_toml(blocks: list[str]) -> str:
    """site.toml excerpts as one file: the lines of each `[table]` together under one
    header (TOML allows a table once), every `[[routes]]` entry as it is."""
    tables: dict[str, list[str]] = {"": []}
    entries: list[list[str]] = []
    for block in blocks:
        current = tables[""]
        for line in block.splitlines():
            if line.startswith("[["):
                entries.append(current := [line])
            elif line.startswith("["):
                current = tables.setdefault(line, [line])
            else:
                current.append(line)
    return "\n".join(line for lines in [*tables.values(), *entries] for line in lines) + "\n"


def write_recipes(site: Path) -> None:
    """The page's files, and POSTS, into the folder `site`."""
    files = recipe_files(RECIPES.read_text(encoding="utf-8"))
    assert set(files) == {
        "site.toml", "templates/base.html", "templates/index.html", "templates/tag.html",
        "templates/year.html", "templates/post.html", "templates/feed.xml",
        "templates/sitemap.xml", "static/site.css", "content/posts/2024-05-01-hello.md",
        "content/posts/2999-01-01-from-the-future.md"}, "a recipe lost the name of its file"
    texts = {name: "".join(blocks) for name, blocks in files.items()}
    texts["site.toml"] = join_toml(files["site.toml"])
    for name, text in {**texts, **POSTS}.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")


def build(site: Path, output: Path, *args: str) -> dict[str, str]:
    code, stdout, stderr = run_renderer("build", site, "--output", output, "--strict", *args)
    assert code == 0, stderr
    assert "0 warnings" in stdout + stderr
    return {path.relative_to(output).as_posix(): path.read_text(encoding="utf-8")
            for path in output.rglob("*") if path.is_file()}


def test_the_recipes_build_the_blog_they_describe(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_recipes(site)
    pages = build(site, tmp_path / "out")

    index = pages["index.html"]  # pagination; sub-path; cache-busting
    assert index.count("<h2>") == 10 and "Page 1 of 2" in index
    assert '<a href="/blog/page/2/">Older</a>' in index
    assert '<a href="/blog/posts/hello/">Hello</a>' in index
    assert re.search(r'href="/blog/site\.css\?v=[0-9a-f]{10}"', index)
    assert '<a href="/blog/">Newer</a>' in pages["page/2/index.html"]

    tag = pages["tags/python/index.html"]  # one group for "Python" and "python"
    assert "Posts tagged Python (12)" in tag and "tags/python/page/2/index.html" in pages
    assert '<a href="/blog/tags/python/page/2/">2</a>' in tag
    assert "Post 1</a>" in pages["archive/2023/index.html"]
    assert '<a href="/blog/archive/2024/">2024</a>' in pages["archive/2023/index.html"]

    hello = pages["posts/hello/index.html"]  # dates from file names; previous and next
    assert '<div class="codehilite">' in hello
    assert '<a href="/blog/tags/web/">#Web</a>' in hello
    assert '<a rel="next" href="/blog/posts/post-11/">Older: Post 11</a>' in hello
    assert 'rel="prev"' not in hello
    assert ("<url><loc>https://example.org/blog/posts/hello/</loc>"
            "<lastmod>2024-05-01</lastmod></url>") in pages["sitemap.xml"]

    feed = pages["feed.xml"]
    assert '<link href="https://example.org/blog/feed.xml" rel="self"/>' in feed
    assert "<updated>2024-05-01T00:00:00Z</updated>" in feed
    assert "&lt;div class=&#34;codehilite&#34;&gt;" in feed
    assert ".codehilite" in pages["pygments.css"]
    assert "prefers-color-scheme: dark" in pages["pygments.css"]

    # Scheduled: left out until its day, then published.
    assert not any("from-the-future" in name for name in pages)
    later = build(site, tmp_path / "later", "--now", "2999-01-02T00:00Z")
    assert "From the future" in later["posts/from-the-future/index.html"]
    assert '<a href="/blog/posts/from-the-future/">From the future</a>' in later["index.html"]
