"""Incremental builds give the bytes of a clean build, whatever was edited in between.

A hypothesis state machine edits a real site on disk at random (post bodies and front
matter, templates, partials and macros, data files, a Python source, a template filters
file, site.toml, posts and static files added and deleted, a fingerprinted static file,
output files tampered with, a breaking edit undone, a file edited while a build runs)
and after every step builds it incrementally and compares the output, byte for byte,
with a clean build of a copy. Files are written as on a file
system that keeps whole seconds (HFS+, ext3): a same-size edit in the second of the last
build leaves size and mtime as they were, and only the cache's "racy" hashing can see it.

Plain tests below: a corrupt or foreign cache file is discarded with a warning, `--clean`
trusts nothing in the cache, a body edit renders only what it touches, and one small test
per bug the state machine found.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import json
import multiprocessing
import os
import pickle
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import make_site, run_cli, run_renderer, snapshot, tree
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from renderer.build import BuildResult, build
from renderer.build.markdown_store import PRUNE_SLACK, MarkdownStore
from renderer.errors import SiteError, display_path

# -- the site ---------------------------------------------------------------------------------
# Every editable file shows a marker "REV<digit>" in some output: a new digit is an edit of
# the same size. The index and the tag pages list front matter only; the feed and the
# summaries page print post bodies (`post.content`, and a summary made from it), and so
# may a variant of the index and of the Python source: a body-only edit must render those.
# Post bodies link to other posts' Markdown files, which steps rename, delete and draft.
# The index is paginated (two posts a page), the labels are a group source with paginated
# pages of their own (one post a page), and the posts link to their previous and next.

SITE_TOML = """\
[site]
title = "Incremental REV0"
base_url = "https://example.org/"
fingerprint = true

[templates]
filters = "content/filters.py"

[markdown]
extensions = ["toc"]
pygments_style = "friendly"

[sources]
posts = { glob = "content/posts/*.md", sort = "-date", filename = "{date}-{slug}" }
nav = "content/nav.yaml"
authors = "content/authors.json"
settings = "content/settings.toml"
tags = "content/tags.py:all_tags"
about = "content/about.md"
pages = "content/pages.json"
labels = { group = "posts", by = "tags" }
years = { group = "posts", by = "date.year" }

[[routes]]
url = "/"
template = "index.html"
paginate = { items = "posts", per_page = 2, url = "/page/<int:page>/" }

[[routes]]
url = "/labels/<slug>/"
template = "label.html"
each = "labels"
paginate = { items = "items", per_page = 1, url = "/labels/<slug>/page/<int:page>/" }

[[routes]]
url = "/about/"
template = "about.html"
page = "about"

[[routes]]
url = "/pages/<name>/"
template = "page.html"
each = "pages"

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"

[[routes]]
url = "/tags/<tag>/"
template = "tag.html"
each = "content/tags.py:tag_urls"
context = "content/tags.py:tag_context"

[[routes]]
url = "/feed.xml"
template = "feed.xml"

[[routes]]
url = "/summaries/"
template = "summaries.html"

