"""Hostile input (issue 15): what a tester found, each kept as a test.

An empty site.toml, a site.toml that is not UTF-8 or starts with a byte order mark;
symbolic links that lead out of the site folder; messages that named no file (a
duplicate slug, a rule that leaves the output folder, dates of mixed types); `print()` in
the site's Python landing in the build's summary; HEAD and GET disagreeing on a page's
length; and a huge request line dropped without a status. Real files, real `renderer`
processes (or click's runner in this process), real HTTP.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import types
from pathlib import Path

import pytest
from conftest import make_site, run_cli, run_renderer, snapshot, tree
from serving import running, write

from renderer.site import Site

SITE_TOML = """\
[site]
title = "Hardening"

[sources]
posts = { glob = "content/posts/*.md", sort = "date" }
about = "content/about.md"

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
"""
POSTS_LINE = 5  # the line of `posts = ...` in SITE_TOML
POST_ROUTE_LINE = 12  # the line of the second [[routes]]

BASE: dict[str, str | None] = {
    "site.toml": SITE_TOML,
    "templates/index.html": "<h1>{{ site.title }}</h1>\n"
                            "{% for post in data.posts %}<p>{{ post.title }}</p>{% endfor %}\n",
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n",
    "templates/page.html": "<article>{{ page.content }}</article>\n",
    "content/posts/a.md": "---\ntitle: A\ndate: 2024-01-01\n---\nBody of A.\n",
    "content/posts/b.md": "---\ntitle: B\ndate: 2024-02-01\n---\nBody of B.\n",
    # dated: a link to it in the posts (linked_site) is sorted by date without a warning
    "content/about.md": "---\ntitle: About\ndate: 2023-12-01\n---\nAbout us.\n",
    "static/site.css": "body { color: #222; }\n",
}

SECRET = "SECRET-OUTSIDE-THE-SITE-" + "x" * 8


def site_with(tmp_path: Path, files: dict[str, str | None] | None = None) -> Path:
    """BASE, with `files` changed."""
    return make_site(tmp_path, {**BASE, **(files or {})})


def built(site: Path, *args: str) -> tuple[str, str]:
    code, stdout, stderr = run_cli("build", site, *args)
    assert code == 0, stderr
    return stdout, stderr


def failed(site: Path, *args: str) -> str:
    """A build that fails with one clean located error: its first line."""
    code, _, stderr = run_cli("build", site, *args)
    assert code == 1, stderr
    assert stderr.startswith("error: ") and "Traceback" not in stderr, stderr
    return stderr.splitlines()[0]


def location(site: Path, name: str, line: int | None = None) -> str:
    """`file:line` as messages name it: relative to the working folder (this one)."""
    where = os.path.relpath(site / name)
    return f"{where}:{line}" if line else where


# -- site.toml: no routes, not UTF-8, a byte order mark -------------------------------------


@pytest.mark.parametrize(("text", "line"), [
    ("", None),
    ('[site]\ntitle = "No routes"\n\n[sources]\nabout = "content/about.md"\n', None),
    ('routes = []\n\n[site]\ntitle = "No routes"\n', 1),
])
def test_a_site_toml_without_routes_is_an_error_and_deletes_nothing(
        tmp_path: Path, text: str, line: int | None) -> None:
    site = site_with(tmp_path)
    built(site)
    before = snapshot(site / "build")
    assert "posts/a/index.html" in before
    (site / "site.toml").write_text(text, encoding="utf-8")
    first = failed(site)
    assert first.startswith(f"error: {location(site, 'site.toml', line)}: no [[routes]]"), first
    assert 'url = "/"' in first  # says what to add
    assert snapshot(site / "build") == before


def test_an_emptied_site_toml_real_command(tmp_path: Path) -> None:
    site = site_with(tmp_path)
    assert run_renderer("build", cwd=site).code == 0
    before = snapshot(site / "build")
    (site / "site.toml").write_text("")
    code, stdout, stderr = run_renderer("build", cwd=site)
    assert code == 1 and stdout == ""
    assert stderr.startswith("error: site.toml: no [[routes]]"), stderr
    assert snapshot(site / "build") == before


def test_a_site_toml_that_is_not_utf8_is_one_located_line(tmp_path: Path) -> None:
    site = site_with(tmp_path)
    (site / "site.toml").write_bytes(SITE_TOML.replace('"Hardening"', '"Caf\xe9"')
                                     .encode("latin-1"))
    code, stdout, stderr = run_renderer("build", cwd=site)
    assert code == 1, stderr
    assert stderr.startswith("error: site.toml:2: not UTF-8 text: byte 0xe9"), stderr
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr
    assert not (site / "build").exists()


def test_serve_shows_a_site_toml_that_is_not_utf8_and_heals(tmp_path: Path) -> None:
    site = site_with(tmp_path)
    (site / "site.toml").write_bytes(b"\xff\xfe" + SITE_TOML.encode("utf-16-le"))
    with running(site) as server:
        reply = server.get("/")
        assert reply.status == 500 and "not UTF-8 text" in reply.text
        assert "site.toml:1" in reply.text
        write(site / "site.toml", SITE_TOML)
        server.wait_for("/", lambda r: r.status == 200 and b"Hardening" in r.body)
        server.check_alive()


def test_a_byte_order_mark_at_the_start_of_site_toml_is_accepted(tmp_path: Path) -> None:
    site = site_with(tmp_path)
    (site / "site.toml").write_bytes(b"\xef\xbb\xbf" + SITE_TOML.encode("utf-8"))
    built(site)
    assert "<h1>Hardening</h1>" in (site / "build" / "index.html").read_text()


# -- messages that name their files and lines ------------------------------------------------


def test_a_duplicate_slug_names_both_posts_and_the_rule(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"content/posts/b.md": "---\ntitle: B\ndate: 2024-02-01\n"
                                                      "slug: a\n---\nB again.\n"})
    first = failed(site)
    assert first.startswith(f"error: {location(site, 'site.toml', POST_ROUTE_LINE)}: "), first
    assert "content/posts/a.md" in first and "content/posts/b.md" in first, first
    assert "routes[1] (/posts/<slug>/)" in first and "/posts/a/" in first


@pytest.mark.parametrize("rule", ["/../x/", "/../<slug>/"])
def test_a_rule_that_leaves_the_output_folder_names_its_line(tmp_path: Path, rule: str) -> None:
    each = 'each = "posts"\n' if "<" in rule else ""
    site = site_with(tmp_path, {"site.toml": SITE_TOML + '\n[[routes]]\nname = "up"\n'
                                             f'url = "{rule}"\ntemplate = "page.html"\n{each}'})
    url_line = SITE_TOML.count("\n") + 4
    first = failed(site)
    assert first.startswith(f"error: {location(site, 'site.toml', url_line)}: "), first
    assert f"routes[3] ({rule})" in first and "'..'" in first


def test_sorting_mixed_values_names_both_files_and_values(tmp_path: Path) -> None:
    site = site_with(tmp_path, {
        "site.toml": SITE_TOML.replace('sort = "date"', 'sort = "rank"'),
        "content/posts/a.md": "---\ntitle: A\nrank: 1\n---\nA.\n",
        "content/posts/b.md": "---\ntitle: B\nrank: soon\n---\nB.\n"})
    first = failed(site)
    assert first.startswith(f"error: {location(site, 'site.toml', POSTS_LINE)}: "), first
    assert "content/posts/a.md has rank 1" in first, first
    assert "content/posts/b.md has rank 'soon'" in first, first


def test_a_date_that_is_no_date_names_its_file_and_line(tmp_path: Path) -> None:
    """(It was a string that sorting met beside dates: the error named site.toml.)"""
    site = site_with(tmp_path, {"content/posts/b.md": "---\ntitle: B\ndate: soon\n---\nB.\n"})
    first = failed(site)
    assert first.startswith(f"error: {location(site, 'content/posts/b.md', 3)}: "), first
    assert "\"date\" is not a date: 'soon'" in first, first


# -- what the site's Python prints -------------------------------------------------------------

PRINTING_TOML = SITE_TOML.replace('about = "content/about.md"',
                                  'about = "content/about.md"\nteam = "content/team.py:members"'
                                  ).replace('each = "posts"',
                                            'each = "posts"\ncontext = "content/team.py:extra"')
PRINTING_PY = """\
import sys

