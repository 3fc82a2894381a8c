"""The sites `renderer new` makes: a blog, and with --docs a documentation site.

Each is made and built by the real command (`renderer new`, `renderer build --strict`),
and every built HTML page must pass html5lib's parser in strict mode. What each page
should hold is worked out from the starter's own Markdown and data files, not written
here, so the tests follow the starters as people edit them.
"""

from __future__ import annotations

import glob
import hashlib
import re
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import html5lib
import pytest
import yaml
from conftest import REPOSITORY, run_renderer, tree
from serving import running

from renderer.scaffold import STARTERS
from renderer.slugs import slugify

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
HREF = re.compile(r'href="([^"]*)"')


@dataclass(frozen=True)
class Post:
    slug: str
    title: str
    date: str
    tags: tuple[str, ...]


def made(tmp_path: Path, *options: str) -> Path:
    """`renderer new site OPTIONS` then `renderer build site --strict`, as a person types
    them; the site folder."""
    code, stdout, stderr = run_renderer("new", "site", *options, cwd=tmp_path)
    assert code == 0, stderr
    assert "site" in stdout
    site = tmp_path / "site"
    code, stdout, stderr = run_renderer("build", "site", "--strict", cwd=tmp_path)
    assert code == 0, stderr
    assert "0 warnings" in stdout
    return site


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made(tmp_path_factory.mktemp("blog"))


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made(tmp_path_factory.mktemp("docs"), "--docs")


def front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), path
    return dict(yaml.safe_load(text.split("---\n", 2)[1]))


def posts_of(site: Path) -> list[Post]:
    """The blog's posts from their files (`{date}-{slug}.md`), newest first."""
    posts = []
    for path in sorted((site / "content" / "posts").glob("*.md")):
        date, slug = path.stem[:10], path.stem[11:]
        meta = front_matter(path)
        posts.append(Post(slug, str(meta["title"]), date, tuple(map(str, meta.get("tags", [])))))
    return sorted(posts, key=lambda post: post.date, reverse=True)


def page(site: Path, url: str) -> str:
    """The built file of a URL, as a static host would find it."""
    path = site / "build" / url.strip("/") / ("index.html" if url.endswith("/") else "")
    return path.read_text(encoding="utf-8")


def links(html: str) -> list[str]:
    return HREF.findall(html)


def main_part(html: str) -> str:
    """The page's <main>: lists there, not the header's links."""
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


@pytest.mark.parametrize("kind", ["blog", "docs"])
def test_every_built_page_is_valid_html(kind: str, request: pytest.FixtureRequest) -> None:
    site: Path = request.getfixturevalue(kind)
    pages = sorted((site / "build").rglob("*.html"))
    assert len(pages) >= 6
    for path in pages:
        try:
            html5lib.HTMLParser(strict=True).parse(path.read_bytes())
        except html5lib.html5parser.ParseError as error:
            pytest.fail(f"{path.relative_to(site)}: {error}")


# The blog.

def test_the_index_is_paginated_and_lists_every_post_once(blog: Path) -> None:
    config = tomllib.loads((blog / "site.toml").read_text(encoding="utf-8"))
    per_page = next(route["paginate"]["per_page"] for route in config["routes"]
                    if route["url"] == "/")
    posts = posts_of(blog)
    assert len(posts) > per_page, "the starter shows a second page"
    listed = []
    url = "/"
    while True:
        html = main_part(page(blog, url))
        listed += [href for href in links(html) if href.startswith("/posts/")]
        older = re.search(r'href="([^"]+)" rel="next"', html)
        if older is None:
            break
        url = older.group(1)
    assert url == f"/page/{-(-len(posts) // per_page)}/"
    assert listed == [f"/posts/{post.slug}/" for post in posts]


def test_each_tag_page_lists_its_posts(blog: Path) -> None:
    posts = posts_of(blog)
    tags = {tag for post in posts for tag in post.tags}
    assert len(tags) >= 2
    all_tags = page(blog, "/tags/")
    for tag in tags:
        assert f'href="/tags/{slugify(tag)}/"' in all_tags
        html = main_part(page(blog, f"/tags/{slugify(tag)}/"))
        shown = [href for href in links(html) if href.startswith("/posts/")]
        assert shown == [f"/posts/{post.slug}/" for post in posts if tag in post.tags]