[[routes]]
url = "/sitemap.xml"
template = "sitemap.xml"
"""

SITE_TOML_VARIANTS = [
    SITE_TOML,
    SITE_TOML.replace('title = "Incremental REV0"', 'title = "Other title REV0"'),
    SITE_TOML.replace('sort = "-date"', 'sort = "title"'),  # same size, another order
    SITE_TOML.replace('extensions = ["toc"]', 'extensions = ["toc", "tables"]'),
    SITE_TOML.replace('base_url = "https://example.org/"',  # scheduled posts built, marked
                      'base_url = "https://example.org/"\nfuture = true'),
    SITE_TOML.replace('"friendly"', '{ light = "friendly", dark = "monokai" }'),
    # A base path: Markdown links from the root get it, template links outside it break.
    SITE_TOML.replace('base_url = "https://example.org/"', 'base_url = "https://example.org/b/"'),
    SITE_TOML.replace("per_page = 2", "per_page = 3"),  # same size, other pages
    SITE_TOML.replace('by = "tags"', 'by = "title"'),  # other groups
]


def dedented(files: dict[str, str]) -> dict[str, str]:
    return {name: textwrap.dedent(text) for name, text in files.items()}


TEMPLATES = dedented({
    "templates/base.html": """\
        <!doctype html>
        <title>{% block title %}{{ site.title }}{% endblock %}</title>
        <link rel="stylesheet" href="{{ url_for('static', filename='css/theme.css') }}">
        <link rel="stylesheet" href="{{ url_for('static', filename='pygments.css') }}">
        <nav>{% for item in data.nav["items"] %}<a href="{{ item.href }}">{{ item.label }}</a>
        {% endfor %}{{ data.nav.rev }}</nav>
        {% include "banner.html" ignore missing %}
        <main>{% block main %}{% endblock %}</main>
        <footer>{% include "footer.html" %}</footer>
        base REV0
        """,
    "templates/footer.html": """\
        {% from "macros.html" import small %}{{ small(data.settings.footer) }} footer REV0
        """,
    "templates/macros.html": """\
        {% macro post_link(post) -%}
        <a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a> {{ post.date }} REV0
        {%- if post.future %} (scheduled){% endif %}
        {%- endmacro %}
        {% macro small(text) %}<small>{{ text }}</small>{% endmacro %}
        """,
    "templates/index.html": """\
        {% extends "base.html" %}
        {% import "macros.html" as m %}
        {% block main %}<h1>{{ site.title | marked }}</h1> index REV0
        <ul>{% for post in pager.items -%}
        <li>{{ m.post_link(post) }} [{{ post.tags|join(",") }}]</li>
        {%- endfor %}</ul>
        <p>{{ pager.number }}/{{ pager.count }} ({{ pager.total }})
        {%- if pager.previous_url %} <a href="{{ pager.previous_url }}">newer</a>{% endif %}
        {%- if pager.next_url %} <a href="{{ pager.next_url }}">older</a>{% endif %}</p>
        {% for label in data.labels %}<a href="{{ url_for('label', slug=label.slug) }}">
        {{- label.name }} ({{ label.items|length }})</a> {% endfor %}
        {% for year in data.years %}{{ year.name }}: {{ year.items|length }} {% endfor %}
        {% endblock %}
        """,
    "templates/label.html": """\
        {% extends "base.html" %}
        {% from "macros.html" import post_link %}
        {% block main %}<h1>{{ page.name }}</h1> label REV0
        {% for post in pager.items %}{{ post_link(post) }}{% endfor %}
        {% for url in pager.urls %}<a href="{{ url }}">{{ loop.index }}</a>{% endfor %}
        {% endblock %}
        """,
    "templates/post.html": """\
        {% extends "base.html" %}
        {% block title %}{{ page.title }} · {{ site.title }}{% endblock %}
        {% block main %}<h1>{{ page.title }}</h1> post REV0
        <div class="toc">{{ page.toc }}</div>
        {{ page.content }}
        <p>{% for tag in page.tags %}<a href="{{ url_for('tag', tag=tag) }}">{{ tag }}</a>
        {% endfor %}</p>
        <aside>{{ data.authors.ada.bio | markdown }}</aside>
        {% if previous %}<a href="{{ url_for('post', slug=previous.slug) }}">
        {{- previous.title }}</a>{% endif %}
        {% if next %}<a href="{{ url_for('post', slug=next.slug) }}">{{ next.title }}</a>
        {%- endif %}
        {% endblock %}
        """,
    "templates/tag.html": """\
        {% extends "base.html" %}
        {% from "macros.html" import post_link %}
        {% block main %}<h1>{{ tag | marked }} ({{ tag_count }} tags, {{ rev }})</h1> tag REV0
        <ul>{% for post in tagged %}<li>{{ post_link(post) }}</li>{% endfor %}</ul>
        {% endblock %}
        """,
    "templates/feed.xml": """\
        <?xml version="1.0" encoding="utf-8"?>
        <feed xmlns="http://www.w3.org/2005/Atom"><title>{{ site.title }}</title> feed REV0
        {%- for post in data.posts[:data.settings.feed_size] %}
        <entry><title>{{ post.title }}</title><updated>{{ post.date }}</updated>
        <content type="html">{{ post.content | forceescape }}</content></entry>
        {%- endfor %}
        </feed>
        """,
    "templates/summaries.html": """\
        {% extends "base.html" %}
        {% block main %}summaries REV0
        {% for post in data.posts %}
        <p>{{ post.title }}: {{ post.content | striptags | truncate(30) }}</p>
        {% endfor %}{% endblock %}
        """,
    "templates/about.html": """\
        {% extends "base.html" %}
        {% block main %}<h1>{{ page.title }}</h1> about REV0 {{ page.content }}{% endblock %}
        """,
    "templates/page.html": """\
        {% extends "base.html" %}
        {% block main %}<h1>{{ page.title }}</h1> {{ name }} page REV0{% endblock %}
        """,
    # Every URL with its item: depends on the URL list (posts, tags, pages, drafts).
    "templates/sitemap.xml": """\
        <urlset> sitemap REV0
        {%- for entry in site_urls() %}
        <url><loc>{{ entry.absolute }}</loc> {{ entry.name }} {{ entry.page.title }}</url>
        {%- endfor %}
        </urlset>
        """,
})

TEMPLATE_VARIANTS = {
    # The label pages print the bodies of their posts (and stop again).
    "templates/label.html": TEMPLATES["templates/label.html"].replace(
        "{{ post_link(post) }}", "{{ post_link(post) }} {{ post.content }}"),
    # The index starts to print the newest post's body (and stops again).
    "templates/index.html": TEMPLATES["templates/index.html"].replace(
        "{% endblock %}",
        '{% if data.posts %}<div class="latest">{{ data.posts[0].content }}</div>{% endif %}\n'
        "{% endblock %}"),
    "templates/macros.html": TEMPLATES["templates/macros.html"].replace(
        "{{ post.date }}",
        "{{ post.date.strftime('%d/%m') if post.date }} {{ post.tags|length }}"),
    "templates/footer.html": "{{ data.settings.footer }} plain footer REV0\n",
    "templates/feed.xml": TEMPLATES["templates/feed.xml"].replace(
        "{{ post.content | forceescape }}", "{{ post.toc | forceescape }}"),
    "templates/post.html": TEMPLATES["templates/post.html"].replace(
        '{% extends "base.html" %}',
        '{% extends "base.html" %}\n{% from "macros.html" import small %}').replace(
        "post REV0", "post REV0 {{ small(page.source) }}"),
}
# Included by base.html with `ignore missing`: it comes and goes.
BANNER = "<p class=banner>{{ data.settings.footer }} banner REV0</p>\n"

DATA = dedented({
    "content/nav.yaml": """\
        rev: nav REV0
        items:
          - {label: Home, href: /}
          - {label: Feed, href: /feed.xml}
        """,
    "content/authors.json": '{"ada": {"name": "Ada", "bio": "Writes *notes* REV0."}}\n',
    "content/settings.toml": 'feed_size = 2\nfooter = "Footer REV0"\n',
    "content/pages.json": '[{"name": "one", "title": "One REV0"}, '
                          '{"name": "two", "title": "Two"}]\n',
})

DATA_VARIANTS = {
    "content/nav.yaml": DATA["content/nav.yaml"] + "  - {label: Summaries, href: /summaries/}\n",
    "content/authors.json": '{"ada": {"name": "Ada", "bio": "Writes **more** notes REV0."}}\n',
    "content/settings.toml": 'feed_size = 3\nfooter = "Footer REV0"\n',  # same size
    "content/pages.json": '[{"name": "three", "title": "Three REV0"}]\n',  # other URLs
}

TAGS_PY = '''\
REV = "tags REV0"


def all_tags(data):
    tags = {}
    for post in data.posts:
        for tag in post.get("tags", []):
            tags.setdefault(tag, []).append(post)
    return dict(sorted(tags.items()))


def tag_urls(data):
    return [{"tag": tag} for tag in data.tags]


def tag_context(tag, data):
    return {"tagged": data.tags[tag], "tag_count": len(data.tags), "rev": REV}
'''

TAGS_PY_VARIANTS = [
    TAGS_PY,
    # A summary of the bodies made in Python: a body-only edit changes the tag pages.
    TAGS_PY.replace('"rev": REV}', '"rev": REV + " " + " ".join(\n'
                    '        str(post["content"])[:12] for post in data.tags[tag])}'),
    TAGS_PY.replace("sorted(tags.items())", "sorted(tags.items())[:2]"),  # fewer tag pages
    TAGS_PY.replace(".append(post)", ".insert(0, post)"),  # same size, another order
]

# Filters of the site: the index and the tag pages use one.
FILTERS_PY = '''\
REV = "filters REV0"


def marked(text):
    return f"{text} [{REV}]"
'''

FILTERS_PY_VARIANTS = [
    FILTERS_PY,
    FILTERS_PY.replace('f"{text} [{REV}]"', 'f"[{REV}] {text}".upper()'),
]

# Linked from base.html with a fingerprint: every page that extends it depends on its bytes.
THEME = "static/css/theme.css"
THEME_CSS = "main { margin: 0 } /* REV0 */\n"

STATIC = {
    "static/css/style.css": "body { color: black } /* REV0 */\n",
    "static/robots.txt": "User-agent: * REV0\n",
    "static/img/dot.svg": '<svg xmlns="http://www.w3.org/2000/svg"><!-- REV0 --></svg>\n',
}

PARAGRAPHS = [
    "# A heading",
    "## Another heading",
    "Text with *emphasis* & `code`.",
    "- one\n- two",
    "A [link to a](../a/) and [to tag x](/tags/x/).",
    "A [link to d](/posts/d/).",
    "Plain words <b>bold</b>.",
    # Links to Markdown files: posts that may be renamed (slug), deleted or drafts.
    "See [post a](a.md), [post d](d.md#top) and [about](../about.md).",
    'Also [post e][e] and [b](./b.md "B").\n\n[e]: e.md',
]
TAGS = ("x", "y", "z")
# The last two carry their date and slug in the file name (filename = "{date}-{slug}"),
# which the front matter's date overrides; a post without either warns.
POST_NAMES = ("a", "b", "c", "d", "e", "2024-01-06-f", "2024-01-08-g")
# How a post writes its date: YAML/TOML dates, Jekyll's string with an offset (10:00 at
# +02:00: 08:00 UTC), or none (from the file name, if it has one).
DATE_STYLES = ("iso", "jekyll", "none")


@dataclass(frozen=True)
class Post:
    """A post's front matter (YAML or TOML) and body."""

    title: str
    day: int
    tags: tuple[str, ...]
    body: str
    draft: bool = False
    toml: bool = False
    rev: int = 0
    slug: str | None = None  # None: the file's stem
    date_style: str = "iso"
    tags_text: bool = False  # one tag written as a text (`tags: "x"`): a group's warning

    def text(self) -> str:
        fields = {"title": json.dumps(self.title), "date": f"2024-01-{self.day:02}",
                  "tags": f"[{', '.join(json.dumps(t) for t in self.tags)}]"}
        if self.date_style == "jekyll":
            jekyll = f"2024-01-{self.day:02} 10:00:00 +0200"
            fields["date"] = json.dumps(jekyll) if self.toml else jekyll
        elif self.date_style == "none":
            del fields["date"]
        if self.tags_text and len(self.tags) == 1:
            fields["tags"] = json.dumps(self.tags[0])
        if self.draft:
            fields["draft"] = "true"
        if self.slug is not None:
            fields["slug"] = json.dumps(self.slug)
        if self.toml:
            head = "+++\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()) + "+++\n"
        else:
            head = "---\n" + "".join(f"{k}: {v}\n" for k, v in fields.items()) + "---\n"
        return f"{head}{self.body}\n\nREV{self.rev}\n"


