"""Assets: fingerprinted static URLs (`[site] fingerprint = true`) and the Pygments style
sheet (`[markdown] pygments_style`, at /pygments.css).

Real sites built by the real command; a fingerprinted page is rendered again when the
file changes (incremental build equal to a clean one, and in `serve`); what `serve`
answers is what the build wrote; each bad value is one located error.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from conftest import make_site, run_cli, run_renderer, tree
from serving import running, strip_reload_script, write

SITE_TOML = """\
[site]
title = "Assets"
base_url = "https://example.org/blog/"
fingerprint = true

[markdown]
pygments_style = "friendly"

[sources]
posts = "content/posts/*.md"

[[routes]]
url = "/"
template = "index.html"

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"
"""

INDEX = """\
<link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}">
<link rel="stylesheet" href="{{ url_for('static', filename='pygments.css') }}">
<link rel="icon" href="{{ url_for('static', filename='/img/icon.svg', _external=True) }}">
"""

FILES: dict[str, str | None] = {
    "site.toml": SITE_TOML,
    "templates/index.html": INDEX,
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n",
    "content/posts/code.md": "---\ntitle: Code\n---\n```python\nprint('hi')\n```\n",
    "static/css/site.css": "body { color: black }\n",
    "static/img/icon.svg": "<svg/>\n",
}


def build(site: Path, *args: str) -> str:
    code, stdout, stderr = run_cli("build", site, "--jobs", "1", *args)
    assert code == 0, stderr
    return stdout


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def test_static_urls_carry_the_content_hash(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    result = run_renderer("build", site)
    assert result.code == 0, result.stderr
    index = (site / "build/index.html").read_text()
    css = sha(site / "static/css/site.css")
    assert f'href="/blog/css/site.css?v={css}"' in index
    assert f'href="/blog/pygments.css?v={sha(site / "build/pygments.css")}"' in index
    assert f'href="https://example.org/blog/img/icon.svg?v={sha(site / "static/img/icon.svg")}"' \
        in index
    assert "0 warnings" in result.stdout  # the link checker takes ?v= for the file


def test_a_static_edit_renders_again_the_pages_that_fingerprint_it(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    build(site)
    write(site / "static/css/site.css", "body { color: navy }\n")
    summary = build(site)
    # The style sheet itself and the index; the post does not link it.
    assert "1 rendered, 1 copied" in summary, summary
    assert sha(site / "static/css/site.css") in (site / "build/index.html").read_text()
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns(".renderer-cache", "build"))
    build(clean)
    assert tree(site / "build") == tree(clean / "build")


def test_without_fingerprint_static_urls_are_plain(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**FILES, "site.toml": SITE_TOML.replace(
        "fingerprint = true", "fingerprint = false")})
    build(site)
    assert 'href="/blog/css/site.css"' in (site / "build/index.html").read_text()


def test_the_pygments_style_sheet(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    build(site)
    from pygments.formatters import HtmlFormatter

    css = (site / "build/pygments.css").read_text()
    assert HtmlFormatter(style="friendly").get_style_defs(".codehilite") in css
    assert "@media" not in css
    post = (site / "build/posts/code/index.html").read_text()
    assert '<div class="codehilite">' in post and 'class="nb">print' in post


def test_a_dark_variant_and_the_class_codehilite_is_set_to(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**FILES, "site.toml": SITE_TOML.replace(
        'pygments_style = "friendly"',
        'pygments_style = { light = "friendly", dark = "monokai" }\n\n'
        '[markdown.extension_configs.codehilite]\ncss_class = "highlight"')})
    build(site)
    from pygments.formatters import HtmlFormatter

    css = (site / "build/pygments.css").read_text()
    light, _, dark = css.partition("@media (prefers-color-scheme: dark) {\n")
    assert HtmlFormatter(style="friendly").get_style_defs(".highlight") in light
    assert ".highlight .k { color: #66D9EF }" in dark  # monokai's keywords
    assert dark.rstrip().endswith("}")
    assert '<div class="highlight">' in (site / "build/posts/code/index.html").read_text()


def test_serve_answers_the_built_bytes_and_follows_a_static_edit(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    out = tmp_path / "out"
    result = run_renderer("build", site, "--output", out)
    assert result.code == 0, result.stderr
    with running(site) as server:
        for path, built in (("/blog/", "index.html"), ("/blog/pygments.css", "pygments.css"),
                            ("/blog/posts/code/", "posts/code/index.html")):
            reply = server.get(path)
            assert reply.status == 200, path
            assert strip_reload_script(reply.body) == (out / built).read_bytes(), path
        assert server.get("/blog/pygments.css").header("Content-Type") == \
            "text/css; charset=utf-8"
        write(site / "static/css/site.css", "body { color: teal }\n")
        version = sha(site / "static/css/site.css")
        server.wait_for("/blog/", lambda r: f"site.css?v={version}".encode() in r.body)
        (site / "static/css/site.css").unlink()
        reply = server.wait_for("/blog/", lambda r: r.status == 500)
        assert "templates/index.html:1" in reply.text and "no file" in reply.text, reply.text


def test_create_app_drops_a_kept_page_when_its_static_file_changes(tmp_path: Path) -> None:
    from conftest import http_get, wsgi_server

    from renderer import create_app

    site = make_site(tmp_path, FILES)
    with wsgi_server(create_app(site, check_interval=0)) as base:
        before = http_get(base, "/blog/").body
        write(site / "static/css/site.css", "body { color: olive }\n")
        after = http_get(base, "/blog/").body
    assert before != after
    assert f"site.css?v={sha(site / 'static/css/site.css')}".encode() in after


# -- bad values ----------------------------------------------------------------------------------

BAD = [
    ("missing-static-file", {"templates/index.html": "<p>\n" + INDEX.replace(
        "css/site.css", "css/sit.css")},
     "templates/index.html", 2, ('no file', 'static/css/sit.css', 'did you mean "css/site.css"')),
    ("unknown-url-for-static-keyword", {"templates/index.html": INDEX.replace(
        "filename='pygments.css'", "filename='pygments.css', v=2")},
     "templates/index.html", 2, ('url_for("static") takes filename=', "not v")),
    ("outside-the-static-folder", {"templates/index.html": INDEX.replace(
        "css/site.css", "../site.toml")},
     "templates/index.html", 1, ("outside the static folder",)),
    ("unknown-pygments-style", {"site.toml": SITE_TOML.replace('"friendly"', '"friendy"')},
     "site.toml", 7, ('no Pygments style "friendy"', 'did you mean "friendly"')),
    ("unknown-dark-style", {"site.toml": SITE_TOML.replace(
        'pygments_style = "friendly"',
        'pygments_style = { light = "friendly", dark = "monokia" }')},
     "site.toml", 7, ('markdown.pygments_style.dark: no Pygments style "monokia"',
                      'did you mean "monokai"')),
    ("style-without-light", {"site.toml": SITE_TOML.replace(
        'pygments_style = "friendly"', 'pygments_style = { dark = "monokai" }')},
     "site.toml", 7, ('needs "light"',)),
    ("style-not-a-name", {"site.toml": SITE_TOML.replace('"friendly"', "3")},
     "site.toml", 7, ("must be a Pygments style name",)),
    ("fingerprint-not-a-boolean", {"site.toml": SITE_TOML.replace("= true", '= "yes"')},
     "site.toml", 4, ("site.fingerprint: must be true or false",)),
    ("static-file-at-the-style-sheet", {"static/pygments.css": "pre {}\n"},
     "site.toml", 7, ("pygments.css is produced twice", "static/pygments.css",
                      "[markdown] pygments_style")),
    ("route-at-the-style-sheet", {
        "site.toml": SITE_TOML + '\n[[routes]]\nurl = "/pygments.css"\ntemplate = "post.html"\n',
    }, "site.toml", 21, ("pygments.css is produced twice", "[markdown] pygments_style",
                         "routes[2] (/pygments.css)")),
]


@pytest.mark.parametrize(("files", "file", "line", "says"),
                         [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_a_bad_value_is_one_located_error(tmp_path: Path, files: dict[str, str | None],
                                          file: str, line: int, says: tuple[str, ...]) -> None:
    site = make_site(tmp_path, {**FILES, **files})
    code, _, stderr = run_cli("build", site, "--jobs", "1")
    assert code == 1, stderr
    first = stderr.splitlines()[0]
    assert first.startswith("error: ") and f"{file}:{line}: " in first, stderr
    for words in says:
        assert words in stderr, stderr
    assert "Traceback" not in stderr, stderr


def test_url_for_static_drops_no_keyword_without_fingerprint_either(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **FILES, "site.toml": SITE_TOML.replace("fingerprint = true", ""),
        "templates/index.html": "{{ url_for('static', filename='css/site.css', v=3) }}\n"})
    code, _, stderr = run_cli("build", site)
    assert code == 1 and re.search(r"index\.html:1: url_for\(\"static\"\) takes", stderr), stderr
