"""Markdown links to Markdown files become the URLs of the pages made from them, and
root-relative Markdown links get the base_url path: in build, in serve and create_app (the
same bytes), in incremental builds after a slug is renamed or a target comes and goes,
and a link that no route renders is a warning naming the Markdown file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import make_site, run_cli, run_renderer, tree
from serving import running, strip_reload_script, write
from werkzeug.test import Client

import renderer
from renderer.build import build
from renderer.errors import display_path

SITE = {
    "site.toml": """\
        [site]
        title = "Links"
        base_url = "https://example.org/docs/"

        [sources]
        posts = "content/posts/*.md"
        setup = "content/guide/setup.md"
        blurb = "content/blurb.json"

        [[routes]]
        url = "/posts/<slug>/"
        template = "post.html"
        each = "posts"

        [[routes]]
        url = "/guide/setup/"
        template = "post.html"
        page = "setup"

        [[routes]]
        url = "/"
        template = "index.html"
        """,
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n",
    "templates/index.html": """\
        {% for post in data.posts %}<a href="{{ url_for('post', slug=post.slug) }}">{{
        post.title }}</a>{% endfor %}
        {{ data.blurb.text | markdown }}
        """,
    "content/blurb.json": '{"text": "Start with [setup](content/guide/setup.md)."}\n',
    "content/posts/a.md": """\
        ---
        title: A
        ---
        See [b](b.md), [the setup](../guide/setup.md#part "Setup") and [b again][ref].

        ![a picture](/img/dot.svg) and [home](/).

        [ref]: b.md#top
        """,
    "content/posts/b.md": "---\ntitle: B\nslug: bee\n---\nBack to [a](a.md).\n",
    "content/guide/setup.md": "---\ntitle: Setup\n---\n## Part\n\nRead [a](../posts/a.md).\n",
    "static/img/dot.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>\n",
}


def built(site: Path, name: str) -> str:
    return (site / "build" / name).read_text(encoding="utf-8")


def test_links_to_markdown_files_become_their_pages_urls(tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    code, stdout, stderr = run_renderer("build", site, "--strict")
    assert code == 0, stderr
    assert "0 warnings" in stdout
    a = built(site, "posts/a/index.html")
    assert '<a href="/docs/posts/bee/">b</a>' in a
    assert '<a href="/docs/guide/setup/#part" title="Setup">the setup</a>' in a
    assert '<a href="/docs/posts/bee/#top">b again</a>' in a  # reference-style
    assert 'src="/docs/img/dot.svg"' in a and '<a href="/docs/">home</a>' in a
    assert '<a href="/docs/posts/a/">a</a>' in built(site, "posts/bee/index.html")
    assert '<a href="/docs/posts/a/">a</a>' in built(site, "guide/setup/index.html")
    # The markdown filter has no file: its links start at the site folder.
    assert '<a href="/docs/guide/setup/">setup</a>' in built(site, "index.html")
    assert "\ue000" not in "".join(t.decode() for t in tree(site / "build").values()
                                   if not t.startswith(b"<svg"))


def test_the_same_text_in_two_folders_links_to_two_pages(tmp_path: Path) -> None:
    """The Markdown cache keeps HTML by text alone; links are resolved from each file."""
    body = "---\ntitle: T\n---\nSee [the other](other.md).\n"
    site = make_site(tmp_path, {
        "site.toml": """\
            [sources]
            one = "content/one/*.md"
            two = "content/two/*.md"
            [[routes]]
            url = "/one/<slug>/"
            template = "page.html"
            each = "one"
            [[routes]]
            url = "/two/<slug>/"
            template = "page.html"
            each = "two"
            """,
        "templates/page.html": "{{ page.content }}\n",
        "content/one/x.md": body, "content/one/other.md": "---\ntitle: O\n---\n",
        "content/two/x.md": body, "content/two/other.md": "---\ntitle: O\n---\n",
    })
    code, _, stderr = run_cli("build", site, "--strict")
    assert code == 0, stderr
    assert '<a href="/one/other/">' in built(site, "one/x/index.html")
    assert '<a href="/two/other/">' in built(site, "two/x/index.html")


def test_a_link_no_route_renders_warns_with_file_and_line(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/posts/b.md":
                                "---\ntitle: B\nslug: bee\n---\nBack to [a](a.md).\n\n"
                                "And [gone](gone.md#x), [a draft](c.md).\n",
                                "content/posts/c.md": "---\ntitle: C\ndraft: true\n---\nC\n"})
    code, stdout, stderr = run_renderer("build", site, cwd=tmp_path)
    assert code == 0, stderr
    warnings = sorted(line for line in stderr.splitlines() if line.startswith("warning: "))
    assert warnings == [
        "warning: site/content/posts/b.md:7: link to c.md (site/content/posts/c.md), a draft "
        "(in site/build/posts/bee/index.html)",
        "warning: site/content/posts/b.md:7: link to gone.md (site/content/posts/gone.md), a "
        "Markdown file that no route renders (in site/build/posts/bee/index.html)",
    ], stderr
    assert '<a href="gone.md#x">gone</a>' in built(site, "posts/bee/index.html")
    code, _, stderr = run_renderer("build", site, "--strict", cwd=tmp_path)
    assert code == 1 and "site/content/posts/b.md:7: link to gone.md" in stderr
    # serve shows drafts: there the link to the draft is its page's URL.
    client = Client(renderer.create_app(site, drafts=True))
    assert b'<a href="/docs/posts/c/">a draft</a>' in client.get("/docs/posts/bee/").data


def test_create_app_serves_the_bytes_the_build_writes(tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    code, _, stderr = run_cli("build", site)
    assert code == 0, stderr
    client = Client(renderer.create_app(site))
    for name, data in tree(site / "build").items():
        url = "/docs/" + name.removesuffix("index.html")
        assert client.get(url).data == data, name


def test_incremental_builds_follow_renamed_slugs_and_targets_that_come_and_go(
        tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    out = tmp_path / "out"

    def again() -> int:
        result = build(site, output=out)
        clean = tmp_path / "clean"
        shutil.rmtree(clean, ignore_errors=True)
        copy = shutil.copytree(site, clean / "site",
                               ignore=shutil.ignore_patterns(".renderer-cache"))
        expected = build(copy, output=clean / "out", clean=True)
        assert tree(out) == tree(clean / "out")
        assert [w.replace(display_path(clean / "site"), "S").replace(display_path(
            clean / "out"), "O") for w in expected.warnings] == \
            [w.replace(display_path(site), "S").replace(display_path(out), "O")
             for w in result.warnings]
        return result.rendered

    again()
    b = site / "content/posts/b.md"
    b.write_text(b.read_text().replace("slug: bee", "slug: bumble"))
    again()
    assert '<a href="/docs/posts/bumble/">b</a>' in (out / "posts/a/index.html").read_text()
    b.write_text(b.read_text().replace("Back to", "Back again to"))  # body only
    assert again() == 1  # b itself: a's link to b depends on b's front matter alone
    b.unlink()
    again()
    assert '<a href="b.md">b</a>' in (out / "posts/a/index.html").read_text()
    b.write_text("---\ntitle: B\n---\nBack.\n")  # a file yet to come: a glob
    again()
    assert '<a href="/docs/posts/b/">b</a>' in (out / "posts/a/index.html").read_text()


def test_serve_follows_a_renamed_slug(tmp_path: Path) -> None:
    site = make_site(tmp_path, SITE)
    built_site = make_site(tmp_path, SITE, folder="built")
    with running(site) as server:
        reply = server.get("/docs/posts/a/")
        assert b'<a href="/docs/posts/bee/">b</a>' in reply.body
        b = site / "content/posts/b.md"
        write(b, b.read_text().replace("slug: bee", "slug: bumble"))
        reply = server.wait_for("/docs/posts/a/", lambda r: b"/docs/posts/bumble/" in r.body)
        write(built_site / "content/posts/b.md", b.read_text())
        code, _, stderr = run_cli("build", built_site)
        assert code == 0, stderr
        expected = (built_site / "build/posts/a/index.html").read_bytes()
        assert strip_reload_script(reply.body) == expected


def test_a_markdown_link_read_while_urls_are_listed_is_a_clear_error(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/first.py": """\
        def urls(data):
            return [{"n": len(str(post.content))} for post in data.posts]
        """, "site.toml": SITE["site.toml"] + """
        [[routes]]
        url = "/n/<int:n>/"
        template = "index.html"
        each = "content/first.py:urls"
        """})
    code, _, stderr = run_cli("build", site)
    assert code == 1
    assert re.search(r"read while the site's URLs were being listed", stderr), stderr
    assert "Traceback" not in stderr
