"""Every mistake of SPEC's "Bad input" list: one line `error: file:line: message`, exit 1.

Each case starts from a small working site (BASE), changes one file, and runs
`renderer build` in the site folder. It checks the exit code, that standard error starts
with `error: `, that it names the right `file:line` and says what is wrong (with the
nearest valid name where there is one), that no traceback leaks, and that the output
folder holds exactly what it held before. Every case runs in this process through
click's runner (fast); a sample of them also runs as a real `renderer` process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import make_site, run_cli, run_renderer, snapshot

BASE_TOML = """\
[site]
title = "Errors"

[sources]
posts = { glob = "content/posts/*.md", sort = "date" }
info = "content/info.toml"
team = "content/team.py:members"

[[routes]]
url = "/"
template = "index.html"

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"
"""

BASE_INDEX = """\
<h1>{{ site.title }}</h1>
{% for post in data.posts %}<a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a>
{%- endfor %}
<p>{{ data.info.owner }} and {{ data.team | join(", ") }}</p>
"""

BASE: dict[str, str | None] = {
    "site.toml": BASE_TOML,
    "templates/index.html": BASE_INDEX,
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n",
    "content/posts/a.md": "---\ntitle: A\ndate: 2024-01-01\n---\nBody of *A*.\n",
    "content/info.toml": 'owner = "me"\n',
    "content/team.py": "def members():\n    return ['ann', 'bob']\n",
}

ROUTE_2_LINE = 13  # the line of the second [[routes]] header in BASE_TOML
ROUTE_3_LINE = 18  # the line of a third [[routes]] that toml_plus() adds


def toml_with(old: str, new: str) -> str:
    assert old in BASE_TOML, old
    return BASE_TOML.replace(old, new)


def toml_plus(extra: str) -> str:
    return BASE_TOML + "\n" + extra


@dataclass(frozen=True)
class Case:
    """A broken site: BASE with `files` changed; the error names `file` at `line`, which is
    a number or the text of the line (its first occurrence in the file), and says `says`."""

    id: str
    files: dict[str, str | None]
    file: str
    line: int | str
    says: tuple[str, ...] = ()
    subprocess: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def files_of_site(self) -> dict[str, str | None]:
        return {**BASE, **self.files}

    def line_number(self) -> int:
        if isinstance(self.line, int):
            return self.line
        text = self.files_of_site()[self.file]
        assert text is not None
        for number, line in enumerate(text.splitlines(), start=1):
            if self.line in line:
                return number
        raise AssertionError(f"{self.line!r} is not in {self.file}")


CASES = [
    # site.toml: unknown keys, with the nearest valid one
    Case("unknown-top-level-key", {"site.toml": toml_plus("[sitee]\nx = 1\n")},
         "site.toml", "[sitee]", ('unknown key "sitee"', 'did you mean "site"'), subprocess=True),
    Case("unknown-route-key",
         {"site.toml": toml_with('template = "post.html"', 'templat = "post.html"')},
         "site.toml", "templat =", ('unknown key "templat"', 'did you mean "template"')),
    Case("unknown-markdown-key", {"site.toml": toml_plus('[markdown]\nextension = ["toc"]\n')},
         "site.toml", "extension =", ('unknown key "extension"', 'did you mean "extensions"')),
    Case("unknown-source-key",
         {"site.toml": toml_with('sort = "date"', 'sortt = "date"')},
         "site.toml", "sortt", ('unknown key "sortt"', 'did you mean "sort"')),
    Case("unknown-source-in-each",
         {"site.toml": toml_with('each = "posts"', 'each = "psts"')},
         "site.toml", 'each = "psts"', ('no source named "psts"', 'did you mean "posts"')),
    # site.toml: missing files
    Case("missing-template",
         {"site.toml": toml_with('template = "post.html"', 'template = "pots.html"')},
         "site.toml", 'template = "pots.html"',
         ('no template "pots.html"', 'did you mean "post.html"')),
    Case("missing-source-file",
         {"site.toml": toml_with('"content/info.toml"', '"content/inf.toml"')},
         "site.toml", "content/inf.toml", ('no file "content/inf.toml"', "info.toml")),
    Case("missing-python-file",
         {"site.toml": toml_with('"content/team.py:members"', '"content/teams.py:members"')},
         "site.toml", "content/teams.py", ('no file "content/teams.py"', "team.py")),
    # site.toml: syntax
    Case("site-toml-syntax-error",
         {"site.toml": toml_with('title = "Errors"', 'title = "Errors\nnext = 1')},
         "site.toml", 2, ("TOML syntax error",), subprocess=True),
    Case("unknown-markdown-extension",
         {"site.toml": toml_plus('[markdown]\nextensions = ["tables", "tabels"]\n')},
         "site.toml", "extensions =", ('Markdown extension "tabels"',)),
    # front matter
    Case("yaml-front-matter-syntax-error",
         {"content/posts/a.md": "---\ntitle: A\ndate: 2024-01-01\ntags: [a, b\n---\nBody\n"},
         "content/posts/a.md", 4, ("YAML syntax error",), subprocess=True),
    Case("yaml-front-matter-bad-indentation",
         {"content/posts/a.md": "---\ntitle: A\n  date: 2024-01-01\n---\nBody\n"},
         "content/posts/a.md", 3, ("YAML syntax error",)),
    Case("toml-front-matter-syntax-error",
         {"content/posts/a.md": '+++\ntitle = "A"\ndate = \n+++\nBody\n'},
         "content/posts/a.md", 3, ("TOML syntax error",)),
    Case("front-matter-never-closed",
         {"content/posts/a.md": "---\ntitle: A\ndate: 2024-01-01\nBody\n"},
         "content/posts/a.md", 1, ("never closed",)),
    # data files
    Case("json-data-syntax-error",
         {"site.toml": toml_with('"content/info.toml"', '"content/info.json"'),
          "content/info.json": '{\n  "owner": "me",\n  "age": \n}\n'},
         "content/info.json", 4, ("JSON syntax error",), subprocess=True),
    Case("yaml-data-syntax-error",
         {"site.toml": toml_with('"content/info.toml"', '"content/info.yaml"'),
          "content/info.yaml": "owner: me\nfriends:\n  - ann\n  bob: 1\n"},
         "content/info.yaml", 4, ("YAML syntax error",)),
    Case("toml-data-syntax-error",
         {"content/info.toml": 'owner = "me"\nage = \n'},
         "content/info.toml", 2, ("TOML syntax error",)),
    # Python sources
    Case("python-source-raises",
         {"content/team.py": "def members():\n    people = {'ann': 1}\n"
                             "    return people['bob']\n"},
         "content/team.py", 3, ("KeyError", "bob"), subprocess=True),
    Case("python-source-raises-in-a-helper",
         {"content/team.py": "def members():\n    return helper()\n\n\n"
                             "def helper():\n    return 1 / 0\n"},
         "content/team.py", 6, ("ZeroDivisionError",)),
    Case("python-source-syntax-error",
         {"content/team.py": "import os\n\ndef members():\n    return 1 +\n"},
         "content/team.py", 4, ("SyntaxError",)),
    Case("python-source-raises-on-import",
         {"content/team.py": "import json\nVALUE = json.loads('{')\n\n"
                             "def members():\n    return VALUE\n"},
         "content/team.py", 2, ("JSONDecodeError",)),
    Case("python-missing-function",
         {"site.toml": toml_with('"content/team.py:members"', '"content/team.py:membres"')},
         "site.toml", "content/team.py:membres",
         ('no function "membres"', "team.py", 'did you mean "members"')),
    Case("python-context-raises",
         {"site.toml": toml_with('each = "posts"',
                                 'each = "posts"\ncontext = "content/team.py:extra"'),
          "content/team.py": "def members():\n    return []\n\n\n"
                             "def extra(slug):\n    return {'x': int(slug)}\n"},
         "content/team.py", 6, ("ValueError", "invalid literal")),
    Case("python-each-raises",
         {"site.toml": toml_with('each = "posts"', 'each = "content/team.py:slugs"'),
          "content/team.py": "def members():\n    return []\n\n\n"
                             "def slugs(data):\n"
                             "    return [{'slug': p.slug} for p in data.postz]\n"},
         "content/team.py", 6, ("postz",)),
    # routes
    Case("url-variable-missing-from-item",
         {"site.toml": toml_with('url = "/posts/<slug>/"', 'url = "/posts/<name>/"')},
         "site.toml", ROUTE_2_LINE, ('has no "name"', "content/posts/a.md")),
    Case("value-rejected-by-converter",
         {"site.toml": toml_plus('[[routes]]\nurl = "/n/<int:n>/"\ntemplate = "index.html"\n'
                                 'each = "content/team.py:numbers"\n'),
          "content/team.py": "def members():\n    return []\n\n\n"
                             "def numbers():\n    return [{'n': 1}, {'n': 'abc'}]\n"},
         "site.toml", ROUTE_3_LINE, ("abc",)),
    Case("value-with-a-slash",
         {"site.toml": toml_plus('[[routes]]\nurl = "/s/<slug>/"\ntemplate = "index.html"\n'
                                 'each = "content/team.py:slugs"\n'),
          "content/team.py": "def members():\n    return []\n\n\n"
                             "def slugs():\n    return [{'slug': 'ok'}, {'slug': 'a/b'}]\n"},
         "site.toml", ROUTE_3_LINE, ("a/b", "match back")),
    Case("empty-value",
         {"site.toml": toml_plus('[[routes]]\nurl = "/s/<string:slug>/"\n'
                                 'template = "index.html"\neach = "content/team.py:slugs"\n'),
          "content/team.py": "def members():\n    return []\n\n\n"
                             "def slugs():\n    return [{'slug': 'ok'}, {'slug': ''}]\n"},
         "site.toml", ROUTE_3_LINE, ("empty segment", "may not be empty")),
    Case("variables-without-each",
         {"site.toml": toml_plus('[[routes]]\nurl = "/x/<v>/"\ntemplate = "index.html"\n')},
         "site.toml", ROUTE_3_LINE, ("each", "'v'")),
    Case("output-clash-route-route",
         {"site.toml": toml_plus('[[routes]]\nurl = "/index.html"\ntemplate = "post.html"\n'
                                 'name = "home"\n')},
         "site.toml", ROUTE_3_LINE, ("index.html", "routes[0]", "routes[2]")),
    Case("output-clash-route-static",
         {"site.toml": toml_plus('[[routes]]\nurl = "/robots.txt"\ntemplate = "index.html"\n'),
          "static/robots.txt": "User-agent: *\n"},
         "site.toml", ROUTE_3_LINE, ("robots.txt", "routes[2]", "static")),
    # templates
    Case("url-for-unknown-route",
         {"templates/index.html": BASE_INDEX.replace("url_for('post'", "url_for('pots'")},
         "templates/index.html", 2, ('no route named "pots"', 'did you mean "post"'),
         subprocess=True),
    Case("template-syntax-error",
         {"templates/post.html": "<h1>{{ page.title }}</h1>\n{% if page.title %}\n"
                                 "{{ page.content }}\n{% endfor %}\n"},
         "templates/post.html", 4, ("TemplateSyntaxError", "endfor")),
    Case("template-runtime-error",
         {"templates/post.html": "<h1>{{ page.title }}</h1>\n\n{{ page.title.nope() }}\n"},
         "templates/post.html", 3, ("UndefinedError", "nope")),
    Case("template-asks-a-page-for-a-field-it-lacks",
         {"templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.titel.upper() }}\n"},
         "templates/post.html", 2,
         ('UndefinedError: content/posts/a.md has no "titel"', 'did you mean "title"')),
    Case("template-asks-a-listed-page-for-a-field-it-lacks",
         {"templates/index.html": "{% for p in data.posts %}{{ p.summary.strip() }}{% endfor %}\n"},
         "templates/index.html", 1, ('content/posts/a.md has no "summary"',)),
    Case("template-runtime-error-in-include",
         {"templates/post.html": "<h1>{{ page.title }}</h1>\n{% include 'part.html' %}\n",
          "templates/part.html": "<p>part</p>\n<p>{{ 1 // 0 }}</p>\n"},
         "templates/part.html", 2, ("ZeroDivisionError",)),
    Case("template-missing-include",
         {"templates/post.html": "<h1>{{ page.title }}</h1>\n{% include 'prt.html' %}\n"},
         "templates/post.html", 2, ('no template "prt.html"',)),
]


def output_before(site: Path) -> dict[str, tuple[bytes, int]]:
    """An output folder from an earlier build and a foreign file, to check it survives."""
    out = site / "build"
    (out / "old").mkdir(parents=True)
    (out / "index.html").write_text("earlier build\n")
    (out / "old" / "index.html").write_text("an old page\n")
    (out / "CNAME").write_text("example.org\n")
    return snapshot(out)


def check_error(case: Case, code: int, stderr: str) -> None:
    location = f"{Path(case.file)}:{case.line_number()}"
    assert code == 1, f"exit {code}, stderr: {stderr}"
    assert stderr.startswith("error: "), stderr
    assert "Traceback" not in stderr, stderr
    first = stderr.splitlines()[0]
    assert f"error: {location}: " in first, f"expected {location} in: {stderr}"
    for words in case.says:
        assert words in stderr, f"expected {words!r} in: {stderr}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    site = make_site(tmp_path, case.files_of_site())
    before = output_before(site)
    code, _, stderr = run_cli("build", cwd=site)
    check_error(case, code, stderr)
    assert snapshot(site / "build") == before, "a failed build changed the output folder"


SUBPROCESS_CASES = [case for case in CASES if case.subprocess]


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[case.id for case in SUBPROCESS_CASES])
def test_bad_input_real_command(case: Case, tmp_path: Path) -> None:
    site = make_site(tmp_path, case.files_of_site())
    before = output_before(site)
    code, _, stderr = run_renderer("build", cwd=site)
    check_error(case, code, stderr)
    assert snapshot(site / "build") == before


def test_base_site_builds(tmp_path: Path) -> None:
    """The cases above break a site that works."""
    site = make_site(tmp_path, BASE)
    code, stdout, stderr = run_cli("build", "--strict", cwd=site)
    assert code == 0, stderr
    assert "built 2 pages" in stdout
    page = (site / "build" / "index.html").read_text()
    assert '<a href="/posts/a/">A</a>' in page
    assert "me and ann, bob" in page


def test_error_names_file_relative_to_the_working_folder(tmp_path: Path) -> None:
    case = next(case for case in CASES if case.id == "python-source-raises")
    make_site(tmp_path, case.files_of_site())
    code, _, stderr = run_renderer("build", "site", cwd=tmp_path)
    assert code == 1
    assert stderr.startswith("error: site/content/team.py:3: "), stderr


def test_no_site_toml(tmp_path: Path) -> None:
    code, _, stderr = run_renderer("build", tmp_path)
    assert code == 1
    assert stderr.startswith("error: ")
    assert "site.toml" in stderr
    assert "Traceback" not in stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    case = next(case for case in CASES if case.id == "python-source-raises")
    site = make_site(tmp_path, case.files_of_site())
    code, _, stderr = run_renderer("--debug", "build", cwd=site)
    assert code == 1
    assert "Traceback (most recent call last)" in stderr
    assert "KeyError" in stderr


@pytest.mark.parametrize("arguments", [
    ("build", "--jobs", "0"),
    ("build", "--no-such-option"),
    ("no-such-command",),
    ("routes", "--jobs", "2"),
    ("new",),
])
def test_usage_errors_exit_2(arguments: tuple[str, ...], tmp_path: Path) -> None:
    code, _, stderr = run_cli(*arguments, cwd=tmp_path)
    assert code == 2, stderr
    assert "Usage:" in stderr
    assert "Traceback" not in stderr


def test_usage_error_real_command(tmp_path: Path) -> None:
    code, _, stderr = run_renderer("build", "--jobs", "zero", cwd=tmp_path)
    assert code == 2
    assert "Usage:" in stderr and "--jobs" in stderr
