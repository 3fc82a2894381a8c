"""Fuzzing: near-valid sites through the real command line and the WSGI app.

Hypothesis starts from a small working site (a collection with dates, a page, TOML,
JSON and YAML data, an `each` route over a data file, templates with inheritance) and
breaks a few of its files the way people and editors do: a key or value of `site.toml`
swapped for other text, front matter with random YAML/TOML scalars, templates with Jinja
fragments put in anywhere (`{{`, `{% for`, `{% include "x" %}`), data files with random
nesting, random bytes (invalid UTF-8, NULs, a byte order mark) spliced into any file, a
file deleted. Then, for each example:

- `renderer build` (in this process, as click runs it) exits 0 or 1, never shows a
  traceback, and an error is one `error: file[:line]: message` line naming a file of the
  site; a failed build leaves every file as it was (the last good build's output too);
- `renderer.create_app(site)` under `werkzeug.test.Client` answers every URL with 200,
  404 or 500 and a body, never an exception; after a good build, what it serves with 200
  is the built file, byte for byte.

A few examples also go through a real `renderer` process. Each bug the fuzzer found is
kept below as an `@example` or a test of its own.

The default run is short and the same every time, for CI (50 examples, about 10 s). A
longer run by hand, with new random examples each time (2,000 take about 6 minutes):

    RENDERER_FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/test_fuzz.py -q

and `--hypothesis-show-statistics` shows how far the examples got (which error, or a
successful build).

Known problems handled on other branches (issue 15) are left out of the assertions, each
marked "known, being fixed in issue 15 by another branch" where it is filtered.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import Result, make_site, run_cli, run_renderer, snapshot
from hypothesis import (
    HealthCheck,
    assume,
    currently_in_test_context,
    event,
    example,
    given,
    settings,
)
from hypothesis import strategies as st
from werkzeug.test import Client

from renderer import create_app

EXAMPLES = int(os.environ.get("RENDERER_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=EXAMPLES or 50, deadline=None, derandomize=not EXAMPLES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SITE_TOML = """\
[site]
title = "Fuzz"
output = "public"
base_url = "https://example.org/"

[markdown]
extensions = ["fenced_code", "tables", "toc"]

[sources]
posts = { glob = "content/posts/*.md", sort = "-date" }
about = "content/about.md"
nav = "content/nav.toml"
stats = "content/stats.json"
team = "content/team.yaml"
extra = "content/extra.py:values"

[[routes]]
url = "/"
template = "index.html"

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"
name = "post"

[[routes]]
url = "/about/"
template = "page.html"
page = "about"

[[routes]]
url = "/team/<name>/"
template = "member.html"
each = "team"

[[routes]]
url = "/feed.xml"
template = "feed.xml"

[[routes]]
url = "/404.html"
template = "404.html"
name = "not_found"
"""

BASE: dict[str, str] = {
    "site.toml": SITE_TOML,
    "templates/base.html": """\
<!doctype html>
<html><head><title>{% block title %}{{ site.title }}{% endblock %}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}"></head>
<body><nav>{% for item in data.nav.links %}<a href="{{ item.url }}">{{ item.title }}</a>
{% endfor %}</nav>
{% block main %}{% endblock %}
</body></html>
""",
    "templates/index.html": """\
{% extends "base.html" %}
{% block main %}
<ul>{% for post in data.posts %}
<li><a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a> {{ post.date }}</li>
{% endfor %}</ul>
<p>{{ data.stats.visitors }} visitors; {{ data.extra|join(", ") }}</p>
{% include "team.html" %}
{% endblock %}
""",
    "templates/team.html": """\
<ul>{% for member in data.team %}
<li><a href="{{ url_for('member', name=member.name) }}">{{ member.name }}</a></li>
{% endfor %}</ul>
""",
    "templates/post.html": """\
{% extends "base.html" %}
{% block title %}{{ page.title }}{% endblock %}
{% block main %}<h1>{{ page.title }}</h1>{{ page.toc }}{{ page.content }}{% endblock %}
""",
    "templates/page.html": """\
{% extends "base.html" %}
{% block main %}<article>{{ page.content }}</article>{% endblock %}
""",
    "templates/member.html": """\
{% extends "base.html" %}
{% block main %}<h1>{{ page.name }}</h1>{{ page.bio|markdown }}{% endblock %}
""",
    "templates/feed.xml": """\
