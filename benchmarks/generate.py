"""Generate a synthetic renderer site for benchmarks.

    python benchmarks/generate.py DIR --posts N [--seed 1]

writes a complete site folder DIR: site.toml, N Markdown posts of about 600 words each (YAML front
matter with title, date, 1-3 of 30 tags and a summary; bodies with headings, lists, links,
emphasis, a table and a fenced Python block), two plain pages and the templates. The index and
the tag pages (a group source over the posts' tags) are paginated, PER_PAGE posts a page. The
same seed gives the same bytes. DIR is replaced if it holds an earlier generated site; any other
non-empty folder is refused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import time
from pathlib import Path

MARKER = ".renderer-bench-site"

# 30 tags, each already a slug: a tag's name is its URL segment too.
TAGS = [
    "accessibility", "api", "caching", "concurrency", "css", "databases", "deployment",
    "design", "documentation", "html", "http", "internationalization", "javascript", "jinja",
    "markdown", "packaging", "performance", "python", "release-notes", "security", "seo",
    "static-sites", "testing", "toml", "tooling", "tutorial", "typing", "unicode", "web",
    "yaml",
]  # fmt: skip
PER_PAGE = 20  # posts on a page of the index and of a tag

WORDS = """
able about above access across action active actual added adding address after again agent
against almost alone along already also always amount anchor answer anyone apply around array
asset author backend balance base batch before begin behind below better between block body
border branch bridge browser buffer build bundle button cache call canvas careful case center
change channel check choice clean clear client close cluster code column commit common compile
config content context copy count cover create current custom cycle daily data debug default
deploy design detail device direct domain draft driver early editor effect either empty engine
entry error event every example exact factor feature field figure filter final first fixed
folder follow format frame fresh front future general given global graph group guide handle
header health height helper hidden history honest host image import index inline input inside
issue item journal kernel label large layer layout leading level light limit line linear link
list little local logic long loop lower macro main manual margin market master matter medium
memory merge method middle minor mirror mobile model module native needle network never normal
notice number object offset often online option order origin output owner package page panel
parent parse partial patch path pattern phase pixel place plain point policy pool portal power
prefix press private process profile project proper public query quick quiet random range rapid
reader ready record reduce region release remote render report request result return review
router runtime sample scale schema scope screen script search second section select server
session shadow shared signal simple single slice small socket source space split stable stack
state static status steady stream string strong style switch symbol syntax table target task
template tenant test text theme thread token track travel tree trigger type under unique update
upper usage value vector version view visual volume watch weight while widget window worker
write yield zone
""".split()

CODE_BLOCKS = [
    '''def {name}(items, limit={n}):
    """Sum the {attr} of the first items above {m}."""
    total = 0
    for item in items[:limit]:
        if item.{attr} > {m}:
            total += item.{attr}
    return total
''',
    '''class {cls}:
    """A small {attr} holder."""

    def __init__(self, {attr}={n}):
        self.{attr} = {attr}
        self.seen = []

    def {name}(self, value):
        self.seen.append(value * {m})
        return len(self.seen) > self.{attr}
''',
    """import json
from pathlib import Path


