"""What `renderer.create_app` serves under a real WSGI server equals what `build` writes.

waitress runs the public WSGI app on 127.0.0.1; every URL of the site is fetched over HTTP
and compared byte for byte with the built file. The 404 page is the body of every 404 and
a folder asked for without its slash is redirected, as a static host does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import copy_example, http_get, make_site, run_cli, tree, wsgi_server
from werkzeug.test import Client

import renderer
from renderer.site import Site

ROOT_SITE = {
    "site.toml": """\
        [site]
        title = "Root"

        [sources]
        posts = "content/posts/*.md"

        [[routes]]
        url = "/"
        template = "index.html"

        [[routes]]
        url = "/posts/<slug>/"
        template = "post.html"
        each = "posts"

        [[routes]]
        url = "/data/<slug>.json"
        template = "post.json"
        each = "posts"

        [[routes]]
        url = "/404.html"
        template = "404.html"
        """,
    "templates/index.html": "{% for p in data.posts %}<a href=\"{{ url_for('post', slug=p.slug)"
                            " }}\">{{ p.title }}</a>\n{% endfor %}",
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n",
    "templates/post.json": '{"title": {{ page.title | tojson }}, "url": "{{ url }}"}\n',
    "templates/404.html": "<h1>Nothing at all</h1>\n",
    "content/posts/a.md": "---\ntitle: A & B\n---\nPost *A*.\n",
    "content/posts/b-c.md": "---\ntitle: Ünïcode\n---\nPost *B*.\n",
    "static/img/pixel.gif": "GIF89a",
    "static/file with space.txt": "spaced\n",
}


Served = tuple[Path, dict[str, bytes], str]  # the site, its built files, the server's URL


def build(site: Path, out: Path) -> dict[str, bytes]:
    code, _, stderr = run_cli("build", site, "--output", out, "--strict")
    assert code == 0, stderr
    return tree(out)


def check_parity(site: Path, built: dict[str, bytes], base: str, base_path: str) -> None:
    loaded = Site.load(site)
    urls = loaded.urls()
    assert len(urls) == len(built)
    assert sorted(loaded.targets()) == sorted(built)
    for output, target in loaded.targets().items():
        path = base_path + target.url.lstrip("/")
        response = http_get(base, path)
        assert response.status == 200, (path, response.status, response.body[:200])
        assert response.body == built[output], f"{path} differs from {output}"
        if output.endswith(".html"):
            assert response.headers["content-type"].startswith("text/html")


@pytest.fixture(scope="module")
def blog_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("parity")
    blog = copy_example(tmp)
    built = build(blog, tmp / "out")
    with wsgi_server(renderer.create_app(blog)) as base:
        yield blog, built, base


def test_every_url_of_the_example_is_served_as_built(blog_served: Served) -> None:
    blog, built, base = blog_served
    check_parity(blog, built, base, "/blog/")
    feed = http_get(base, "/blog/feed.xml")
    assert feed.headers["content-type"].split(";")[0] in ("application/xml", "text/xml")
    assert http_get(base, "/blog/css/site.css").headers["content-type"].startswith("text/css")


def test_404_is_the_404_page(blog_served: Served) -> None:
    _, built, base = blog_served
    for path in ("/blog/nowhere/", "/blog/posts/nowhere/", "/blog/nothing.xml",
                 "/blog/posts/secret/",  # a draft: not served by the production app
                 "/elsewhere/", "/blog/archive/1999/", "/blog/../etc/passwd"):
        response = http_get(base, path)
        assert response.status == 404, path
        assert response.body == built["404.html"], path


def test_folder_without_slash_redirects(blog_served: Served) -> None:
    _, _, base = blog_served
    for path, location in (("/blog/about", "/blog/about/"),
                           ("/blog/posts/first-steps", "/blog/posts/first-steps/"),
                           ("/blog/tags/intro?x=1", "/blog/tags/intro/?x=1"),
                           ("/", "/blog/"), ("/blog", "/blog/")):
        response = http_get(base, path)
        assert response.status in (301, 308), (path, response.status)
        assert response.headers["location"].endswith(location), (path, response.headers)


def test_head_and_conditional_get(blog_served: Served) -> None:
    _, built, base = blog_served
    head = http_get(base, "/blog/", method="HEAD")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["content-length"]) == len(built["index.html"])
    etag = http_get(base, "/blog/").headers.get("etag")
    if etag:
        again = http_get(base, "/blog/", headers={"If-None-Match": etag})
        assert again.status == 304


def test_parity_at_the_root_without_base_url(tmp_path: Path) -> None:
    site = make_site(tmp_path, ROOT_SITE)
    built = build(site, tmp_path / "out")
    assert "data/a.json" in built and "file with space.txt" in built
    with wsgi_server(renderer.create_app(site)) as base:
        check_parity(site, built, base, "/")
        missing = http_get(base, "/posts/zzz/")
        assert (missing.status, missing.body) == (404, built["404.html"])
        redirect = http_get(base, "/posts/a")
        assert redirect.status == 301
        assert redirect.headers["location"].endswith("/posts/a/")
        assert http_get(base, "/file%20with%20space.txt").body == b"spaced\n"
        assert http_get(base, "/data/a.json").headers["content-type"].startswith(
            "application/json")


def test_a_dot_in_a_value_does_not_make_a_rule_write_bare_files(tmp_path: Path) -> None:
    """Only a literal extension in the rule makes files: `/<year>/<name>` for "dask-2.0"
    is a folder like every other name of that rule, in build and in create_app."""
    site = make_site(tmp_path, {
        "site.toml": """
            [sources]
            releases = "content/releases.json"
            [[routes]]
            url = "/<int:year>/<name>"
            template = "release.html"
            each = "releases"
            name = "release"
            [[routes]]
            url = "/notes/<name>.txt"
            template = "note.txt"
            each = "releases"
        """,
        "content/releases.json": """
            [{"year": 2019, "name": "dask-2.0"}, {"year": 2020, "name": "hello"}]
        """,
        "templates/release.html": "<p>{{ name }}</p>\n",
        "templates/note.txt": "{{ name }}\n",
    })
    code, _, err = run_cli("build", site)
    assert code == 0, err
    out = site / "build"
    assert (out / "2019/dask-2.0/index.html").read_text() == "<p>dask-2.0</p>\n"
    assert (out / "2020/hello/index.html").is_file()
    assert (out / "notes/dask-2.0.txt").read_text() == "dask-2.0\n"
    client = Client(renderer.create_app(site))
    reply = client.get("/2019/dask-2.0")
    assert reply.status_code == 301 and reply.headers["Location"].endswith("/2019/dask-2.0/")
    reply = client.get("/2019/dask-2.0/")
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    assert reply.data == (out / "2019/dask-2.0/index.html").read_bytes()
    assert client.get("/notes/dask-2.0.txt").data == b"dask-2.0\n"
