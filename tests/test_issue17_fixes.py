"""Smaller fixes found while building the cockpit: each a behaviour a user met."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import make_site, run_cli
from werkzeug.test import Client

from renderer.serve.devapp import DevApp

SITE = {
    "site.toml": """
        [site]
        title = "Fixes"
        [sources]
        files = "content/files.json"
        [[routes]]
        url = "/"
        template = "index.html"
        [[routes]]
        url = "/files/<path:name>"
        template = "file.html"
        each = "files"
    """,
    "content/files.json": '[{"name": "a/b.txt"}]',
    "templates/index.html": "<p>index</p>\n",
    "templates/file.html": "{{ name }}\n",
}


def test_a_path_value_starting_with_a_slash_is_a_located_error(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "content/files.json": '[{"name": "/etc/passwd"}]'})
    code, _, err = run_cli("build", site)
    assert code == 1
    first = err.splitlines()[0]
    assert re.search(r"site\.toml:\d+: routes\[1\]", first), first
    assert "may not start or end with '/'" in first and "//" in first


def test_python_sources_read_site_values_as_attributes(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **SITE,
        "site.toml": SITE["site.toml"].replace('files = "content/files.json"',
                                               'files = "content/files.py:files"'),
        "content/files.py": """
            def files(site):
                return [{"name": site.title.lower() + ".txt"}, {"name": site["title"]}]
        """,
    })
    code, _, err = run_cli("build", site)
    assert code == 0, err
    assert (site / "build/files/fixes.txt/index.html").read_text() == "fixes.txt\n"
    (site / "content/files.py").write_text("def files(site):\n    return [site.titel]\n")
    code, _, err = run_cli("build", site)
    assert code == 1
    assert "files.py:2" in err and 'did you mean "title"' in err


def test_the_error_page_shows_source_lines_in_a_monospace_font(tmp_path: Path) -> None:
    site = make_site(tmp_path, {**SITE, "templates/index.html": "<p>{{ nope( }}</p>\n"})
    page = Client(DevApp(site)).get("/")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert '<td class="number">1</td>' in text  # the lines are there, in the code table
    rule = re.search(r"\.code td \{[^}]*\}", text)
    assert rule is not None and "monospace" in rule.group(0)


def test_a_misspelled_markdown_extension_gets_a_did_you_mean(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **SITE,
        "site.toml": SITE["site.toml"] + '\n[markdown]\nextensions = ["footnote"]\n',
        "content/page.md": "Hello.\n",
        "templates/index.html": "{{ 'x' | markdown }}\n",
    })
    code, _, err = run_cli("build", site)
    assert code == 1
    assert 'Markdown extension "footnote" cannot be loaded' in err
    assert 'did you mean "footnotes"' in err
