"""`renderer serve` over real HTTP: a real server process per test on a site in tmp_path.

Each test starts `renderer serve` on a free port of 127.0.0.1 (tests/serving.py), edits
the site's files the way an editor does, and waits (short polls, no fixed sleeps) for
the change to show.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import copy_example, make_site, run_renderer
from serving import (
    MARKER,
    NOT_FOUND_ROUTE,
    SITE,
    Reply,
    Server,
    running,
    strip_reload_script,
    write,
)
from werkzeug.test import Client

from renderer import create_app
from renderer.serve.devpages.reload import ReloadMiddleware, inject, reload_script, wants_script
from renderer.serve.hosts import is_loopback

SECRET = "TOP-SECRET-" + "x" * 8


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path, SITE)


@pytest.fixture(scope="module")
def quiet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that only read: a site with a 404 page, and a secret file
    beside the site folder that must never be served."""
    root = tmp_path_factory.mktemp("quiet")
    site = make_site(root, SITE)
    write(site / "site.toml", (site / "site.toml").read_text() + NOT_FOUND_ROUTE)
    write(root / "secret.txt", SECRET)
    with running(site) as server:
        yield server


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    write(path, text.replace(old, new, 1))


def is_ok(reply: Reply) -> bool:
    return reply.status == 200


def error_lines(server: Server, needle: str) -> list[str]:
    return [line for line in server.log().splitlines()
            if line.startswith("error:") and needle in line]


# -- the reload script -----------------------------------------------------------------------


