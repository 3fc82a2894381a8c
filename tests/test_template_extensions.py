"""Templates that grow by extension: `[templates] filters` and `globals` files, the built-in
`slugify`, `date` and `absolute_url` filters, `site_urls()` (a sitemap), and a Markdown
extension in a file of the site (`[markdown] extensions = ["file.py:Name"]`).

Real sites on disk, built by the real command; the dependency record is checked by what a
rebuild renders and by comparing it with a clean build; `serve` picks up each edit and
gives the bytes the build wrote. Each bad value is one located error.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import make_site, run_cli, run_renderer, tree
from serving import running, strip_reload_script, write

SITE_TOML = """\
[site]
title = "Extended"
base_url = "https://example.org/docs/"

[templates]
filters = "content/filters.py"
globals = ["content/helpers.py"]

[markdown]
extensions = ["fenced_code", "content/shout.py:Shout"]

[sources]
posts = { glob = "content/posts/*.md", sort = "-date" }

[[routes]]
url = "/"
template = "index.html"

[[routes]]
url = "/posts/<slug>/"
template = "post.html"
each = "posts"

[[routes]]
url = "/sitemap.xml"
template = "sitemap.xml"
"""

FILTERS = """\
from textwrap import dedent


def shout(text):
    return str(text).upper() + "!"


def _helper(text):
    return text
"""

SHOUT = """\
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor


class _Loud(Postprocessor):
    def run(self, text):
        return text.replace("quiet", "LOUD")


class Shout(Extension):
    def extendMarkdown(self, md):
        md.postprocessors.register(_Loud(md), "loud", 1)
