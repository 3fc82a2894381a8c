"""Data sources as a site author sees them in the built pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_site, run_cli, tree
from hypothesis import given, settings
from hypothesis import strategies as st

from renderer.content import FENCES, FrontMatter, split_front_matter_text
from renderer.errors import ContentError


def build_index(tmp_path: Path, files: dict[str, str | None]) -> str:
    site = make_site(tmp_path, files)
    code, _, stderr = run_cli("build", site, "--strict")
    assert code == 0, stderr
    return (site / "build" / "index.html").read_text()


def test_sort_by_date_mixes_dates_and_date_times(tmp_path: Path) -> None:
    """Front matter gives a date for `2024-01-02` and a datetime for `2024-01-01 10:00`,
    with or without a zone: sorting by date must still work, newest first."""
    index = build_index(tmp_path, {
        "site.toml": '[sources]\nposts = { glob = "content/*.md", sort = "-date" }\n\n'
                     '[[routes]]\nurl = "/"\ntemplate = "index.html"\n',
        "templates/index.html": "{% for p in data.posts %}{{ p.slug }} {% endfor %}",
        "content/a.md": "---\ndate: 2024-01-02\n---\n",
        "content/b.md": "---\ndate: 2024-01-01 10:00:00\n---\n",
        "content/c.md": '---\ndate: "2024-01-03T08:00:00Z"\n---\n',
        "content/d.md": "+++\ndate = 2023-12-31T23:00:00+01:00\n+++\n",
        "content/e.md": "---\ntitle: older\ndate: 2022-06-01\n---\n",  # (no date: a warning)
    })
    assert index.split() == ["c", "a", "b", "d", "e"]


def test_collection_of_data_files_and_python_arguments(tmp_path: Path) -> None:
    index = build_index(tmp_path, {
        "site.toml": '[site]\ntitle = "T"\n\n[sources]\n'
                     'people = { glob = "content/people/*", sort = "name" }\n'
                     'count = "content/count.py:count"\n\n'
                     '[[routes]]\nurl = "/"\ntemplate = "index.html"\n',
        "templates/index.html": "{% for p in data.people %}{{ p.slug }}={{ p.name }} "
                                "{% endfor %}{{ data.count }}",
        "content/people/zed.toml": 'name = "Zed"\n',
        "content/people/amy.json": '{"name": "Amy"}\n',
        "content/people/bob.yaml": "name: Bob\n",
        "content/count.py": "def count(data, site):\n"
                            "    return f\"{len(data.people)} in {site['title']}\"\n",
    })
    assert index == "amy=Amy bob=Bob zed=Zed 3 in T"


def post_bytes(number: int) -> bytes:
    """Post `number` as a file: some with front matter longer than 4 KB (a long summary),
    some with Windows line endings or a byte order mark, one whose front matter closes
    with "..."."""
    summary = "word " * (1000 if number % 3 == 0 else 3)
    close = "..." if number == 7 else "---"
    text = (f"---\ntitle: Post {number}\nsummary: {summary.strip()}\n{close}\n"
            f"Body of *post {number}*.\n\nA second paragraph.\n")
    if number % 4 == 1:
        text = text.replace("\n", "\r\n")
    data = text.encode()
    return b"\xef\xbb\xbf" + data if number % 5 == 2 else data


def test_front_matter_is_read_alike_in_one_process_and_ahead_in_workers(
        tmp_path: Path) -> None:
    """With two jobs a build parses the posts' front matter ahead, in workers, and
    finds each page's end of front matter in its first kilobytes: 70 posts of every
    shape build to the same bytes as in one process, with the right fields and bodies."""
    site = make_site(tmp_path, {
        "site.toml": '[sources]\nposts = { glob = "content/posts/*.md", sort = "title" }\n\n'
                     '[[routes]]\nurl = "/"\ntemplate = "index.html"\n\n'
                     '[[routes]]\nurl = "/posts/<slug>/"\ntemplate = "post.html"\n'
                     'each = "posts"\n',
        "templates/index.html": "{% for p in data.posts %}{{ p.title }} "
                                "{{ p.summary | length }}\n{% endfor %}",
        "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n"
                               "{{ page.body | length }}\n",
    })
    (site / "content" / "posts").mkdir(parents=True)
    for number in range(70):
        (site / "content" / "posts" / f"post-{number:02}.md").write_bytes(post_bytes(number))
    outputs = []
    for jobs in ("1", "2"):
        code, _, stderr = run_cli("build", site, "--jobs", jobs, "--clean",
                                  "--output", site / f"out-{jobs}")
        assert code == 0, stderr
        outputs.append(tree(site / f"out-{jobs}"))
    assert outputs[0] == outputs[1]
    files = outputs[1]
    assert len(files) == 71
    index = files["index.html"].decode().splitlines()
    assert index[0] == "Post 0 4999" and "Post 1 14" in index and "Post 7 14" in index
    body = "Body of *post 0*.\n\nA second paragraph.\n"  # every line ending made "\n"
    for number in (0, 1, 2, 7):  # long; CRLF; byte order mark; closed by "..."
        assert files[f"posts/post-{number:02}/index.html"].decode() == (
            f"<h1>Post {number}</h1>\n<p>Body of <em>post {number}</em>.</p>\n"
            f"<p>A second paragraph.</p>\n{len(body)}\n")


def split_every_line(text: str) -> tuple[FrontMatter, str] | None:
    """The front matter split as renderer did it before it looked at the first
    kilobytes only: every line of the file cut. None: never closed."""
    lines = text.splitlines(keepends=True)
    fence = lines[0].rstrip() if lines else ""
    if fence not in FENCES:
        return None, text
    for end in range(1, len(lines)):
        if lines[end].rstrip() == fence or (fence == "---" and lines[end].rstrip() == "..."):
            return (FENCES[fence], "".join(lines[1:end])), "".join(lines[end + 1:])
    return None


LINES = st.sampled_from(["---", "+++", "...", "--- ", "title: x", "", " ", "a" * 1000,
                         "b" * 3000, "é", "\t"])
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\u2028", "\x0b", "\x0c", "\x85", ""])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(LINES, LINE_ENDS), max_size=30))
def test_front_matter_ends_where_it_did_when_every_line_was_cut(
        parts: list[tuple[str, str]]) -> None:
    text = "".join(line + end for line, end in parts)
    expected = split_every_line(text)
    if expected is None:
        with pytest.raises(ContentError, match="never closed"):
            split_front_matter_text(text, Path("post.md"))
    else:
        assert split_front_matter_text(text, Path("post.md")) == expected
