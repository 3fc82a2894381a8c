"""`paginate` on a route (an index, and tag pages that page through their group's items)
and `previous`/`next` on `each` routes, as `renderer build` and `serve` make them; what
such pages depend on; and every bad value, each a located error.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import make_site, run_cli, run_renderer, tree, wsgi_server
from serving import running, write
from test_parity import check_parity

import renderer
from renderer.site import Site

SITE_TOML = """\
[site]
title = "Pages"
base_url = "https://example.org/blog/"

[sources]
posts = { glob = "content/posts/*.md", sort = "title" }
tags = { group = "posts", by = "tags" }

[[routes]]
url = "/"
template = "index.html"
paginate = { items = "posts", per_page = 2, url = "/page/<int:page>/" }

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"

[[routes]]
url = "/tags/<slug>/"
template = "tag.html"
each = "tags"
paginate = { items = "items", per_page = 2, url = "/tags/<slug>/page/<int:page>/" }
"""

PAGER = ("{{ pager.number }}/{{ pager.count }} of {{ pager.total }} "
         "prev={{ pager.previous_url }} next={{ pager.next_url }} "
         "urls={{ pager.urls | join(',') }} "
         "items={{ pager['items'] | map(attribute='title') | join(',') }}\n")

SITE: dict[str, str | None] = {
    "site.toml": SITE_TOML,
    "templates/index.html": PAGER + "{{ url_for('index') }} {{ url_for('index', page=1) }} "
                                    "{{ url_for('index', page=3) }} "
                                    "{{ url_for('tag', slug='x', page=2) }} {{ url }}\n",
    "templates/tag.html": "{{ page.name }} " + PAGER,
    "templates/post.html": """\
        <h1>{{ page.title }}</h1>
        {% if previous %}<a href="{{ url_for('post', slug=previous.slug) }}">\
        {{- previous.title }}</a>{% else %}first{% endif %}
        {% if next %}<a href="{{ url_for('post', slug=next.slug) }}">{{ next.title }}</a>\
        {%- else %}last{% endif %}
        """,
    **{f"content/posts/{name}.md": f"---\ntitle: {name.upper()}\ntags: [{tags}]\n---\n"
                                   f"Post *{name}*.\n"
       for name, tags in (("a", "x"), ("b", "x, y"), ("c", "x"), ("d", ""), ("e", "x"))},
}


def build_site(site: Path, *args: str | Path) -> dict[str, str]:
    code, stdout, stderr = run_cli("build", site, "--jobs", "1", "--strict", *args)
    assert code == 0, stderr
    return {name: data.decode() for name, data in tree(site / "build").items()}


def counts(summary: str) -> dict[str, int]:
    return {word: int(number) for number, word in
            re.findall(r"(\d+) (rendered|written|unchanged|removed)", summary)}


def test_a_paginated_index(tmp_path: Path) -> None:
    built = build_site(make_site(tmp_path, SITE))
    assert built["index.html"] == (
        "1/3 of 5 prev=None next=/blog/page/2/ urls=/blog/,/blog/page/2/,/blog/page/3/ "
        "items=A,B\n/blog/ /blog/ /blog/page/3/ /blog/tags/x/page/2/ /blog/\n")
    assert built["page/2/index.html"].startswith(
        "2/3 of 5 prev=/blog/ next=/blog/page/3/ urls=/blog/,/blog/page/2/,/blog/page/3/ "
        "items=C,D\n")
    assert built["page/3/index.html"].startswith("3/3 of 5 prev=/blog/page/2/ next=None ")
    assert built["page/3/index.html"].endswith(" items=E\n/blog/ /blog/ /blog/page/3/ "
                                               "/blog/tags/x/page/2/ /blog/page/3/\n")
    assert "page/4/index.html" not in built and "page/1/index.html" not in built


def test_paginated_tag_pages(tmp_path: Path) -> None:
    built = build_site(make_site(tmp_path, SITE))
    pages = sorted(name for name in built if name.startswith("tags/"))
    assert pages == ["tags/x/index.html", "tags/x/page/2/index.html", "tags/y/index.html"]
    assert built["tags/x/index.html"] == (
        "x 1/2 of 4 prev=None next=/blog/tags/x/page/2/ "
        "urls=/blog/tags/x/,/blog/tags/x/page/2/ items=A,B\n")
    assert built["tags/x/page/2/index.html"].startswith("x 2/2 of 4 prev=/blog/tags/x/ ")
    assert built["tags/y/index.html"] == "y 1/1 of 1 prev=None next=None urls=/blog/tags/y/ " \
                                         "items=B\n"


def test_no_items_make_one_empty_page(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, **{f"content/posts/{n}.md": None for n in "abcde"}})
    (site / "content/posts").mkdir(parents=True)
    built = build_site(site)
    assert sorted(built) == ["index.html"]
    assert built["index.html"].startswith("1/1 of 0 prev=None next=None urls=/blog/ items=\n")


def test_previous_and_next_follow_the_collection_order(tmp_path: Path) -> None:
    built = build_site(make_site(tmp_path, SITE))
    links = {name: re.findall(r'href="([^"]+)">(\w)<|(first|last)', built[f"posts/{name}/"
                                                                            "index.html"])
             for name in "abcde"}
    assert links["a"] == [("", "", "first"), ("/blog/posts/b/", "B", "")]
    assert links["c"] == [("/blog/posts/b/", "B", ""), ("/blog/posts/d/", "D", "")]
    assert links["e"] == [("/blog/posts/d/", "D", ""), ("", "", "last")]


def test_previous_and_next_over_a_data_file_and_a_function(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "site.toml": """\
            [sources]
            people = "content/people.json"

            [[routes]]
            url = "/people/<id>/"
            template = "person.html"
            each = "people"

            [[routes]]
            url = "/made/<id>/"
            template = "person.html"
            each = "content/made.py:made"
            name = "made"
            """,
        "content/people.json": '[{"id": "ann"}, {"id": "bob"}, {"id": "cy"}]\n',
        "content/made.py": "def made():\n    return [{'id': n} for n in ('x', 'y')]\n",
        "templates/person.html": "{{ previous.id if previous else '-' }} {{ page.id }} "
                                 "{{ next.id if next else '-' }}\n",
    })
    built = build_site(site)
    assert [built[f"people/{n}/index.html"] for n in ("ann", "bob", "cy")] == [
        "- ann bob\n", "ann bob cy\n", "bob cy -\n"]
    assert [built[f"made/{n}/index.html"] for n in "xy"] == ["- x y\n", "x y -\n"]


def test_a_context_function_may_give_its_own_previous_and_next(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/ctx.py": "def ctx(slug):\n"
                                                          "    return {'next': None}\n"})
    toml = (site / "site.toml").read_text()
    (site / "site.toml").write_text(toml.replace('each = "posts"\n', 'each = "posts"\n'
                                                 'context = "content/ctx.py:ctx"\n'))
    built = build_site(site)
    assert built["posts/a/index.html"].endswith("last\n")  # theirs, not the built-in one
    assert 'href="/blog/posts/a/"' in built["posts/b/index.html"]


def test_what_paginated_pages_and_neighbours_depend_on(tmp_path: Path) -> None:
    """A body edit renders the post alone (the index and the tag pages list titles, the
    neighbours print titles); a title edit renders the lists and the post's
    neighbours; without previous/next in the template, a title edit leaves the other
    posts alone. Every step ends as a clean build would."""
    site = make_site(tmp_path, SITE)
    build_site(site)
    post = site / "content/posts/c.md"

    def rebuild() -> dict[str, int]:
        code, stdout, stderr = run_cli("build", site, "--jobs", "1")
        assert code == 0, stderr
        code, _, stderr = run_cli("build", site, "--clean", "--output", tmp_path / "clean")
        assert code == 0, stderr
        assert tree(tmp_path / "clean") == tree(site / "build")
        return counts(stdout)

    post.write_text(post.read_text().replace("Post *c*.", "Post *c*, edited."))
    assert rebuild()["rendered"] == 1
    post.write_text(post.read_text().replace("title: C", "title: Cee"))
    built = build_site(site)
    assert ">Cee<" in built["posts/b/index.html"] and ">Cee<" in built["posts/d/index.html"]
    assert "items=Cee,D" in built["page/2/index.html"]
    (site / "templates/post.html").write_text("<h1>{{ page.title }}</h1>\n")
    rebuild()
    post.write_text(post.read_text().replace("title: Cee", "title: C"))
    # c itself, the index's three pages and the three tag pages (a group is made from
    # every post's front matter), but no other post.
    assert rebuild()["rendered"] == 1 + 3 + 3
    (site / "content/posts/f.md").write_text("---\ntitle: F\ntags: [x]\n---\nNew.\n")
    assert rebuild()["rendered"] >= 3  # f, page 3 (now E and F), tag x's page 3
    assert "tags/x/page/3/index.html" in tree(site / "build")


def test_posts_that_show_neighbours_read_one_equal_set(tmp_path: Path) -> None:
    """Each post reads every post's front matter (who is beside it), its own page's too:
    one equal set for all, which the build keeps once, not 5,000 sets of 4,999 pages."""
    site = Site.load(make_site(tmp_path, SITE))
    first, second = site.render("/posts/a/"), site.render("/posts/b/")
    assert first.meta == second.meta
    assert {path.name for path in first.meta} == {f"{name}.md" for name in "abcde"}


def test_paginated_pages_are_served_as_built_and_follow_edits(tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    code, _, stderr = run_renderer("build", site, "--output", tmp_path / "out", "--strict")
    assert code == 0, stderr
    assert len(Site.load(site).urls()) == 3 + 5 + 3
    with wsgi_server(renderer.create_app(site)) as base:
        check_parity(site, tree(tmp_path / "out"), base, "/blog/")
    with running(site) as server:
        assert server.get("/blog/page/3/").status == 200
        assert server.get("/blog/page/4/").status == 404
        for name in "fg":
            write(site / f"content/posts/{name}.md", f"---\ntitle: {name.upper()}\n---\nNew.\n")
        reply = server.wait_for("/blog/page/4/", lambda r: r.status == 200)
        assert "4/4 of 7" in reply.text and "items=G" in reply.text
        assert "next=/blog/page/4/" in server.get("/blog/page/3/").text
        assert ">F</a>" in server.get("/blog/posts/e/").text  # e's next, new
        write(site / "content/posts/f.md", "---\ntitle: EF\n---\nRetitled.\n")
        server.wait_for("/blog/posts/e/", lambda r: b">EF</a>" in r.body)
        routes = server.get("/_renderer/").text
        assert "/page/4/" in routes and "/tags/x/page/2/" in routes


def test_incremental_builds_of_many_pages_in_worker_processes(tmp_path: Path) -> None:
    """Enough pages that --jobs 2 renders in worker processes, each completing the
    paginated targets restored from the last build's URL list."""
    files = dict(SITE)
    files.update({f"content/posts/p{n:03}.md": f"---\ntitle: P{n:03}\ntags: [t{n % 3}]\n---\n"
                  f"Post *{n}*.\n" for n in range(80)})
    site = make_site(tmp_path, files)
    out = tmp_path / "out"
    for step in range(3):
        if step == 1:
            post = site / "content/posts/p010.md"
            post.write_text(post.read_text().replace("Post *10*.", "Post *10*, edited."))
        if step == 2:
            (site / "content/posts/p050.md").unlink()
        code, _, stderr = run_cli("build", site, "--jobs", "2", "--output", out)
        assert code == 0, stderr
        code, _, stderr = run_cli("build", site, "--clean", "--output", tmp_path / "clean")
        assert code == 0, stderr
        assert tree(out) == tree(tmp_path / "clean")
    assert tree(out)["page/42/index.html"].startswith(b"42/42 of 84 ")


