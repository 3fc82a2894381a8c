"""`create_app` answers a page it rendered from memory until a file it was made from
changes, as a static server would, and never answers a stale page after the change.

The site's `context` function appends a line to a log file each time the post page
renders, so the tests can count renders. Files are dated a minute back, as a deployed
site's are: a file changed in the last two seconds may have changed during the render,
and such a page is answered but not kept.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from conftest import http_get, make_site, wsgi_server
from werkzeug.test import Client

import renderer

SITE = {
    "site.toml": """
        [site]
        title = "Kept"
        [sources]
        posts = { glob = "content/posts/*.md", sort = "title" }
        [[routes]]
        url = "/"
        template = "index.html"
        [[routes]]
        url = "/posts/<slug>/"
        template = "post.html"
        each = "posts"
        context = "content/count.py:count"
    """,
    "content/count.py": """
        from pathlib import Path

        def count(slug):
            with open(Path(__file__).parent.parent / "renders.log", "a") as log:
                log.write(slug + "\\n")
            return {}
    """,
    "content/posts/one.md": "---\ntitle: One\n---\nThe first text.\n",
    "content/posts/two.md": "---\ntitle: Two\n---\nThe second text.\n",
    "templates/index.html": "{% for p in data.posts %}[{{ p.title }}]{% endfor %}\n",
    "templates/post.html": "<h1>{{ page.title }}</h1>{{ page.content }}\n",
    "static/site.css": "body { color: black }\n",
}


def age(root: Path, seconds: float = 60) -> None:
    """Date every file of the site `seconds` back."""
    then = time.time() - seconds
    for path in root.rglob("*"):
        os.utime(path, (then, then))


def renders(root: Path) -> list[str]:
    log = root / "renders.log"
    return log.read_text().split() if log.exists() else []


def test_a_page_is_rendered_once_then_answered_from_memory(tmp_path: Path) -> None:
    root = make_site(tmp_path, SITE)
    age(root)
    client = Client(renderer.create_app(root, check_interval=0))
    for _ in range(5):
        reply = client.get("/posts/one/")
        assert reply.status_code == 200
        assert b"The first text." in reply.data
    assert renders(root) == ["one"]


def test_an_edit_is_seen_on_the_next_check(tmp_path: Path) -> None:
    root = make_site(tmp_path, SITE)
    age(root)
    client = Client(renderer.create_app(root, check_interval=0))
    assert b"The first text." in client.get("/posts/one/").data
    assert client.get("/").data == b"[One][Two]\n"
    post = root / "content/posts/one.md"
    post.write_text("---\ntitle: Uno\n---\nThe new text, longer.\n")
    assert b"The new text, longer." in client.get("/posts/one/").data
    assert client.get("/").data == b"[Two][Uno]\n"
    (root / "content/posts/three.md").write_text("---\ntitle: Three\n---\nA new post.\n")
    assert client.get("/").data == b"[Three][Two][Uno]\n"
    assert client.get("/posts/three/").status_code == 200
    (root / "static/new.css").write_text("p {}\n")
    assert client.get("/new.css").data == b"p {}\n"


def test_a_same_size_edit_of_a_template_is_seen(tmp_path: Path) -> None:
    root = make_site(tmp_path, SITE)
    age(root)
    client = Client(renderer.create_app(root, check_interval=0))
    assert client.get("/posts/two/").data.startswith(b"<h1>Two</h1>")
    (root / "templates/post.html").write_text("<h2>{{ page.title }}</h2>{{ page.content }}\n")
    assert client.get("/posts/two/").data.startswith(b"<h2>Two</h2>")


def test_site_toml_edits_and_errors_are_seen_without_a_restart(tmp_path: Path) -> None:
    root = make_site(tmp_path, SITE)
    age(root)
    client = Client(renderer.create_app(root, check_interval=0))
    assert client.get("/").status_code == 200
    config = root / "site.toml"
    good = config.read_text()
    config.write_text(good + "[[routes]\n")
    assert client.get("/").status_code == 500
    config.write_text(good.replace('title = "Kept"', 'title = "Kept again"'))
    assert client.get("/").status_code == 200


def test_a_page_made_from_a_file_changed_just_now_is_not_kept(tmp_path: Path) -> None:
    root = make_site(tmp_path, SITE)  # every file new: it may change while rendering
    client = Client(renderer.create_app(root, check_interval=0))
    client.get("/posts/one/")
    client.get("/posts/one/")
    assert renders(root) == ["one", "one"]
    age(root)
    client.get("/posts/one/")
    client.get("/posts/one/")
    assert renders(root) == ["one", "one", "one"]


def test_a_kept_page_answers_like_a_rendered_one(tmp_path: Path) -> None:
    """Same status, headers and bytes; HEAD without a body; 304 for its ETag."""
    root = make_site(tmp_path, SITE)
    age(root)
    client = Client(renderer.create_app(root, check_interval=0))
    first = client.get("/posts/one/")
    again = client.get("/posts/one/")
    assert renders(root) == ["one"]
    assert (again.status_code, again.data) == (first.status_code, first.data)
    assert sorted(again.headers.items()) == sorted(first.headers.items())
    head = client.head("/posts/one/")
    assert head.data == b"" and head.headers["Content-Length"] == str(len(first.data))
    etag = first.headers["ETag"]
    assert client.get("/posts/one/", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/posts/one/", headers={"If-None-Match": '"other"'}).status_code == 200


def test_kept_pages_under_a_threaded_server_with_the_default_interval(tmp_path: Path) -> None:
    root = make_site(tmp_path, SITE)
    age(root)
    with wsgi_server(renderer.create_app(root), threads=4) as base:
        for _ in range(3):
            assert b"The first text." in http_get(base, "/posts/one/").body
        assert renders(root) == ["one"]
        (root / "content/posts/one.md").write_text("---\ntitle: One\n---\nEdited.\n")
        deadline = time.monotonic() + 5
        while b"Edited." not in http_get(base, "/posts/one/").body:
            assert time.monotonic() < deadline, "the edit was never seen"
            time.sleep(0.1)
