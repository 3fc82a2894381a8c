"""Group sources: `tags = { group = "posts", by = "tags" }` and `by = "date.year"`, with
their routes (`each = "tags"`), as `renderer build` and `serve` make them; what a page
made from a group depends on; and every bad value, each a located error.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import make_site, run_cli, run_renderer, tree, wsgi_server
from serving import running, write
from test_parity import check_parity

import renderer

SITE_TOML = """\
[site]
title = "Groups"
base_url = "https://example.org/blog/"

[sources]
posts = { glob = "content/posts/*.md", sort = "-date" }
tags = { group = "posts", by = "tags" }
years = { group = "posts", by = "date.year" }

[[routes]]
url = "/"
template = "index.html"

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"

[[routes]]
url = "/tags/<slug>/"
template = "tag.html"
each = "tags"

[[routes]]
url = "/archive/<slug>/"
template = "year.html"
each = "years"
name = "year"
"""

SITE: dict[str, str | None] = {
    "site.toml": SITE_TOML,
    "templates/index.html": """\
        {% for tag in data.tags -%}
        <a href="{{ url_for('tag', slug=tag.slug) }}">{{ tag.name }} ({{ tag.items|length }})</a>
        {% endfor %}
        {%- for year in data.years | reverse -%}
        <a href="{{ url_for('year', slug=year.slug) }}">{{ year.name }}</a>
        {% endfor %}""",
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n",
    "templates/tag.html": """\
        <h1>{{ page.name }} ({{ page.slug }})</h1>
        {% for post in page.items -%}
        <a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a>
        {% endfor %}""",
    "templates/year.html": "<h1>{{ page.name }}</h1>{{ page.items | map(attribute='title') "
                           "| join(', ') }}\n",
    "content/posts/a.md": "---\ntitle: A\ndate: 2023-05-01\ntags: [Python, web]\n---\n*A*.\n",
    "content/posts/b.md": "---\ntitle: B\ndate: 2024-02-01\ntags: [' python ', Web Dev]\n"
                          "---\n*B*.\n",
    "content/posts/c.md": "---\ntitle: C\ndate: 2024-03-01\ntags: [PYTHON, python]\n---\n*C*.\n",
    "content/posts/d.md": "---\ntitle: D\ndate: 2022-01-01\n---\nNo tags.\n",
    "content/posts/e.md": "---\ntitle: E\ndate: 2024-04-01\ntags: [secret]\ndraft: true\n"
                          "---\nA draft.\n",
}


def build_site(site: Path, *args: str | Path) -> dict[str, str]:
    code, stdout, stderr = run_cli("build", site, "--jobs", "1", *args)
    assert code == 0, stderr
    return {name: data.decode() for name, data in tree(site / "build").items()}


def test_tag_pages_and_year_archives_from_group_sources(tmp_path: Path) -> None:
    built = build_site(make_site(tmp_path, SITE))
    # One group per slug, named by its first spelling in the posts' order (newest first:
    # C's "PYTHON"), sorted by name; "python" twice in C counts once; D (no tags) and
    # the draft E are in no group.
    index = built["index.html"]
    assert re.findall(r">([^<]*) \((\d)\)</a>", index) == [
        ("PYTHON", "3"), ("web", "1"), ("Web Dev", "1")]
    assert '<a href="/blog/tags/python/">' in index
    assert "secret" not in index and "tags/secret" not in str(sorted(built))
    assert built["tags/python/index.html"].splitlines()[0] == "<h1>PYTHON (python)</h1>"
    assert re.findall(r">(\w)</a>", built["tags/python/index.html"]) == ["C", "B", "A"]
    assert sorted(name for name in built if name.startswith("tags/")) == [
        "tags/python/index.html", "tags/web-dev/index.html", "tags/web/index.html"]
    # Years are numbers, sorted as numbers; reversed in the template, newest first.
    assert re.findall(r'archive/(\d+)/">(\d+)<', index) == [
        ("2024", "2024"), ("2023", "2023"), ("2022", "2022")]
    assert built["archive/2024/index.html"] == "<h1>2024</h1>C, B\n"


def test_numbers_sort_as_numbers_and_items_keep_the_source_order(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "site.toml": """\
            [sources]
            things = "content/things.json"
            by_size = { group = "things", by = "size" }
            by_owner = { group = "things", by = "owner.name" }

            [[routes]]
            url = "/"
            template = "index.html"
            """,
        "content/things.json": """\
            [{"id": "a", "size": 10, "owner": {"name": "Zoe"}},
             {"id": "b", "size": 9, "owner": {"name": "adam"}},
             {"id": "c", "size": 100},
             {"id": "d", "size": 9, "owner": {"name": "Adam"}},
             {"id": "e", "owner": null}]
            """,
        "templates/index.html": """\
            {% for g in data.by_size %}{{ g.name }}:{{ g["items"]|map(attribute="id")|join }} \
            {%- if not loop.last %} {% endif %}{% endfor %}
            {% for g in data.by_owner %}{{ g.name }}/{{ g.slug }}:\
            {{- g.items|map(attribute="id")|join }} {% endfor %}
            """,
    })
    built = build_site(site)
    assert built["index.html"] == "9:bd 10:a 100:c\nadam/adam:bd Zoe/zoe:a \n"


def test_a_python_source_reads_groups_as_items(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/counts.py": """\
        def counts(data):
            return {tag["slug"]: len(tag["items"]) for tag in data.tags}
        """, "templates/index.html": "{{ data.counts }}\n"})
    toml = (site / "site.toml").read_text()
    (site / "site.toml").write_text(toml.replace(
        "[sources]", '[sources]\ncounts = "content/counts.py:counts"'))
    built = build_site(site)
    assert built["index.html"] == "{&#39;python&#39;: 3, &#39;web&#39;: 1, &#39;web-dev&#39;: 1}\n"


def test_drafts_join_their_groups_with_drafts(tmp_path: Path) -> None:
    built = build_site(make_site(tmp_path, SITE), "--drafts")
    assert "E" in built["tags/secret/index.html"]
    assert built["archive/2024/index.html"] == "<h1>2024</h1>E, C, B\n"


def counts(summary: str) -> dict[str, int]:
    return {word: int(number) for number, word in
            re.findall(r"(\d+) (rendered|written|unchanged|removed)", summary)}


def test_a_body_edit_renders_no_tag_page_and_a_tag_edit_renders_them(tmp_path: Path) -> None:
    """Tag pages list titles: they depend on the posts' front matter, not their text."""
    site = make_site(tmp_path, SITE)
    build_site(site)
    post = site / "content/posts/b.md"
    post.write_text(post.read_text().replace("*B*.", "*B*, edited."))
    code, stdout, stderr = run_cli("build", site, "--jobs", "1")
    assert code == 0, stderr
    assert counts(stdout)["rendered"] == 1, stdout  # the post's own page
    post.write_text(post.read_text().replace("Web Dev", "Rust"))
    built = build_site(site)
    assert "tags/web-dev/index.html" not in built
    assert "B" in built["tags/rust/index.html"]
    code, _, stderr = run_cli("build", site, "--clean", "--output", tmp_path / "clean")
    assert code == 0, stderr
    assert tree(tmp_path / "clean") == tree(site / "build")