def {name}(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["{attr}"] = data.get("{attr}", {n}) + {m}
    return {{key: value for key, value in data.items() if value}}
""",
    """async def {name}(queue, workers={n}):
    results = {{}}
    while not queue.empty():
        key, {attr} = await queue.get()
        results[key] = {attr} ** 2 % {m}
        queue.task_done()
    return results
""",
]

SITE_TOML = """\
[site]
title = "Bench"
base_url = "https://bench.example/"

[markdown]
extensions = ["fenced_code", "tables", "toc", "codehilite"]

[sources]
posts = { glob = "content/posts/*.md", sort = "-date" }
about = "content/about.md"
colophon = "content/colophon.md"
tags = { group = "posts", by = "tags" }

[[routes]]
url = "/"
template = "index.html"
paginate = { items = "posts", per_page = %(per_page)d, url = "/page/<int:page>/" }

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"
name = "post"

[[routes]]
url = "/tags/<slug>/"
template = "tag.html"
each = "tags"
name = "tag"
paginate = { items = "items", per_page = %(per_page)d, url = "/tags/<slug>/page/<int:page>/" }

[[routes]]
url = "/about/"
template = "page.html"
page = "about"

[[routes]]
url = "/colophon/"
template = "page.html"
page = "colophon"
name = "colophon"
"""

TEMPLATES = {
    "base.html": """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{% block title %}{{ site.title }}{% endblock %}</title>
</head>
<body>
<header>
<a class="brand" href="{{ url_for('index') }}">{{ site.title }}</a>
<nav>
{%- for name, label in [("index", "Home"), ("page", "About"), ("colophon", "Colophon")] %}
{%- set href = url_for(name) %}
<a href="{{ href }}"{% if href == url %} aria-current="page"{% endif %}>{{ label }}</a>
{%- endfor %}
</nav>
</header>
<main>
{% block content %}{% endblock %}
</main>
<footer><p>{{ site.title }}</p></footer>
</body>
</html>
""",
    "index.html": """\
{% extends "base.html" %}
{% block title %}{% if pager.number > 1 %}Page {{ pager.number }} · {% endif %}{{ site.title }}
{%- endblock %}
{% block content %}
<h1>{{ site.title }}</h1>
<p class="tags">
{%- for tag in data.tags %} <a href="{{ url_for('tag', slug=tag.slug) }}">{{ tag.name }}</a>
{%- endfor %}</p>
<ul class="posts">
{%- for post in pager.items %}
<li><a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a>
<time datetime="{{ post.date }}">{{ post.date }}</time>
<p>{{ post.summary }}</p></li>
{%- endfor %}
</ul>
<nav class="pager">
{%- if pager.previous_url %} <a rel="prev" href="{{ pager.previous_url }}">Newer</a>{% endif %}
<span>Page {{ pager.number }} of {{ pager.count }}</span>
{%- if pager.next_url %} <a rel="next" href="{{ pager.next_url }}">Older</a>{% endif %}
</nav>
{% endblock %}
""",
    "post.html": """\
{% extends "base.html" %}
{% block title %}{{ page.title }} · {{ site.title }}{% endblock %}
{% block content %}
<article>
<h1>{{ page.title }}</h1>
<p class="meta"><time datetime="{{ page.date }}">{{ page.date }}</time>
{%- for t in page.tags %} <a href="{{ url_for('tag', slug=t) }}">#{{ t }}</a>{% endfor %}</p>
{{ page.content }}
</article>
{% endblock %}
""",
    "tag.html": """\
{% extends "base.html" %}
{% block title %}#{{ page.name }}{% if pager.number > 1 %} (page {{ pager.number }}){% endif %}
{#- #} · {{ site.title }}{% endblock %}
{% block content %}
<h1>Posts tagged #{{ page.name }}</h1>
<p>{{ pager.total }} posts.</p>
<ul class="posts">
{%- for post in pager.items %}
<li><a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a>
<time datetime="{{ post.date }}">{{ post.date }}</time></li>
{%- endfor %}
</ul>
<nav class="pager">
{%- for href in pager.urls %}
<a href="{{ href }}"{% if loop.index == pager.number %} aria-current="page"{% endif %}>
{{- loop.index }}</a>
{%- endfor %}
</nav>
{% endblock %}
""",
    "page.html": """\
{% extends "base.html" %}
{% block title %}{{ page.title }} · {{ site.title }}{% endblock %}
{% block content %}
<article>
<h1>{{ page.title }}</h1>
{{ page.content }}
</article>
{% endblock %}
""",
}

ABOUT_MD = """\
---
title: About this site
---
This site is **generated** by `benchmarks/generate.py` to measure how fast *renderer* builds a
blog-shaped site. Every post is synthetic text.

## What is in it

- {posts} posts of about 600 words, each with a table, lists and a highlighted code block
- the index and a page for each of {tags} tags, {per_page} posts a page
- this page and the [colophon](/colophon/)
"""

COLOPHON_MD = """\
---
title: Colophon
---
Built with Jinja2, Python-Markdown and Pygments. The front matter is YAML.

## Extensions

| extension | what it adds |
| --- | --- |
| fenced_code | fenced code blocks |
| tables | pipe tables like this one |
| toc | ids on headings |
| codehilite | Pygments highlighting |

```python
from renderer import Site

site = Site("bench")
```
"""


class _Writer:
    """Text for one site, drawn from one seeded random stream.

    Sentences, list items, headings, tables and code blocks are drawn once into pools; a post is
    then a handful of draws from the pools, which keeps 20,000 posts to a few seconds while every
    post still has its own text (a body is about 50 pool draws out of thousands).
    """

    def __init__(self, seed: int) -> None:
        self.rng = rng = random.Random(seed)
        self.sentences = [
            self._sentence(rng.randint(7, 16), marked=i % 3 == 0) for i in range(4096)
        ]
        self.items = [" ".join(self._words(rng.randint(5, 10))) for _ in range(1024)]
        self.headings = [self._heading() for _ in range(1024)]
        self.tables = [self._table() for _ in range(256)]
        self.codes = [self._code() for _ in range(256)]
        self.layouts = [self._layout() for _ in range(256)]

    def _words(self, k: int) -> list[str]:
        return self.rng.choices(WORDS, k=k)

    def _sentence(self, k: int, marked: bool) -> str:
        rng = self.rng
        words = self._words(k)
        if marked:
            i = rng.randrange(k)
            kind = rng.randrange(4)
            if kind == 0:
                words[i] = f"*{words[i]}*"
            elif kind == 1:
                words[i] = f"**{words[i]}**"
            elif kind == 2:
                words[i] = f"`{words[i]}()`"
            else:
                words[i] = f"[{words[i]}](https://example.org/{words[i]}/{rng.randrange(1000)})"
        text = " ".join(words)
        return text[:1].upper() + text[1:] + "."

    def _heading(self) -> str:
        return "## " + " ".join(self._words(self.rng.randint(2, 5))).capitalize()

    def _table(self) -> str:
        rng = self.rng
        head = self._words(3)
        rows = [f"| {head[0]} | {head[1]} | {head[2]} |", "| --- | --- | ---: |"]
        for _ in range(rng.randint(3, 5)):
            a, b = self._words(2)
            rows.append(f"| {a} | {b} | {rng.randrange(10000)} |")
        return "\n".join(rows)

    def _code(self) -> str:
        rng = self.rng
        a, b, c = self._words(3)
        src = rng.choice(CODE_BLOCKS).format(
            name=f"{a}_{b}", cls=f"{a.title()}{b.title()}", attr=c,
            n=rng.randint(2, 99), m=rng.randint(2, 999),
        )  # fmt: skip
        return f"```python\n{src}```"

    def _layout(self) -> tuple[int, ...]:
        """Sentence counts of a body's paragraphs, then list lengths (unordered, ordered)."""
        spans = ((5, 8), (4, 7), (3, 6), (4, 7), (3, 6), (4, 7), (4, 7), (3, 5), (3, 5), (3, 5))
        return tuple(self.rng.randint(lo, hi) for lo, hi in spans)

    def post(self, start: dt.date) -> str:
        rng = self.rng
        choices = rng.choices
        pick = rng.choice
        *paragraphs, n_bullets, n_numbered = pick(self.layouts)
        sentences = choices(self.sentences, k=sum(paragraphs) + 1)
        paras = []
        i = 0
        for n in paragraphs:
            paras.append(" ".join(sentences[i : i + n]))
            i += n
        date = start + dt.timedelta(days=int(rng.random() * 7300))
        tags = sorted(rng.sample(TAGS, pick((1, 2, 2, 3))))
        title = " ".join(choices(WORDS, k=pick((3, 4, 5, 6, 7)))).title()
        h1, h2, h3, h4 = choices(self.headings, k=4)
        items = choices(self.items, k=n_bullets + n_numbered)
        bullets = "\n".join(f"- {item}" for item in items[:n_bullets])
        numbered = "\n".join(f"{j}. {item}" for j, item in enumerate(items[n_bullets:], 1))
        blocks = (
            "---",
            f'title: "{title}"',
            f"date: {date.isoformat()}",
            f"tags: [{', '.join(tags)}]",
            f'summary: "{sentences[-1]}"',
            "---",
            "",
            paras[0], "", h1, "", paras[1], "", bullets, "", paras[2], "",
            h2, "", paras[3], "", pick(self.codes), "", paras[4], "",
            h3, "", pick(self.tables), "", paras[5], "", numbered, "",
            h4, "", paras[6], "", paras[7], "",
        )  # fmt: skip
        return "\n".join(blocks)


def generate(root: Path, posts: int, seed: int = 1) -> None:
    """Write a benchmark site with `posts` posts to `root`, replacing an earlier one there."""
    if root.exists():
        if (root / MARKER).exists():
            shutil.rmtree(root)
        elif any(root.iterdir()):
            raise SystemExit(f"error: {root} is not empty and was not made by generate.py")
    (root / "content" / "posts").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / MARKER).write_text(f"posts={posts} seed={seed}\n", encoding="utf-8")
    (root / "site.toml").write_text(SITE_TOML % {"per_page": PER_PAGE}, encoding="utf-8")
    about = ABOUT_MD.format(posts=posts, tags=len(TAGS), per_page=PER_PAGE)
    (root / "content" / "about.md").write_text(about, encoding="utf-8")
    (root / "content" / "colophon.md").write_text(COLOPHON_MD, encoding="utf-8")
    for name, text in TEMPLATES.items():
        (root / "templates" / name).write_text(text, encoding="utf-8")

    writer = _Writer(seed)
    start = dt.date(2005, 1, 1)
    width = max(5, len(str(posts)))
    post_dir = root / "content" / "posts"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for i in range(1, posts + 1):
        fd = os.open(post_dir / f"post-{i:0{width}d}.md", flags, 0o644)
        try:
            os.write(fd, writer.post(start).encode("utf-8"))
        finally:
            os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="site folder to write")
    parser.add_argument("--posts", type=int, required=True, help="number of posts")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    if args.posts < 1:
        parser.error("--posts must be at least 1")
    t0 = time.perf_counter()
    generate(args.dir, args.posts, args.seed)
    elapsed = time.perf_counter() - t0
    print(f"wrote {args.posts} posts to {args.dir} in {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
