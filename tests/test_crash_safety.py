"""A build that is killed, runs out of disk, or meets code that will not stop.

After a kill at any moment, or a full disk, the output folder is the previous build or
the new one, never a mix, once the next `renderer` command has started. The site's code
cannot end or hang a build; SIGTERM and Ctrl+C stop one cleanly; workers die with their
build; what killed builds leave in the cache is removed by the next one.

Real `renderer` processes, real signals, a real full file system (tmpfs, where this
test may mount one).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_site, run_renderer, snapshot, tree
from test_output import POSTS_SITE, add_foreign_files, many_posts

ENVIRONMENT = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}


def start_build(site: Path, *args: str | Path, **popen: object) -> subprocess.Popen[str]:
    """`renderer build SITE ARGS` started, not waited for."""
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "renderer", "build", str(site), *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENVIRONMENT, **popen)


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie that nobody reaps is as good as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"waited {seconds} s for {condition}"
        time.sleep(0.005)


def leftovers(site: Path) -> list[str]:
    """What builds leave behind that they should not: staging folders, journals,
    temporary files, anywhere in the site folder."""
    return sorted(str(path.relative_to(site)) for path in site.rglob("*")
                  if "staging-" in path.name or path.name.startswith("commit-")
                  or path.name.endswith((".renderer-tmp", ".tmp")))


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc and relies on Linux signals")


# -- a kill at any moment -----------------------------------------------------------------

def version(site: Path, number: int) -> None:
    """Switch the site between two versions that differ in every page, and in a post
    (its page and folder) that only the second has."""
    template = POSTS_SITE["templates/post.html"]
    (site / "templates" / "post.html").write_text(
        template if number == 0 else template.replace("<h1>", "<h1 class='v1'>"))
    extra = site / "content" / "posts" / "zz-extra.md"
    if number == 1:
        extra.write_text("---\ntitle: Extra\n---\nOnly in version 1.\n")
    else:
        extra.unlink(missing_ok=True)


@linux_only
def test_a_build_killed_at_any_moment_leaves_the_old_or_the_new_output(tmp_path: Path) -> None:
    """SIGKILL real builds at random moments of every phase (loading, rendering in
    workers, checking links, the commit, saving the cache), and, to be sure to hit it,
    as soon as the commit's journal appears. The next command (`renderer routes`, which
    reads nothing of the output) finds the output folder exactly as the old build or
    the new one left it, foreign files included; the build after it completes the new
    one and leaves nothing behind."""
    site = make_site(tmp_path, many_posts(300))
    out, cache = site / "build", site / ".renderer-cache"
    expected = []
    for number in (0, 1, 0):
        version(site, number)
        started = time.monotonic()
        code, _, stderr = run_renderer("build", site, "--jobs", "2")
        duration = time.monotonic() - started
        assert code == 0, stderr
        if not expected:
            add_foreign_files(out)
        expected.append(tree(out))
    assert expected[0] == expected[2] != expected[1]
    rng = random.Random(int(os.environ.get("RENDERER_CRASH_SEED", "15")))
    trials = int(os.environ.get("RENDERER_CRASH_TRIALS", "8"))
    mixes = 0
    current = 0
    for trial in range(trials):
        new = 1 - current
        version(site, new)
        build = start_build(site, "--jobs", rng.choice(["1", "2"]))
        if trial % 2:  # in the commit: as soon as its journal is there, and a little after
            wait_for(lambda build=build: build.poll() is not None  # type: ignore[misc]
                     or any(cache.glob("commit-*.json")))
            time.sleep(rng.uniform(0, 0.004))
        else:  # anywhere
            time.sleep(rng.uniform(0, duration * 1.2))
        build.kill()
        build.communicate()
        found = tree(out)
        mixes += found not in (expected[current], expected[new])
        code, _, stderr = run_renderer("routes", site)
        assert code == 0, stderr
        found = tree(out)
        assert found in (expected[current], expected[new]), \
            f"trial {trial}: a mix of the old and new build"
        code, _, stderr = run_renderer("build", site, "--jobs", "2")
        assert code == 0, stderr
        assert tree(out) == expected[new]
        assert leftovers(site) == []
        current = new
    if trials >= 8:  # the commit is short: say so should it never have been hit
        assert mixes, "no kill landed in the middle of a commit: make it longer"


# -- a full disk ------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB file system of its own (tmpfs), unmounted at the end."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs Linux and root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=10000", "tmpfs",
                           str(mount)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def remount(mount: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True)


def big_posts(site: Path, count: int, size: int) -> None:
    for number in range(count):
        (site / "content" / "posts" / f"big-{number:03}.md").write_text(
            f"---\ntitle: Big {number}\n---\n" + "word " * (size // 5) + "\n")


@linux_only
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_is_one_line_and_leaves_the_output_as_it_was(
        tmp_path: Path, small_disk: Path, jobs: str) -> None:
    """The output on a 1 MB file system; the site grows to 2 MB of pages (with --jobs 2,
    rendered in workers). The build fails with one line naming the cause, the output is
    as it was, and nothing is left on the full disk; once there is room, it succeeds."""
    site = make_site(tmp_path, many_posts(70))
    out = small_disk / "out"
    code, _, stderr = run_renderer("build", site, "--output", out, "--jobs", jobs)
    assert code == 0, stderr
    add_foreign_files(out)
    before = snapshot(out)
    big_posts(site, 80, 25_000)
    code, _, stderr = run_renderer("build", site, "--output", out, "--jobs", jobs)
    assert code == 1, stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert "no space left on device" in stderr
    assert snapshot(out) == before
    assert [path.name for path in small_disk.iterdir()] == ["out"]
    assert leftovers(site) == []
    remount(small_disk, "size=8m")
    code, _, stderr = run_renderer("build", site, "--output", out, "--jobs", jobs)
    assert code == 0, stderr
    assert (out / "posts" / "big-079" / "index.html").is_file()
    assert (out / "CNAME").read_text() == "example.org\n"
    assert [path.name for path in small_disk.iterdir()] == ["out"]


@linux_only
def test_running_out_of_room_at_every_step_changes_nothing(
        tmp_path: Path, small_disk: Path) -> None:
    """The file system allows one more file or folder at a time (tmpfs inodes), from none
    to as many as the build needs: every build before the one that succeeds fails at a
    later step, the last ones in the commit itself (making the new posts' folders), and
    each leaves the output exactly as it was."""
    site = make_site(tmp_path, POSTS_SITE)
    out = small_disk / "out"
    code, _, stderr = run_renderer("build", site, "--output", out)
    assert code == 0, stderr
    add_foreign_files(out)
    before = snapshot(out)
    for number in range(4):
        (site / "content" / "posts" / f"new-{number}.md").write_text(
            f"---\ntitle: New {number}\n---\nNew.\n")
    stats = os.statvfs(small_disk)
    used = stats.f_files - stats.f_ffree
    failures = []
    for allowed in range(used, used + 40):
        remount(small_disk, f"nr_inodes={allowed}")
        code, _, stderr = run_renderer("build", site, "--output", out)
        if code == 0:
            break
        failures.append(stderr)
        assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
        assert "no space left on device" in stderr, stderr
        assert snapshot(out) == before, f"with {allowed} inodes"
        assert [path.name for path in small_disk.iterdir()] == ["out"]
    assert code == 0, stderr
    # The staging folder, its lock, 5 pages, and in the commit the new posts' folders:
    in_commit = [stderr for stderr in failures if f"out{os.sep}posts{os.sep}new-" in stderr]
    assert len(failures) >= 8 and in_commit, failures
    assert (out / "posts" / "new-3" / "index.html").is_file()
    assert (out / "CNAME").read_text() == "example.org\n"
