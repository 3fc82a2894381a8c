"""Code highlighting: renderer gives codehilite a formatter that makes Pygments' style
tables once (renderer/highlighting.py), and the HTML must stay Python-Markdown's own.

Real sites built by the real command; each page is compared with what Python-Markdown,
left to its defaults, makes of the same text with the same settings.
"""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import markdown
import pytest
from conftest import make_site, run_renderer

EXTENSIONS = ["fenced_code", "tables", "toc", "codehilite"]

POSTS = {
    "one": """\
        # One

        ```python
        def greet(name: str) -> str:
            return f"hello {name}"  # a comment
        ```

        Some text, then a second block:

        ```javascript
        const x = [1, 2, 3].map((n) => n * 2);
        ```
        """,
    "two": """\
        ```python
        import sys
        print(sys.argv[1:], 0x1F, 'str', None)
        ```

            :::bash
            echo "$HOME" | tr a-z A-Z
        """,
    "three": "No code at all, and `inline code`.\n",
}


def build_posts(tmp_path: Path, codehilite: str) -> Path:
    """A site whose post pages hold nothing but their converted Markdown, built."""
    files = {
        "site.toml": f"""\
            [markdown]
            extensions = {EXTENSIONS!r}

            [markdown.extension_configs.codehilite]
            {codehilite}

            [sources]
            posts = "content/posts/*.md"

            [[routes]]
            url = "/<slug>/"
            template = "post.html"
            each = "posts"
            """,
        "templates/post.html": "{{ page.content }}",
        **{f"content/posts/{name}.md": f"---\ntitle: {name}\n---\n{textwrap.dedent(text)}"
           for name, text in POSTS.items()},
    }
    site = make_site(tmp_path, files)
    code, out, err = run_renderer("build", site)
    assert code == 0, err
    return site


@pytest.mark.parametrize("codehilite", [
    "",
    'noclasses = true\npygments_style = "monokai"',
    'linenums = true\ncss_class = "highlight"\nclassprefix = "hl-"',
    'linenos = "inline"\nnoclasses = true\npygments_style = "friendly"\nhl_lines = [1]',
], ids=["defaults", "inline-styles", "line-numbers-prefix", "inline-numbers"])
def test_highlighted_html_is_python_markdowns_own(tmp_path: Path, codehilite: str) -> None:
    site = build_posts(tmp_path, codehilite)
    # renderer's one default of its own: no guessing of a block's language
    configs = {"codehilite": {"guess_lang": False, **tomllib.loads(codehilite)}}
    for name in POSTS:
        source = (site / f"content/posts/{name}.md").read_text(encoding="utf-8")
        body = source.split("---\n", 2)[2]
        expected = markdown.Markdown(extensions=EXTENSIONS,
                                     extension_configs=configs).convert(body)
        assert (site / f"build/{name}/index.html").read_text(encoding="utf-8") == expected


def test_a_formatter_the_site_names_is_used(tmp_path: Path) -> None:
    """`pygments_formatter` set in site.toml is the site's choice, not replaced."""
    site = build_posts(tmp_path, 'pygments_formatter = "bbcode"')
    page = (site / "build/one/index.html").read_text(encoding="utf-8")
    assert "[color=" in page and '<span class="k">' not in page


def test_a_bad_codehilite_option_is_a_located_error(tmp_path: Path) -> None:
    """codehilite's `linenums` takes a boolean (`linenos = "inline"` is Pygments' own):
    the error names the file, the line and the value, and suggests no other extension,
    since the name is right."""
    site = make_site(tmp_path, {
        "site.toml": """\
            [markdown.extension_configs.codehilite]
            linenums = "inline"

            [sources]
            index = "content/index.md"

            [[routes]]
            url = "/"
            template = "index.html"
            page = "index"
            """,
        "templates/index.html": "{{ page.content }}",
        "content/index.md": "```python\nx = 1\n```\n",
    })
    code, _, err = run_renderer("build", site)
    assert code == 1
    assert "site.toml:" in err and 'Markdown extension "codehilite"' in err
    assert "'inline'" in err and "did you mean" not in err
