"""A build that is killed, runs out of disk, or meets code that will not stop.

After a kill at any moment, or a full disk, the output folder is the previous build or
the new one, never a mix, once the next `renderer` command has started. The site's code
cannot end or hang a build; SIGTERM and Ctrl+C stop one cleanly; workers die with their
build; what killed builds leave in the cache is removed by the next one.

Real `renderer` processes, real signals, a real full file system (tmpfs, where this
test may mount one).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
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


def wait_for(condition: object, seconds: float = 30, every: float = 0.005) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"waited {seconds} s for {condition}"
        time.sleep(every)


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
    trials = int(os.environ.get("RENDERER_CRASH_TRIALS", "8"))
    mixes = kill_builds(tmp_path, 300, trials)
    if trials >= 8:  # the commit is short: say so should it never have been hit
        assert mixes, "no kill landed in the middle of a commit: make it longer"


@linux_only
def test_a_build_with_swap_killed_at_any_moment_leaves_the_old_or_the_new_output(
        tmp_path: Path) -> None:
    """The same with --swap: the output is the old build or the new one at every moment,
    even before the next command has looked at the journal (the two folders are
    exchanged in one step). The moment between writing the journal and the exchange is
    too short to hit by chance: the next test makes it."""
    trials = int(os.environ.get("RENDERER_CRASH_TRIALS", "6"))
    assert kill_builds(tmp_path, 100, trials, "--swap") == 0


@linux_only
@pytest.mark.parametrize("exchanged", [False, True], ids=["before", "after"])
def test_a_swap_killed_around_the_exchange_is_discarded_or_finished(
        tmp_path: Path, exchanged: bool) -> None:
    """A build with --swap killed after writing its journal: before the exchange, or
    after it, before the new manifest replaced the old one. Made by hand as the build
    leaves it (a staged tree, the journal with its inode, the staged manifest), the
    tree exchanged or not. The next command tells which from the output's inode: it
    discards the commit (the output and manifest stay the old build's) or finishes it;
    either way the next build removes the post that is gone, and nothing is left."""
    site = make_site(tmp_path, POSTS_SITE)
    assert run_renderer("build", site).code == 0
    out, cache = site / "build", site / ".renderer-cache"
    (site / "content" / "posts" / "c.md").unlink()
    [manifest] = cache.glob("manifest-*.json")
    name = manifest.stem.removeprefix("manifest-")
    staging = cache / "staging-999999999-x"
    staged = staging / "tree"
    shutil.copytree(out, staged, symlinks=True)
    (staged / "posts" / "c" / "index.html").unlink()
    (staged / "posts" / "c").rmdir()
    files = sorted(json.loads(manifest.read_text())["files"])
    Path(f"{manifest}.next").write_text(json.dumps(
        {"version": 1, "files": [f for f in files if not f.startswith("posts/c/")]}))
    inode = os.stat(staged)
    (cache / f"commit-{name}.json").write_text(json.dumps({
        "version": 1, "output": str(out.resolve()), "staging": str(staging), "tree": False,
        "clear": [], "folders": [], "moves": [], "deletes": [], "manifest": str(manifest),
        "swap": [inode.st_dev, inode.st_ino]}))
    if exchanged:
        os.rename(out, site / "aside")
        os.rename(staged, out)
        os.rename(site / "aside", staged)
    code, _, stderr = run_renderer("routes", site)
    assert code == 0, stderr
    written = json.loads(manifest.read_text())["files"]
    assert ("posts/c/index.html" in tree(out)) is not exchanged
    assert ("posts/c/index.html" in written) is not exchanged
    assert ("finished the commit" in stderr) is exchanged, stderr
    assert ("had not exchanged its folder yet" in stderr) is not exchanged, stderr
    assert not staging.exists() and leftovers(site) == []
    code, stdout, stderr = run_renderer("build", site, "--swap")
    assert code == 0, stderr
    assert "posts/c/index.html" not in tree(out)
    assert ("1 removed" in stdout) is not exchanged, stdout
    assert leftovers(site) == []


def kill_builds(tmp_path: Path, posts: int, trials: int, *args: str) -> int:
    """Kill `trials` builds (with `args`), each switching the site to the other version,
    and check what is left; return how many times the output was a mix right after the
    kill, before the next command finished the commit."""
    site = make_site(tmp_path, many_posts(posts))
    out, cache = site / "build", site / ".renderer-cache"
    expected = []
    for number in (0, 1, 0):
        version(site, number)
        started = time.monotonic()
        code, _, stderr = run_renderer("build", site, "--jobs", "2", *args)
        duration = time.monotonic() - started
        assert code == 0, stderr
        if not expected:
            add_foreign_files(out)
        expected.append(tree(out))
    assert expected[0] == expected[2] != expected[1]
    rng = random.Random(int(os.environ.get("RENDERER_CRASH_SEED", "15")))
    mixes = 0
    current = 0
    for trial in range(trials):
        new = 1 - current
        version(site, new)
        build = start_build(site, "--jobs", rng.choice(["1", "2"]), *args)
        if trial % 2:  # in the commit: as soon as its journal is there, and a little after
            wait_for(lambda build=build: build.poll() is not None  # type: ignore[misc]
                     or any(cache.glob("commit-*.json")), every=0.0002)
            time.sleep(rng.uniform(0, 0.004))
        else:  # anywhere
            time.sleep(rng.uniform(0, duration * 1.2))
        build.kill()
        build.communicate(timeout=10)
        found = tree(out)
        mixes += found not in (expected[current], expected[new])
        code, _, stderr = run_renderer("routes", site)
        assert code == 0, stderr
        found = tree(out)
        assert found in (expected[current], expected[new]), \
            f"trial {trial}: a mix of the old and new build"
        code, _, stderr = run_renderer("build", site, "--jobs", "2", *args)
        assert code == 0, stderr
        assert tree(out) == expected[new]
        assert leftovers(site) == []
        current = new
    return mixes


def test_a_journal_that_names_files_outside_the_output_is_discarded(tmp_path: Path) -> None:
    """The journal is a cache file: trusted only as far as it is checked. One that would
    delete a file outside the output folder is discarded, with a warning."""
    site = make_site(tmp_path, POSTS_SITE)
    assert run_renderer("build", site).code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    out = str((site / "build").resolve())
    name = hashlib.blake2b(out.encode(), digest_size=8).hexdigest()
    staging = site / ".renderer-cache" / "staging-999999999-x"
    staging.mkdir()
    journal = site / ".renderer-cache" / f"commit-{name}.json"
    journal.write_text(json.dumps({
        "version": 1, "output": out, "staging": str(staging), "tree": False, "clear": [],
        "folders": [], "moves": [], "deletes": ["../victim.txt"], "manifest": None}))
    code, _, stderr = run_renderer("routes", site)
    assert code == 0, stderr
    assert "discarding an unreadable commit journal" in stderr
    assert victim.read_text() == "mine\n"
    assert leftovers(site) == []


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


# -- code that will not stop -------------------------------------------------------------

def numbers_site(tmp_path: Path, page_57: str, *, every_page: str = "pass",
                 numbers: str = "pass", loading: str = "") -> tuple[Path, int]:
    """A site of 100 pages made by a Python source; `page_57` is the body of an `if` for
    the page /n/57/. Returns the site and the line of that body in content/numbers.py."""
    source = (
        "import sys, time\n"
        f"{loading}\n"
        "def numbers():\n"
        f"    {numbers}\n"
        "    return [{'number': str(n)} for n in range(100)]\n"
        "\n"
        "def context(number):\n"
        f"    {every_page}\n"
        "    if number == '57':\n"
        + "".join(f"        {line}\n" for line in page_57.splitlines())
        + "    return {}\n")
    site = make_site(tmp_path, {
        "site.toml": """\
            [site]
            title = "Numbers"

            [sources]
            numbers = "content/numbers.py:numbers"

            [[routes]]
            url = "/n/<number>/"
            template = "number.html"
            each = "numbers"
            context = "content/numbers.py:context"
            """,
        "templates/number.html": "<p>{{ number }}</p>\n",
    })
    (site / "content").mkdir()
    (site / "content" / "numbers.py").write_text(source)
    return site, source.splitlines().index("    if number == '57':") + 2


def located(stderr: str, site: Path, line: int) -> bool:
    return f"content{os.sep}numbers.py:{line}" in stderr or \
        f"{site / 'content' / 'numbers.py'}:{line}" in stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("code", ["sys.exit(0)", "sys.exit('bye')", "raise KeyboardInterrupt"])
def test_a_source_that_exits_is_an_error_at_its_line(tmp_path: Path, jobs: str,
                                                     code: str) -> None:
    """sys.exit() or a KeyboardInterrupt of the site's own, in a page's context function
    (with --jobs 2, in a worker): exit 1, one line at the source's line, nothing written."""
    site, line = numbers_site(tmp_path, code)
    result = run_renderer("build", site, "--jobs", jobs)
    assert result.code == 1, result
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result
    assert located(result.stderr, site, line), result.stderr
    assert code.split("(")[0].split()[-1].replace("sys.exit", "SystemExit") in result.stderr
    assert not (site / "build").exists()
    assert leftovers(site) == []


def test_a_source_that_exits_while_loading_is_an_error_at_its_line(tmp_path: Path) -> None:
    site, _ = numbers_site(tmp_path, "pass", loading="sys.exit(3)")
    result = run_renderer("build", site)
    assert result.code == 1, result
    assert located(result.stderr, site, 2), result.stderr
    assert "SystemExit: 3" in result.stderr
    assert not (site / "build").exists()


ENDLESS = "while True:\n    pass"
STUBBORN = "while True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_page_over_the_time_limit_fails_naming_its_url_and_line(tmp_path: Path,
                                                                   jobs: str) -> None:
    """An endless loop in a context function: with --timeout 1 the build fails within
    seconds, naming the page's URL and the line it was at; nothing is written."""
    site, line = numbers_site(tmp_path, ENDLESS)
    started = time.monotonic()
    result = run_renderer("build", site, "--jobs", jobs, "--timeout", "1", timeout=30)
    assert time.monotonic() - started < 15
    assert result.code == 1, result
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result
    assert "rendering /n/57/ took longer than 1 s" in result.stderr
    assert located(result.stderr, site, line) or located(result.stderr, site, line + 1), \
        result.stderr  # the `while` or the `pass` line, as the Python version has it
    assert not (site / "build").exists()
    assert leftovers(site) == []