<?xml version="1.0" encoding="utf-8"?>
<feed><title>{{ site.title }}</title>{% for post in data.posts %}
<entry><title>{{ post.title }}</title>
<link href="{{ url_for('post', slug=post.slug, _external=True) }}"/></entry>{% endfor %}
</feed>
""",
    "templates/404.html": """\
{% extends "base.html" %}
{% block main %}<h1>Nothing here</h1>{% endblock %}
""",
    "content/posts/first.md": """\
---
title: First post
date: 2024-05-01
tags: [a, b]
---
# First

Hello, *world*. [About](/about/)
""",
    "content/posts/second.md": """\
+++
title = "Second post"
date = 2024-06-01T10:00:00Z
+++
Second body, with `code`.
""",
    "content/about.md": """\
---
title: About
---
About this site.
""",
    "content/nav.toml": """\
[[links]]
title = "Home"
url = "/"

[[links]]
title = "About"
url = "/about/"
""",
    "content/stats.json": '{"visitors": 12, "pages": [1, 2, 3]}\n',
    "content/team.yaml": """\
- name: ada
  bio: Wrote the *first* program.
- name: grace
  bio: Found a moth.
""",
    "content/extra.py": """\
def values(data):
    return [str(len(data.posts)), "x"]
""",
    "static/css/site.css": "body { color: #222; }\n",
}

# Only what a page can show: the redirect of /about (no slash) is tested elsewhere.
URLS = ("/", "/posts/first/", "/posts/second/", "/about/", "/team/ada/", "/team/grace/",
        "/feed.xml", "/404.html", "/css/site.css", "/no/such/page/", "/posts/nope/")

ERROR_LINE = re.compile(r"^error: (?P<file>[^\n]+?)(?::(?P<line>\d+))?: \S")

# -- strategies: near-valid input ---------------------------------------------------------------

TOML_VALUES = st.sampled_from([
    '""', '"   "', "0", "-1", "42", "3.5", "nan", "true", "[]", "{}", '[1, "x"]', '["x"]',
    "1979-05-27", "1979-05-27T07:32:00Z", '"posts"', '"about"', '"nav"', '"team"', '"nope"',
    '"content/posts/*.md"', '"content/**/*"', '"content/*.md"', '"content/nope.md"',
    '"content/about.md"', '"content/nav.toml"', '"content/stats.json"', '"content/team.yaml"',
    '"content/extra.py:values"', '"content/extra.py:nope"', '"content/nope.py:f"', '"x.py"',
    '{ glob = "content/posts/*.md", sort = "title" }', '{ glob = "content/posts/*.md" }',
    '{ glob = "content/posts/*.md", sort = "-nope" }', '{ path = "content/about.md" }',
    '{ glob = "x", path = "y" }', '{ nope = 1 }', '"/"', '"/<slug>/"', '"/posts/<slug>/"',
    '"/<int:slug>/"', '"/<path:slug>"', '"/<any(a,b):slug>/"', '"/<nope:slug>/"', '"<bad"',
    '"/a/<x>/<x>/"', '"/<slug"', '"no-slash"', '"/feed.xml"', '"/404.html"', '"/about"',
    '"post.html"', '"index.html"', '"nope.html"', '"../site.toml"', '"base.html"',
    '"static"', '"post"', '"member"', '"templates"', '"content"', '"public"', '"site.toml"',
    '"build"', '"content/about.md/x"', '"https://example.org/docs/"', '"ftp://x"', '"http://"',
    '"-date"', '"date"', '"title"', '"slug"', '["nope_extension"]', '["toc", "toc"]',
    '["markdown.extensions.toc"]', '[1]', '{ toc = { permalink = true } }',
    '{ toc = { baselevel = "x" } }', '{ toc = 1 }', '{ nope = {} }',
])
KEYS = st.sampled_from([
    "url", "template", "name", "each", "page", "context", "glob", "path", "sort", "title",
    "output", "templates", "content", "static", "base_url", "extensions",
    "extension_configs", "posts", "about", "nope", "URL", "templat", "site", "routes",
])
TOML_LINES = st.sampled_from([
    "[[routes]]", "[site]", "[markdown]", "[sources]", "[nope]", "[routes]", "[[sources]]",
    "[[site]]", "[markdown.extension_configs.toc]", "permalink = true", 'baselevel = "x"',
    'url = "/x/"', 'template = "index.html"', 'each = "posts"', 'page = "about"',
    'each = "content/extra.py:values"', 'context = "content/extra.py:values"',
    'name = "post"', 'name = "static"', "routes = 1", "sources = []", '"quoted key" = 1',
    "a.b.c = 1", "x = ", "= 1", "[[routes", '"', "'''",
])
TEXT = st.text(max_size=24)


def toml_text(value: Any) -> str:
    """A value as TOML (inline), as far as TOML can say it (no null: an empty string)."""
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value).replace("inf", "inf").replace("nan", "nan")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_text(item) for item in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_text(v)}"
                            for k, v in value.items()) + " }"


@st.composite
def site_toml(draw: st.DrawFn) -> tuple[str, bytes]:
    """site.toml with one line changed: a value or a key swapped, a line dropped,
    doubled or inserted."""
    lines = SITE_TOML.splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    how = draw(st.sampled_from(["value", "value", "key", "drop", "double", "insert"]))
    if how == "value" and "=" in line:
        key = line.split("=", 1)[0]
        value = draw(st.one_of(TOML_VALUES, TEXT.map(json.dumps), TEXT))
        lines[index] = f"{key}= {value}"
    elif how == "key" and "=" in line:
        value = line.split("=", 1)[1]
        lines[index] = f"{draw(st.one_of(KEYS, TEXT))} ={value}"
    elif how == "drop":
        del lines[index]
    elif how == "double":
        lines.insert(index, line)
    else:
        lines.insert(index, draw(st.one_of(TOML_LINES, TEXT)))
    return "site.toml", ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


YAML_SCALARS = st.sampled_from([
    "null", "~", "", "yes", "no", "on", "true", "0", "-1", "1e400", ".inf", "-.inf", ".nan",
    "0x1F", "0o17", "12:30:00", "2024-01-01", "2024-13-45", "2024-02-30", "0000-01-01",
    "9999-12-31", "2024-01-01 10:00:00 +02:00", "2024-01-01T10:00:00Z", "2024-01-01T10:00:00",
    "2024-01-01 25:00", '"2024-01-01"', "'2024-06-01T10:00:00+0200'", "[a, b]", "[]", "{}",
    "{a: 1}", "[unclosed", '"unterminated', "'", "!!python/object:os.system", "!!binary aGk=",
    "!!timestamp x", "!!int x", "!nope x", "&a x", "*a", "*nope", "|", ">-", "- x", ":", "@x",
    "%x", "`x`", "\t", "?", "a: b: c", "../../etc", "a/b", "", "<b>", "{{ x }}", "{% x %}",
])
FRONT_KEYS = st.sampled_from(["title", "date", "slug", "draft", "tags", "content", "source",
                              "toc", "name", "bio", "url", "x"])


@st.composite
def front_matter(draw: st.DrawFn) -> tuple[str, bytes]:
    """A post or the about page with new front matter: YAML or TOML, random scalars."""
    path = draw(st.sampled_from(["content/posts/first.md", "content/posts/second.md",
                                 "content/about.md"]))
    keys = draw(st.lists(st.one_of(FRONT_KEYS, TEXT), max_size=5, unique=True))
    body = draw(st.one_of(st.just("Body *text*.\n"), TEXT, TEMPLATE_FRAGMENTS))
    if draw(st.booleans()):
        lines = [f"{key}: {draw(st.one_of(YAML_SCALARS, TEXT))}" for key in keys]
        fences = draw(st.sampled_from([("---", "---")] * 6 + [("---", "..."), ("---", ""),
                                                                ("---", "+++")]))
    else:
        lines = [f"{json.dumps(key)} = {draw(st.one_of(TOML_VALUES, TEXT))}" for key in keys]
        fences = draw(st.sampled_from([("+++", "+++")] * 6 + [("+++", ""), ("+++", "---")]))
    text = "\n".join([fences[0], *lines, fences[1], body]) + "\n"
    return path, text.encode("utf-8", "surrogatepass")


TEMPLATE_FRAGMENTS = st.sampled_from([
    "{{", "}}", "{%", "%}", "{#", "#}", "{{ }}", "{% for x in data.posts %}", "{% endfor %}",
    "{% for %}", "{% if %}", "{% if page %}", "{% endif %}", "{% else %}", "{% block main %}",
    "{% endblock %}", "{% block title %}x{% endblock %}", '{% include "x" %}',
    '{% include "x" ignore missing %}', '{% include "team.html" %}', '{% include "index.html" %}',
    '{% include "base.html" %}', '{% extends "base.html" %}', '{% extends "post.html" %}',
    '{% extends "index.html" %}', '{% extends page %}', '{% include data.nav %}',
    '{% import "team.html" as t %}', '{% from "x" import y %}', "{% macro m() %}{% endmacro %}",
    "{% macro m(%}", "{{ m() }}", "{% raw %}", "{% endraw %}", "{% set x = %}",
    "{{ url_for('post', slug=1) }}", "{{ url_for('post') }}", "{{ url_for('nope') }}",
    "{{ url_for('static') }}", "{{ url_for('static', filename=none) }}",
    "{{ url_for('member', name='../x') }}", "{{ url_for('index', _external=True) }}",
    "{{ url_for() }}", "{{ url_for('post', slug='a', nope=1) }}", "{{ data.nope }}",
    "{{ data.posts[9] }}", "{{ data.posts[0].nope.x }}", "{{ data._x }}", "{{ data['x'] }}",
    "{{ page.content }}", "{{ page.toc }}", "{{ page.nope }}", "{{ page.nope.nope }}",
    "{{ 1/0 }}", "{{ 1 + 'x' }}", "{{ x.y }}", "{{ site.title|int }}", "{{ none|markdown }}",
    "{{ data.stats|markdown }}", "{{ data.posts|length }}", "{{ data.posts|sort }}",
    "{{ data.posts|sort(attribute='date') }}", "{{ data.posts|map(attribute='content')|join }}",
    "{{ data|list }}", "{{ data|length }}", "{{ site.nope.x }}",
    "{{ '%s' % () }}", "{{ lipsum(1) }}", "{{ self }}", "{{ super() }}", "{{ caller() }}",
    "{{ loop.index }}", "{{ varargs }}", "{{ ''.__class__ }}", "{{ cycler }}", "\x00", "\ufeff",
    "<head></head>", "</head>", "<a href='/nope/'>x</a>", "<a href='../x.md'>x</a>",
])


@st.composite
def template(draw: st.DrawFn) -> tuple[str, bytes]:
    """A template with Jinja fragments put in at random places."""
    path = draw(st.sampled_from([name for name in BASE if name.startswith("templates/")]))
    text = BASE[path]
    for fragment in draw(st.lists(st.one_of(TEMPLATE_FRAGMENTS, TEXT), min_size=1,
                                  max_size=3)):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + fragment + text[at:]
    return path, text.encode("utf-8", "surrogatepass")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT
    | st.sampled_from(["ada", "../x", "a/b", "", "x.html", "2024-01-01", "*", "<b>x</b>"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.one_of(st.sampled_from(["name", "bio", "links", "title", "url",
                                                 "visitors", "slug", "source"]), TEXT),
                      children, max_size=4),
    max_leaves=12)


@st.composite
def data_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """A data file holding random nested values, in its own format."""
    path = draw(st.sampled_from(["content/nav.toml", "content/stats.json", "content/team.yaml"]))
    value = draw(JSON_VALUES)
    if path.endswith(".json"):
        text = json.dumps(value)  # NaN and Infinity too, as Python writes them
    elif path.endswith(".yaml"):
        import yaml

        text = yaml.safe_dump(value, allow_unicode=draw(st.booleans()))
    else:
        table = value if isinstance(value, dict) else {"links": value}
        text = "\n".join(f"{json.dumps(str(k))} = {toml_text(v)}" for k, v in table.items())
    return path, text.encode("utf-8", "surrogatepass")


SPLICED = st.one_of(st.binary(max_size=32), st.sampled_from([
    b"\xff", b"\xfe\xff", b"\x00", b"\xef\xbb\xbf", b"\r", b"\r\n", b"\xc3", b"\xed\xa0\x80",
    b"\x1b[31m", b"\x7f", b"\xe2\x80\xae",
]))


@st.composite
def random_bytes(draw: st.DrawFn) -> tuple[str, bytes]:
    """Any file with random bytes put in, at the start or anywhere, or made of them."""
    path = draw(st.sampled_from(sorted(BASE)))
    data = BASE[path].encode()
    insert = draw(SPLICED)
    where = draw(st.sampled_from(["start", "anywhere", "all"]))
    if where == "all":
        return path, insert
    at = 0 if where == "start" else draw(st.integers(0, len(data)))
    return path, data[:at] + insert + data[at:]


@st.composite
def deletion(draw: st.DrawFn) -> tuple[str, None]:
    return draw(st.sampled_from(sorted(name for name in BASE if name != "site.toml"))), None


MUTATION = st.one_of(site_toml(), front_matter(), template(), data_file(), random_bytes(),
                     deletion())
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=3)

# -- the checks ---------------------------------------------------------------------------------


@contextmanager
def base_site() -> Iterator[tuple[Path, Path]]:
    """A fresh working site, built once (its output folder holds a good build): yields the
    work folder (the current folder for the command) and the site folder in it."""
    with tempfile.TemporaryDirectory(prefix="renderer-fuzz-") as folder:
        work = Path(folder)
        site = make_site(work, {name: text for name, text in BASE.items()})
        result = run_cli("build", "site", cwd=work)
        assert result.code == 0, result.stderr
        yield work, site


def apply(site: Path, mutations: list[tuple[str, bytes | None]]) -> None:
    for name, data in mutations:
        path = site / name
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def stays_inside(site: Path) -> bool:
    """Whether every folder and source the site.toml names lies in the work folder: the
    fuzzer runs as whoever runs the tests (root, in CI) and must not write to /x, nor
    copy / as a static folder."""
    try:
        raw = tomllib.loads((site / "site.toml").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # refused before any folder is used
    work = site.parent.resolve()
    named = []
    if isinstance(raw.get("site"), dict):
        named += [v for k, v in raw["site"].items()
                  if k in ("output", "templates", "content", "static")]
    if isinstance(raw.get("sources"), dict):
        for value in raw["sources"].values():
            named += list(value.values()) if isinstance(value, dict) else [value]
    for value in named:
        if isinstance(value, str) and value.strip():
            if value.startswith(("/", "~", "\\")) or ".." in value:
                return False
            if not (site / value).resolve().is_relative_to(work):
                return False
    return True


def known_issue(site: Path) -> str | None:
    """Why an example meets a problem that another branch fixes, or None."""
    data = (site / "site.toml").read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # known, being fixed in issue 15 by another branch
        return "invalid UTF-8 in site.toml"
    if data.startswith(b"\xef\xbb\xbf"):
        return "byte order mark in site.toml"  # known, being fixed in issue 15 by another branch
    return None


def check_command(work: Path, site: Path) -> bool:
    """`renderer build` on the site: the exit code, the error line, the output on failure.
    Returns whether the build succeeded. `renderer routes` too, which writes nothing."""
    check_result(work, site, run_cli("routes", "site", cwd=work), "routes")
    before = outside_cache(work)
    result = run_cli("build", "site", cwd=work)
    if check_result(work, site, result, "build"):
        return True
    after = outside_cache(work)
    output = result.stdout + result.stderr
    assert after == before, f"a failed build changed files: {changed(before, after)}\n{output}"
    return False


def check_result(work: Path, site: Path, result: Result, command: str) -> bool:
    """Exit code 0, or 1 with one `error: file[:line]: message` line naming a file of the
    site; never a traceback. Returns whether the command succeeded."""
    output = result.stdout + result.stderr
    assert result.code in (0, 1), f"{command}: exit code {result.code}:\n{output}"
    assert "Traceback" not in output, output
    if result.code == 0:
        if currently_in_test_context():
            event(f"{command}: success")
        return True
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    found = ERROR_LINE.match(errors[0])
    assert found, f"no file named: {errors[0]}"
    # --hypothesis-show-statistics shows how deep the examples reach
    message = errors[0][found.end() - 1:]
    if currently_in_test_context():
        event(f"{command}: {Path(found.group('file')).name}: {' '.join(message.split()[:3])}")
    named = (work / found.group("file")).resolve()
    assert named.is_relative_to(site.resolve()), f"not a file of the site: {errors[0]}"
    return False


def check_app(site: Path, built: bool) -> None:
    """create_app under werkzeug's test client: a status and a body for every URL, never
    an exception; after a good build, served bytes are the built bytes."""
    client = Client(create_app(site))
    output = site / "public"
    for url in URLS:
        with quiet():
            response = client.get(url)
        assert response.status_code in (200, 404, 500, 301), (url, response.status_code)
        if response.status_code == 301:  # a base_url path of another value
            assert response.headers["Location"], url
        body = response.get_data()
        if response.status_code == 500:  # a 200 or 404 may be an empty file or template
            assert body and b"Traceback" not in body, body
        # A template may print an object's repr, whose address differs between runs.
        if built and response.status_code == 200 and not re.search(rb" at 0x[0-9a-f]+", body):
            file = output / (url.lstrip("/") + ("index.html" if url.endswith("/") else ""))
            assert file.read_bytes() == body, f"{url} served differs from {file}"


@contextmanager
def quiet() -> Iterator[None]:
    """The app logs every error it answers with a 500: not for every example."""
    logger = logging.getLogger("renderer")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def outside_cache(work: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of the work folder but the build cache."""
    return {name: value for name, value in snapshot(work).items()
            if ".renderer-cache/" not in name}


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys()
                  if before.get(name) != after.get(name))


