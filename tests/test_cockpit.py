"""The cockpit of `renderer serve` over HTTP: the background check, its status for the
badge, and the inspector (the browser's side is in test_cockpit_browser.py).

A real `renderer serve` process on real files; the check is waited for through
/_renderer/status.json, as the badge waits for it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest
from conftest import make_site, run_renderer
from serving import NOT_FOUND_ROUTE, SITE, Reply, Server, running, strip_reload_script, write
from werkzeug.test import Client

from renderer import create_app

FAILING_POST = "---\ntitle: Doomed\nfail: true\n---\nNobody opens this post.\n"
HOSTILE = "<script>alert(1)</script>"
TIMES = re.compile(r'<span class="times">(\d+)</span>')


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = make_site(tmp_path, SITE)
    write(site / "site.toml", (site / "site.toml").read_text() + NOT_FOUND_ROUTE)
    post = site / "templates/post.html"
    write(post, post.read_text().replace(
        "{{ page.content }}", "{{ page.content }}\n{% if page.fail %}{{ url_for('nowhere') }}"
        "{% endif %}"))
    return site


def status(reply: Reply) -> dict[str, object]:
    assert reply.status == 200 and reply.header("Content-Type") == "application/json"
    assert reply.header("Cache-Control") in ("no-store", "no-cache")  # never kept unasked
    found = json.loads(reply.body)
    assert isinstance(found, dict)
    return found


def checked(server: Server, problems: int) -> dict[str, object]:
    """The status once the check went through every page and found `problems`."""
    reply = server.wait_for("/_renderer/status.json", lambda r: (
        (s := status(r))["running"] is False and s["checked"] == s["total"]
        and s["problems"] == problems), timeout=15)
    return status(reply)


def test_the_check_finds_what_nobody_opened_and_forgets_it_once_fixed(site: Path) -> None:
    with running(site) as server:
        first = checked(server, 0)
        assert first["total"] == 7 and first["started"] is True  # every page of every rule

        write(site / "content/posts/doomed.md", FAILING_POST)
        hello = site / "content/posts/hello.md"
        write(hello, hello.read_text() + "\nSee [the lost page](/lost/).\n")
        found = checked(server, 2)
        assert (found["failing"], found["broken_links"], found["total"]) == (1, 1, 8)

        preview = server.get("/_renderer/").text
        assert "2 of" not in preview and "8 of 8 pages checked" in preview
        line = next(n for n, text in enumerate((site / "templates/post.html").read_text()
                                               .splitlines(), 1) if "nowhere" in text)
        assert f"templates/post.html:{line}" in preview
        assert 'href="/_renderer/inspect?url=/posts/doomed/"' in preview
        link_line = hello.read_text().splitlines().index("See [the lost page](/lost/).") + 1
        assert f"content/posts/hello.md:{link_line}: link to /lost/ (/lost/)" in preview
        assert 'href="/_renderer/inspect?url=/posts/hello/"' in preview

        write(site / "content/posts/doomed.md", FAILING_POST.replace("fail: true", "fail: false"))
        write(hello, hello.read_text().replace("(/lost/)", "(/about/)"))
        checked(server, 0)
        preview = server.get("/_renderer/").text
        assert "link to /lost/" not in preview and "No page fails" in preview
        server.check_alive()


def times(reply: Reply) -> int:
    """How often the check rendered the page an inspector's reply is about (0: never)."""
    found = TIMES.search(reply.text)
    return int(found.group(1)) if found else 0


def renders(server: Server) -> dict[str, int]:
    """How often the check rendered each page, as the inspector says."""
    urls = ("/", "/posts/hello/", "/about/", "/stats.json", "/feed.xml", "/bare/", "/404.html")
    return {url: times(server.get(f"/_renderer/inspect?url={url}")) for url in urls}


def test_an_edit_checks_again_only_the_pages_it_touched(site: Path) -> None:
    hello = site / "content/posts/hello.md"
    with running(site) as server:  # asked through status.json, which renders nothing:
        assert checked(server, 0)["renders"] == 7  # the check waits while requests render
        before = renders(server)
        assert set(before.values()) == {1}
        write(hello, hello.read_text() + "\nA new last line.\n")  # the body: one page read it
        server.wait_for("/_renderer/status.json", lambda r: status(r)["renders"] > 7)
        done = checked(server, 0)["renders"]
        after = renders(server)
        assert {url for url in after if after[url] > before[url]} == {"/posts/hello/"}

        write(hello, hello.read_text().replace("title: Hello", "title: Hi"))  # its title too
        server.wait_for("/_renderer/status.json", lambda r: status(r)["renders"] > done)
        checked(server, 0)
        again = renders(server)
        assert {url for url in again if again[url] > after[url]} \
            == {"/posts/hello/", "/", "/stats.json"}  # what lists the posts; not /about/


GATE = """
import pathlib
import time


def hold():
    here = pathlib.Path(__file__).parent
    (here / "entered").write_text("yes")
    deadline = time.monotonic() + 30
    while not (here / "open").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return {}
"""


