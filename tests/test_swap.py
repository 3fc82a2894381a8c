"""`renderer build --swap` (`[build] swap = true`): the new output is made complete beside
the old one and the two folders are exchanged in one step, so that whoever reads the
output folder sees one build or the other, never a mix, even while the build commits.

Real builds (`renderer` processes), real files, a reader thread reading the output
folder as a web server does while builds run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_site, run_renderer, tree
from test_output import POSTS_SITE, add_foreign_files, many_posts

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the exchange of folders is Linux's renameat2")
NUMBERED = re.compile(rb"build (\d+)")


def numbered_site(tmp_path: Path, posts: int) -> Path:
    """`many_posts`, each page saying which build made it (content/build.toml)."""
    files = many_posts(posts)
    files["site.toml"] = POSTS_SITE["site.toml"].replace(
        "[sources]\n", '[sources]\nbuild = "content/build.toml"\n')
    files["templates/post.html"] = "<p>build {{ data.build.number }}</p>\n" \
                                   + POSTS_SITE["templates/post.html"]
    files["content/build.toml"] = "number = 0\n"
    return make_site(tmp_path, files)


def build_number(site: Path, number: int, *args: str) -> str:
    """Build the site as build `number`; return what it printed on stderr."""
    (site / "content" / "build.toml").write_text(f"number = {number}\n")
    code, _, stderr = run_renderer("build", site, "--jobs", "1", *args)
    assert code == 0, stderr
    return stderr


def snapshot_numbers(out: Path) -> set[bytes]:
    """The build numbers the pages under `out` carry, read through one open handle on the
    folder: one view of the output at one moment, as a server holding the folder open
    (or started inside it) has. A file removed while it is read (the old tree going away
    after an exchange) is skipped: missing, not mixed."""
    numbers: set[bytes] = set()
    top = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _, _, files, folder in os.fwalk(".", dir_fd=top):
            if "index.html" in files:
                try:
                    handle = os.open("index.html", os.O_RDONLY, dir_fd=folder)
                except FileNotFoundError:
                    continue
                try:
                    numbers.update(NUMBERED.findall(os.read(handle, 1 << 16)))
                finally:
                    os.close(handle)
    finally:
        os.close(top)
    return numbers


class Reader(threading.Thread):
    """Reads snapshots of the output folder over and over until stopped; counts those
    that hold pages of two builds."""

    def __init__(self, out: Path) -> None:
        super().__init__(daemon=True)
        self.out = out
        self.stopping = threading.Event()
        self.snapshots = 0
        self.mixes: list[set[bytes]] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            numbers = snapshot_numbers(self.out)
            self.snapshots += 1
            if len(numbers) > 1:
                self.mixes.append(numbers)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        assert not self.is_alive()


@linux_only
def test_a_reader_never_sees_two_builds_at_once(tmp_path: Path) -> None:
    """A reader thread takes snapshots of the output folder while the site is built
    again and again, every page changing each time. Committed file by file, some
    snapshot holds pages of two builds (the control: the reader can see a mix); with
    --swap, over many builds, none does, and the files renderer did not write stay."""
    site = numbered_site(tmp_path, 60)
    out = site / "build"
    assert "warning" not in build_number(site, 1, "--swap")  # no output yet: a rename
    add_foreign_files(out)
    (out / "empty").mkdir()
    (out / "link").symlink_to("CNAME")
    os.chmod(out / ".git", 0o700)
    reader = Reader(out)
    reader.start()
    try:
        number = 1
        while not reader.mixes and number < 20:
            number += 1
            build_number(site, number)
        assert reader.mixes, "the reader never saw a mix of two builds without --swap"
        # A new reader: the first may still be in a snapshot of the last build above.
        reader.stop()
        mixes = len(reader.mixes)
        reader = Reader(out)
        reader.start()
        before = reader.snapshots
        for _ in range(8):
            number += 1
            inode = os.stat(out).st_ino
            assert "warning" not in build_number(site, number, "--swap")
            assert os.stat(out).st_ino != inode, "the output folder was not exchanged"
            assert (out / "CNAME").read_text() == "example.org\n"
    finally:
        reader.stop()
    assert reader.mixes == [], f"with --swap a reader saw {reader.mixes[:3]}"
    assert reader.snapshots - before > 10, "the reader hardly read during the builds"
    print(f"{mixes} mixes without --swap; none in {reader.snapshots - before} snapshots "
          "with it")
    files = tree(out)
    assert files[".git/config"] == b"[core]\n\tbare = false\n"
    assert files["posts/notes.txt"] == b"my notes, next to the posts\n"
    assert NUMBERED.findall(files["posts/post-007/index.html"]) == [str(number).encode()]
    assert (out / "empty").is_dir() and os.readlink(out / "link") == "CNAME"
    assert (out / ".git").stat().st_mode & 0o777 == 0o700


@linux_only
def test_the_option_and_the_key_give_what_a_commit_file_by_file_gives(tmp_path: Path) -> None:
    """The same edits built three ways: file by file, with --swap, with [build] swap =
    true. The outputs are equal, foreign files included, a deleted post's page and its
    folder gone; the two that swap exchanged their output folder, the other did not."""
    sites = {way: make_site(tmp_path, many_posts(20), folder=way)
             for way in ("plain", "option", "key")}
    key = sites["key"] / "site.toml"
    key.write_text(key.read_text() + "\n[build]\nswap = true\n")
    args = {"plain": [], "option": ["--swap"], "key": []}
    inodes = {}
    for way, site in sites.items():
        code, _, stderr = run_renderer("build", site, *args[way])
        assert code == 0, stderr
        add_foreign_files(site / "build")
        inodes[way] = os.stat(site / "build").st_ino
        (site / "content" / "posts" / "post-003.md").unlink()
        (site / "content" / "posts" / "new.md").write_text("---\ntitle: New\n---\nNew.\n")
        (site / "templates" / "index.html").write_text("<p>{{ data.posts | length }}</p>\n")
        code, stdout, stderr = run_renderer("build", site, *args[way])
        assert code == 0 and "swap" not in stderr, stderr
        assert "2 written" in stdout and "1 removed" in stdout, stdout
    plain, option, key_out = (tree(sites[way] / "build") for way in sites)
    assert plain == option == key_out
    assert "posts/new/index.html" in plain and "CNAME" in plain
    assert not (sites["option"] / "build" / "posts" / "post-003").exists()
    assert os.stat(sites["plain"] / "build").st_ino == inodes["plain"]
    assert os.stat(sites["option"] / "build").st_ino != inodes["option"]
    assert os.stat(sites["key"] / "build").st_ino != inodes["key"]


def test_swap_must_be_true_or_false(tmp_path: Path) -> None:
    site = make_site(tmp_path, POSTS_SITE)
    (site / "site.toml").write_text('[build]\nswap = "yes"\n\n' + POSTS_SITE["site.toml"])
    code, _, stderr = run_renderer("build", site, cwd=site)
    assert code == 1
    assert stderr == "error: site.toml:2: build.swap: must be true or false, not a string\n"
    assert not (site / "build").exists()


@pytest.fixture(params=["tmpfs", "bind"])
def mount_point(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A folder that is a mount point: a tmpfs of its own, or a folder bind-mounted on
    it (as `docker run -v` does), unmounted at the end."""
    mount = tmp_path / "mounted"
    mount.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting needs Linux and root")
    source = tmp_path / "source"
    source.mkdir()
    how = ["-t", "tmpfs", "-o", "size=4m", "tmpfs"] if request.param == "tmpfs" else \
        ["--bind", str(source)]
    made = subprocess.run(["mount", *how, str(mount)], capture_output=True, text=True,
                          check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot mount here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("swap", [False, True], ids=["file-by-file", "swap"])
def test_an_output_folder_that_is_a_mount_point(tmp_path: Path, mount_point: Path,
                                                swap: bool) -> None:
    """A mount point cannot be exchanged: with --swap, one warning says why, and the
    build commits file by file, as it does without. Its staging folder is on another
    file system (beside the output), so files are copied into place, and the files
    replaced or deleted are copied aside first: a second build that changes, adds and
    deletes pages gives what a build into a plain folder gives."""
    site = make_site(tmp_path, POSTS_SITE)
    options = ["--output", str(mount_point)] + (["--swap"] if swap else [])
    code, _, stderr = run_renderer("build", site, *options)
    assert code == 0 and stderr.count("\n") == swap, stderr
    add_foreign_files(mount_point)
    inode = os.stat(mount_point).st_ino
    (site / "content" / "posts" / "d.md").write_text("---\ntitle: D\n---\nD.\n")
    (site / "content" / "posts" / "c.md").unlink()
    code, stdout, stderr = run_renderer("build", site, *options)
    assert code == 0, stderr
    if swap:
        assert stderr.count("\n") == 1 and "is a mount point" in stderr, stderr
        assert "committing file by file" in stderr, stderr
    else:
        assert stderr == ""
    assert "2 written" in stdout and "1 removed" in stdout, stdout
    assert os.stat(mount_point).st_ino == inode, "the mount point was not exchanged"
    code, _, stderr = run_renderer("build", site, "--output", tmp_path / "plain")
    assert code == 0, stderr
    add_foreign_files(tmp_path / "plain")
    assert tree(mount_point) == tree(tmp_path / "plain")
    assert not [path for path in tmp_path.rglob("*") if "staging-" in path.name]