def fuzz_one(mutations: list[tuple[str, bytes | None]]) -> None:
    with base_site() as (work, site):
        apply(site, mutations)
        assume(stays_inside(site))
        if known_issue(site):
            return
        built = check_command(work, site)
        output = site / "public"
        check_app(site, built and output.is_dir() and same_urls(site))


def same_urls(site: Path) -> bool:
    """Whether the site still builds into public/ with the URLs at the root (a mutation
    may name another folder or base_url)."""
    try:
        raw = tomllib.loads((site / "site.toml").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    table = raw.get("site")
    return isinstance(table, dict) and table.get("output") == "public" \
        and table.get("base_url") == "https://example.org/"


# -- the tests ----------------------------------------------------------------------------------


def test_the_base_site_builds_and_serves() -> None:
    with base_site() as (work, site):
        assert check_command(work, site)
        check_app(site, built=True)
        assert (site / "public/team/grace/index.html").is_file()


@FUZZ
@given(MUTATIONS)
# Found by the fuzzer: a YAML date that parses but is no date was a ValueError traceback.
@example([("content/posts/first.md", b"---\ntitle: 2024-13-45\n---\nBody *text*.\n")])
# Found: a template that is not UTF-8 was a UnicodeDecodeError naming no file.
@example([("templates/404.html", b"\x80{% extends \"base.html\" %}\n")])
# Found: an item with a null URL variable was Werkzeug's BuildError, with a traceback.
@example([("content/team.yaml", b"- name: null\n")])
# Found: a URL rule naming a variable twice was a SyntaxError from Werkzeug's compiler.
@example([("site.toml", SITE_TOML.replace('"/posts/<slug>/"', '"/a/<x>/<x>/"').encode())])
def test_fuzz_build_and_app(mutations: list[tuple[str, bytes | None]]) -> None:
    fuzz_one(mutations)


REAL_PROCESS_CASES = [
    [("content/posts/first.md", b"---\ntitle: [unclosed\n---\nx\n")],
    [("templates/post.html", b"{% extends \"base.html\" %}{% block main %}{{ 1/0 }}"
                             b"{% endblock %}")],
    [("content/stats.json", b"\xff\x00{")],
]


def test_the_real_command_on_broken_sites() -> None:
    """The same checks with `python -m renderer` in a process of its own."""
    for mutations in REAL_PROCESS_CASES:
        with base_site() as (work, site):
            apply(site, mutations)
            before = outside_cache(work)
            result = run_renderer("build", "site", cwd=work)
            assert result.code == 1, result.stderr
            assert "Traceback" not in result.stderr
            assert ERROR_LINE.match(result.stderr.splitlines()[0]), result.stderr
            assert outside_cache(work) == before


# -- bugs the fuzzer found, as plain tests -------------------------------------------------------


def test_a_yaml_value_that_cannot_be_made_is_located() -> None:
    """YAML parses `2024-13-45` as a date and `!!int x` as an integer, and then fails to
    make them: an error at the line, as for a syntax error."""
    for text, line, words in [
        ("---\ntitle: A\ndate: 2024-13-45\n---\nBody\n", 3, "'2024-13-45' is not a date"),
        ("---\ntitle: A\ncount: !!int x\n---\nBody\n", 3, "'x' is not an integer"),
        ("---\ndate: !!timestamp soon\n---\nBody\n", 2, "'soon' is not a date"),
    ]:
        with base_site() as (work, site):
            (site / "content/posts/first.md").write_text(text, encoding="utf-8")
            result = run_cli("build", "site", cwd=work)
            assert result.code == 1, result.stderr
            assert result.stderr.startswith(
                f"error: site/content/posts/first.md:{line}: YAML error: {words}"), result.stderr


def test_a_template_that_is_not_utf8_is_located() -> None:
    with base_site() as (work, site):
        (site / "templates/team.html").write_bytes(b"<ul>\n<li>\xe9t\xe9</li>\n</ul>\n")
        result = run_cli("build", "site", cwd=work)
        assert result.code == 1, result.stderr
        assert result.stderr.startswith(
            "error: site/templates/team.html:2: not UTF-8 text: invalid continuation byte"
        ), result.stderr
        reply = Client(create_app(site)).get("/")
        assert reply.status_code == 500 and b"team.html:2" in reply.get_data()


def test_an_item_with_a_null_url_variable_is_located() -> None:
    with base_site() as (work, site):
        (site / "content/team.yaml").write_text("- name: ada\n- name: null\n")
        result = run_cli("build", "site", cwd=work)
        assert result.code == 1, result.stderr
        assert result.stderr.startswith(
            "error: site/site.toml:32: routes[3] (/team/<name>/): no value for ['name']"
        ), result.stderr


def test_a_url_rule_naming_a_variable_twice_is_located() -> None:
    with base_site() as (work, site):
        toml = SITE_TOML.replace('"/posts/<slug>/"', '"/a/<x>/<x>/"')
        (site / "site.toml").write_text(toml, encoding="utf-8")
        result = run_cli("build", "site", cwd=work)
        assert result.code == 1, result.stderr
        assert result.stderr.startswith(
            "error: site/site.toml:22: routes[1].url: bad URL rule '/a/<x>/<x>/': a variable "
            "is named twice"), result.stderr
