"""What a build does to its output folder.

A failed build changes nothing there. A good one leaves exactly what the site produces
plus the files renderer never wrote (`.git`, `CNAME`), deletes only what an earlier build
wrote and this one no longer produces, and does not touch a file whose bytes are the
same. Builds are reproducible: twice, clean or incremental, with one job or two.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_site, run_cli, run_renderer, snapshot, tree

POSTS_SITE = {
    "site.toml": """\
        [site]
        title = "Output"

        [sources]
        posts = { glob = "content/posts/*.md", sort = "title" }

        [[routes]]
        url = "/"
        template = "index.html"

        [[routes]]
        url = "/posts/<slug>/"
        template = "post.html"
        each = "posts"
        """,
    "templates/index.html": """\
        {% for post in data.posts -%}
        <a href="{{ url_for('post', slug=post.slug) }}">{{ post.title }}</a>
        {% endfor %}""",
    "templates/post.html": "<h1>{{ page.title }}</h1>\n{{ page.content }}\n"
                           '<a href="{{ url_for("index") }}">home</a>\n',
    "content/posts/a.md": "---\ntitle: A\n---\nPost *A*.\n",
    "content/posts/b.md": "---\ntitle: B\n---\nPost *B*.\n",
    "content/posts/c.md": "---\ntitle: C\n---\nPost *C*.\n",
    "static/style.css": "h1 { color: red }\n",
}


def add_foreign_files(out: Path) -> None:
    """Files renderer never wrote, as a deploy repository keeps them."""
    (out / ".git").mkdir(parents=True, exist_ok=True)
    (out / ".git" / "config").write_text("[core]\n\tbare = false\n")
    (out / "CNAME").write_text("example.org\n")
    (out / "posts" / "notes.txt").write_text("my notes, next to the posts\n")


def build_ok(site: Path, *args: str) -> str:
    code, stdout, stderr = run_cli("build", site, *args)
    assert code == 0, stderr
    return stdout


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """The posts site, built once, with foreign files added."""
    site = make_site(tmp_path, POSTS_SITE)
    build_ok(site)
    add_foreign_files(site / "build")
    return site


BREAKAGES = {
    "template-syntax-error": ("templates/post.html", "{% if %}\n"),
    "template-runtime-error": ("templates/index.html", "{{ 1 // 0 }}\n"),
    "front-matter-error": ("content/posts/b.md", "---\ntitle: [B\n---\n"),
    "site-toml-error": ("site.toml", "[site\n"),
    "unknown-key": ("site.toml", POSTS_SITE["site.toml"].replace("[site]", "[sites]")),
    "clash": ("static/posts/a/index.html", "a static file where a post goes\n"),
    "front-matter-not-a-mapping": ("content/posts/d.md", "---\n- a list\n---\n"),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_failed_build_changes_nothing(built: Path, breakage: str) -> None:
    """Break a built site, delete a post and add one: the failed build leaves every byte
    and every mtime as it was, foreign files included."""
    out = built / "build"
    before = snapshot(out)
    (built / "content" / "posts" / "c.md").unlink()
    (built / "content" / "posts" / "new.md").write_text("---\ntitle: New\n---\nNew.\n")
    name, text = BREAKAGES[breakage]
    path = built / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    code, _, stderr = run_cli("build", built)
    assert code == 1, stderr
    assert stderr.startswith("error: ")
    assert snapshot(out) == before
    # Once fixed, the next build applies both changes.
    path.unlink()
    if name in POSTS_SITE:
        path.write_text(POSTS_SITE[name])
    build_ok(built)
    files = tree(out)
    assert "posts/new/index.html" in files
    assert "posts/c/index.html" not in files
    assert files["CNAME"] == b"example.org\n"


def test_failed_strict_build_changes_nothing(built: Path) -> None:
    """With the real command."""
    out = built / "build"
    before = snapshot(out)
    (built / "templates" / "post.html").write_text('<a href="/nowhere/">broken</a>\n')
    code, _, stderr = run_renderer("build", built, "--strict")
    assert code == 1
    assert stderr.startswith("error: ")
    assert snapshot(out) == before


def test_good_build_keeps_foreign_files_and_removes_stale_ones(built: Path) -> None:
    out = built / "build"
    (built / "content" / "posts" / "c.md").unlink()
    (built / "static" / "style.css").unlink()
    stdout = build_ok(built)
    assert "2 removed" in stdout
    assert sorted(tree(out)) == [
        ".git/config", "CNAME", "index.html", "posts/a/index.html", "posts/b/index.html",
        "posts/notes.txt",
    ]
    assert not (out / "posts" / "c").exists(), "the emptied folder of the old post is left"
    assert (out / ".git" / "config").read_text() == "[core]\n\tbare = false\n"
    assert b"/posts/c/" not in (out / "index.html").read_bytes()


def test_foreign_file_in_an_emptied_folder_survives(built: Path) -> None:
    out = built / "build"
    (out / "posts" / "c" / "keep.txt").write_text("mine\n")
    (built / "content" / "posts" / "c.md").unlink()
    build_ok(built)
    assert not (out / "posts" / "c" / "index.html").exists()
    assert (out / "posts" / "c" / "keep.txt").read_text() == "mine\n"


def test_unchanged_files_keep_their_mtime(built: Path) -> None:
    out = built / "build"
    old = {name: mtime - 10**9 for name, (_, mtime) in snapshot(out).items()}
    for name, mtime in old.items():  # a second in the past, so that a rewrite would show
        os.utime(out / name, ns=(mtime, mtime))
    post = built / "content" / "posts" / "b.md"
    post.write_text(post.read_text().replace("Post *B*.", "Post *B*, edited."))
    # A template saved again with the same text: everything renders, nothing changes.
    template = built / "templates" / "index.html"
    template.write_text(template.read_text())
    stdout = build_ok(built)
    assert "1 written" in stdout
    after = snapshot(out)
    changed = sorted(name for name in old if after[name][1] != old[name])
    assert changed == ["posts/b/index.html"]
    assert b"edited" in after["posts/b/index.html"][0]


def test_a_rebuild_without_changes_writes_nothing(built: Path) -> None:
    out = built / "build"
    before = snapshot(out)
    stdout = build_ok(built)
    assert "0 written" in stdout and "0 removed" in stdout
    assert snapshot(out) == before


def test_builds_are_reproducible(tmp_path: Path) -> None:
    """The same site built twice into two folders, and again with --clean: same bytes."""
    site = make_site(tmp_path, POSTS_SITE)
    build_ok(site, "--output", tmp_path / "one")
    build_ok(site, "--output", tmp_path / "two")
    build_ok(site, "--output", tmp_path / "one", "--clean")
    first = tree(tmp_path / "one")
    assert first == tree(tmp_path / "two")
    copy = make_site(tmp_path, POSTS_SITE, folder="copy")
    build_ok(copy, "--output", tmp_path / "three")
    assert first == tree(tmp_path / "three")


def many_posts(count: int) -> dict[str, str | None]:
    files: dict[str, str | None] = dict(POSTS_SITE)
    for number in range(count):
        files[f"content/posts/post-{number:03}.md"] = (
            f"---\ntitle: Post {number}\ntags: [t{number % 7}]\n---\n"
            f"# Post {number}\n\nBody with a [link](../post-{(number + 1) % count:03}/).\n")
    return files


def test_jobs_1_and_2_give_the_same_bytes(tmp_path: Path) -> None:
    """Enough pages that --jobs 2 really renders in worker processes."""
    site = make_site(tmp_path, many_posts(150))
    for jobs in ("1", "2"):
        code, stdout, stderr = run_renderer("build", site, "--output", tmp_path / f"jobs{jobs}",
                                            "--jobs", jobs, "--clean", "--strict")
        assert code == 0, stderr
        assert "built 154 pages" in stdout
    one = tree(tmp_path / "jobs1")
    assert len(one) == 155
    assert one == tree(tmp_path / "jobs2")


def test_output_folder_may_not_be_the_site_itself(tmp_path: Path) -> None:
    site = make_site(tmp_path, POSTS_SITE)
    before = snapshot(site)
    code, _, stderr = run_cli("build", site, "--output", site / "templates")
    assert code == 1
    assert stderr.startswith("error: ") and "overlaps" in stderr
    assert snapshot(site) == before


def test_a_foreign_folder_where_a_file_goes_is_not_deleted(tmp_path: Path) -> None:
    site = make_site(tmp_path, POSTS_SITE)
    foreign = site / "build" / "index.html"
    foreign.mkdir(parents=True)
    (foreign / "mine.txt").write_text("mine\n")
    code, _, stderr = run_cli("build", site)
    assert code == 1
    assert stderr.startswith("error: ")
    assert (foreign / "mine.txt").read_text() == "mine\n"


def test_a_foreign_file_where_a_folder_goes_is_not_replaced(built: Path) -> None:
    """A new post needs the folder posts/d/, where the user keeps a file by that name:
    the build fails, naming it, and changes nothing."""
    out = built / "build"
    (out / "posts" / "d").write_text("mine\n")
    before = snapshot(out)
    (built / "content" / "posts" / "d.md").write_text("---\ntitle: D\n---\nPost *D*.\n")
    code, _, stderr = run_cli("build", built)
    assert code == 1
    assert "posts/d is a file where the site needs a folder" in stderr
    assert snapshot(out) == before


def test_a_first_build_becomes_the_output_folder_as_if_made_by_mkdir(tmp_path: Path) -> None:
    """Into a missing or empty output folder the staged tree is renamed into place: the
    result is what moving file by file gives, with the permissions of a new folder."""
    site = make_site(tmp_path, many_posts(80))
    fresh, emptied, kept = tmp_path / "deep" / "fresh", tmp_path / "emptied", tmp_path / "kept"
    emptied.mkdir()
    kept.mkdir()
    (kept / "CNAME").write_text("example.org\n")  # not empty: files are moved one by one
    for out in (fresh, emptied, kept):
        code, stdout, stderr = run_renderer("build", site, "--output", out, "--jobs", "2")
        assert code == 0, stderr
        assert "built 84 pages" in stdout
    assert tree(fresh) == tree(emptied) == {
        name: data for name, data in tree(kept).items() if name != "CNAME"}
    reference = tmp_path / "made-by-mkdir"
    reference.mkdir()
    for folder in (fresh, emptied, fresh / "posts", fresh / "posts" / "post-000"):
        assert folder.stat().st_mode == reference.stat().st_mode, folder
    assert not list((site / ".renderer-cache").glob("staging-*"))


def test_an_output_folder_that_is_a_link_stays_a_link(tmp_path: Path) -> None:
    site = make_site(tmp_path, POSTS_SITE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site / "build").symlink_to(elsewhere, target_is_directory=True)
    build_ok(site)
    assert (site / "build").is_symlink()
    assert (elsewhere / "posts" / "a" / "index.html").is_file()


def test_an_error_in_a_worker_process_names_its_file_and_line(tmp_path: Path) -> None:
    """With --jobs 2 the failing page renders in a worker: the error comes back to the
    build with its template line, and the output folder is left as it was."""
    site = make_site(tmp_path, many_posts(120))
    build_ok(site, "--jobs", "2")
    out = site / "build"
    before = snapshot(out)
    (site / "templates" / "post.html").write_text(
        "<h1>{{ page.title }}</h1>\n{{ page.content }}\n"
        "{% if page.title == 'Post 77' %}{{ page.missing.deeper }}{% endif %}\n")
    code, _, stderr = run_renderer("build", site, "--jobs", "2")
    assert code == 1
    assert "templates/post.html:3" in stderr.replace(os.sep, "/"), stderr
    assert "missing" in stderr
    assert snapshot(out) == before


KILLER_SITE = {
    "site.toml": """\
        [site]
        title = "Killer"

        [sources]
        numbers = "content/numbers.py:numbers"

        [[routes]]
        url = "/n/<number>/"
        template = "number.html"
        each = "numbers"
        context = "content/numbers.py:context"
        """,
    "content/numbers.py": """\
        import os, signal

        def numbers():
            return [{"number": str(n)} for n in range(100)]

        def context(number):
            if number == "57" and os.environ.get("RENDERER_TEST_PARENT") != str(os.getpid()):
                os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
            return {}
        """,
    "templates/number.html": "<p>{{ number }}</p>\n",
}


def test_a_worker_process_that_dies_fails_the_build_instead_of_hanging(tmp_path: Path) -> None:
    """A worker killed mid-build (by the kernel's out-of-memory killer, say) is reported
    and the build stops; nothing is written. The site's Python source kills the worker
    that renders /n/57/, never the build's own process."""
    site = make_site(tmp_path, KILLER_SITE)
    script = ("import os, sys; os.environ['RENDERER_TEST_PARENT'] = str(os.getpid()); "
              "from renderer.cli import main; sys.argv = ['renderer'] + sys.argv[1:]; main()")
    completed = subprocess.run([sys.executable, "-c", script, "build", str(site), "--jobs", "2"],
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 1, completed.stderr
    assert "worker process was killed by signal 9" in completed.stderr
    assert not (site / "build").exists()


STYLE_SITE = {
    "site.toml": """\
        [site]
        title = "Styles"

        [sources]
        posts = { glob = "content/posts/*.md" }

        [[routes]]
        url = "/posts/<slug>.html/"
        template = "post.html"
        each = "posts"
        """,
    "templates/post.html": "<h1>{{ page.title }}</h1>\n",
    "content/posts/a.md": "---\ntitle: A\n---\nA.\n",
    "content/posts/b.md": "---\ntitle: B\n---\nB.\n",
}
FOLDERS, FILES = '"/posts/<slug>.html/"', '"/posts/<slug>.html"'


def restyle(site: Path, before: str, after: str) -> None:
    (site / "site.toml").write_text((site / "site.toml").read_text().replace(before, after))


@pytest.mark.parametrize("swap", [False, True], ids=["file-by-file", "swap"])
def test_a_rule_may_change_its_url_style_over_an_earlier_build(tmp_path: Path,
                                                               swap: bool) -> None:
    """Issue 16: a rule that wrote posts/a.html/index.html now writes the file
    posts/a.html, where the earlier build's folder is (every file in it written by
    renderer): the folder makes way. And back: the file makes way for the folder. Each
    build gives what a clean build gives, foreign files kept."""
    site = make_site(tmp_path, STYLE_SITE)
    options = ["--swap"] if swap else []
    build_ok(site, *options)
    out = site / "build"
    (out / "CNAME").write_text("example.org\n")
    for before, after in ((FOLDERS, FILES), (FILES, FOLDERS), (FOLDERS, FILES)):
        restyle(site, before, after)
        stdout = build_ok(site, *options)
        assert "2 written" in stdout and "2 removed" in stdout, stdout
        clean = tmp_path / f"clean-{after.count('/')}"
        build_ok(site, "--output", clean, "--clean")
        assert tree(out) == {**tree(clean), "CNAME": b"example.org\n"}
    assert (out / "posts" / "a.html").is_file()


def test_a_folder_with_a_foreign_file_is_not_replaced_by_a_file(tmp_path: Path) -> None:
    """The same change of style, but the user keeps a file of their own in the folder:
    the build fails, naming the folder, and changes nothing."""
    site = make_site(tmp_path, STYLE_SITE)
    build_ok(site)
    out = site / "build"
    (out / "posts" / "b.html" / "mine.txt").write_text("mine\n")
    before = snapshot(out)
    restyle(site, FOLDERS, FILES)
    code, _, stderr = run_cli("build", site)
    assert code == 1
    assert f"posts{os.sep}b.html is a folder where the site writes a file" in stderr, stderr
    assert snapshot(out) == before