ABOUT = Post("About", 1, (), "## Who\n\nSomeone.")
INITIAL_POSTS = {
    "a": Post("Alpha", 3, ("x", "y"), "# Alpha\n\nFirst *post*."),
    "b": Post("Beta", 5, ("y",), "Second post, [link to a](../a/), [to c](c.md).", toml=True),
    "c": Post("Gamma", 4, ("x", "z"), "## Gamma\n\nThird post."),
}


def initial_files() -> dict[str, str]:
    files = {"site.toml": SITE_TOML, "content/tags.py": TAGS_PY, "content/about.md": ABOUT.text(),
             "content/filters.py": FILTERS_PY, THEME: THEME_CSS, **TEMPLATES, **DATA, **STATIC}
    files.update({f"content/posts/{name}.md": post.text()
                  for name, post in INITIAL_POSTS.items()})
    return files


titles = st.sampled_from(["Alpha", "Beta", "Gamma", "Delta", 'Quote " & <tag>', "Éé"])
days = st.integers(1, 9)
tag_sets = st.lists(st.sampled_from(TAGS), max_size=3, unique=True).map(tuple)
bodies = st.lists(st.sampled_from(PARAGRAPHS), min_size=1, max_size=3).map("\n\n".join)
posts = st.builds(Post, title=titles, day=days, tags=tag_sets, body=bodies,
                  draft=st.booleans(), toml=st.booleans(), rev=st.integers(0, 9),
                  date_style=st.sampled_from(DATE_STYLES), tags_text=st.booleans())
front_matter_changes = st.one_of(
    st.tuples(st.just("title"), titles), st.tuples(st.just("day"), days),
    st.tuples(st.just("tags"), tag_sets), st.tuples(st.just("date_style"),
                                                    st.sampled_from(DATE_STYLES)),
    st.sampled_from([("draft", None), ("toml", None), ("slug", None), ("tags_text", None)]))
digits = st.integers(0, 9)
picks = st.integers(0, 50)  # an index into whatever exists, modulo its length
HOW = ("variant", "original")

REV = re.compile(r"REV\d")
ONE_SECOND = 1_000_000_000