def test_listing_the_urls_over_the_time_limit_fails_at_its_line(tmp_path: Path) -> None:
    site, _ = numbers_site(tmp_path, "pass", numbers="while True: pass")
    result = run_renderer("build", site, "--timeout", "1", timeout=30)
    assert result.code == 1, result
    assert "listing the URLs took longer than 1 s" in result.stderr
    assert located(result.stderr, site, 4), result.stderr


@linux_only
def test_a_worker_that_will_not_stop_is_killed(tmp_path: Path) -> None:
    """Code that swallows the time limit's exception: its worker is killed once the limit
    and a grace period have passed, and the build names the page."""
    site, _ = numbers_site(tmp_path, STUBBORN)
    build = start_build(site, "--jobs", "2", "--timeout", "1")
    wait_for(lambda: len(children(build.pid)) == 2)
    workers = children(build.pid)
    _, stderr = build.communicate(timeout=30)
    assert build.returncode == 1, stderr
    assert "rendering /n/57/ took longer than 1 s and did not stop" in stderr
    assert not any(alive(pid) for pid in workers)
    assert leftovers(site) == []


ONE_C_CALL = "import itertools\nsum(itertools.repeat(1, 10 ** 13))"  # no signal checks


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_call_into_c_that_never_returns_ends_the_build(tmp_path: Path, jobs: str) -> None:
    """A sum over 10**13 items holds the interpreter in one C call, where no Python signal
    handler runs (a backtracking regular expression does not: it checks for signals).
    With --jobs 2 the build kills the worker and names the page; in one process the
    build ends itself, printing where it was, and the next build cleans up after it.
    Nothing is written either way."""
    site, line = numbers_site(tmp_path, ONE_C_CALL)
    started = time.monotonic()
    result = run_renderer("build", site, "--jobs", jobs, "--timeout", "1", timeout=60)
    assert time.monotonic() - started < 20
    assert result.code == 1, result
    if jobs == "2":
        assert "rendering /n/57/ took longer than 1 s and did not stop" in result.stderr
    else:
        assert f'numbers.py", line {line + 1} in context' in result.stderr, result.stderr
    assert not (site / "build").exists()
    (site / "content" / "numbers.py").write_text(
        (site / "content" / "numbers.py").read_text().replace("10 ** 13", "10"))
    assert run_renderer("build", site).code == 0
    assert leftovers(site) == []


