"""The example blog, built by the real command, equals the checked-in expected output.

tests/examples/blog uses every feature once (a sorted collection, a single page, TOML,
JSON and YAML data, a Python source, an `each` route with a callable, a `context`
callable, url_for with "static" and _external, the markdown filter, a feed, a 404 page,
static files and a draft). tests/examples/blog-expected is what `renderer build` must
write for it, byte for byte.

To regenerate the expected folder after an intended change of output, run

    RENDERER_REGENERATE=1 pytest tests/test_example.py

then read `git diff tests/examples/blog-expected` line by line before committing it.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

from conftest import BLOG_EXPECTED, Result, run_renderer, tree

EXPECTED_FILES = [
    "404.html",
    "about/index.html",
    "archive/2024/index.html",
    "css/site.css",
    "feed.xml",
    "img/dot.svg",
    "index.html",
    "posts/first-steps/index.html",
    "posts/second-post/index.html",
    "robots.txt",
    "tags/intro/index.html",
    "tags/python/index.html",
]


def check_same(actual: Path, expected: Path) -> None:
    """Fail with a readable unified diff unless the two folders hold the same files."""
    got, want = tree(actual), tree(expected)
    problems = []
    for name in sorted(want.keys() - got.keys()):
        problems.append(f"missing from the build: {name}")
    for name in sorted(got.keys() - want.keys()):
        problems.append(f"not expected, but built: {name}")
    for name in sorted(got.keys() & want.keys()):
        if got[name] == want[name]:
            continue
        try:
            diff = difflib.unified_diff(
                want[name].decode("utf-8").splitlines(keepends=True),
                got[name].decode("utf-8").splitlines(keepends=True),
                fromfile=f"expected/{name}", tofile=f"built/{name}")
            problems.append("".join(diff))
        except UnicodeDecodeError:
            problems.append(f"{name}: binary files differ")
    assert not problems, "the build differs from the expected output:\n" + "\n".join(problems)


def build_blog(blog: Path, output: Path, *extra: str) -> Result:
    result = run_renderer("build", blog, "--output", output, "--strict", *extra)
    assert result.code == 0, result.stderr
    return result


def test_blog_builds_as_expected(blog: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    result = build_blog(blog, output)
    if os.environ.get("RENDERER_REGENERATE"):
        shutil.rmtree(BLOG_EXPECTED, ignore_errors=True)
        shutil.copytree(output, BLOG_EXPECTED)
    assert "built 9 pages and 3 static files" in result.stdout
    assert "0 warnings" in result.stdout
    assert "Traceback" not in result.stderr
    assert sorted(tree(output)) == EXPECTED_FILES
    check_same(output, BLOG_EXPECTED)


def test_expected_output_is_what_the_example_means() -> None:
    """Facts about the expected folder itself, so that a careless regeneration is caught."""
    files = {name: data.decode("utf-8") for name, data in tree(BLOG_EXPECTED).items()}
    index = files["index.html"]
    # Escaping: site.title and front matter go through autoescape; Markdown HTML does not.
    assert "<title>Notes &amp; &lt;Sketches&gt;</title>" in index
    assert "First steps &amp; &#34;quotes&#34;" in index
    assert "Where it &lt;all&gt; began." in index
    assert '<pre><code class="language-python">print(&quot;&lt;escaped in code&gt;&quot;)' in \
        files["posts/first-steps/index.html"]
    assert "<p>Wrote the <em>first</em> program.</p>" in files["posts/first-steps/index.html"]
    # URLs carry base_url's path; _external ones the whole base_url.
    assert 'href="/blog/css/site.css"' in index
    assert 'href="/blog/posts/second-post/"' in index
    assert "feed: https://example.org/blog/feed.xml" in index
    assert "This page: /blog/;" in index
    assert "Permalink: https://example.org/blog/about/" in files["about/index.html"]
    # Sorted by -date: the newer post first, in the list and in the feed.
    assert index.index("second-post") < index.index("first-steps")
    feed = files["feed.xml"]
    assert feed.index("second-post") < feed.index("first-steps")
    assert "<updated>2024-03-02T10:30:00+01:00</updated>" in feed
    assert "<updated>2024-01-15T09:00:00+00:00</updated>" in feed
    assert "&lt;h2 id=&#34;part-one&#34;&gt;" in feed  # HTML in XML, escaped by forceescape
    # Dates: a quoted ISO string in front matter becomes a date.
    assert "Updated 01 Dec 2023 (date)" in files["about/index.html"]
    # The context callable and the URL variable reach the template.
    assert "Posts tagged “intro” (one of 2 tags)" in files["tags/intro/index.html"]
    assert "slug second-post" in files["posts/second-post/index.html"]
    # The draft is nowhere: no page, no place in the list, the feed or the tags.
    assert all("Secret" not in text and "secret" not in text for text in files.values())
    assert not any("hidden" in name for name in files)
    # Static files are copied as they are.
    assert files["robots.txt"] == "User-agent: *\nAllow: /\n"


def test_drafts_option_builds_the_draft(blog: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    build_blog(blog, output, "--drafts")
    built = tree(output)
    assert "posts/secret/index.html" in built
    assert "tags/hidden/index.html" in built
    assert b"Secret draft" in built["index.html"]
    assert b"Secret draft" in built["feed.xml"]