def write(path: Path, text: str) -> None:
    """Write a file as a file system that keeps whole seconds would: two writes in the
    same second leave the same mtime."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    mtime = path.stat().st_mtime_ns // ONE_SECOND * ONE_SECOND
    os.utime(path, ns=(mtime, mtime))


def write_site(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        write(folder / name, text)
    return folder


# -- comparing outputs --------------------------------------------------------------------------

def differences(incremental: dict[str, bytes], clean: dict[str, bytes]) -> str:
    """Which files differ between two output trees, and a readable diff of the first."""
    only_incremental = sorted(incremental.keys() - clean.keys())
    only_clean = sorted(clean.keys() - incremental.keys())
    changed = sorted(n for n in incremental.keys() & clean.keys() if incremental[n] != clean[n])
    if not (only_incremental or only_clean or changed):
        return ""
    lines = [f"only in the incremental output: {only_incremental}",
             f"only in the clean output: {only_clean}",
             f"different bytes: {changed}"]
    if changed:
        name = changed[0]
        lines += difflib.unified_diff(
            clean[name].decode("utf-8", "replace").splitlines(),
            incremental[name].decode("utf-8", "replace").splitlines(),
            f"clean/{name}", f"incremental/{name}", lineterm="")
    return "\n".join(lines)


def assert_same_output(incremental: Path, clean: Path) -> None:
    problem = differences(tree(incremental), tree(clean))
    assert not problem, "the incremental build differs from a clean build:\n" + problem


def broken_links(result: BuildResult, site: Path | None = None) -> list[str]:
    """The build's warnings (broken links, items without the sort key or with a file name
    that does not fit), its output and site folders taken out (a warning names the site's
    file it came from)."""
    prefix = display_path(result.output)
    warnings = (w.replace(prefix, "OUT") for w in result.warnings)
    if site is not None:
        warnings = (w.replace(display_path(site), "SITE") for w in warnings)
    return sorted(re.sub(r"[^\s(]*/site/", "SITE/", w) for w in warnings)


def clean_build(site: Path, folder: Path, now: int | None = None) -> tuple[Path, BuildResult]:
    """A clean build of a fresh copy of `site` (no cache, no bytecode) into folder/out, as
    of `now` (ns; None: the clock)."""
    shutil.rmtree(folder, ignore_errors=True)
    copy = folder / "site"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns(".renderer-cache", "__pycache__"))
    out = folder / "out"
    return out, build(copy, output=out, jobs=1, clean=True, now=now)


# -- the state machine --------------------------------------------------------------------------

class IncrementalBuilds(RuleBasedStateMachine):
    """Random edits to a real site; after each, the incremental output is the clean one."""

    base: ClassVar[Path]  # set by the test: where each run makes its folder

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="run-", dir=self.base))
        self.site = self.root / "site"
        self.out = self.root / "out"
        self.posts: dict[str, Post] = {}
        self.cache_warnings: list[str] = []
        self.now: int | None = None  # the builds' clock (build --now); None: the real one
        self.swap = False  # build --swap: the output folder exchanged for a complete tree

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def put(self, relative: str, text: str) -> None:
        write(self.site / relative, text)

    def bump(self, relative: str, digit: int) -> None:
        """A new REV digit: an edit of the same size (or, same digit, a save of the same
        text)."""
        text = (self.site / relative).read_text(encoding="utf-8")
        self.put(relative, REV.sub(f"REV{digit}", text, count=1))

    def put_post(self, name: str, post: Post) -> None:
        self.posts[name] = post
        self.put(f"content/posts/{name}.md", post.text())

    def pick_post(self, pick: int) -> str:
        names = sorted(self.posts)
        return names[pick % len(names)]

    def incremental_build(self) -> BuildResult:
        return build(self.site, output=self.out, jobs=1, warn=self.cache_warnings.append,
                     now=self.now, swap=self.swap)

    @initialize()
    def start(self) -> None:
        write_site(self.site, initial_files())
        self.posts = dict(INITIAL_POSTS)

    # -- after every step ----------------------------------------------------------------

    @invariant()
    def incremental_equals_clean(self) -> None:
        result = self.incremental_build()
        assert not self.cache_warnings, self.cache_warnings
        clean_out, clean_result = clean_build(self.site, self.root / "clean", self.now)
        assert_same_output(self.out, clean_out)
        assert (result.pages, result.static) == (clean_result.pages, clean_result.static)
        # The same broken links (page and link), then the same words for them (draft or not).
        incremental = broken_links(result, self.site)
        clean = broken_links(clean_result, self.root / "clean" / "site")
        assert [w.rpartition("), ")[0] for w in incremental] \
            == [w.rpartition("), ")[0] for w in clean], "the broken links differ"
        assert incremental == clean, "the broken links are described differently"
        # Nothing changed since: nothing to write (a file too recent to trust may be
        # rendered again), and the same warnings.
        again = self.incremental_build()
        assert (again.written, again.removed) == (0, 0), again.summary()
        assert broken_links(again, self.site) == clean, \
            "a build without edits lost or changed warnings"

    # -- posts ------------------------------------------------------------------------------

    @precondition(lambda self: self.posts)
    @rule(pick=picks, body=bodies)
    def edit_body(self, pick: int, body: str) -> None:
        """Only the body changes; the front matter stays as it is."""
        name = self.pick_post(pick)
        self.put_post(name, replace(self.posts[name], body=body))

    @precondition(lambda self: self.posts)
    @rule(pick=picks, digit=digits, again=st.none() | digits)
    def edit_body_same_size(self, pick: int, digit: int, again: int | None) -> None:
        """A same-size edit of the body; with `again`, a build and at once another one:
        the same second and size, so the mtime the build saw."""
        name = self.pick_post(pick)
        self.put_post(name, replace(self.posts[name], rev=digit))
        if again is not None:
            self.incremental_equals_clean()
            self.put_post(name, replace(self.posts[name], rev=again))

    @precondition(lambda self: self.posts)
    @rule(pick=picks, change=front_matter_changes)
    def edit_front_matter(self, pick: int, change: tuple[str, Any]) -> None:
        """Title, date (the order of the posts), tags, draft, slug (the URL), one tag as a
        text or a list, or YAML to TOML and back (other bytes, the same fields)."""
        name = self.pick_post(pick)
        post = self.posts[name]
        key, value = change
        if key in ("draft", "toml", "tags_text"):
            value = not getattr(post, key)
        elif key == "slug":
            value = f"{name}-own" if post.slug is None else None
        self.put_post(name, replace(post, **{key: value}))

    @rule(name=st.sampled_from(POST_NAMES), post=posts)
    def add_or_replace_post(self, name: str, post: Post) -> None:
        self.put_post(name, post)

    @precondition(lambda self: self.posts)
    @rule(pick=picks)
    def delete_post(self, pick: int) -> None:
        name = self.pick_post(pick)
        del self.posts[name]
        (self.site / f"content/posts/{name}.md").unlink()

    @rule(post=posts)
    def rewrite_about(self, post: Post) -> None:
        """The page of a `page =` route: edited, or a draft (then it has no URL)."""
        self.put("content/about.md", replace(post, slug=None).text())

    # -- templates, partials, data files, Python, site.toml -------------------------------

    @rule(name=st.sampled_from(sorted(TEMPLATES)), how=st.sampled_from(HOW) | digits)
    def edit_template(self, name: str, how: str | int) -> None:
        """A template or partial (include, import, macro): a same-size edit (a digit), or
        rewritten (when it has a variant), or put back."""
        if isinstance(how, int):
            self.bump(name, how)
        else:
            self.put(name, TEMPLATE_VARIANTS.get(name, TEMPLATES[name])
                     if how == "variant" else TEMPLATES[name])

    @rule(digit=st.none() | digits)
    def add_edit_or_delete_optional_partial(self, digit: int | None) -> None:
        """banner.html, included with `ignore missing`: it appears, changes or goes."""
        banner = self.site / "templates/banner.html"
        if digit is None and banner.exists():
            banner.unlink()
        else:
            self.put("templates/banner.html", REV.sub(f"REV{digit or 0}", BANNER))

    @rule(name=st.sampled_from(sorted(DATA)), how=st.sampled_from(HOW) | digits)
    def edit_data(self, name: str, how: str | int) -> None:
        if isinstance(how, int):
            self.bump(name, how)
        else:
            self.put(name, DATA_VARIANTS[name] if how == "variant" else DATA[name])

    @rule(how=st.integers(0, len(TAGS_PY_VARIANTS) - 1).map(str) | digits)
    def edit_python(self, how: str | int) -> None:
        """A same-size edit (a digit), or one of the variants of the source."""
        if isinstance(how, int):
            self.bump("content/tags.py", how)
        else:
            self.put("content/tags.py", TAGS_PY_VARIANTS[int(how)])

    @rule(how=st.integers(0, len(FILTERS_PY_VARIANTS) - 1).map(str) | digits)
    def edit_filters(self, how: str | int) -> None:
        """The template filters file: a same-size edit (a digit), or a variant."""
        if isinstance(how, int):
            self.bump("content/filters.py", how)
        else:
            self.put("content/filters.py", FILTERS_PY_VARIANTS[int(how)])

    @rule(text=digits | st.sampled_from(["", "main { margin: 1em }\n"]))
    def edit_fingerprinted_static_file(self, text: str | int) -> None:
        """The style sheet base.html links with a fingerprint: a same-size edit (a digit)
        or other text; never deleted (a fingerprint of a missing file is an error)."""
        self.put(THEME, REV.sub(f"REV{text}", THEME_CSS) if isinstance(text, int) else text)

    @rule(how=st.integers(0, len(SITE_TOML_VARIANTS) - 1).map(str) | digits)
    def edit_site_toml(self, how: str | int) -> None:
        if isinstance(how, int):
            self.bump("site.toml", how)
        else:
            self.put("site.toml", SITE_TOML_VARIANTS[int(how)])

    # -- static files -------------------------------------------------------------------------

    @rule(name=st.sampled_from(sorted(STATIC)),
          text=st.none() | digits | st.sampled_from(["", "x", "longer text\n"]))
    def static_file(self, name: str, text: str | int | None) -> None:
        """Added or edited (a digit: same size; or other text), or deleted (None)."""
        if text is None:
            (self.site / name).unlink(missing_ok=True)
        else:
            self.put(name, REV.sub(f"REV{text}", STATIC[name]) if isinstance(text, int)
                     else text)

    # -- time, the output folder, a failed build ----------------------------------------------

    @rule()
    def files_grow_old(self) -> None:
        """Every file and folder of the site an hour old (a checkout that keeps mtimes):
        the next builds trust size and mtime instead of hashing, and a glob's folder's
        mtime instead of listing it."""
        old = (time.time_ns() - 3600 * ONE_SECOND) // ONE_SECOND * ONE_SECOND
        for path in self.site.rglob("*"):
            if ".renderer-cache" not in path.parts:
                os.utime(path, ns=(old, old))

    @rule(day=st.none() | days, hour=st.sampled_from([0, 8, 12]))
    def set_the_clock(self, day: int | None, hour: int) -> None:
        """Build as of a time among the posts' dates (`--now`), forward or back: posts
        after it are left out (or built, marked, with future = true); None: the real clock,
        after every post."""
        self.now = None if day is None else \
            int(datetime.datetime(2024, 1, day, hour, tzinfo=datetime.UTC).timestamp()) \
            * ONE_SECOND

    @rule(swap=st.booleans())
    def commit_by_exchange(self, swap: bool) -> None:
        """Build with --swap (a complete tree exchanged with the output folder) or
        without (file by file): the same output either way."""
        self.swap = swap

    @rule(pick=picks, delete=st.booleans())
    def tamper_with_output(self, pick: int, delete: bool) -> None:
        """Someone edits or deletes a file in the output folder."""
        files = sorted(path for path in self.out.rglob("*") if path.is_file())
        path = files[pick % len(files)]
        if delete:
            path.unlink()
        else:
            path.write_bytes(path.read_bytes() + b"<!-- edited by hand -->")

    @rule(name=st.sampled_from(["content/settings.toml", "content/nav.yaml", "content/tags.py",
                                "templates/base.html", "templates/macros.html",
                                "content/posts/a.md", "content/filters.py", THEME]),
          digit=digits, fresh=st.booleans())
    def edit_while_building(self, name: str, digit: int, fresh: bool) -> None:
        """A file edited while a build runs, after the build read it: the next build must
        see the edit. `fresh`: site.toml edited first, so that the build reads every file
        for the first time."""
        if fresh:
            self.put("site.toml", (self.site / "site.toml").read_text() + "# edited\n")
        edited = []

        def edit(done: int, total: int) -> None:
            if done == total and not edited and (self.site / name).exists():
                # A person's edit comes at least one tick of the file clock (a few ms)
                # after the build started; within the same tick renderer cannot tell.
                time.sleep(0.02)
                self.bump(name, digit)
                edited.append(name)

        build(self.site, output=self.out, jobs=1, progress=edit,
              warn=self.cache_warnings.append, now=self.now)
        if not edited and (self.site / name).exists():
            self.bump(name, digit)

    @rule(name=st.sampled_from(["templates/base.html", "templates/macros.html",
                                "content/settings.toml", "content/tags.py", "site.toml",
                                "content/filters.py", "a post"]), pick=picks)
    def breaking_edit_undone(self, name: str, pick: int) -> None:
        """An edit that breaks the build (which then changes nothing), undone at once: the
        site is as it was, within the same second."""
        if name == "a post":
            if not self.posts:
                return
            name = f"content/posts/{self.pick_post(pick)}.md"
        breakage = {".html": "{% if %}\n", ".toml": "[broken\n", ".py": "def (:\n",
                    ".md": "---\ntitle: [unclosed\n---\n"}[Path(name).suffix]
        before = (self.site / name).read_text(encoding="utf-8")
        self.put(name, breakage)
        output_before = snapshot(self.out)
        with pytest.raises(SiteError):
            self.incremental_build()
        assert snapshot(self.out) == output_before, "a failed build changed the output"
        self.put(name, before)


def test_incremental_builds_equal_clean_builds(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # As for most users, Python writes bytecode caches (__pycache__) of the site's sources.
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(IncrementalBuilds, "base", tmp_path, raising=False)
    # On a failure hypothesis shrinks the steps to a minimal sequence, which can take some
    # minutes; RENDERER_TEST_NO_SHRINK=1 reports the failing sequence as first found.
    no_shrink = os.environ.get("RENDERER_TEST_NO_SHRINK")
    run_state_machine_as_test(IncrementalBuilds, settings=settings(
        max_examples=15, stateful_step_count=10, deadline=None, database=None,
        phases=[phase for phase in Phase if not (no_shrink and phase is Phase.shrink)],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


# -- plain tests --------------------------------------------------------------------------------

SMALL = {
    "site.toml": """
        [site]
        title = "Small"

        [sources]
        posts = { glob = "content/posts/*.md", sort = "title" }

        [[routes]]
        url = "/"
        template = "index.html"

        [[routes]]
        url = "/posts/<slug>/"
        template = "post.html"
        each = "posts"

        [[routes]]
        url = "/feed.xml"
        template = "feed.xml"
        """,
    "templates/index.html": """
        {% for post in data.posts -%}
        <a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a>
        {% endfor %}""",
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n",
    "templates/feed.xml": "<feed>{% for post in data.posts %}{{ post.content }}{% endfor %}"
                          "</feed>\n",
    "content/posts/a.md": "---\ntitle: A\n---\nPost *A*.\n",
    "content/posts/b.md": "---\ntitle: B\n---\nPost *B*.\n",
    "content/posts/c.md": "---\ntitle: C\n---\nPost *C*.\n",
    "static/style.css": "h1 { color: red }\n",
}


def build_ok(site: Path, *args: str | Path) -> str:
    code, stdout, stderr = run_cli("build", site, "--jobs", "1", *args)
    assert code == 0, stderr
    return stdout


def counts(summary: str) -> dict[str, int]:
    """The numbers of the summary line: {"rendered": 2, "written": 2, ...}."""
    return {word: int(number) for number, word in
            re.findall(r"(\d+) (rendered|written|unchanged|removed)", summary)}


def edit_body(site: Path, name: str, new: str) -> None:
    path = site / "content" / "posts" / f"{name}.md"
    text = path.read_text(encoding="utf-8")
    edited = re.sub(r"Post \*\w+\*\.", new, text)
    assert edited != text, text
    path.write_text(edited, encoding="utf-8")


def test_a_body_edit_renders_that_post_and_what_prints_bodies(tmp_path: Path) -> None:
    site = make_site(tmp_path, SMALL)
    out = site / "build"
    build_ok(site)
    before = {name: (out / name).stat() for name in tree(out)}
    edit_body(site, "b", "Post *B*, edited.")
    summary = build_ok(site)
    # The post and the feed (which prints every body); the index lists titles only.
    assert counts(summary) == {"rendered": 2, "written": 2, "unchanged": 4, "removed": 0}, \
        summary
    after = {name: (out / name).stat() for name in tree(out)}
    rewritten = sorted(name for name in before
                       if (after[name].st_ino, after[name].st_mtime_ns)
                       != (before[name].st_ino, before[name].st_mtime_ns))
    assert rewritten == ["feed.xml", "posts/b/index.html"]
    assert b"<em>B</em>, edited." in (out / "posts/b/index.html").read_bytes()
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(out, clean_out)


def test_a_title_changed_and_changed_back_between_body_edits(tmp_path: Path) -> None:
    """A body edit leaves the front matter cache file as it was (only stamps are new);
    what it keeps must still tell the next build that a title changed."""
    site = make_site(tmp_path, SMALL)
    out = site / "build"
    post = site / "content" / "posts" / "b.md"
    build_ok(site)
    steps = [("Post *B*.", "Post *B*, edited."), ("title: B", "title: Bee"),
             ("edited.", "edited twice."), ("title: Bee", "title: B")]
    for old, new in steps:
        text = post.read_text(encoding="utf-8")
        post.write_text(text.replace(old, new), encoding="utf-8")
        past = time.time_ns() - 10_000_000_000  # not racy: the caches trust it
        os.utime(post, ns=(past, past))
        build_ok(site)
        clean_out, _ = clean_build(site, tmp_path / "clean")
        assert_same_output(out, clean_out)
    assert b">B</a>" in (out / "index.html").read_bytes()


def test_a_delta_left_from_an_older_full_record_is_ignored(tmp_path: Path) -> None:
    """A small rebuild writes only what changed, beside the full record. If the full record
    is rewritten and the old delta stays (a crash between the two writes), the delta
    belongs to no record any more and must not be applied."""
    site = make_site(tmp_path, SMALL)
    out = site / "build"
    build_ok(site)
    edit_body(site, "a", "Post *A*, first.")
    build_ok(site)
    [delta] = (site / ".renderer-cache").glob("build-*.pickle.delta")
    stale = delta.read_bytes()
    write_post = site / "content" / "posts" / "d.md"
    write_post.write_text("---\ntitle: D\n---\nPost *D*.\n", encoding="utf-8")
    build_ok(site)  # a new post: the URL list is made anew and the full record written
    assert not delta.exists()
    delta.write_bytes(stale)
    edit_body(site, "b", "Post *B*, second.")
    summary = build_ok(site)
    assert "0 warnings" in summary, summary
    # Post b and the feed, which prints every body; nothing the stale delta would add.
    assert counts(summary)["rendered"] == 2, summary
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(out, clean_out)


def test_a_title_edit_writes_only_a_delta_and_later_builds_stay_exact(tmp_path: Path) -> None:
    """A new title makes the build list the URLs again, and they come out the same: the
    record of 5,000 pages is not rewritten for it, only what changed goes beside it. The
    builds after it start from that full record and that delta."""
    site = make_site(tmp_path, SMALL)
    out = site / "build"
    post = site / "content" / "posts" / "b.md"
    build_ok(site)
    [full] = (site / ".renderer-cache").glob("build-*.pickle")
    record = full.read_bytes()
    for old, new in [("title: B", "title: Bee"), ("Post *A*.", "Post *A*, edited."),
                     ("title: Bee", "title: B")]:
        changed = post if old.startswith("title") else site / "content" / "posts" / "a.md"
        changed.write_text(changed.read_text(encoding="utf-8").replace(old, new),
                           encoding="utf-8")
        past = time.time_ns() - 10_000_000_000  # not racy: the caches trust it
        os.utime(changed, ns=(past, past))
        build_ok(site)
        assert full.read_bytes() == record, f"the full record was rewritten after {new!r}"
        assert full.with_name(f"{full.name}.delta").exists()
        clean_out, _ = clean_build(site, tmp_path / "clean")
        assert_same_output(out, clean_out)
    assert b">B</a>" in (out / "index.html").read_bytes()


def imported_by_build(site: Path) -> set[str]:
    """The top-level modules a `renderer build` process imports (`python -X importtime`)."""
    completed = subprocess.run([sys.executable, "-X", "importtime", "-m", "renderer", "build",
                                str(site)], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    rows = [line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines()
            if line.startswith("import time:")]
    return {row.split(".")[0] for row in rows if row != "imported package"}


def test_a_rebuild_that_renders_nothing_imports_no_library_it_does_not_use(
        tmp_path: Path) -> None:
    """Start-up is most of a rebuild after a small edit: what a command does not use, it
    does not import. With nothing changed, no template, Markdown or YAML library, no
    server and no SQLite; after a body edit, what rendering needs."""
    site = make_site(tmp_path, SMALL)
    build_ok(site)
    unneeded = {"jinja2", "markdown", "pygments", "yaml", "werkzeug", "watchfiles",
                "livereload", "sqlite3"}
    assert imported_by_build(site) & unneeded == set()
    edit_body(site, "b", "Post *B*, edited.")
    assert {"jinja2", "markdown", "sqlite3"} <= imported_by_build(site)


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[Path]:
    """A folder on another file system than the test's site (tmpfs), removed after."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK) \
            or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a writable /dev/shm on another file system than the temporary folder")
    folder = Path(tempfile.mkdtemp(prefix="renderer-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_an_output_folder_on_another_file_system_is_not_rendered_again_for_nothing(
        tmp_path: Path, elsewhere: Path) -> None:
    """Files staged in the site's cache folder reach an output folder on another file
    system by a copy, not a rename, and so with new modification times. The build records
    those, not the staged files' own: else the next build takes every file for one edited
    by hand and renders it again."""
    site = make_site(tmp_path, SMALL)
    out = elsewhere / "out"
    build_ok(site, "--output", out)
    assert counts(build_ok(site, "--output", out))["rendered"] == 0
    edit_body(site, "b", "Post *B*, edited.")
    assert 1 <= counts(build_ok(site, "--output", out))["rendered"] < 5
    assert counts(build_ok(site, "--output", out))["rendered"] == 0
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(out, clean_out)


def _open_store_at_once(path: Path, barrier: Any, number: int, results: Any) -> None:
    warnings: list[str] = []
    store = MarkdownStore(path, warnings.append)
    barrier.wait()
    try:
        with contextlib.suppress(KeyError):
            store[f"key {number}"]
        store[f"key {number}"] = (f"<p>{number}</p>", "")
        store.flush()
        results.put((number, warnings, None))
    except Exception as error:  # reported to the test, which fails on it
        results.put((number, warnings, repr(error)))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="the build forks its workers only where fork exists")