def test_group_pages_are_served_as_built_and_follow_edits(tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    code, _, stderr = run_renderer("build", site, "--output", tmp_path / "out", "--strict")
    assert code == 0, stderr
    with wsgi_server(renderer.create_app(site)) as base:
        check_parity(site, tree(tmp_path / "out"), base, "/blog/")
    with running(site) as server:
        assert server.get("/blog/tags/web/").status == 200
        assert server.get("/blog/tags/go/").status == 404
        write(site / "content/posts/d.md", "---\ntitle: D\ndate: 2022-01-01\ntags: [Go]\n"
                                           "---\nNow tagged.\n")
        reply = server.wait_for("/blog/tags/go/", lambda r: r.status == 200)
        assert ">D</a>" in reply.text
        assert "Go (1)" in server.get("/blog/").text
        routes = server.get("/_renderer/").text
        assert "/tags/go/" in routes and "/archive/2022/" in routes


def test_routes_lists_the_group_pages(tmp_path: Path) -> None:
    code, stdout, stderr = run_cli("routes", make_site(tmp_path, SITE), "--urls")
    assert code == 0, stderr
    assert re.search(r"/tags/<slug>/\s+tag\s+tag.html\s+tags\s+3", stdout), stdout
    assert "  /tags/web-dev/" in stdout and "  /archive/2023/" in stdout


# -- bad values: each a located error ----------------------------------------------------------

def toml_with(old: str, new: str) -> str:
    assert old in SITE_TOML, old
    return SITE_TOML.replace(old, new)


def line_of(text: str, part: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if part in line)


TAGS_LINE = 'tags = { group = "posts", by = "tags" }'
BAD_TOML = {
    "unknown-source": (toml_with(TAGS_LINE, 'tags = { group = "psts", by = "tags" }'),
                       ('no source named "psts"', 'did you mean "posts"')),
    "by-not-a-string": (toml_with(TAGS_LINE, 'tags = { group = "posts", by = 3 }'),
                        ("sources.tags.by", "must be a field name")),
    "by-empty-part": (toml_with(TAGS_LINE, 'tags = { group = "posts", by = "date." }'),
                      ("must be a field name or a dotted path",)),
    "by-missing": (toml_with(TAGS_LINE, 'tags = { group = "posts" }'),
                   ('missing key "by"',)),
    "group-not-a-string": (toml_with(TAGS_LINE, "tags = { group = 1, by = \"tags\" }"),
                           ("sources.tags.group", "must name a source")),
    "group-with-glob": (toml_with(TAGS_LINE, 'tags = { group = "posts", by = "tags", '
                                             'glob = "x/*.md" }'),
                        ('"glob" does not go with "group"',)),
    "by-without-group": (toml_with(TAGS_LINE, 'tags = { glob = "content/*.md", by = "tags" }'),
                         ('"by" belongs to a group source',)),
    "misspelled-group-key": (toml_with(TAGS_LINE, 'tags = { grup = "posts", by = "tags" }'),
                             ('unknown key "grup"', 'did you mean "group"')),
    "one-page": (toml_with(TAGS_LINE, 'about = "content/about.md"\n'
                                      'tags = { group = "about", by = "tags" }'),
                 ('"about" is one Markdown page, not a list',)),
    "circle": (toml_with(TAGS_LINE, 'tags = { group = "more", by = "tags" }\n'
                                    'more = { group = "tags", by = "name" }'),
               ("go round in a circle: tags -> more -> tags",)),
}


@pytest.mark.parametrize("case", sorted(BAD_TOML))
def test_a_bad_group_source_is_an_error_at_its_line(tmp_path: Path, case: str) -> None:
    text, says = BAD_TOML[case]
    site = make_site(tmp_path, {**SITE, "site.toml": text, "content/about.md": "# About\n"})
    code, _, stderr = run_cli("build", site)
    assert code == 1, stderr
    first = stderr.splitlines()[0]
    assert f"site.toml:{line_of(text, 'tags = {')}: " in first, first
    for part in says:
        assert part in first, first
    assert "Traceback" not in stderr
    assert not (site / "build").exists()


BAD_DATA = {
    # A data file that is a table, not a list: found when the group is loaded.
    "grouped-table": ({"site.toml": toml_with(TAGS_LINE, 'info = "content/info.toml"\n'
                                                         'tags = { group = "info", by = "x" }'),
                       "content/info.toml": 'x = 1\n'},
                      "site.toml", "tags = {", ('groups "info", which gives dict, not a list',)),
    "misspelled-field": ({"site.toml": toml_with(TAGS_LINE, 'tags = { group = "posts", '
                                                            'by = "tag" }')},
                         "site.toml", "tags = {", ('no item of "posts" has "tag"',
                                                   'did you mean "tags"')),
    "misspelled-subfield": ({"site.toml": toml_with('by = "date.year"', 'by = "date.yaer"')},
                            "site.toml", "years = {", ('no item of "posts" has "date.yaer": '
                                                       'their "date" has no "yaer"',)),
    "no-slug": ({"content/posts/d.md": "---\ntitle: D\ntags: ['!!!']\n---\nD\n"},
                "content/posts/d.md", None, ("'!!!'", "no letter or digit")),
    "table-value": ({"content/posts/d.md": "---\ntitle: D\ntags: [{a: 1}]\n---\nD\n"},
                    "content/posts/d.md", None, ("is dict, not a name",)),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_for_a_group_is_an_error_naming_where(tmp_path: Path, case: str) -> None:
    files, file, line, says = BAD_DATA[case]
    site = make_site(tmp_path, {**SITE, **files})
    code, _, stderr = run_cli("build", site)
    assert code == 1, stderr
    first = stderr.splitlines()[0]
    text = (site / file).read_text()
    where = f"{file}:{line_of(text, line)}: " if line else f"{file}: "
    assert where in first, first
    for part in says:
        assert part in first, first
    assert "Traceback" not in stderr


def test_two_likely_mistakes_are_warnings_naming_the_post(tmp_path: Path) -> None:
    """`tags: python` beside lists: one group, and a warning, since a template looping
    over it gets "p", "y", ...; `C++` and `C` make one slug: one group, and a warning.
    Spellings of one name (case, spaces, dashes, accents) warn of nothing, and neither
    do items that all give one text (a category). `--strict` makes the warnings errors."""
    site = make_site(tmp_path, {
        **SITE,
        "content/posts/f.md": "---\ntitle: F\ndate: 2024-05-01\ntags: python\n---\nF.\n",
        "content/posts/g.md": "---\ntitle: G\ndate: 2024-06-01\ntags: [C++, Café, web-dev]\n"
                              "---\nG.\n",
        "content/posts/h.md": "---\ntitle: H\ndate: 2024-07-01\ntags: [C, cafe]\n---\nH.\n",
    })
    code, _, stderr = run_cli("build", site, "--jobs", "1")
    assert code == 0, stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    one_text = [w for w in warnings if "is one text" in w]
    assert len(one_text) == 1 and "content/posts/f.md" in one_text[0], warnings
    assert "'python'" in one_text[0] and "write [python]" in one_text[0]
    clash = [w for w in warnings if "make the same slug" in w]
    assert len(clash) == 1, warnings
    # newest first: "C" (h.md, July) is met before "C++" (g.md, June) and names the group
    assert "content/posts/g.md" in clash[0] and "'C++' and 'C'" in clash[0]
    assert '"c"' in clash[0] and "named 'C'" in clash[0]
    built = tree(site / "build")
    assert b"F</a>" in built["tags/python/index.html"]  # one group, with the others
    assert b"G</a>" in built["tags/c/index.html"] and b"H</a>" in built["tags/c/index.html"]
    strict = run_cli("build", site, "--jobs", "1", "--strict")
    assert strict.code == 1 and "is one text" in strict.stderr


def test_a_field_that_is_one_text_everywhere_is_no_mistake(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **SITE,
        "site.toml": SITE_TOML.replace('by = "tags"', 'by = "category"'),
        "content/posts/a.md": "---\ntitle: A\ndate: 2023-05-01\ncategory: News\n---\nA.\n",
        "content/posts/b.md": "---\ntitle: B\ndate: 2024-02-01\ncategory: news\n---\nB.\n",
        "content/posts/c.md": "---\ntitle: C\ndate: 2024-03-01\ncategory: Notes\n---\nC.\n",
    })
    code, _, stderr = run_cli("build", site, "--jobs", "1")
    assert code == 0, stderr
    assert "warning" not in stderr, stderr