print("loading team.py")


def members():
    print("members", "called", end="")
    print(" once")
    return ["ann", "bob"]


def extra(slug):
    print(f"context for {slug}")
    sys.stdout.write("no newline at the end")
    return {"shout": slug.upper()}
"""


def printing_site(tmp_path: Path, posts: int = 2) -> Path:
    site = site_with(tmp_path, {"site.toml": PRINTING_TOML, "content/team.py": PRINTING_PY,
                                "templates/index.html": "<p>{{ data.team | join(', ') }}</p>\n",
                                "templates/post.html": "<h1>{{ shout }}</h1>\n"})
    for number in range(2, posts):
        write(site / "content" / "posts" / f"p{number}.md",
              f"---\ntitle: P{number}\ndate: 2024-03-01\n---\nP.\n")
    return site


def test_print_in_python_sources_goes_to_stderr_marked(tmp_path: Path) -> None:
    site = printing_site(tmp_path)
    code, stdout, stderr = run_renderer("build", cwd=site)
    assert code == 0, stderr
    assert stdout.startswith("built 4 pages") and len(stdout.splitlines()) == 1, stdout
    lines = stderr.splitlines()
    for line in ("[content/team.py] loading team.py", "[content/team.py] members called once",
                 "[content/team.py] context for a", "[content/team.py] context for b",
                 "[content/team.py] no newline at the end"):
        assert line in lines, stderr
    assert all(line.startswith("[content/team.py] ") for line in lines), stderr
    assert (site / "build" / "posts" / "a" / "index.html").read_text() == "<h1>A</h1>\n"


def test_print_in_forked_build_workers_goes_to_stderr_marked(tmp_path: Path) -> None:
    site = printing_site(tmp_path, posts=80)  # enough that --jobs 2 renders in workers
    code, stdout, stderr = run_renderer("build", "--jobs", "2", cwd=site)
    assert code == 0, stderr
    assert stdout.startswith("built 82 pages") and len(stdout.splitlines()) == 1, stdout
    lines = stderr.splitlines()
    assert sum(line.startswith("[content/team.py] context for p") for line in lines) == 78
    assert all(line.startswith("[content/team.py] ") for line in lines), stderr


def test_print_is_marked_per_thread_and_stdout_is_restored(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads in the site's Python at once, and a third printing meanwhile: each
    user line is marked, the other thread's line stays on stdout, and sys.stdout is what
    it was afterwards (redirect_stdout around each call would get this wrong). The site's
    function waits on a barrier the test holds, so the threads are in it together."""
    sync = types.ModuleType("hardening_sync")
    sync.inside = threading.Barrier(3, timeout=10)  # type: ignore[attr-defined]
    sync.printed = threading.Event()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hardening_sync", sync)
    site = site_with(tmp_path, {
        "site.toml": SITE_TOML.replace('each = "posts"',
                                       'each = "posts"\ncontext = "content/wait.py:extra"'),
        "content/wait.py": "import hardening_sync\n\n\ndef extra(slug):\n"
                           "    print('start', slug)\n    hardening_sync.inside.wait()\n"
                           "    hardening_sync.printed.wait(10)\n    print('end', slug)\n"
                           "    return {}\n"})
    stdout = sys.stdout
    sites = [Site.load(site), Site.load(site)]
    for loaded in sites:
        loaded.targets()
    threads = [threading.Thread(target=loaded.render, args=(f"/posts/{slug}/",))
               for loaded, slug in zip(sites, "ab", strict=True)]
    for thread in threads:
        thread.start()
    sync.inside.wait()  # type: ignore[attr-defined]
    print("from the main thread")
    sync.printed.set()  # type: ignore[attr-defined]
    for thread in threads:
        thread.join()
    assert sys.stdout is stdout
    out, err = capsys.readouterr()
    assert out == "from the main thread\n"
    assert sorted(err.splitlines()) == ["[content/wait.py] end a", "[content/wait.py] end b",
                                        "[content/wait.py] start a", "[content/wait.py] start b"]


