"""What a page depends on: a list of posts by title does not depend on their text.

An edit below a post's front matter renders that post again, and whatever read its
`content`, and nothing else; an edit to its front matter renders every page that lists
it. The same holds in `renderer build` (incremental) and in `renderer serve`.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import make_site, run_cli, snapshot, tree
from serving import running, write

from renderer.records import Record
from renderer.site import Site

SITE = {
    "site.toml": """
        [sources]
        posts = { glob = "content/posts/*.md", sort = "-date" }
        words = "content/words.py:count"

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

        [[routes]]
        url = "/words/"
        template = "words.html"

        [[routes]]
        url = "/tags/<tag>/"
        template = "tag.html"
        each = "content/words.py:tags"
        """,
    "templates/index.html": """
        {% for post in data.posts %}
        <a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a>
        {% endfor %}""",
    "templates/post.html": "<h1>{{ page.title }}</h1>{{ page.content }}",
    "templates/feed.xml": "<feed>{% for post in data.posts %}{{ post.content }}{% endfor %}</feed>",
    "templates/words.html": "{{ data.words }} words",
    "templates/tag.html": "{{ tag }}: {% for p in page.posts %}{{ p.title }} {% endfor %}",
    "content/words.py": """
        def count(data):
            return sum(len(post.content.split()) for post in data.posts)


        def tags(data):
            found = {}
            for post in data.posts:
                for tag in post.get("tags", []):
                    found.setdefault(tag, []).append(post)
            return [{"tag": tag, "posts": posts} for tag, posts in sorted(found.items())]
        """,
    "content/posts/one.md": "---\ntitle: One\ndate: 2024-01-01\ntags: [a]\n---\nfirst text\n",
    "content/posts/two.md": "---\ntitle: Two\ndate: 2024-01-02\ntags: [a, b]\n---\nsecond\n",
}


def build(site: Path) -> str:
    code, out, err = run_cli("build", site, "--jobs", "1")
    assert code == 0, err
    return out + err


def rendered_count(summary: str) -> int:
    found = re.search(r"(\d+) rendered", summary)
    assert found, summary
    return int(found.group(1))


def test_body_edit_renders_the_post_and_what_read_its_text(tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    build(site)
    before = snapshot(site / "build")
    (site / "content/posts/one.md").write_text(
        "---\ntitle: One\ndate: 2024-01-01\ntags: [a]\n---\nfirst text, and more words\n")
    summary = build(site)
    after = snapshot(site / "build")
    changed = {name for name in after if after[name] != before[name]}
    # The post, the feed (its content) and the word count (a Python source that read the
    # content) change; the index and the tag pages list titles only and are not rendered.
    assert changed == {"posts/one/index.html", "feed.xml", "words/index.html"}, summary
    assert rendered_count(summary) == 3, summary
    assert b"and more words" in after["posts/one/index.html"][0]
    assert b"6 words" in after["words/index.html"][0]


def test_front_matter_edit_renders_every_page_that_lists_the_post(tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    build(site)
    (site / "content/posts/one.md").write_text(
        "---\ntitle: Renamed\ndate: 2024-01-03\ntags: [c]\n---\nfirst text\n")
    build(site)
    out = tree(site / "build")
    index = out["index.html"].decode()
    assert index.index("Renamed") < index.index("Two")  # newest first now
    assert set(out) >= {"tags/c/index.html", "tags/b/index.html"}
    assert "tags/a/index.html" in out and b"Renamed" not in out["tags/a/index.html"]
    assert b"c: Renamed" in out["tags/c/index.html"]
    # The same bytes as a clean build.
    code, _, err = run_cli("build", site, "--clean", "--output", tmp_path / "clean")
    assert code == 0, err
    assert tree(tmp_path / "clean") == out


def test_body_edit_then_new_post_then_delete(tmp_path: Path) -> None:
    """The URL list kept across builds follows added and deleted posts."""
    site = make_site(tmp_path, SITE)
    build(site)
    (site / "content/posts/one.md").write_text(
        "---\ntitle: One\ndate: 2024-01-01\ntags: [a]\n---\nedited\n")
    build(site)
    write(site / "content/posts/three.md", "---\ntitle: Three\ndate: 2024-01-05\n---\nnew\n")
    build(site)
    assert b"Three" in (site / "build/index.html").read_bytes()
    assert (site / "build/posts/three/index.html").exists()
    (site / "content/posts/two.md").unlink()
    build(site)
    out = tree(site / "build")
    assert "posts/two/index.html" not in out and "tags/b/index.html" not in out
    assert b"Two" not in out["index.html"]
    code, _, err = run_cli("build", site, "--clean", "--output", tmp_path / "clean")
    assert code == 0, err
    assert tree(tmp_path / "clean") == out


def test_serve_follows_body_and_front_matter_edits(tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    with running(site) as server:
        assert b"first text" in server.get("/posts/one/").body
        assert b"One" in server.get("/").body
        write(site / "content/posts/one.md",
              "---\ntitle: One\ndate: 2024-01-01\ntags: [a]\n---\nbody only edit\n")
        server.wait_for("/posts/one/", lambda r: b"body only edit" in r.body)
        assert b"body only edit" in server.get("/feed.xml").body
        assert b"4 words" in server.get("/words/").body
        write(site / "content/posts/one.md",
              "---\ntitle: Retitled\ndate: 2024-01-01\ntags: [z]\n---\nbody only edit\n")
        server.wait_for("/", lambda r: b"Retitled" in r.body)
        assert server.get("/tags/z/").status == 200
        assert server.get("/tags/a/").body.count(b"Retitled") == 0


def test_pages_compare_by_identity_without_reading_bodies(tmp_path: Path) -> None:
    """`posts.index(post)`, `post in posts` and `==` never read a body: an index that
    numbers its posts that way still depends on their front matter only."""
    site = make_site(tmp_path, {
        "site.toml": """
            [sources]
            posts = { glob = "content/posts/*.md", sort = "title" }
            [[routes]]
            url = "/"
            template = "index.html"
        """,
        "templates/index.html": """
            {% set posts = data.posts %}
            {% for post in posts -%}
            {{ posts.index(post) }}:{{ post.title }}:{{ post in posts }}:{{ post == posts[0] }}
            {% endfor %}
        """,
        "content/posts/a.md": "---\ntitle: A\n---\nBody of A.\n",
        "content/posts/b.md": "---\ntitle: B\n---\nBody of B.\n",
    })
    loaded = Site.load(site)
    rendered = loaded.render("/")
    assert b"0:A:True:True" in rendered.body and b"1:B:True:False" in rendered.body
    bodies = {path.name for path in rendered.dependencies if path.suffix == ".md"}
    assert bodies == set()
    assert {path.name for path in rendered.meta} == {"a.md", "b.md"}
    assert len({*loaded.sources.value("posts", Record())}) == 2  # hashable, by identity