def test_the_check_waits_while_a_request_renders(site: Path) -> None:
    config = (site / "site.toml").read_text()
    write(site / "site.toml", config + '[[routes]]\nurl = "/slow/"\ntemplate = "bare.html"\n'
                                       'context = "gate/gate.py:hold"\n')
    write(site / "gate/gate.py", GATE)
    write(site / "gate/open", "")
    with running(site) as server:
        assert checked(server, 0)["renders"] == 8
        (site / "gate/open").unlink()
        (site / "gate/entered").unlink()
        answer: list[Reply] = []
        request = threading.Thread(target=lambda: answer.append(server.get("/slow/")))
        request.start()
        try:
            deadline = time.monotonic() + 10
            while not (site / "gate/entered").exists() and time.monotonic() < deadline:
                time.sleep(0.01)  # the request is rendering now, held at the gate
            base = site / "templates/base.html"
            write(base, base.read_text() + "\n")  # the check has 4 pages to render again
            server.wait_for("/_renderer/status.json", lambda r: status(r)["running"] is True)
            time.sleep(1.5)  # its start (0.5 s after the edit), and then some
            held = status(server.get("/_renderer/status.json"))
            assert held["renders"] == 8 and held["running"] is True  # it waits its turn
        finally:
            write(site / "gate/open", "")
            request.join(timeout=15)
        assert answer and answer[0].status == 200
        assert checked(server, 0)["renders"] == 12


def test_a_broken_site_toml_is_one_problem_and_the_check_starts_again(site: Path) -> None:
    with running(site) as server:
        checked(server, 0)
        config = (site / "site.toml").read_text()
        write(site / "site.toml", config.replace("[sources]", "[sources", 1))
        found = checked(server, 1)
        assert found["site_error"] is True and found["total"] == 0
        write(site / "site.toml", config)
        assert checked(server, 0)["total"] == 7


def test_the_badge_is_in_served_pages_only(site: Path, tmp_path: Path) -> None:
    with running(site) as server:
        page = server.get("/posts/hello/")
        assert page.status == 200 and b"data-renderer-badge" in page.body
        assert b"/_renderer/status.json" in page.body
        served = strip_reload_script(page.body)
        assert b"renderer-badge" not in served and b"status.json" not in served
        assert b"data-renderer-badge" not in server.get("/css/site.css").body
        assert b"data-renderer-badge" not in server.get("/stats.json").body
    output = tmp_path / "out"
    assert run_renderer("build", site, "--output", output).code == 0
    built = (output / "posts/hello/index.html").read_bytes()
    assert built == served
    assert b"renderer-badge" not in b"".join(p.read_bytes() for p in output.rglob("*")
                                              if p.is_file())
    production = Client(create_app(site))
    assert b"renderer-badge" not in production.get("/posts/hello/").data
    assert production.get("/_renderer/status.json").status_code == 404


def test_the_inspector_shows_rule_templates_files_and_time(site: Path) -> None:
    write(site / "templates/partials/footer.html", "<footer>{{ site.title }}</footer>\n")
    base = site / "templates/base.html"
    write(base, base.read_text().replace("</body>", '{% include "partials/footer.html" %}</body>'))
    with running(site) as server:
        checked(server, 0)
        page = server.get("/_renderer/inspect?url=/posts/hello/")
        assert page.status == 200
        text = page.text
        route_line = next(n for n, line in enumerate((site / "site.toml").read_text()
                                                     .splitlines(), 1)
                          if line == 'url = "/posts/<slug>/"')
        assert f"site.toml:{route_line}" in text and "/posts/&lt;slug&gt;/" in text
        assert "post.html" in text and "extended by post.html" in text
        assert "partials/footer.html" in text and "included by base.html" in text
        assert 'href="/_renderer/inspect?file=content/posts/hello.md"' in text
        assert "content/nav.toml" in text and "Rendered now in" in text

        index = server.get("/_renderer/inspect?file=content/posts/hello.md").text
        assert 'href="/_renderer/inspect?url=/posts/hello/"' in index
        assert "front matter only" in index  # the index lists its title
        assert 'href="/_renderer/inspect?url=/feed.xml"' not in index
        footer = server.get("/_renderer/inspect?file=templates/partials/footer.html").text
        listed = {url for url in ("/", "/posts/hello/", "/about/", "/404.html", "/bare/")
                  if f'href="/_renderer/inspect?url={url}"' in footer}
        assert listed == {"/", "/posts/hello/", "/about/", "/404.html"}  # base.html's pages

        write(site / "content/posts/doomed.md", FAILING_POST)
        checked(server, 1)
        doomed = server.get("/_renderer/inspect?url=/posts/doomed/").text
        assert "Template error" in doomed and "templates/post.html:" in doomed
        error_page = server.get("/posts/doomed/")
        assert error_page.status == 500
        assert 'href="/_renderer/inspect?url=/posts/doomed/"' in error_page.text


def test_the_inspector_escapes_names_urls_and_files(site: Path) -> None:
    hostile_file = f"content/{HOSTILE.replace('/', '_')}.toml"
    config = (site / "site.toml").read_text()
    write(site / "site.toml", config.replace(
        "[sources]\n", f"[sources]\nevil = '{hostile_file}'\n", 1))
    write(site / hostile_file, f'name = "{HOSTILE}"\n')
    index = site / "templates/index.html"
    write(index, index.read_text().replace("<ul>", "<ul>{{ data.evil.name }}"))
    with running(site) as server:
        checked(server, 0)
        for path in ("/_renderer/inspect?url=/", f"/_renderer/inspect?url=/{HOSTILE}/",
                     f"/_renderer/inspect?file={HOSTILE}",
                     f"/_renderer/inspect?file={hostile_file}",
                     f"/_renderer/inspect?url=/%00{HOSTILE}"):
            reply = server.get(path.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20"))
            assert reply.status == 200, path
            body = strip_reload_script(reply.body).decode()
            assert "<script>alert" not in body and "&lt;script&gt;alert(1)" in body, path
        listed = server.get("/_renderer/inspect?url=/").text
        assert "?file=content/%3Cscript%3Ealert%281%29%3C_script%3E.toml" in listed