def test_reload_script_goes_into_html_only_once(quiet_server: Server) -> None:
    server = quiet_server
    page = server.get("/")
    assert page.status == 200 and page.header("Content-Type").startswith("text/html")
    assert page.body.count(MARKER) == 1
    assert re.search(rb"</script></HEAD >", page.body), "not right before </head>"
    assert int(page.header("Content-Length")) == len(page.body)
    assert page.header("Cache-Control") == "no-store"

    bare = server.get("/bare/")
    assert bare.body.count(MARKER) == 1 and bare.body.rstrip().endswith(b"</script>")
    assert int(bare.header("Content-Length")) == len(bare.body)

    missing = server.get("/no/such/page/")
    assert missing.status == 404 and b"Nothing here" in missing.body
    assert missing.body.count(MARKER) == 1  # a 404 page heals too

    for path in ("/feed.xml", "/stats.json", "/css/site.css"):
        reply = server.get(path)
        assert reply.status == 200, path
        assert MARKER not in reply.body and b"livereload" not in reply.body, path
        assert b"</head>" in reply.body, path  # there was a place; still untouched

    head = server.get("/", method="HEAD")
    assert head.status == 200 and head.body == b""

    css = server.get("/css/site.css")
    etag = css.header("ETag")
    assert etag and css.header("Cache-Control") == "no-cache"
    again = server.get("/css/site.css", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""

    redirect = server.get("/about")
    assert redirect.status == 301 and redirect.header("Location").endswith("/about/")
    assert MARKER not in redirect.body

    script = server.get("/_renderer/livereload.js")
    assert script.status == 200 and b"/_renderer/livereload" in script.body
    lines = [line for line in server.log().splitlines() if line.startswith("GET /")]
    assert any(re.fullmatch(r"GET / 200 \d+ ms", line) for line in lines)


def test_inject_is_case_insensitive_once_or_appended() -> None:
    script = reload_script(3)
    assert inject(b"<html><head></HEAD><body></head>", script) == \
        b"<html><head>" + script + b"</HEAD><body></head>"
    assert inject(b"<p>x</p>", script) == b"<p>x</p>" + script
    assert strip_reload_script(inject(b"<head></head >", script)) == b"<head></head >"
    assert wants_script("GET", 200, "text/html; charset=utf-8", None)
    assert wants_script("GET", 500, "TEXT/HTML", None)
    for method, status, media_type, encoding in [
        ("HEAD", 200, "text/html", None), ("GET", 204, "text/html", None),
        ("GET", 304, "text/html", None), ("GET", 301, "text/html", None),
        ("GET", 200, "application/json", None), ("GET", 200, "application/xml", None),
        ("GET", 200, "text/css", None), ("GET", 200, "application/javascript", None),
        ("GET", 200, "application/xhtml+xml", None), ("GET", 200, "text/html", "gzip"),
    ]:
        assert not wants_script(method, status, media_type, encoding), (method, status,
                                                                        media_type)


def test_an_exception_in_the_app_is_a_page_not_a_dead_server() -> None:
    def broken(environ: object, start_response: object) -> list[bytes]:
        raise RuntimeError("renderer bug")

    client = Client(ReloadMiddleware(broken, lambda: 7))
    response = client.get("/some/page/")
    assert response.status_code == 500
    body = response.get_data()
    assert b"Internal error in renderer" in body and b"RuntimeError: renderer bug" in body
    assert b"Traceback" in body and body.count(MARKER) == 1 and b"generation:7" in body


# -- the routing preview ---------------------------------------------------------------------


def test_routing_preview_lists_rules_urls_and_problems(site: Path) -> None:
    with running(site) as server:
        preview = server.get("/_renderer/")
        assert preview.status == 200 and preview.body.count(MARKER) == 1
        text = preview.text
        for pattern in ("/posts/&lt;slug&gt;/", "/about/", "/feed.xml", "/stats.json"):
            assert pattern in text
        assert "each = posts" in text and "page = about" in text
        assert 'href="/posts/hello/"' in text and 'href="/css/site.css"' in text
        assert "None found" in text

        write(site / "content/posts/second.md", "---\ntitle: Second\n---\nTwo.\n")
        preview = server.wait_for("/_renderer/", lambda r: b'href="/posts/second/"' in r.body)

        (site / "templates/page.html").unlink()
        preview = server.wait_for("/_renderer/", lambda r: b"no template" in r.body)
        assert 'no template "page.html"' in html.unescape(preview.text)
        write(site / "templates/page.html", SITE["templates/page.html"])

        edit(site / "content/team.py", 'return ["Ada", "Grace"]',
             'raise LookupError("the team is gone")')
        preview = server.wait_for("/_renderer/", lambda r: b"the team is gone" in r.body)
        assert re.search(r"content/team.py:2</span>: LookupError: the team is gone",
                         preview.text)

        edit(site / "site.toml", 'template = "bare.html"',
             'template = "bare.html"\n\n[[routes]]\nurl = "/x/<name>/"\ntemplate = "bare.html"')
        preview = server.wait_for("/_renderer/", lambda r: b"but no" in r.body)
        assert re.search(r"site.toml:\d+</span>: routes\[6\] \(/x/<name>/\) has the "
                         r"variables \['name'\] but no \"each\"", html.unescape(preview.text))


def test_create_app_never_serves_the_dev_pages(site: Path) -> None:
    client = Client(create_app(site))
    assert client.get("/_renderer/").status_code == 404
    assert client.get("/_renderer/livereload.js").status_code == 404
    assert MARKER not in client.get("/").get_data()


# -- errors that heal ------------------------------------------------------------------------


def test_errors_show_file_and_line_then_heal(site: Path) -> None:
    with running(site) as server:
        assert server.get("/posts/hello/").status == 200

        edit(site / "templates/post.html", "<h1>{{ page.title }}</h1>",
             "<h1>{{ page.title }</h1>")
        page = server.wait_for("/posts/hello/", lambda r: r.status == 500)
        assert "Template error" in page.text and "templates/post.html:3" in page.text
        assert re.search(r'<tr class="current"><td class="number">3</td><td>&lt;h1&gt;'
                         r"{{ page.title }&lt;/h1&gt;</td></tr>", page.text)
        assert page.body.count(MARKER) == 1
        for _ in range(3):
            assert server.get("/posts/hello/").status == 500
        edit(site / "templates/post.html", "{{ page.title }</h1>", "{{ page.title }}!</h1>")
        server.wait_for("/posts/hello/", lambda r: b"Hello!</h1>" in r.body)
        assert len(error_lines(server, "templates/post.html:3")) == 1, server.log()
        assert re.search(r"^GET /posts/hello/ 500 \d+ ms$", server.log(), re.MULTILINE)

        edit(site / "content/posts/hello.md", "title: Hello", "title: [Hello")
        page = server.wait_for("/posts/hello/", lambda r: r.status == 500)
        assert "content/posts/hello.md" in page.text
        edit(site / "content/posts/hello.md", "title: [Hello", "title: Hello again")
        server.wait_for("/posts/hello/", lambda r: b"Hello again" in r.body)

        write(site / "content/nav.toml", 'title = "Home"\nbroken = \n')
        page = server.wait_for("/", lambda r: r.status == 500)
        assert "content/nav.toml:2" in page.text and "TOML" in page.text
        write(site / "content/nav.toml", 'title = "Start"\n')
        server.wait_for("/", lambda r: b"<nav>Start</nav>" in r.body)

        write(site / "content/team.py",
              "def members(data):\n    return helper()\n\n\ndef helper():\n"
              "    raise ValueError('nobody home')\n")
        page = server.wait_for("/", lambda r: r.status == 500)
        assert "Data source error" in page.text and "ValueError: nobody home" in page.text
        assert "content/team.py:6" in page.text
        frames = page.text[page.text.index("Your code"):]
        assert frames.index("content/team.py:2") < frames.index("content/team.py:6")
        assert "members" in frames and "helper" in frames
        write(site / "content/team.py", "def members(data):\n    return ['Linus']\n")
        server.wait_for("/", lambda r: b"Team: Linus" in r.body)
        server.check_alive()


def test_a_broken_site_toml_shows_on_every_url_then_heals(site: Path) -> None:
    with running(site) as server:
        assert server.get("/").status == 200
        config = (site / "site.toml").read_text()
        write(site / "site.toml", config.replace('title = "Test site"', 'title = "Test site'))
        server.wait_for("/", lambda r: r.status == 500)
        for path in ("/", "/posts/hello/", "/css/site.css", "/no/such/", "/_renderer/"):
            reply = server.get(path)
            assert reply.status == 500, path
            assert "Configuration error" in reply.text and "site.toml:2" in reply.text, path
            assert reply.body.count(MARKER) == 1, path
        assert len(error_lines(server, "site.toml:2")) == 1, server.log()
        write(site / "site.toml", config.replace('title = "Test site"', 'title = "Healed"'))
        server.wait_for("/", lambda r: b"<title>Healed</title>" in r.body)
        assert server.get("/css/site.css").status == 200
        assert server.get("/no/such/").status == 404


def test_serve_starts_with_a_broken_site_toml_and_heals(site: Path) -> None:
    config = (site / "site.toml").read_text()
    write(site / "site.toml", config.replace("[[routes]]", "[[routes]\n", 1))
    with running(site) as server:
        assert server.get("/").status == 500
        write(site / "site.toml", config)
        server.wait_for("/", is_ok)
        server.wait_for("/posts/hello/", is_ok)  # the watchers follow the healed config


# -- new files, data and Python without a restart ----------------------------------------------


def test_new_and_deleted_markdown_files(site: Path) -> None:
    with running(site) as server:
        assert server.get("/posts/fresh/").status == 404
        write(site / "content/posts/fresh.md", "---\ntitle: Fresh\n---\nJust made.\n")
        page = server.wait_for("/posts/fresh/", is_ok)
        assert "Just made." in page.text
        assert 'href="/posts/fresh/"' in server.get("/").text
        (site / "content/posts/fresh.md").unlink()
        server.wait_for("/posts/fresh/", lambda r: r.status == 404)

        # an editor's atomic save: a temporary file renamed over the original
        temporary = site / "content/posts/.hello.md.tmp"
        write(temporary, "---\ntitle: Renamed in\n---\nAtomic.\n")
        temporary.replace(site / "content/posts/hello.md")
        server.wait_for("/posts/hello/", lambda r: b"Renamed in" in r.body)

        # a folder moved in at once
        shutil.copytree(site / "content/posts", site / "staging")
        write(site / "staging/moved.md", "---\ntitle: Moved\n---\nMoved in.\n")
        shutil.rmtree(site / "content/posts")
        (site / "staging").rename(site / "content/posts")
        server.wait_for("/posts/moved/", is_ok)


def test_data_and_python_edits_need_no_restart(site: Path) -> None:
    with running(site) as server:
        pid = server.process.pid
        assert "Visitors: 12" in server.get("/").text
        write(site / "content/stats.json", '{"visitors": 13}')
        server.wait_for("/", lambda r: b"Visitors: 13" in r.body)
        write(site / "content/nav.toml", 'title = "Main"\n')
        server.wait_for("/", lambda r: b"<nav>Main</nav>" in r.body)
        edit(site / "content/team.py", '["Ada", "Grace"]', '["Ada", "Grace", "Barbara"]')
        server.wait_for("/", lambda r: b"Barbara" in r.body)
        write(site / "content/helpers.py", "")  # not a source: changes nothing, breaks nothing
        assert server.process.pid == pid and server.process.poll() is None
        assert len(re.findall(r"^serving ", server.log(), re.MULTILINE)) == 1


def test_a_page_rendered_before_a_change_is_reloaded_when_it_connects(site: Path) -> None:
    from tornado.websocket import websocket_connect

    with running(site) as server:
        def generation(page: Reply) -> int:
            found = re.search(rb"generation:(\d+)", page.body)
            assert found is not None, page.text[:500]
            return int(found.group(1))

        old = generation(server.get("/"))
        write(site / "content/stats.json", '{"visitors": 99}')
        # Until the server has applied the change (dropped the caches, then counted a
        # generation), a request may already see the new data at the old generation: that
        # page is reloaded once when it connects, which the lines below show.
        page = server.wait_for("/", lambda r: b"Visitors: 99" in r.body
                               and generation(r) != old)
        new = generation(page)
        assert new > old

        async def hello(generation: int) -> dict[str, object] | None:
            url = f"ws://127.0.0.1:{server.port}/_renderer/livereload"
            socket = await websocket_connect(url)
            try:
                socket.write_message(json.dumps({"command": "hello", "protocols": [
                    "http://livereload.com/protocols/official-7"]}))
                assert json.loads(await socket.read_message())["command"] == "hello"
                socket.write_message(json.dumps({"command": "info", "url": server.base,
                                                 "plugins": {"renderer": {
                                                     "generation": generation}}}))
                try:
                    reply = await asyncio.wait_for(socket.read_message(), 0.5)
                except TimeoutError:
                    return None
                return json.loads(reply) if reply else None
            finally:
                socket.close()

        assert asyncio.run(hello(old)) == {"command": "reload", "path": "*", "liveCSS": False,
                                           "liveImg": False}
        assert asyncio.run(hello(new)) is None


# -- security ----------------------------------------------------------------------------------


def test_binds_loopback_and_checks_the_host(quiet_server: Server) -> None:
    server = quiet_server
    assert server.base.startswith("http://127.0.0.1:")
    listening = listening_addresses(server.port)
    if listening is not None:
        assert listening == {"127.0.0.1"}, listening
    assert server.raw("/", {"Host": f"localhost:{server.port}"}).status == 200
    rebound = server.raw("/", {"Host": f"attacker.example:{server.port}"})
    assert rebound.status == 400 and b"Test site" not in rebound.body


def listening_addresses(port: int) -> set[str] | None:
    """The local addresses of sockets listening on `port`, from /proc (Linux only)."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            return None
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                if len(address) == 8:
                    found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add("ipv6:" + address)
    return found


def test_is_loopback() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "app.localhost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "", "192.168.1.20", "10.0.0.1"):
        assert not is_loopback(host), host


TRAVERSALS = [
    "/../secret.txt", "/../../secret.txt", "/css/../../secret.txt",
    "/%2e%2e/secret.txt", "/%2E%2E/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt",
    "/css/%2e%2e%2f%2e%2e%2fsecret.txt", "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt",
    "/..%5csecret.txt", "/..\\secret.txt", "/css\\..\\..\\secret.txt", "/%5c..%5csecret.txt",
    "/..%c0%afsecret.txt", "/%2fsecret.txt", "//secret.txt", "/.%2e/secret.txt",
    "/site.toml", "/templates/base.html", "/content/about.md", "/content/team.py",
    "/static/css/site.css", "/_renderer/../secret.txt", "/_renderer/%2e%2e/secret.txt",
    "/..%00/secret.txt",
]


def test_no_file_outside_the_static_folder_and_routes_is_served(quiet_server: Server) -> None:
    server = quiet_server
    for path in TRAVERSALS:
        reply = server.raw(path)
        assert reply.status in (400, 404), (path, reply.status)
        assert SECRET.encode() not in reply.body, path
        assert b"[sources]" not in reply.body and b"def members" not in reply.body, path
    assert server.get("/css/site.css").status == 200
    server.check_alive()


# -- parity with build -------------------------------------------------------------------------


def test_served_bytes_equal_built_bytes(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    output = tmp_path / "out"
    result = run_renderer("build", site, "--output", output)
    assert result.code == 0, result.stderr
    files = sorted(p for p in output.rglob("*") if p.is_file())
    assert len(files) > 5
    with running(site, "--no-drafts") as server:
        base = re.search(r"at http://[^/\s]+(/\S*)", server.log()).group(1)
        for file in files:
            relative = file.relative_to(output).as_posix()
            url = base + (relative[:-len("index.html")] if relative.endswith("index.html")
                          else relative)
            reply = server.get(url)
            assert reply.status == 200, url
            served = strip_reload_script(reply.body)
            assert MARKER not in served, url
            assert served == file.read_bytes(), f"{url} differs from {relative}"


def test_a_port_in_use_is_one_line_naming_another(site: Path) -> None:
    """Another program on the port: exit 1 with one line that says how to pick another
    port, not a traceback."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_renderer("serve", site, "--port", str(port), timeout=30)
    assert result.code == 1, result
    assert f"cannot listen on 127.0.0.1 port {port}" in result.stderr
    assert f"--port {port + 1} picks another" in result.stderr
    assert "Traceback" not in result.stderr