def test_workers_opening_a_new_markdown_cache_at_once_all_succeed(tmp_path: Path) -> None:
    """The render workers of a `--clean` build open the freshly emptied Markdown cache at
    the same moment. One of them making the new file a WAL database made the others fail
    as "locked", which was taken for corruption: a warning, and the file deleted under
    the workers that were using it. 16 processes at once, 40 times."""
    context = multiprocessing.get_context("fork")
    for attempt in range(40):
        path = tmp_path / f"round-{attempt}" / "markdown.sqlite"
        path.parent.mkdir()
        barrier, results = context.Barrier(16), context.Queue()
        processes = [context.Process(target=_open_store_at_once,
                                     args=(path, barrier, number, results))
                     for number in range(16)]
        for process in processes:
            process.start()
        reports = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        problems = [report for report in reports if report[1] or report[2]]
        assert problems == [], f"round {attempt}: {problems}"
        store = MarkdownStore(path, pytest.fail)
        assert sorted(store) == sorted(f"key {n}" for n in range(16)), f"round {attempt}"
        store.close()


def test_clean_trusts_nothing_in_the_cache(tmp_path: Path) -> None:
    """An edit that size and mtime cannot show (the same size, the mtime put back, on files
    too old to be hashed anyway) is the case for `--clean`: everything is rendered from
    the files, and the cache's own files may hold anything."""
    site = make_site(tmp_path, SMALL)
    hour_ago = time.time_ns() - 3600 * ONE_SECOND
    for path in site.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(hour_ago, hour_ago))
    code, _, stderr = run_renderer("build", site)
    assert code == 0, stderr
    post = site / "content" / "posts" / "a.md"
    edit_body(site, "a", "Post *Z*.")
    os.utime(post, ns=(hour_ago, hour_ago))
    # What the last build recorded and the front matter it parsed: nothing may be read.
    corrupted = [*(site / ".renderer-cache").glob("build-*"),
                 *(site / ".renderer-cache").glob("pages-*")]
    assert len(corrupted) == 2, corrupted
    for path in corrupted:
        path.write_bytes(b"not a cache")
    code, stdout, stderr = run_renderer("build", site, "--clean")
    assert code == 0, stderr
    assert "warning" not in stderr, stderr
    assert counts(stdout)["rendered"] == 5, stdout  # 5 pages (the static file: "copied")
    assert b"<em>Z</em>" in (site / "build/posts/a/index.html").read_bytes()
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(site / "build", clean_out)