# -- stopping a build --------------------------------------------------------------------

def slow_site(tmp_path: Path) -> Path:
    """The numbers site, built once; then each page takes 50 ms (5 s in all)."""
    site, _ = numbers_site(tmp_path, "pass")
    code, _, stderr = run_renderer("build", site)
    assert code == 0, stderr
    (site / "build" / "posts").mkdir()
    add_foreign_files(site / "build")
    site_file = site / "content" / "numbers.py"
    site_file.write_text(site_file.read_text().replace("    pass\n    if",
                                                       "    time.sleep(0.05)\n    if"))
    return site


@linux_only
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_and_ctrl_c_stop_a_build_cleanly(tmp_path: Path,
                                                 number: signal.Signals) -> None:
    """SIGTERM to the build, or Ctrl+C (SIGINT to its whole process group, as a terminal
    sends it) while workers render: one line, a non-zero exit, no worker left, no staging
    folder, the output as it was."""
    site = slow_site(tmp_path)
    out = site / "build"
    before = snapshot(out)
    build = start_build(site, "--jobs", "2", start_new_session=True)
    wait_for(lambda: len(children(build.pid)) == 2)
    workers = children(build.pid)
    time.sleep(0.3)
    if number == signal.SIGINT:
        os.killpg(build.pid, signal.SIGINT)
    else:
        os.kill(build.pid, signal.SIGTERM)
    _, stderr = build.communicate(timeout=20)
    assert build.returncode == 128 + number
    assert stderr == "error: interrupted\n"
    wait_for(lambda: not any(alive(pid) for pid in workers), 3)
    assert snapshot(out) == before
    assert leftovers(site) == []


