"""The floor: render a benchmark site with a plain loop and no framework.

    python benchmarks/bare_loop.py SITE OUT [--jobs 1|2]
    python benchmarks/bare_loop.py SITE OUT --only content/posts/post-00042.md

SITE is a folder made by generate.py. This script does by hand, once, the work that
`renderer build` must do for that site, and nothing more: read site.toml, parse every post's
YAML front matter (CSafeLoader when PyYAML has libyaml), convert every post's Markdown once with
the site's extensions, render every post with the site's post.html and write it, then sort the
posts by date, group them by tag (a dict of lists), and render the index and every tag page in
pages of PER_PAGE posts, and the two plain pages. `url_for` is a dict of format strings. With
--jobs 2 the posts are spread over a multiprocessing pool of 2 processes; the rest is rendered
in the main process.

OUT is removed first (like `renderer build --clean`) if it holds an earlier bare-loop output or
is empty; any other folder is refused.

With --only, it renders that one post into OUT and nothing else (OUT is kept; it too must be a
bare-loop output or empty): the floor of a rebuild after editing one post, as a fresh process
pays it (Python's start, the imports, the set-up of Markdown and Jinja2, reading, converting
and rendering that post), without the rest of the site a real rebuild must look at.

What the floor leaves out on purpose, because it is what a framework adds: URL-rule matching and
validation, dependency recording, incremental caches, atomic writes, link checks, error reporting.
The gap between this script and `renderer build` is the price of those.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import markdown
import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)
MARKER = ".bare-loop-output"

# The routes of the generated site.toml, by endpoint name, as format strings; the pages
# 2, 3, ... of the paginated ones; and their posts a page.
ROUTES = {
    "index": "/",
    "post": "/posts/{slug}/",
    "tag": "/tags/{slug}/",
    "page": "/about/",
    "colophon": "/colophon/",
    "static": "/{filename}",
}
PAGES = {"index": "/page/{page}/", "tag": "/tags/{slug}/page/{page}/"}
PER_PAGE = 20


class _NoData:
    """`data` inside a pool worker: posts are rendered before the collection is complete."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"bare loop: post.html may not use data.{name}")