def test_posts_added_to_and_deleted_from_a_folder_untouched_for_long_are_seen(
        tmp_path: Path) -> None:
    """A build lists a collection's folder again only when the folder's modification time
    moved (one that old cannot hide a change): adding or deleting a file moves it."""
    site = make_site(tmp_path, SMALL)
    hour_ago = time.time_ns() - 3600 * ONE_SECOND
    for path in [site, *site.rglob("*")]:
        os.utime(path, ns=(hour_ago, hour_ago))
    build_ok(site)
    assert counts(build_ok(site))["rendered"] == 0
    posts = site / "content" / "posts"
    (posts / "d.md").write_text("---\ntitle: D\n---\nPost *D*.\n", encoding="utf-8")
    assert counts(build_ok(site))["rendered"] == 3  # d, the index and the feed
    assert (site / "build/posts/d/index.html").exists()
    os.utime(posts, ns=(hour_ago, hour_ago))  # untouched for long again, d included
    build_ok(site)
    (posts / "a.md").unlink()
    assert counts(build_ok(site))["removed"] == 1
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(site / "build", clean_out)


def test_the_markdown_cache_forgets_old_bodies(tmp_path: Path) -> None:
    """Each edit of a post adds its new body's HTML to the Markdown cache; once the old
    ones outnumber the pages', a build deletes them, and keeps those of the pages."""
    site = make_site(tmp_path, SMALL)
    build_ok(site)
    store = site / ".renderer-cache" / "markdown.sqlite"
    post = site / "content" / "posts" / "b.md"

    def rows() -> set[str]:
        with contextlib.closing(sqlite3.connect(store)) as db:
            return {key for (key,) in db.execute("SELECT key FROM html")}

    counts_seen = [len(rows())]
    for edit in range(2 * (PRUNE_SLACK + 10)):
        post.write_text(f"---\ntitle: B\n---\nPost *B*, edit {edit}.\n", encoding="utf-8")
        build_ok(site)
        counts_seen.append(len(rows()))
        if counts_seen[-1] < counts_seen[-2]:
            break  # this build pruned
    assert counts_seen[-1] < counts_seen[-2], counts_seen
    assert max(counts_seen) <= 2 * 3 + PRUNE_SLACK + 1, counts_seen
    kept = rows()
    # What it kept is every page's body: a template edit converts none of them again.
    (site / "templates/post.html").write_text("<h2>{{ page.title }}</h2>\n{{ page.content }}\n",
                                              encoding="utf-8")
    build_ok(site)
    assert rows() == kept
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(site / "build", clean_out)


