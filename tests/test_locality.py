"""A problem stays where it is: a broken rule, source, page or template fails the URLs that
need it, and every other page and every static file still answers, in `renderer serve`
(a real process) and in `create_app` (under waitress, many threads). `/_renderer/`
always answers, with each problem at its rule and true counts.

The broken site below has four problems at once, each of which used to make every URL
answer 500: an `each` function that raises, a post with a YAML error, a rule with
variables but no `each`, and a rule whose template does not exist.
"""

from __future__ import annotations

import html
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import Response, http_get, make_site, run_cli, wsgi_server
from serving import MARKER, NOT_FOUND_ROUTE, SITE, running, write

from renderer import create_app

BROKEN_ROUTES = """
[[routes]]
url = "/team/<name>/"
template = "bare.html"
each = "content/team.py:people"

[[routes]]
url = "/x/<name>/"
template = "bare.html"

[[routes]]
url = "/nope/"
template = "nope.html"
"""

BROKEN = {
    **SITE,
    "site.toml": SITE["site.toml"] + NOT_FOUND_ROUTE + BROKEN_ROUTES,
    "content/team.py": """
        def members(data):
            return ["Ada", "Grace"]


        def people():
            raise LookupError("nobody to list")
        """,
    "content/posts/bad.md": "---\ntitle: [Bad\n---\nText.\n",
}

# Need nothing broken: the page, the data it reads, the static file, the 404 page.
WORKING = ("/about/", "/css/site.css", "/feed.xml", "/bare/")
# Need a broken part, and name it: the URL and what its error page must show.
FAILING = {
    "/team/ada/": "content/team.py:6",
    "/posts/hello/": "content/posts/bad.md:2",
    "/": "content/posts/bad.md:2",  # lists the posts
    "/x/anything/": "site.toml:",
    "/nope/": "site.toml:",
}


def line_of(site: Path, text: str) -> int:
    """The line of site.toml holding `text` (the last one, as the broken rules are)."""
    lines = (site / "site.toml").read_text(encoding="utf-8").splitlines()
    return max(number for number, line in enumerate(lines, 1) if text in line)


def rule_line(site: Path, url: str) -> int:
    """The line of the `[[routes]]` table whose url is `url` (the line before it here)."""
    line = line_of(site, f'url = "{url}"') - 1
    assert (site / "site.toml").read_text().splitlines()[line - 1] == "[[routes]]"
    return line


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return make_site(tmp_path, BROKEN)


def test_serve_answers_every_url_that_needs_nothing_broken(broken: Path) -> None:
    rule_x = rule_line(broken, "/x/<name>/")
    template_line = line_of(broken, 'template = "nope.html"')
    with running(broken) as server:
        paths = [*WORKING, *FAILING] * 4  # first, all at once on the cold server's threads
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(lambda path: server.get(path).status, paths))
        assert statuses == [200 if path in WORKING else 500 for path in paths]
        for path in WORKING:
            reply = server.get(path)
            assert reply.status == 200, (path, reply.text[:500])
        assert b"body { color: #222; }" in server.get("/css/site.css").body
        assert "About this site." in server.get("/about/").text
        missing = server.get("/no/such/page/")
        assert missing.status == 404 and "Nothing here" in missing.text
        for path, where in FAILING.items():
            reply = server.get(path)
            assert reply.status == 500, path
            assert where in reply.text and reply.body.count(MARKER) == 1, (path, reply.text)
        x = html.unescape(server.get("/x/anything/").text)
        assert f"site.toml:{rule_x}" in x and 'has the variables [\'name\'] but no "each"' in x
        nope = html.unescape(server.get("/nope/").text)
        assert f"site.toml:{template_line}" in nope and 'no template "nope.html"' in nope
        assert "only the URLs that need it fail" in nope and "Every URL" not in nope
        server.check_alive()


def test_the_preview_lists_each_problem_at_its_rule(broken: Path) -> None:
    rule_x = rule_line(broken, "/x/<name>/")
    rule_team = rule_line(broken, "/team/<name>/")
    template_line = line_of(broken, 'template = "nope.html"')
    with running(broken) as server:
        preview = server.get("/_renderer/")
        assert preview.status == 200, preview.text[:2000]
        text = html.unescape(preview.text)
        # Counts: the URLs of every rule that makes its URLs (7, /nope/ among them), and
        # the one static file.
        assert re.search(r"10 rules\s*·\s*7 URLs\s*·\s*1 static file\b", text), text[:1500]
        assert 'href="/css/site.css"' in text
        assert 'href="/about/"' in text
        assert 'href="/nope/"' not in text  # its template is missing: not a working link
        rows = {m.group(1): m.group(2) for m in re.finditer(
            r'<tr id="rule-(\d+)".*?>(.*?)</tr>', text, re.DOTALL)}
        team, x, nope, posts = rows["7"], rows["8"], rows["9"], rows["1"]
        assert "content/team.py:6" in team and "LookupError: nobody to list" in team
        assert f"site.toml:{rule_team}" in team
        assert f"site.toml:{rule_x}" in x and 'but no "each"' in x
        assert f"site.toml:{template_line}" in nope and 'no template "nope.html"' in nope
        assert "/nope/" in nope and "failing" in nope
        assert "content/posts/bad.md:2" in posts and "YAML" in posts
        problems = text[text.index("<h2>Problems"):text.index("<h2>Rules")]
        for where in ("content/team.py:6", "content/posts/bad.md:2", f"site.toml:{rule_x}",
                      f"site.toml:{template_line}"):
            assert where in problems, where
        assert problems.count("content/posts/bad.md:2") == 1  # one problem, not one a rule
        items = problems.split("<li>")[1:]
        team_item = next(item for item in items if "content/team.py:6" in item)
        assert f"/team/<name>/ (site.toml:{rule_team})" in team_item
        posts_item = next(item for item in items if "content/posts/bad.md:2" in item)
        assert "/posts/<slug>/ (site.toml:" in posts_item