def test_routes_lists_every_page(tmp_path: Path) -> None:
    code, stdout, stderr = run_cli("routes", make_site(tmp_path, SITE), "--urls")
    assert code == 0, stderr
    assert re.search(r"^/\s+index\s+index.html\s+posts\s+3$", stdout, re.MULTILINE), stdout
    assert "  /page/2/\n  /page/3/\n" in stdout
    assert "  /tags/x/\n  /tags/x/page/2/\n  /tags/y/\n" in stdout


# -- bad values: each a located error ----------------------------------------------------------

INDEX_PAGINATE = 'paginate = { items = "posts", per_page = 2, url = "/page/<int:page>/" }'
TAG_PAGINATE = 'paginate = { items = "items", per_page = 2, url = "/tags/<slug>/page/<int:page>/" }'


def index_with(new: str) -> str:
    return SITE_TOML.replace(INDEX_PAGINATE, new)


def tags_with(new: str) -> str:
    return SITE_TOML.replace(TAG_PAGINATE, new)


BAD = {
    "per-page-zero": (index_with(INDEX_PAGINATE.replace("per_page = 2", "per_page = 0")),
                      ("routes[0].paginate.per_page", "a whole number of 1 or more, not 0")),
    "per-page-text": (index_with(INDEX_PAGINATE.replace("per_page = 2", 'per_page = "2"')),
                      ("a whole number of 1 or more, not '2'",)),
    "per-page-boolean": (index_with(INDEX_PAGINATE.replace("per_page = 2", "per_page = true")),
                         ("a whole number of 1 or more, not True",)),
    "url-without-page": (index_with(INDEX_PAGINATE.replace("<int:page>", "<int:n>")),
                         ("routes[0].paginate.url", "has no <int:page>")),
    "url-page-not-int": (index_with(INDEX_PAGINATE.replace("<int:page>", "<page>")),
                         ("has no <int:page>",)),
    "url-relative": (index_with(INDEX_PAGINATE.replace('"/page/', '"page/')),
                     ('must start with "/"',)),
    "url-missing-variable": (tags_with(TAG_PAGINATE.replace("/tags/<slug>/page/", "/tags/page/")),
                             ("routes[2].paginate.url", "needs those of the route's URL",
                              "['page', 'slug']")),
    "url-extra-variable": (index_with(INDEX_PAGINATE.replace("/page/", "/<lang>/page/")),
                           ("has the variables ['lang', 'page']",)),
    "url-bad-rule": (index_with(INDEX_PAGINATE.replace("<int:page>", "<int:page>/<nope:x>")),
                     ("routes[0].paginate.url: bad URL rule",)),
    "items-unknown-source": (index_with(INDEX_PAGINATE.replace('"posts"', '"psts"')),
                             ("routes[0].paginate.items", 'no source named "psts"',
                              'did you mean "posts"')),
    "items-missing": (index_with('paginate = { per_page = 2, url = "/page/<int:page>/" }'),
                      ('missing key "items"',)),
    "unknown-key": (index_with(INDEX_PAGINATE.replace("per_page", "per_pag")),
                    ('unknown key "per_pag"', 'did you mean "per_page"')),
    "not-a-table": (index_with('paginate = 10'), ("routes[0].paginate: must be a table",)),
    "route-has-page": (tags_with(TAG_PAGINATE.replace("<slug>/page/<int:page>/",
                                                      "<slug>/<int:page>/n/<int:n>/")).replace(
        'url = "/tags/<slug>/"', 'url = "/tags/<slug>/<int:page>/"'),
                       ("routes[2].url", 'has a variable "page"')),
    "field-missing": (tags_with(TAG_PAGINATE.replace('"items"', '"itemz"')),
                      ('paginate.items = "itemz", but the item \'x\' has no "itemz"',
                       'did you mean "items"')),
    "field-not-a-list": (tags_with(TAG_PAGINATE.replace('"items"', '"name"')),
                         ('paginate.items = "name" gives str of the item \'x\', not a list',)),
    "source-not-a-list": (index_with(INDEX_PAGINATE.replace('"posts"', '"info"')).replace(
        "[sources]", '[sources]\ninfo = "content/info.toml"'),
                          ('paginate.items = "info" gives dict, not a list',)),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_paginate_is_an_error_at_its_line(tmp_path: Path, case: str) -> None:
    text, says = BAD[case]
    assert text != SITE_TOML
    site = make_site(tmp_path, {**SITE, "site.toml": text, "content/info.toml": "a = 1\n"})
    code, _, stderr = run_cli("build", site)
    assert code == 1, stderr
    first = stderr.splitlines()[0]
    original = set(SITE_TOML.splitlines())
    changed = next(n for n, row in enumerate(text.splitlines(), 1)
                   if row.startswith(("paginate", "url =")) and row not in original)
    assert f"site.toml:{changed}: " in first, (first, changed)
    for part in says:
        assert part in first, first
    assert "Traceback" not in stderr
    assert not (site / "build").exists()