def markdown_extension(run: str) -> str:
    """The source of a Markdown extension module, installed beside a site in a test,
    whose postprocessor runs `run` (the body of `run(self, text)`) on every conversion."""
    return f"""
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor


class Hook(Postprocessor):
    def run(self, text):
{textwrap.indent(textwrap.dedent(run).strip(), " " * 8)}


class HookExtension(Extension):
    def extendMarkdown(self, md):
        md.postprocessors.register(Hook(md), "hook", 0)


def makeExtension(**options):
    return HookExtension(**options)
"""


MARKDOWN_EXTENSION = markdown_extension('return text + "<p>signed: VERSION</p>"')


def test_a_new_version_of_a_markdown_extension_renders_every_page_again(
        tmp_path: Path) -> None:
    """Upgrading the code that makes the HTML (here a Markdown extension installed
    beside the site, imported from the working folder) changes what the same post gives:
    neither the build's record nor the Markdown cache may serve the old HTML."""
    site = make_site(tmp_path, {**SMALL, "site.toml": SMALL["site.toml"] + """
        [markdown]
        extensions = ["signature"]
        """})
    library = tmp_path / "library"
    library.mkdir()
    extension = library / "signature.py"
    extension.write_text(MARKDOWN_EXTENSION.replace("VERSION", "1.0"), encoding="utf-8")
    code, _, stderr = run_renderer("build", site, "--jobs", "1", cwd=library)
    assert code == 0, stderr
    assert b"signed: 1.0" in (site / "build/posts/a/index.html").read_bytes()
    extension.write_text(MARKDOWN_EXTENSION.replace("VERSION", "2.0.1"), encoding="utf-8")
    code, stdout, stderr = run_renderer("build", site, "--jobs", "1", cwd=library)
    assert code == 0, stderr
    assert counts(stdout)["rendered"] == 5, stdout  # 5 pages (the static file: "copied")
    assert b"signed: 2.0.1" in (site / "build/posts/a/index.html").read_bytes()
    code, _, stderr = run_renderer("build", site, "--jobs", "1", "--clean", "--output",
                                   tmp_path / "clean", cwd=library)
    assert code == 0, stderr
    assert_same_output(site / "build", tmp_path / "clean")


COUNTING_EXTENSION = markdown_extension("""
    with open("conversions.log", "a") as log:
        log.write("converted\\n")
    return text
    """)


def test_a_clean_build_converts_each_body_once_though_a_feed_prints_them_all(
        tmp_path: Path) -> None:
    """`--clean` empties the Markdown cache, and what the build converts it reads back:
    the feed, which prints every post's body, and the posts' own pages share the HTML.
    (It used to read nothing from the cache it had emptied, so past the 200 bodies a
    process keeps in memory, every body was converted twice.)"""
    files: dict[str, str | None] = {**SMALL, "site.toml": SMALL["site.toml"] + """
        [markdown]
        extensions = ["counting"]
        """}
    for number in range(247):
        files[f"content/posts/p{number:03}.md"] = f"---\ntitle: P{number}\n---\nPost *{number}*.\n"
    site = make_site(tmp_path, files)
    library = tmp_path / "library"
    library.mkdir()
    (library / "counting.py").write_text(COUNTING_EXTENSION, encoding="utf-8")
    code, stdout, stderr = run_renderer("build", site, "--jobs", "1", "--clean", cwd=library)
    assert code == 0, stderr
    assert counts(stdout)["rendered"] == 250 + 2, stdout  # the posts, the index, the feed
    feed = (site / "build/feed.xml").read_text(encoding="utf-8")
    assert all(f"<em>{number}</em>" in feed for number in range(247))
    assert (library / "conversions.log").read_text().count("converted") == 250


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x80\x04garbage, not what renderer wrote\x00" * 3)


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


class _Unsafe:
    """Unpickled, this would make a folder: a cache file must never be trusted with that."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return os.mkdir, (str(self.folder),)


def _unsafe(path: Path) -> None:
    path.write_bytes(pickle.dumps({"format": 2, "pages": _Unsafe(path.parent / "pwned")}))


def _other_version(path: Path) -> None:
    path.write_bytes(pickle.dumps({"format": 999, "renderer": "0.0.1"}))


def _reshaped(path: Path) -> None:
    """A well-formed pickle of this renderer version whose entries have another shape."""
    value = pickle.loads(path.read_bytes())  # noqa: S301 - the cache this test just wrote
    key = "outputs" if "outputs" in value else "pages"
    value[key] = {name: ("a", "foreign", "entry") for name in value[key]}
    path.write_bytes(pickle.dumps(value))


def _unsafe_entries(path: Path) -> None:
    """A well-formed front matter cache whose every entry's fields would run code."""
    value = pickle.loads(path.read_bytes())  # noqa: S301 - the cache this test just wrote
    unsafe = pickle.dumps(_Unsafe(path.parent / "pwned"))
    value["pages"] = {name: (*entry[:2], unsafe, *entry[3:])
                      for name, entry in value["pages"].items()}
    path.write_bytes(pickle.dumps(value))


