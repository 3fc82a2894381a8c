"""`create_app` under threaded WSGI servers: many first requests at once get the bytes the
build writes, every time.

Each round starts a cold app (nothing loaded, nothing converted) and sends every URL of a
site of posts with code blocks and tables of contents from many threads at once, then
compares each body with the built file. Before the converters were per thread, posts got
other posts' code blocks, and some requests failed with an IndexError.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import http_get, make_site, run_renderer, wsgi_server

import renderer

POSTS = 60
ROUNDS = 3
PARALLEL = 24


def threaded_site(tmp_path: Path) -> Path:
    """Posts whose HTML differs in every part Python-Markdown keeps state for: headings
    (toc), highlighted code, footnote-free tables."""
    files = {
        "site.toml": """
            [site]
            title = "Threads"
            [markdown]
            extensions = ["fenced_code", "tables", "toc", "codehilite"]
            [sources]
            posts = { glob = "content/posts/*.md", sort = "-date" }
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
            <ul>{% for post in data.posts %}
            <li><a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a></li>
            {% endfor %}</ul>
        """,
        "templates/post.html": """
            <h1>{{ page.title }}</h1><nav>{{ page.toc }}</nav>{{ page.content }}
        """,
        "templates/feed.xml": """
            <feed>{% for post in data.posts[:10] %}
            <entry>{{ post.content }}</entry>{% endfor %}</feed>
        """,
    }
    languages = ["python", "sql", "rust", "javascript"]
    for n in range(POSTS):
        language = languages[n % len(languages)]
        files[f"content/posts/post-{n:03}.md"] = f"""
            ---
            title: Post {n}
            date: 2024-01-{n % 28 + 1:02}
            ---
            ## Part {n} one

            Text of post {n}.

            ```{language}
            value_{n} = {n} * {n}  # post {n}
            ```

            ## Part {n} two

            | a | b |
            | - | - |
            | {n} | {n * 2} |
        """
    return make_site(tmp_path, files)


def built(site: Path) -> dict[str, bytes]:
    """URL -> bytes, as `renderer build` writes them."""
    code, out, err = run_renderer("build", site, "--output", site / "out")
    assert code == 0, err
    then = time.time() - 60  # a deployed site's files: old enough for pages to be kept
    for path in site.rglob("*"):
        os.utime(path, (then, then))
    pages = {"/": "index.html", "/feed.xml": "feed.xml"}
    pages.update({f"/posts/post-{n:03}/": f"posts/post-{n:03}/index.html" for n in range(POSTS)})
    return {url: (site / "out" / name).read_bytes() for url, name in pages.items()}


def fetch_all(base: str, urls: list[str]) -> dict[str, list[tuple[int, bytes]]]:
    replies: dict[str, list[tuple[int, bytes]]] = {url: [] for url in urls}
    with ThreadPoolExecutor(PARALLEL) as pool:
        for url, reply in zip(urls, pool.map(lambda u: http_get(base, u), urls), strict=True):
            replies[url].append((reply.status, reply.body))
    return replies


def wrong(expected: dict[str, bytes], replies: dict[str, list[tuple[int, bytes]]]) -> list[str]:
    return [f"{url}: {status}" for url, answers in replies.items()
            for status, body in answers if status != 200 or body != expected[url]]


def test_parallel_first_requests_under_waitress_get_the_built_bytes(tmp_path: Path) -> None:
    site = threaded_site(tmp_path)
    expected = built(site)
    urls = list(expected) * 2  # each asked twice, at once
    for _ in range(ROUNDS):
        app = renderer.create_app(site)
        with wsgi_server(app, threads=PARALLEL) as base:
            assert wrong(expected, fetch_all(base, urls)) == []
            assert wrong(expected, fetch_all(base, urls)) == []  # and what it kept


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_parallel_first_requests_under_gunicorn_gthread_get_the_built_bytes(
        tmp_path: Path) -> None:
    if sys.platform == "win32":
        pytest.skip("gunicorn does not run on Windows")
    pytest.importorskip("gunicorn", reason="gunicorn is not installed (pip install '.[test]')")
    site = threaded_site(tmp_path)
    expected = built(site)
    urls = list(expected) * 2
    for _ in range(2):  # two cold starts of the whole server
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "8", "-k", "gthread",
             "-b", f"127.0.0.1:{port}", f"renderer:create_app({str(site)!r})"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    assert server.poll() is None, server.communicate()[0]
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.05)
            assert wrong(expected, fetch_all(base, urls)) == []
            assert wrong(expected, fetch_all(base, urls)) == []
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()