class Renderer:
    """What one process needs: the site's settings, one Markdown converter, one Jinja2 env."""

    def __init__(self, site: Path, out: Path) -> None:
        self.site = site
        self.out = out
        config = tomllib.loads((site / "site.toml").read_text(encoding="utf-8"))
        self.site_vars = config.get("site", {})
        md_config = config.get("markdown", {})
        self.md = markdown.Markdown(
            extensions=md_config.get("extensions", []),
            extension_configs=md_config.get("extension_configs", {}),
        )
        self.has_toc = "toc" in md_config.get("extensions", [])
        self.base_url = self.site_vars.get("base_url", "/")
        self.prefix = (urlsplit(self.base_url).path or "/").rstrip("/")
        self.env = Environment(
            loader=FileSystemLoader(site / "templates"),
            autoescape=select_autoescape(["html", "htm", "xml", "svg"]),
            keep_trailing_newline=True,
        )
        self.env.globals.update(site=self.site_vars, url_for=self.url_for, data=_NoData())
        self.env.filters["markdown"] = self.markdown_filter

    def url_for(self, name: str, _external: bool = False, **values: Any) -> str:
        rule = PAGES[name] if values.get("page", 1) != 1 else ROUTES[name]
        path = self.prefix + rule.format(**values)
        if _external:
            return self.base_url.rstrip("/") + path[len(self.prefix) :]
        return path

    def markdown_filter(self, text: str) -> Markup:
        self.md.reset()
        return Markup(self.md.convert(text))

    def load_page(self, path: Path) -> dict[str, Any]:
        """A Markdown file as an item: front matter keys, slug, source, content, toc."""
        text = path.read_text(encoding="utf-8")
        match = FRONT_MATTER.match(text)
        if match:
            item = yaml.load(match.group(1), Loader=Loader) or {}
            body = text[match.end() :]
        else:
            item, body = {}, text
        self.md.reset()
        item["content"] = Markup(self.md.convert(body))
        if self.has_toc:
            item["toc"] = Markup(self.md.toc)
        item.setdefault("slug", path.stem)
        item["source"] = path.relative_to(self.site).as_posix()
        return item

    def render(self, template: str, url: str, **context: Any) -> None:
        html = self.env.get_template(template).render(url=self.prefix + url, **context)
        target = self.out / url.strip("/") / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(html.encode("utf-8"))

    def render_pages(self, template: str, name: str, items: list[Any],
                     variables: dict[str, str], **context: Any) -> int:
        """Render `items` in pages of PER_PAGE at the route `name` with its URL `variables`,
        each page with a `pager`; return the page count."""
        count = max(1, -(-len(items) // PER_PAGE))
        urls = [self.url_for(name, page=number, **variables) for number in range(1, count + 1)]
        for number in range(1, count + 1):
            pager = SimpleNamespace(
                items=items[(number - 1) * PER_PAGE : number * PER_PAGE],
                number=number,
                count=count,
                total=len(items),
                previous_url=urls[number - 2] if number > 1 else None,
                next_url=urls[number] if number < count else None,
                urls=urls,
            )
            url = urls[number - 1][len(self.prefix) :]
            self.render(template, url, pager=pager, **variables, **context)
        return count

    def render_post(self, path: Path) -> dict[str, Any]:
        """Load, convert and render one post; return its item without the HTML body."""
        item = self.load_page(path)
        self.render("post.html", f"/posts/{item['slug']}/", page=item, slug=item["slug"])
        del item["content"]
        item.pop("toc", None)
        return item


_STATE: Renderer | None = None


def _init_worker(site: Path, out: Path) -> None:
    global _STATE
    if _STATE is None:  # under fork the parent's renderer is inherited
        _STATE = Renderer(site, out)


def _render_post(path: Path) -> dict[str, Any]:
    assert _STATE is not None
    return _STATE.render_post(path)


def prepare_output(out: Path, *, empty: bool = True) -> None:
    """Make `out` a bare-loop output folder, emptied unless `empty` is false."""
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise SystemExit(f"error: {out} is not empty and was not written by bare_loop.py")
        if empty:
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by benchmarks/bare_loop.py\n", encoding="utf-8")


def build_one(site: Path, out: Path, post: Path) -> int:
    """Render one post into `out`, as the floor of a one-post rebuild."""
    prepare_output(out, empty=False)
    Renderer(site, out).render_post(site / post)
    return 1


def build(site: Path, out: Path, jobs: int) -> int:
    """Render the whole site to `out`; return the number of pages written."""
    global _STATE
    prepare_output(out)
    state = _STATE = Renderer(site, out)
    paths = sorted((site / "content" / "posts").glob("*.md"))

    if jobs == 1:
        posts = [state.render_post(path) for path in paths]
    else:
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        chunksize = max(1, min(64, len(paths) // (jobs * 8)))
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(site, out)) as pool:
            posts = list(pool.imap(_render_post, paths, chunksize=chunksize))

    posts.sort(key=lambda post: post["date"], reverse=True)  # sort = "-date", stable
    by_tag: dict[str, list[dict[str, Any]]] = {}
    for post in posts:  # newest first, so each tag's posts are too
        for tag in post.get("tags") or ():
            by_tag.setdefault(tag, []).append(post)
    # The generated tags are slugs already: a tag's name is its slug.
    tags = [SimpleNamespace(name=tag, slug=tag, items=by_tag[tag])
            for tag in sorted(by_tag, key=str.casefold)]
    data = SimpleNamespace(
        posts=posts,
        about=state.load_page(site / "content" / "about.md"),
        colophon=state.load_page(site / "content" / "colophon.md"),
        tags=tags,
    )
    state.env.globals["data"] = data

    pages = state.render_pages("index.html", "index", posts, {})
    for tag in tags:
        pages += state.render_pages("tag.html", "tag", tag.items, {"slug": tag.slug}, page=tag)
    state.render("page.html", "/about/", page=data.about)
    state.render("page.html", "/colophon/", page=data.colophon)
    return len(posts) + pages + 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="a site folder made by generate.py")
    parser.add_argument("out", type=Path, help="output folder (replaced)")
    parser.add_argument("--jobs", type=int, default=1, help="processes for the posts (default 1)")
    parser.add_argument("--only", type=Path, help="render only this post (path in SITE)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    t0 = time.perf_counter()
    if args.only:
        pages = build_one(args.site.resolve(), args.out.resolve(), args.only)
    else:
        pages = build(args.site.resolve(), args.out.resolve(), args.jobs)
    elapsed = time.perf_counter() - t0
    print(f"bare loop: {pages} pages, jobs={args.jobs}, {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