def test_print_in_serve_is_marked(tmp_path: Path) -> None:
    site = printing_site(tmp_path)
    with running(site) as server:
        assert server.get("/posts/a/").status == 200
        assert server.get("/").status == 200
        log = server.log().splitlines()
    assert "[content/team.py] context for a" in log
    assert "[content/team.py] members called once" in log
    assert "context for a" not in [line.strip() for line in log]


# -- serve: HEAD as long as GET, a huge request line answered --------------------------------


def test_head_reports_the_length_get_sends(tmp_path: Path) -> None:
    site = site_with(tmp_path)
    with running(site) as server:
        for path in ("/", "/posts/a/", "/site.css", "/no/such/page/"):
            get = server.get(path)
            head = server.get(path, method="HEAD")
            assert head.status == get.status, path
            assert head.body == b"", path
            assert int(head.header("Content-Length")) == len(get.body), path
            assert head.header("Content-Type") == get.header("Content-Type"), path


def request(port: int, head: bytes) -> bytes:
    """Send a raw request head; what comes back before the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_a_huge_request_line_or_header_gets_a_status(tmp_path: Path) -> None:
    site = site_with(tmp_path)
    with running(site) as server:
        long_line = (b"GET /" + b"a" * 100_000
                     + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert request(server.port, long_line).startswith(b"HTTP/1.1 414 ")
        big_header = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 100_000
                      + b"\r\nConnection: close\r\n\r\n")
        assert request(server.port, big_header).startswith(b"HTTP/1.1 431 ")
        normal = (b"GET /" + b"a" * 2000
                  + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert request(server.port, normal).startswith(b"HTTP/1.1 404 ")
        assert server.get("/").status == 200


# -- symbolic links out of the site folder ---------------------------------------------------


def linked_site(tmp_path: Path, files: dict[str, str | None] | None = None) -> Path:
    """BASE with links out of the site folder (to a secret beside it) in a collection and
    in static/, and links that stay inside, which keep working."""
    outside = tmp_path / "outside"
    write(outside / "secret.md", f"---\ntitle: {SECRET}\ndate: 2024-05-01\n---\n{SECRET}\n")
    write(outside / "secret.txt", SECRET)
    write(outside / "folder" / "more.txt", SECRET)
    site = site_with(tmp_path, {"static/css/own.css": "p { margin: 0; }\n", **(files or {})})
    (site / "content" / "posts" / "secret.md").symlink_to(outside / "secret.md")
    (site / "static" / "secret.txt").symlink_to(outside / "secret.txt")
    (site / "static" / "folder").symlink_to(outside / "folder", target_is_directory=True)
    (site / "content" / "posts" / "about.md").symlink_to(site / "content" / "about.md")
    (site / "static" / "same.css").symlink_to(Path("css") / "own.css")
    return site


def no_secret_in(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def skipped_warning(link: str, target: Path) -> str:
    return (f"warning: {link} is a symbolic link to {target}, outside the site folder: "
            "skipped (set [site] follow_symlinks = true in site.toml to follow it)")


def test_links_out_of_the_site_are_skipped_with_a_warning(tmp_path: Path) -> None:
    site = linked_site(tmp_path)
    outside = tmp_path / "outside"
    for _ in range(2):  # the second build lists nothing again, and still says it
        code, stdout, stderr = run_renderer("build", cwd=site)
        assert code == 0, stderr
        assert "3 warnings" in stdout, stdout
        lines = stderr.splitlines()
        assert skipped_warning("content/posts/secret.md", outside / "secret.md") in lines
        assert skipped_warning("static/secret.txt", outside / "secret.txt") in lines
        assert skipped_warning("static/folder", outside / "folder") in lines
    out = site / "build"
    no_secret_in(out)
    assert not (out / "posts" / "secret").exists() and not (out / "secret.txt").exists()
    # links that stay inside the site folder work as before
    assert "About us." in (out / "posts" / "about" / "index.html").read_text()
    assert (out / "same.css").read_text() == "p { margin: 0; }\n"
    (site / "static" / "secret.txt").unlink()
    (site / "content" / "posts" / "secret.md").unlink()
    code, stdout, stderr = run_renderer("build", cwd=site)
    assert code == 0 and "1 warning)" in stdout, stdout + stderr
    assert "secret" not in stderr


def test_strict_fails_on_a_skipped_link(tmp_path: Path) -> None:
    site = linked_site(tmp_path)
    first = failed(site, "--strict")
    assert first == "error: 3 warnings (--strict):", first
    assert not (site / "build").exists()


def test_follow_symlinks_publishes_them(tmp_path: Path) -> None:
    site = linked_site(tmp_path, {"site.toml": SITE_TOML.replace(
        'title = "Hardening"', 'title = "Hardening"\nfollow_symlinks = true')})
    stdout, stderr = built(site)
    assert "0 warnings" in stdout and "symbolic link" not in stderr
    out = site / "build"
    assert SECRET in (out / "posts" / "secret" / "index.html").read_text()
    assert (out / "secret.txt").read_text() == SECRET
    assert (out / "folder" / "more.txt").read_text() == SECRET


def test_links_to_folders_inside_static_are_followed_without_looping(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"content/images/logo.svg": "<svg/>\n"})
    (site / "static" / "images").symlink_to(Path("..") / "content" / "images")
    (site / "static" / "loop").symlink_to(Path("."), target_is_directory=True)
    stdout, stderr = built(site)
    assert "0 warnings" in stdout, stderr
    out = site / "build"
    assert (out / "images" / "logo.svg").read_text() == "<svg/>\n"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
                  and not p.name.endswith(".html")) == ["images/logo.svg", "site.css"]


def test_replacing_a_skipped_link_with_a_file_is_a_change(tmp_path: Path) -> None:
    """An incremental build notices what a clean one would: the skipped links are among
    what the URL list was made from."""
    site = linked_site(tmp_path)
    built(site)
    for link in (site / "content" / "posts" / "secret.md", site / "static" / "secret.txt"):
        link.unlink()
    write(site / "content" / "posts" / "secret.md", "---\ntitle: Now mine\ndate: 2024-06-01\n"
                                                    "---\nMine.\n")
    write(site / "static" / "secret.txt", "mine\n")
    stdout, _ = built(site)
    assert "1 warning)" in stdout  # static/folder still leads out
    out = site / "build"
    assert "Now mine" in (out / "posts" / "secret" / "index.html").read_text()
    assert (out / "secret.txt").read_text() == "mine\n"
    clean = tmp_path / "clean"
    built(site, "--clean", "--output", str(clean))
    assert tree(clean) == tree(out)


def test_follow_symlinks_must_be_a_boolean(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"site.toml": SITE_TOML.replace(
        'title = "Hardening"', 'title = "Hardening"\nfollow_symlinks = "yes"')})
    first = failed(site)
    assert first == (f"error: {location(site, 'site.toml', 3)}: site.follow_symlinks: "
                     "must be true or false, not a string")


def test_forked_workers_report_the_links_they_skip(tmp_path: Path) -> None:
    """A collection read only while pages render, in worker processes."""
    site = linked_site(tmp_path, {
        "site.toml": SITE_TOML.replace('about = "content/about.md"',
                                       'about = "content/about.md"\n'
                                       'notes = "content/notes/*.md"'),
        "templates/post.html": "<h1>{{ page.title }}</h1>{{ data.notes | length }}\n",
        "content/notes/one.md": "---\ntitle: One\n---\nOne.\n",
    })
    (site / "content" / "notes" / "two.md").symlink_to(tmp_path / "outside" / "secret.md")
    for number in range(80):
        write(site / "content" / "posts" / f"p{number}.md",
              f"---\ntitle: P{number}\ndate: 2024-03-01\n---\nP.\n")
    code, stdout, stderr = run_renderer("build", "--jobs", "2", cwd=site)
    assert code == 0, stderr
    assert skipped_warning("content/notes/two.md", tmp_path / "outside" / "secret.md") \
        in stderr.splitlines(), stderr
    assert (site / "build" / "posts" / "p1" / "index.html").read_text() == "<h1>P1</h1>1\n"
    no_secret_in(site / "build")


@pytest.mark.parametrize(("name", "files", "line", "says"), [
    ("page-source", {"site.toml": SITE_TOML.replace('"content/about.md"', '"content/link.md"')},
     6, "sources.about: {content/link.md} is a symbolic link to"),
    ("route-template", {"site.toml": SITE_TOML.replace('template = "page.html"',
                                                       'template = "link.html"')},
     19, "routes[2].template: {templates/link.html} is a symbolic link to"),
])
def test_a_link_out_named_in_site_toml_is_a_located_error(
        tmp_path: Path, name: str, files: dict[str, str | None], line: int, says: str) -> None:
    site = linked_site(tmp_path, files)
    (site / "content" / "link.md").symlink_to(tmp_path / "outside" / "secret.md")
    (site / "templates" / "link.html").symlink_to(tmp_path / "outside" / "secret.txt")
    first = failed(site)
    link = says.partition("{")[2].partition("}")[0]
    says = says.replace(f"{{{link}}}", location(site, link))
    assert first.startswith(f"error: {location(site, 'site.toml', line)}: {says}"), first
    assert "outside the site folder: not followed" in first


def test_a_template_included_through_a_link_out_is_an_error(tmp_path: Path) -> None:
    site = linked_site(tmp_path, {"templates/page.html": "<article>\n{% include 'link.html' %}"
                                                         "</article>\n"})
    (site / "templates" / "link.html").symlink_to(tmp_path / "outside" / "secret.txt")
    first = failed(site)
    assert first.startswith(f"error: {location(site, 'templates/page.html', 2)}: "
                            f"{location(site, 'templates/link.html')} is a symbolic link to"
                            ), first
    assert not (site / "build").exists()


def test_a_templates_folder_that_leads_out_is_an_error(tmp_path: Path) -> None:
    site = site_with(tmp_path)
    (site / "templates").rename(tmp_path / "theme")
    (site / "templates").symlink_to(tmp_path / "theme", target_is_directory=True)
    first = failed(site)
    assert f"site.templates: {location(site, 'templates')} is a symbolic link to " \
        f"{tmp_path / 'theme'}, outside the site folder: not followed" in first
    assert first.startswith(f"error: {location(site, 'site.toml', 1)}: "), first


def test_serve_skips_links_out_and_logs_them(tmp_path: Path) -> None:
    site = linked_site(tmp_path)
    with running(site) as server:
        assert server.get("/secret.txt").status == 404
        assert server.get("/posts/secret/").status == 404
        assert server.get("/folder/more.txt").status == 404
        index = server.get("/")
        assert index.status == 200 and SECRET not in index.text
        assert server.get("/same.css").body == b"p { margin: 0; }\n"
        log = server.log().splitlines()
    outside = tmp_path / "outside"
    assert skipped_warning("content/posts/secret.md", outside / "secret.md") in log, log
    assert skipped_warning("static/secret.txt", outside / "secret.txt") in log, log


def retarget(link: Path, target: Path) -> None:
    link.unlink()
    link.symlink_to(target)


SAME_FRONT = "---\ntitle: Shared\ndate: 2024-04-01\n---\n"


def test_a_link_retargeted_out_with_the_same_front_matter_is_skipped(tmp_path: Path) -> None:
    """An incremental build may take a page's new body without listing the collection
    again, when its front matter is unchanged: not when it now comes through a link out."""
    site = linked_site(tmp_path, {"content/shared.md": SAME_FRONT + "Inside text.\n"})
    write(tmp_path / "outside" / "shared.md", SAME_FRONT + f"{SECRET}\n")
    link = site / "content" / "posts" / "shared.md"
    link.symlink_to(site / "content" / "shared.md")
    built(site)
    out = site / "build"
    assert "Inside text." in (out / "posts" / "shared" / "index.html").read_text()
    retarget(link, tmp_path / "outside" / "shared.md")
    stdout, stderr = built(site)
    no_secret_in(out)
    assert not (out / "posts" / "shared").exists()
    assert "content/posts/shared.md is a symbolic link to" in stderr
    built(site, "--clean", "--output", str(tmp_path / "clean"))
    assert tree(tmp_path / "clean") == tree(out)


def test_serve_skips_a_link_retargeted_out_with_the_same_front_matter(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"content/shared.md": SAME_FRONT + "Inside text.\n"})
    write(tmp_path / "outside" / "shared.md", SAME_FRONT + f"{SECRET}\n")
    link = site / "content" / "posts" / "shared.md"
    link.symlink_to(site / "content" / "shared.md")
    with running(site) as server:
        assert "Inside text." in server.get("/posts/shared/").text
        assert "Shared" in server.get("/").text
        retarget(link, tmp_path / "outside" / "shared.md")
        server.wait_for("/posts/shared/", lambda reply: reply.status == 404)
        assert "Shared" not in server.get("/").text
        assert "content/posts/shared.md is a symbolic link to" in server.log()