"""

SITEMAP = """\
<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{%- for entry in site_urls() if entry.url.endswith("/") %}
  <url><loc>{{ entry.absolute }}</loc>
  {%- if entry.page.date %}<lastmod>{{ entry.page.date | date }}</lastmod>{% endif %}</url>
{%- endfor %}
</urlset>
"""

FILES: dict[str, str | None] = {
    "site.toml": SITE_TOML,
    "content/filters.py": FILTERS,
    "content/helpers.py": 'def greet(name):\n    return f"Hello, {name}"\n',
    "content/shout.py": SHOUT,
    "content/posts/first.md": "---\ntitle: First post\ndate: 2024-05-01\n---\nA quiet post.\n",
    "content/posts/second.md": "---\ntitle: Second\ndate: 2024-06-02\n---\nAnother one.\n",
    "templates/index.html": """\
        <h1>{{ site.title | shout }}</h1> {{ greet("reader") }}
        {% for post in data.posts -%}
        <a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a>
        {{ post.date | date("%d %B %Y") }} {{ post.title | slugify }}
        {{ url_for('post', slug=post.slug) | absolute_url }}
        {% endfor %}{{ "notes/" | absolute_url }} {{ url | absolute_url }}
        """,
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n",
    "templates/sitemap.xml": SITEMAP,
}


def build(site: Path, *args: str) -> str:
    code, stdout, stderr = run_cli("build", site, "--jobs", "1", *args)
    assert code == 0, stderr
    return stdout


def rendered(summary: str) -> int:
    found = re.search(r"(\d+) rendered", summary)
    assert found, summary
    return int(found.group(1))


def same_as_clean(site: Path, tmp_path: Path) -> None:
    """The incremental output equals a clean build of a copy of the site."""
    copy = tmp_path / "clean-copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns(".renderer-cache", "build"))
    build(copy)
    assert tree(site / "build") == tree(copy / "build")


def test_filters_globals_and_built_ins(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    result = run_renderer("build", site)
    assert result.code == 0, result.stderr
    index = (site / "build/index.html").read_text()
    assert "<h1>EXTENDED!</h1> Hello, reader" in index
    assert "01 May 2024 first-post" in index
    assert "https://example.org/docs/posts/first/" in index
    assert "https://example.org/docs/notes/ https://example.org/docs/\n" in index
    post = (site / "build/posts/first/index.html").read_text()
    assert "<p>A LOUD post.</p>" in post


def test_only_public_functions_defined_in_the_file_are_filters(tmp_path: Path) -> None:
    from renderer import Site

    site = Site.load(make_site(tmp_path, FILES))
    filters = site.templates.env.filters
    assert "shout" in filters
    assert "_helper" not in filters and "dedent" not in filters  # private; imported
    assert "greet" in site.templates.env.globals and "greet" not in filters


def test_a_sitemap_from_site_urls(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    build(site)
    assert (site / "build/sitemap.xml").read_text() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        "  <url><loc>https://example.org/docs/</loc></url>\n"
        "  <url><loc>https://example.org/docs/posts/second/</loc>"
        "<lastmod>2024-06-02</lastmod></url>\n"
        "  <url><loc>https://example.org/docs/posts/first/</loc>"
        "<lastmod>2024-05-01</lastmod></url>\n"
        "</urlset>\n")


def test_site_urls_gives_url_name_page_and_variables(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **FILES, "templates/index.html": "{% for u in site_urls() %}{{ u.url }} {{ u.name }} "
        "{{ u.page.title }} {{ u.variables.slug }}\n{% endfor %}"})
    build(site)
    assert (site / "build/index.html").read_text() == (
        "/docs/ index  \n"
        "/docs/posts/second/ post Second second\n"
        "/docs/posts/first/ post First post first\n"
        "/docs/sitemap.xml sitemap  \n")


def test_the_sitemap_follows_the_url_list_in_incremental_builds(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    build(site)
    (site / "content/posts/third.md").write_text("---\ntitle: Third\ndate: 2024-07-03\n---\nx\n")
    build(site)
    assert "posts/third/" in (site / "build/sitemap.xml").read_text()
    same_as_clean(site, tmp_path)
    body = site / "content/posts/third.md"  # a body edit: the URL list stays as it was
    body.write_text(body.read_text().replace("\nx\n", "\ny\n"))
    summary = build(site)
    assert rendered(summary) == 1, summary  # the post alone, not the sitemap
    (site / "content/posts/third.md").unlink()
    build(site)
    assert "posts/third/" not in (site / "build/sitemap.xml").read_text()
    same_as_clean(site, tmp_path)


def test_a_sitemap_rendered_in_worker_processes_from_a_kept_url_list(tmp_path: Path) -> None:
    """Enough posts that --jobs 2 renders in forked workers; after a template edit the
    build restores the URL list it kept, and site_urls() makes it anew for the sitemap."""
    files = dict(FILES)
    files.update({f"content/posts/p{n:03}.md": f"---\ntitle: P{n}\ndate: 2024-01-{n % 28 + 1:02}"
                  f"\n---\nPost {n}.\n" for n in range(80)})
    site = make_site(tmp_path, files)
    build(site, "--jobs", "2")
    write(site / "templates/sitemap.xml", SITEMAP.replace("<urlset", "<!-- v2 --><urlset"))
    write(site / "templates/post.html", "<h2>{{ page.title }}</h2>\n{{ page.content }}\n")
    build(site, "--jobs", "2")
    sitemap = (site / "build/sitemap.xml").read_text()
    assert "v2" in sitemap and sitemap.count("<url>") == 83, sitemap
    same_as_clean(site, tmp_path)


def test_an_edited_filters_file_renders_again_the_pages_that_use_it(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    build(site)
    write(site / "content/filters.py", FILTERS.replace('+ "!"', '+ "!!"'))
    summary = build(site)
    assert rendered(summary) == 1, summary  # the index; posts and sitemap use no filter
    assert "<h1>EXTENDED!!</h1>" in (site / "build/index.html").read_text()
    same_as_clean(site, tmp_path)


def test_a_global_looked_up_before_it_exists(tmp_path: Path) -> None:
    """A page that asks for a name nothing defines depends on the globals files: adding
    the function there changes the page."""
    site = make_site(tmp_path, {
        **FILES, "templates/post.html": "{% if byline is defined %}{{ byline() }}"
                                        "{% else %}anonymous{% endif %}\n"})
    build(site)
    assert (site / "build/posts/first/index.html").read_text() == "anonymous\n"
    with (site / "content/helpers.py").open("a") as file:
        file.write('\n\ndef byline():\n    return "by Ada"\n')
    build(site)
    assert (site / "build/posts/first/index.html").read_text() == "by Ada\n"
    same_as_clean(site, tmp_path)


def test_an_edited_markdown_extension_converts_again(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    build(site)
    write(site / "content/shout.py", SHOUT.replace('"LOUD"', '"VERY LOUD"'))
    summary = build(site)
    assert "<p>A VERY LOUD post.</p>" in (site / "build/posts/first/index.html").read_text()
    assert rendered(summary) == 2, summary  # the two posts: nothing else converts Markdown
    same_as_clean(site, tmp_path)


def test_an_extension_may_be_a_function_making_one_with_its_settings(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **FILES,
        "site.toml": SITE_TOML.replace('"content/shout.py:Shout"', '"content/shout.py:make"')
        + '\n[markdown.extension_configs."content/shout.py:make"]\nword = "HUSHED"\n',
        "content/shout.py": SHOUT.replace('"LOUD"', "self.word").replace(
            "def run(self, text):", "word = ''\n\n    def run(self, text):").replace(
            "md.postprocessors.register(_Loud(md)", "loud = _Loud(md)\n        loud.word = "
            "self.getConfig('word')\n        md.postprocessors.register(loud") .replace(
            "class Shout(Extension):", "class Shout(Extension):\n"
            "    def __init__(self, **kwargs):\n        self.config = {'word': ['', 'a word']}\n"
            "        super().__init__(**kwargs)\n")
        + "\n\ndef make(**settings):\n    return Shout(**settings)\n"})
    build(site)
    assert "<p>A HUSHED post.</p>" in (site / "build/posts/first/index.html").read_text()


def test_jinja_decorators_on_a_site_filter_are_kept(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        **FILES, "content/filters.py": FILTERS + "\n\nfrom jinja2 import pass_context\n\n\n"
        "@pass_context\ndef here(context, text):\n    return f\"{text} at {context['url']}\"\n",
        "templates/post.html": "{{ page.title | here }}\n"})
    build(site)
    assert (site / "build/posts/first/index.html").read_text() == \
        "First post at /docs/posts/first/\n"


def test_the_routing_preview_shows_a_filters_file_that_fails(tmp_path: Path) -> None:
    from werkzeug.test import Client

    from renderer.serve.devapp import DevApp

    site = make_site(tmp_path, {**FILES, "content/filters.py": "def shout(:\n"})
    client = Client(DevApp(site))
    preview = client.get("/_renderer/")
    assert preview.status_code == 200
    assert "content/filters.py:1" in preview.get_data(as_text=True)
    assert client.get("/docs/").status_code == 500
    assert client.get("/docs/pygments.css").status_code == 404  # no pygments_style here


# -- serve ---------------------------------------------------------------------------------------


def test_serve_reloads_filters_globals_and_extensions_and_gives_the_built_bytes(
        tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES)
    result = run_renderer("build", site, "--output", tmp_path / "out")
    assert result.code == 0, result.stderr
    with running(site) as server:
        for path in ("/docs/", "/docs/posts/first/", "/docs/sitemap.xml"):
            built = tmp_path / "out" / (path.removeprefix("/docs/") or "index.html")
            if built.is_dir() or path.endswith("/"):
                built = tmp_path / "out" / path.removeprefix("/docs/") / "index.html"
            assert strip_reload_script(server.get(path).body) == built.read_bytes(), path
        write(site / "content/filters.py", FILTERS.replace('+ "!"', '+ "?"'))
        server.wait_for("/docs/", lambda r: b"EXTENDED?" in r.body)
        write(site / "content/helpers.py", 'def greet(name):\n    return f"Hi, {name}"\n')
        server.wait_for("/docs/", lambda r: b"Hi, reader" in r.body)
        write(site / "content/shout.py", SHOUT.replace('"LOUD"', '"NOISY"'))
        server.wait_for("/docs/posts/first/", lambda r: b"A NOISY post" in r.body)
        write(site / "content/filters.py", "def shout(:\n")  # broken, then healed
        reply = server.wait_for("/docs/", lambda r: r.status == 500)
        assert "content/filters.py:1" in reply.text, reply.text
        write(site / "content/filters.py", FILTERS)
        server.wait_for("/docs/", lambda r: b"EXTENDED!" in r.body and r.status == 200)


# -- bad values ----------------------------------------------------------------------------------


def toml(old: str, new: str) -> str:
    assert old in SITE_TOML, old
    return SITE_TOML.replace(old, new)


BAD = [
    ("missing-filters-file", {"site.toml": toml('"content/filters.py"', '"content/filter.py"')},
     "site.toml", 6, ('no file "content/filter.py"', 'did you mean "filters.py"')),
    ("filters-not-python", {"site.toml": toml('"content/filters.py"', '"content/nav.toml"'),
                            "content/nav.toml": "x = 1\n"},
     "site.toml", 6, ('"content/nav.toml" is not a Python file',)),
    ("unknown-templates-key", {"site.toml": toml("globals =", "global =")},
     "site.toml", 7, ('unknown key "global"', 'did you mean "globals"')),
    ("filters-file-fails-to-import", {"content/filters.py": FILTERS + "\nvalue = 1 / 0\n"},
     "content/filters.py", 11, ("ZeroDivisionError",)),
    ("filters-file-syntax-error", {"content/filters.py": "def shout(:\n"},
     "content/filters.py", 1, ("SyntaxError",)),
    ("filter-shadows-a-built-in", {"content/filters.py": FILTERS + "\n\ndef truncate(s):\n"
                                                                  "    return s\n"},
     "content/filters.py", 12, ('filter "truncate" would replace the built-in filter',)),
    ("filter-shadows-date", {"content/filters.py": "def date(value):\n    return value\n"},
     "content/filters.py", 1, ('filter "date" would replace the built-in filter',)),
    ("global-shadows-url-for", {"content/helpers.py": "def url_for(name):\n    return name\n"},
     "content/helpers.py", 1, ('global "url_for" would replace',)),
    ("global-shadows-page", {"content/helpers.py": "def page():\n    return 1\n"},
     "content/helpers.py", 1, ('global "page" would replace a name every template has',)),
    ("filter-in-two-files", {"site.toml": toml('filters = "content/filters.py"',
                                               'filters = ["content/filters.py", '
                                               '"content/more.py"]'),
                             "content/more.py": "\ndef shout(text):\n    return text\n"},
     "content/more.py", 1, ('filter "shout" is defined in', "filters.py too")),
    ("missing-extension-file", {"site.toml": toml("content/shout.py:", "content/shouts.py:")},
     "site.toml", 10, ('no file "content/shouts.py"', 'did you mean "shout.py"')),
    ("extension-name-not-in-file", {"site.toml": toml("shout.py:Shout", "shout.py:Shuot")},
     "site.toml", 10, ('no "Shuot" in shout.py', 'did you mean "Shout"')),
    ("extension-file-fails-to-import", {"content/shout.py": SHOUT + "\nraise RuntimeError('x')\n"},
     "content/shout.py", 14, ("RuntimeError: x",)),
    ("extension-written-without-name", {"site.toml": toml("content/shout.py:Shout",
                                                          "content/shout.py")},
     "site.toml", 10, ('write a Python file\'s extension as "path/to/file.py:ClassName"',)),
    ("date-of-a-string", {"templates/post.html": "<h1>{{ page.title }}</h1>\n"
                                                 "{{ page.when | date('%Y') }}\n",
                          "content/posts/first.md": "---\ntitle: A\ndate: 2024-05-01\n"
                                                    "when: May 2024\n---\nx\n"},
     "templates/post.html", 2, ("date filter: 'May 2024' (str) is not a date",)),
    ("date-of-nothing", {"templates/post.html": "<h1>\n</h1>\n{{ page.updated | date }}\n"},
     "templates/post.html", 3, ("date filter: an undefined value", 'has no "updated"',
                                "is not a date")),
    ("absolute-url-without-base-url", {"site.toml": toml(
        'base_url = "https://example.org/docs/"\n', "")},
     "templates/index.html", 5, ("absolute_url needs [site] base_url",)),
    ("absolute-of-site-urls-without-base-url", {
        "site.toml": toml('base_url = "https://example.org/docs/"\n', ""),
        "templates/index.html": "index\n"},
     "templates/sitemap.xml", 4, ("absolute_url needs [site] base_url",)),
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
    assert not (site / "build").exists()