def test_each_year_page_lists_the_posts_of_its_year(blog: Path) -> None:
    posts = posts_of(blog)
    years = sorted({post.date[:4] for post in posts}, reverse=True)
    assert len(years) >= 2
    archive = main_part(page(blog, "/archive/"))
    assert [href for href in links(archive) if href.startswith("/archive/")] == [
        f"/archive/{year}/" for year in years]
    for year in years:
        html = main_part(page(blog, f"/archive/{year}/"))
        shown = [href for href in links(html) if href.startswith("/posts/")]
        assert shown == [f"/posts/{p.slug}/" for p in posts if p.date.startswith(year)]


def test_posts_link_to_their_neighbours(blog: Path) -> None:
    posts = posts_of(blog)
    for index, post in enumerate(posts):
        html = page(blog, f"/posts/{post.slug}/")
        assert f"<h1>{post.title}</h1>" in html
        older = re.findall(r'href="([^"]+)" rel="prev"', html)
        newer = re.findall(r'href="([^"]+)" rel="next"', html)
        assert older == ([f"/posts/{posts[index + 1].slug}/"] if index + 1 < len(posts) else [])
        assert newer == ([f"/posts/{posts[index - 1].slug}/"] if index > 0 else [])


def test_the_feed_is_atom_with_an_entry_per_post(blog: Path) -> None:
    config = tomllib.loads((blog / "site.toml").read_text(encoding="utf-8"))
    base = config["site"]["base_url"]
    feed = ET.parse(blog / "build" / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == [
        post.title for post in posts_of(blog)]
    for entry, post in zip(entries, posts_of(blog), strict=True):
        assert entry.findtext(f"{ATOM}id") == f"{base}posts/{post.slug}/"
        assert entry.findtext(f"{ATOM}updated", "").startswith(post.date)
        assert "<p>" in entry.findtext(f"{ATOM}content", "")
    assert 'type="application/atom+xml"' in page(blog, "/")


def test_the_sitemap_lists_every_page(blog: Path) -> None:
    base = tomllib.loads((blog / "site.toml").read_text(encoding="utf-8"))["site"]["base_url"]
    sitemap = ET.parse(blog / "build" / "sitemap.xml").getroot()
    listed = {loc.text for loc in sitemap.iter(f"{SITEMAP}loc")}
    folders = [path.parent.relative_to(blog / "build").as_posix()
               for path in (blog / "build").rglob("index.html")]
    assert listed == {base + ("" if folder == "." else folder + "/") for folder in folders}
    assert len(listed) >= 10


def test_style_sheets_are_fingerprinted_and_have_a_dark_style(blog: Path) -> None:
    html = page(blog, "/")
    for name in ("css/site.css", "pygments.css"):
        built = blog / "build" / name
        digest = hashlib.sha256(built.read_bytes()).hexdigest()[:10]
        assert f'href="/{name}?v={digest}"' in html
    assert "@media (prefers-color-scheme: dark)" in (blog / "build/css/site.css").read_text()
    pygments = (blog / "build" / "pygments.css").read_text()
    light, dark = pygments.split("@media (prefers-color-scheme: dark)", 1)
    assert ".codehilite" in light and ".codehilite" in dark


def test_code_is_highlighted_and_md_links_become_urls(blog: Path) -> None:
    posts = posts_of(blog)
    htmls = [page(blog, f"/posts/{post.slug}/") for post in posts]
    assert any('<div class="codehilite"><pre>' in html and '<span class="k">' in html
               for html in htmls)
    for html in htmls:
        assert not [href for href in links(html) if ".md" in href]


def test_the_404_page_and_the_about_page(blog: Path) -> None:
    not_found = (blog / "build" / "404.html").read_text(encoding="utf-8")
    assert "<h1>Not found</h1>" in not_found
    about = front_matter(blog / "content" / "about.md")
    assert f"<h1>{about['title']}</h1>" in page(blog, "/about/")


def test_serve_answers_the_blog(blog: Path) -> None:
    with running(blog) as server:
        index = server.get("/")
        assert index.status == 200
        assert posts_of(blog)[0].title in index.text
        style = server.get("/pygments.css")
        assert style.status == 200
        assert str(style.header("Content-Type")).startswith("text/css")
        assert server.get("/no-such-page/").status == 404


# The documentation site.

def sidebar_of(site: Path) -> list[tuple[str, list[str]]]:
    data = tomllib.loads((site / "content" / "sidebar.toml").read_text(encoding="utf-8"))
    return [(section["title"], section["pages"]) for section in data["sections"]]


def test_the_docs_sidebar_follows_its_data_file(docs: Path) -> None:
    order = [slug for _, slugs in sidebar_of(docs) for slug in slugs]
    assert len(order) >= 3
    for slug in order:
        html = page(docs, f"/{slug}/")
        title = front_matter(docs / "content" / "docs" / f"{slug}.md")["title"]
        assert f"<h1>{title}</h1>" in html
        sidebar = html.split('class="sidebar"', 1)[1].split("</nav>", 1)[0]
        assert [href for href in links(sidebar)] == [f"/{each}/" for each in order]
        assert f'<a href="/{slug}/" aria-current="page">{title}</a>' in sidebar


def test_the_docs_neighbours_follow_the_sidebar(docs: Path) -> None:
    order = [slug for _, slugs in sidebar_of(docs) for slug in slugs]
    for index, slug in enumerate(order):
        html = page(docs, f"/{slug}/")
        before = re.findall(r'href="([^"]+)" rel="prev"', html)
        after = re.findall(r'href="([^"]+)" rel="next"', html)
        assert before == ([f"/{order[index - 1]}/"] if index > 0 else [])
        assert after == ([f"/{order[index + 1]}/"] if index + 1 < len(order) else [])


def test_the_contents_page_lists_every_section_and_page(docs: Path) -> None:
    html = main_part(page(docs, "/"))
    for title, slugs in sidebar_of(docs):
        assert f"<h2>{title}</h2>" in html
        for slug in slugs:
            summary = front_matter(docs / "content" / "docs" / f"{slug}.md")["summary"]
            assert f'href="/{slug}/"' in html and f"<dd>{summary}</dd>" in html
    # content/index.md links to pages by their .md files: built as URLs
    assert not [href for href in links(html) if ".md" in href]
    assert 'href="/install/"' in html.split('class="contents"')[0]


def test_a_sidebar_slug_without_a_page_fails_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_renderer("new", site, "--docs").code == 0
    sidebar = site / "content" / "sidebar.toml"
    sidebar.write_text(sidebar.read_text().replace('"usage"', '"usgae"'))
    code, _, stderr = run_renderer("build", site, "--strict")
    assert code == 1
    assert "link to /usgae/" in stderr and "templates/doc.html" in stderr
    assert not (site / "build").exists()


# Edits: what the starters' templates read must be in the dependency record.

def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def assert_incremental_equals_clean(site: Path) -> None:
    code, _, stderr = run_renderer("build", site, "--strict")
    assert code == 0, stderr
    incremental = tree(site / "build")
    code, _, stderr = run_renderer("build", site, "--strict", "--clean")
    assert code == 0, stderr
    assert tree(site / "build") == incremental


def test_blog_edits_build_as_a_clean_build_does(tmp_path: Path) -> None:
    site = made(tmp_path)
    posts = site / "content" / "posts"
    first = sorted(posts.glob("*.md"))[0]
    edit(first, "tags: [", "tags: [travel, ")          # a new tag page, lists change
    edit(first, "title: ", "title: Renamed ")            # titles in lists, feed, neighbours
    (posts / "2025-08-01-new.md").write_text("---\ntitle: New\ntags: [meta]\n---\nNew.\n")
    edit(site / "content" / "about.md", "This is", "Here is")
    edit(site / "static" / "css" / "site.css", "--accent: #2f6f5e;", "--accent: #8a3b12;")
    edit(site / "content" / "links.toml", 'title = "', 'title = "Built: ')
    assert_incremental_equals_clean(site)
    assert "travel" in page(site, "/tags/travel/")


def test_docs_edits_build_as_a_clean_build_does(tmp_path: Path) -> None:
    site = made(tmp_path, "--docs")
    order = [slug for _, slugs in sidebar_of(site) for slug in slugs]
    sidebar = site / "content" / "sidebar.toml"
    edit(sidebar, f'"{order[0]}", "{order[1]}"', f'"{order[1]}", "{order[0]}"')
    edit(site / "content" / "docs" / f"{order[-1]}.md", "title: ", "title: All ")
    edit(site / "content" / "docs" / f"{order[-1]}.md", "summary: ", "summary: Truly ")
    assert_incremental_equals_clean(site)
    assert f'href="/{order[0]}/" rel="next"' in page(site, f"/{order[1]}/")  # now first


# Packaging.

def test_package_data_ships_every_starter_file() -> None:
    """An installed (non-editable) copy holds only what pyproject's package-data globs
    match: each file of each starter must match one."""
    config = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["renderer"]
    package = REPOSITORY / "renderer"
    matched = {name for pattern in patterns
               for name in glob.glob(pattern, root_dir=package, recursive=True)
               if (package / name).is_file()}
    for folder in STARTERS.values():
        files = {path.relative_to(package).as_posix()
                 for path in (package / folder).rglob("*")
                 if path.is_file() and "__pycache__" not in path.parts}
        assert files, folder
        assert files <= matched, sorted(files - matched)