@linux_only
def test_workers_die_with_a_killed_build(tmp_path: Path) -> None:
    site = slow_site(tmp_path)
    build = start_build(site, "--jobs", "2")
    wait_for(lambda: len(children(build.pid)) == 2)
    workers = children(build.pid)
    time.sleep(0.3)
    build.kill()
    build.communicate(timeout=10)
    wait_for(lambda: not any(alive(pid) for pid in workers), 2)


@linux_only
def test_stale_staging_folders_go_but_not_those_of_a_running_build(tmp_path: Path) -> None:
    """A killed build leaves its staging folder; the next build removes it at its start.
    Meanwhile another command (`routes`) leaves the running build's own alone, and a
    second build into the same output is refused."""
    site = slow_site(tmp_path)
    cache = site / ".renderer-cache"
    killed = start_build(site, "--jobs", "2")
    wait_for(lambda: len(children(killed.pid)) == 2)
    stale = set(cache.glob("staging-*"))
    assert len(stale) == 1
    killed.kill()
    killed.communicate(timeout=10)
    running = start_build(site, "--jobs", "1")
    wait_for(lambda: set(cache.glob("staging-*")) - stale)
    assert not any(path.exists() for path in stale)
    own = set(cache.glob("staging-*"))
    assert run_renderer("routes", site).code == 0
    code, _, stderr = run_renderer("build", site)
    assert code == 1 and "another renderer build" in stderr and "is running" in stderr
    assert running.poll() is None, "the build ended too soon for this test"
    assert all(path.is_dir() for path in own)
    running.send_signal(signal.SIGTERM)
    running.communicate(timeout=20)
    assert leftovers(site) == []


def test_a_huge_post_over_the_time_limit_names_the_template_line(tmp_path: Path) -> None:
    """Converting a 3 MB post takes seconds: the error names its page and the line of the
    template that printed its content (the template's own line, not the compiled one)."""
    site = make_site(tmp_path, POSTS_SITE)
    (site / "content" / "posts" / "huge.md").write_text(
        "---\ntitle: Huge\n---\n" + "Some *words* and a [link](http://x.org).\n\n" * 70_000)
    result = run_renderer("build", site, "--timeout", "0.5", "--jobs", "1", timeout=60)
    assert result.code == 1, result
    assert "rendering /posts/huge/ took longer than 0.5 s" in result.stderr, result.stderr
    assert f"templates{os.sep}post.html:2:" in result.stderr, result.stderr
    assert not (site / "build").exists()
