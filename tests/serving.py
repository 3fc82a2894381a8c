"""A real `renderer serve` process for tests: started on a free port of 127.0.0.1, asked
over HTTP, and always stopped.

    with running(site) as server:
        reply = server.get("/")
        server.wait_for("/", lambda r: b"new text" in r.body)

The server is started with `--port 0`; the port the OS gave it is read from its first
log line, so no two tests can race for a port.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from renderer.serve.devpages.reload import MARKER, strip_reload_script

STARTUP_TIMEOUT = 15.0
CHANGE_TIMEOUT = 5.0
POLL = 0.01
SERVING = re.compile(r"serving .* at (http://[^/\s]+)")

__all__ = ["MARKER", "NOT_FOUND_ROUTE", "SITE", "Reply", "Server", "running",
           "strip_reload_script", "write"]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass
class Server:
    """A running `renderer serve`: its process, base URL and log."""

    process: subprocess.Popen[bytes]
    log_path: Path
    base: str = ""
    requests: int = field(default=0)

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str, *, method: str = "GET",
            headers: dict[str, str] | None = None) -> Reply:
        """One request with urllib; errors and redirects are replies like any other."""
        request = urllib.request.Request(self.base + path, method=method,
                                         headers=headers or {})
        try:
            with _opener.open(request, timeout=10) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.headers, error.read())

    def raw(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        """A request whose path is sent byte for byte as given (no client-side cleaning)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest("GET", path, skip_accept_encoding=True,
                                  skip_host="Host" in (headers or {}))
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def wait_for(self, path: str, condition: Callable[[Reply], bool], *,
                 timeout: float = CHANGE_TIMEOUT) -> Reply:
        """Ask for `path` until `condition` holds (a change was picked up)."""
        deadline = time.monotonic() + timeout
        while True:
            reply = self.get(path)
            if condition(reply):
                return reply
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} did not change as expected in {timeout} s; "
                                     f"last reply {reply.status}:\n{reply.text[:2000]}\n"
                                     f"server log:\n{self.log()}")
            self.check_alive()
            time.sleep(POLL)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"renderer serve died (exit {self.process.returncode}):\n"
                                 f"{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextmanager
def running(site: Path, *args: str, cwd: Path | None = None) -> Iterator[Server]:
    """`renderer serve SITE --port 0 ARGS` for the duration of the block; always stopped."""
    log_path = site.parent / f"serve-{site.name}-{time.monotonic_ns()}.log"
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NO_COLOR="1", PYTHONUNBUFFERED="1")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "renderer", "serve", str(site), "--port", "0", *args],
            stdout=log, stderr=subprocess.STDOUT, cwd=cwd or site, env=env)
    server = Server(process, log_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.base:
            found = SERVING.search(server.log())
            if found:
                server.base = found.group(1)
                break
            server.check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"renderer serve did not start:\n{server.log()}")
            time.sleep(POLL)
        yield server
    finally:
        server.stop()


def write(path: Path, text: str) -> None:
    """Write a file of the site as an editor would (the parent made if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# A small site with every kind of input: templates with inheritance, a Markdown collection
# and page, TOML and JSON data, a Python source, a static file; HTML, XML and JSON URLs.
SITE = {
    "site.toml": """
        [site]
        title = "Test site"

        [sources]
        posts = "content/posts/*.md"
        about = "content/about.md"
        nav = "content/nav.toml"
        stats = "content/stats.json"
        team = "content/team.py:members"

        [[routes]]
        url = "/"
        template = "index.html"

        [[routes]]
        url = "/posts/<slug>/"
        template = "post.html"
        each = "posts"

        [[routes]]
        url = "/about/"
        template = "page.html"
        page = "about"

        [[routes]]
        url = "/feed.xml"
        template = "feed.xml"

        [[routes]]
        url = "/stats.json"
        template = "stats.json"

        [[routes]]
        url = "/bare/"
        template = "bare.html"
        """,
    "templates/base.html": """
        <!doctype html>
        <html><HEAD><title>{% block title %}{{ site.title }}{% endblock %}</title>
        <link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}">
        </HEAD >
        <body><nav>{{ data.nav.title }}</nav>
        {% block main %}{% endblock %}
        </body></html>
        """,
    "templates/index.html": """
        {% extends "base.html" %}
        {% block main %}
        <ul>{% for post in data.posts %}
        <li><a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a></li>
        {% endfor %}</ul>
        <p>Team: {% for member in data.team %}{{ member }} {% endfor %}</p>
        <p>Visitors: {{ data.stats.visitors }}</p>
        {% endblock %}
        """,
    "templates/post.html": """
        {% extends "base.html" %}
        {% block main %}
        <h1>{{ page.title }}</h1>
        {{ page.content }}
        {% endblock %}
        """,
    "templates/page.html": """
        {% extends "base.html" %}
        {% block main %}<article>{{ page.content }}</article>{% endblock %}
        """,
    "templates/feed.xml": """
        <?xml version="1.0" encoding="utf-8"?>
        <feed><head></head><title>{{ site.title }}</title></feed>
        """,
    "templates/stats.json": """
        {"posts": {{ data.posts|length }}, "note": "</head>"}
        """,
    "templates/bare.html": """
        <p>A bare page</p>
        """,
    "templates/404.html": """
        {% extends "base.html" %}
        {% block main %}<h1>Nothing here</h1>{% endblock %}
        """,
    "content/posts/hello.md": """
        ---
        title: Hello
        ---
        Hello, *world*.
        """,
    "content/about.md": """
        ---
        title: About
        ---
        About this site.
        """,
    "content/nav.toml": """
        title = "Home"
        """,
    "content/stats.json": """
        {"visitors": 12}
        """,
    "content/team.py": """
        def members(data):
            return ["Ada", "Grace"]
        """,
    "static/css/site.css": """
        body { color: #222; } /* </head> */
        """,
}

NOT_FOUND_ROUTE = """
[[routes]]
url = "/404.html"
template = "404.html"
name = "not_found"
"""