def test_problems_heal_one_by_one(broken: Path) -> None:
    with running(broken) as server:
        assert server.get("/posts/hello/").status == 500
        write(broken / "content/posts/bad.md", "---\ntitle: Bad no more\n---\nText.\n")
        server.wait_for("/posts/hello/", lambda r: r.status == 200)
        assert server.get("/posts/bad/").status == 200
        assert server.get("/nope/").status == 500
        write(broken / "templates/nope.html", "<p>found</p>\n")
        server.wait_for("/nope/", lambda r: b"<p>found</p>" in r.body)
        assert server.get("/team/ada/").status == 500
        write(broken / "content/team.py",
              "def members(data):\n    return []\n\n\ndef people():\n"
              "    return [{'name': 'ada'}]\n")
        server.wait_for("/team/ada/", lambda r: r.status == 200)
        assert server.get("/x/anything/").status == 500
        preview = html.unescape(server.get("/_renderer/").text)
        problems = preview[preview.index("<h2>Problems"):preview.index("<h2>Rules")]
        assert 'but no "each"' in problems and "team.py" not in problems


def test_create_app_keeps_problems_local_on_many_threads(broken: Path) -> None:
    app = create_app(broken, check_interval=0)
    paths = [*WORKING, *FAILING] * 6
    with wsgi_server(app, threads=8) as base, ThreadPoolExecutor(16) as pool:
        replies = dict(zip(range(len(paths)), pool.map(lambda p: http_get(base, p), paths),
                           strict=True))
        for number, path in enumerate(paths):
            expected = 200 if path in WORKING else 500
            assert replies[number].status == expected, (path, replies[number].body[:300])
        assert http_get(base, "/no/such/").status == 404
        failing = http_get(base, "/team/ada/").body.decode()
        assert "content/team.py:6" in failing and "LookupError" in failing
        assert http_get(base, "/_renderer/").status == 404  # the dev pages: serve only


def test_a_static_file_never_waits_for_a_broken_source(broken: Path) -> None:
    """Asked first, before any page: the static file does not list the routes at all."""
    app = create_app(broken)
    with wsgi_server(app) as base:
        reply = http_get(base, "/css/site.css")
        assert reply.status == 200 and b"color: #222" in reply.body
        assert http_get(base, "/css").status == 404


@pytest.mark.parametrize("extra", [
    '\n[[routes]]\nurl = "/x/<name>/"\ntemplate = "bare.html"\n',
    '\n[[routes]]\nurl = "/nope/"\ntemplate = "nope.html"\n',
])
def test_the_build_still_refuses_such_a_rule(tmp_path: Path, extra: str) -> None:
    site = make_site(tmp_path, {**SITE, "site.toml": SITE["site.toml"] + extra})
    code, _, err = run_cli("build", site)
    assert code == 1
    assert re.search(r"site\.toml:\d+: routes\[6\]", err), err
    assert not (site / "build").exists()


def test_create_app_heals_once_the_file_is_fixed(broken: Path) -> None:
    """What a failing URL needs is watched like what a kept page was made from."""
    app = create_app(broken, check_interval=0)
    with wsgi_server(app) as base:
        for path in ("/team/ada/", "/nope/", "/posts/hello/"):
            assert http_get(base, path).status == 500, path
        assert http_get(base, "/about/").status == 200
        write(broken / "content/team.py", "def members(data):\n    return []\n\n\n"
                                          "def people():\n    return [{'name': 'ada'}]\n")
        write(broken / "templates/nope.html", "<p>found</p>\n")
        write(broken / "content/posts/bad.md", "---\ntitle: Good\n---\nText.\n")
        for path, text in (("/team/ada/", b"A bare page"), ("/nope/", b"<p>found</p>"),
                           ("/posts/hello/", b"<h1>Hello</h1>"), ("/posts/bad/", b"Good")):
            reply = wait_for(base, path)
            assert text in reply.body, (path, reply.body[:300])


def wait_for(base: str, path: str, timeout: float = 5.0) -> Response:
    """Ask for `path` until it answers 200 (the change was picked up)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = http_get(base, path)
        if reply.status == 200 or time.monotonic() > deadline:
            assert reply.status == 200, (path, reply.body[:500])
            return reply
        time.sleep(0.01)