def _sqlite_garbage(path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    _garbage(path)


def _sqlite_foreign(path: Path) -> None:
    """A real SQLite database, of another schema (another renderer version, say)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE html (key TEXT PRIMARY KEY, body BLOB)")
    db.close()


def _manifest_garbage(path: Path) -> None:
    path.write_text('{"files": [1, 2')


CORRUPTIONS = {
    "build-garbage": ("build-*.pickle", _garbage),
    "build-truncated": ("build-*.pickle", _truncated),
    "build-unsafe-pickle": ("build-*.pickle", _unsafe),
    "build-other-version": ("build-*.pickle", _other_version),
    "build-reshaped": ("build-*.pickle", _reshaped),
    "delta-garbage": ("build-*.pickle.delta", _garbage),
    "delta-truncated": ("build-*.pickle.delta", _truncated),
    "delta-unsafe-pickle": ("build-*.pickle.delta", _unsafe),
    "delta-other-version": ("build-*.pickle.delta", _other_version),
    "delta-reshaped": ("build-*.pickle.delta", _reshaped),
    "pages-garbage": ("pages-*.pickle", _garbage),
    "pages-unsafe-pickle": ("pages-*.pickle", _unsafe),
    "pages-other-version": ("pages-*.pickle", _other_version),
    "pages-reshaped": ("pages-*.pickle", _reshaped),
    "pages-entries-unsafe": ("pages-*.pickle", _unsafe_entries),
    "markdown-garbage": ("markdown.sqlite", _sqlite_garbage),
    "markdown-foreign-schema": ("markdown.sqlite", _sqlite_foreign),
    "manifest-garbage": ("manifest-*.json", _manifest_garbage),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_a_corrupt_or_foreign_cache_file_is_discarded_with_a_warning(tmp_path: Path,
                                                                     case: str) -> None:
    pattern, corrupt = CORRUPTIONS[case]
    site = make_site(tmp_path, SMALL)
    out = tmp_path / "out"
    build(site, output=out, jobs=1)
    if pattern.endswith(".delta"):  # written by a rebuild that changed little
        edit_body(site, "a", "Post *A*, first.")
        build(site, output=out, jobs=1)
    [path] = (site / ".renderer-cache").glob(pattern)
    corrupt(path)
    edit_body(site, "b", "Post *B*, edited.")  # so that Markdown is converted again
    warnings: list[str] = []
    build(site, output=out, jobs=1, warn=warnings.append)
    assert any(path.name in warning for warning in warnings), warnings
    assert not (path.parent / "pwned").exists(), "a cache file ran code"
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(out, clean_out)
    warnings.clear()  # the cache is whole again
    build(site, output=out, jobs=1, warn=warnings.append)
    assert warnings == []


# -- one test per bug found by the state machine -------------------------------------------------

def test_a_python_source_edited_in_the_same_second_is_run_anew(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's bytecode cache (__pycache__) trusts a source's size and mtime in whole
    seconds: a same-size edit within the second must not run the old code."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as for most users
    site = write_site(tmp_path / "site", {
        "site.toml": '[sources]\nn = "content/n.py:number"\n\n'
                     '[[routes]]\nurl = "/"\ntemplate = "index.html"\n',
        "templates/index.html": "{{ data.n }}\n",
        "content/n.py": "def number():\n    return 1\n",
    })
    build(site, output=tmp_path / "out")
    source = site / "content" / "n.py"
    mtime = source.stat().st_mtime_ns
    source.write_text("def number():\n    return 2\n")
    os.utime(source, ns=(mtime, mtime))  # the same second, on a whole-second file system
    build(site, output=tmp_path / "out")
    assert (tmp_path / "out/index.html").read_text() == "2\n"


def test_a_template_included_with_ignore_missing_may_appear_later(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "site.toml": '[[routes]]\nurl = "/"\ntemplate = "index.html"\n',
        "templates/index.html": '<main>{% include "banner.html" ignore missing %}</main>\n',
    })
    build_ok(site)
    (site / "templates" / "banner.html").write_text("banner")
    build_ok(site)
    assert (site / "build/index.html").read_text() == "<main>banner</main>\n"


def test_a_new_static_file_in_an_existing_folder_is_copied(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SMALL, "static/img/a.svg": "<svg/>\n"})
    build_ok(site)
    (site / "static/img/b.svg").write_text("<svg></svg>\n")
    build_ok(site)
    assert (site / "build/img/b.svg").exists()


def test_a_broken_link_stays_reported_by_later_builds(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SMALL,
                                "content/posts/b.md": "---\ntitle: B\n---\nSee [a](../a/).\n"})
    build_ok(site)
    (site / "content/posts/a.md").unlink()
    code, _, stderr = run_cli("build", site, "--jobs", "1")
    assert code == 0 and "link to ../a/" in stderr, stderr
    code, _, stderr = run_cli("build", site, "--jobs", "1")  # no edit in between
    assert code == 0 and "link to ../a/" in stderr, stderr
    code, _, stderr = run_cli("build", site, "--jobs", "1", "--strict")
    assert code == 1, stderr


def test_a_link_to_a_deleted_draft_is_then_a_link_to_a_missing_page(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SMALL,
                                "content/posts/a.md": "---\ntitle: A\ndraft: true\n---\nA\n",
                                "content/posts/b.md": "---\ntitle: B\n---\nSee [a](../a/).\n"})
    code, _, stderr = run_cli("build", site, "--jobs", "1")
    assert code == 0 and "a draft" in stderr, stderr
    (site / "content/posts/a.md").unlink()
    code, _, stderr = run_cli("build", site, "--jobs", "1")
    assert code == 0 and "a URL the site does not produce" in stderr, stderr


def test_a_link_to_a_missing_page_is_then_a_link_to_a_draft(tmp_path: Path) -> None:
    """The other way round (found by the stateful test): the set of pages stays the same,
    and the page that was missing comes back as a draft."""
    site = make_site(tmp_path, {**SMALL, "content/posts/a.md": None,
                                "content/posts/b.md": "---\ntitle: B\n---\nSee [a](../a/).\n"})
    code, _, stderr = run_cli("build", site, "--jobs", "1")
    assert code == 0 and "a URL the site does not produce" in stderr, stderr
    (site / "content/posts/a.md").write_text("---\ntitle: A\ndraft: true\n---\nA\n")
    code, _, stderr = run_cli("build", site, "--jobs", "1")
    assert code == 0 and "(/posts/a/), a draft" in stderr, stderr


NOTE_SITE = {**SMALL, "content/note.toml": 'text = "old"\n',
             "templates/post.html": "{{ page.title }}: {{ data.note.text }}\n",
             "site.toml": SMALL["site.toml"].replace(
                 "[sources]", '[sources]\n        note = "content/note.toml"')}


@pytest.mark.parametrize("whole_seconds", [False, True], ids=["ns-mtimes", "whole-seconds"])
def test_an_edit_made_while_a_build_runs_is_seen_by_the_next_build(
        tmp_path: Path, whole_seconds: bool) -> None:
    """A file the build has already read, edited before the build ends: the next build
    must not take the new text for what the output was made from. Also where mtimes keep
    whole seconds, so that the edit may carry a time from before the build began."""
    site = make_site(tmp_path, NOTE_SITE)
    note = site / "content" / "note.toml"

    def edit_after_the_last_render(done: int, total: int) -> None:
        if done == total:
            (write if whole_seconds else Path.write_text)(note, 'text = "new"\n')

    if whole_seconds and time.time() % 1 > 0.5:  # the build and the edit in one second
        time.sleep(1.01 - time.time() % 1)
    build(site, output=tmp_path / "out", jobs=1, progress=edit_after_the_last_render)
    build(site, output=tmp_path / "out", jobs=1)
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(tmp_path / "out", clean_out)


def test_a_manifest_never_makes_a_build_delete_outside_its_output(tmp_path: Path) -> None:
    site = make_site(tmp_path, SMALL)
    out = tmp_path / "out"
    build(site, output=out, jobs=1)
    outside = tmp_path / "precious.txt"
    outside.write_text("not renderer's\n")
    [manifest] = (site / ".renderer-cache").glob("manifest-*.json")
    value = json.loads(manifest.read_text())
    value["files"] += ["../precious.txt", str(outside)]
    manifest.write_text(json.dumps(value))
    build(site, output=out, jobs=1)
    assert outside.exists()


def test_incremental_builds_in_worker_processes_equal_clean_builds(tmp_path: Path) -> None:
    """Enough posts that --jobs 2 parses front matter and renders in worker processes."""
    files = dict(SMALL)
    files.update({f"content/posts/p{n:03}.md": f"---\ntitle: P{n:03}\n---\nPost *{n}*.\n"
                  for n in range(80)})
    site = make_site(tmp_path, files)
    out = tmp_path / "out"
    build(site, output=out, jobs=2)
    edit_body(site, "b", "Post *B*, edited.")
    (site / "content/posts/p001.md").write_text("---\ntitle: Renamed\n---\nPost *1*.\n")
    (site / "content/posts/p002.md").unlink()
    (site / "content/posts/new.md").write_text("---\ntitle: New\n---\nNew *post*.\n")
    build(site, output=out, jobs=2)
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(out, clean_out)
    for n in range(3, 80):  # every page again: rendered in workers this time
        edit_body(site, f"p{n:03}", f"Post *{n}*, edited.")
    result = build(site, output=out, jobs=2)
    assert result.rendered >= 77, result.summary()
    clean_out, _ = clean_build(site, tmp_path / "clean")
    assert_same_output(out, clean_out)
