"""Time `renderer build` against the bare-loop floor, and renderer's incremental rebuilds.

    python benchmarks/run.py [--posts 1000,5000,20000] [--runs 3] [--workdir DIR]

For each site size it generates a site (generate.py), then times, in the same run and
round-robin so that drift hits every tool alike:

- `renderer build SITE --output OUT --jobs 2 --clean`, and the same with `--jobs 1`;
- `bare_loop.py SITE OUT --jobs 1` and `--jobs 2` (the floor);

each into an output folder removed beforehand (untimed), so that every tool writes every file;
- incremental rebuilds, each a fresh `renderer build SITE --output OUT --jobs 2` process without
  `--clean` into an output that a previous build completed: with nothing changed, after editing
  one post's body, after editing that post's title (which a page of the index and of each
  of its tags list), and after editing templates/base.html (which every page extends). The edited
  text is looked for in the output afterwards, so a stale rebuild is reported, not timed;
- next to each one-post rebuild, its floor: `bare_loop.py --only` converting and rendering
  just that post, as a fresh process.

Every run is a fresh process, timed by wall clock; its peak RSS comes from os.wait4 (the largest
single process of the run: Linux reports the maximum over the child and the children it waited
for, not their sum), and on Linux the whole process group's RSS is also sampled every 0.1 s.
A run that fails (a crash, a flag not understood yet, a stale output) is reported as failed and
the benchmark goes on. The report, on stdout, is Markdown to paste into the docs; progress goes
to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUN_MARKER = ".renderer-bench-run"
EDITED_POST_INDEX = 0.5  # which post gets edited: the one in the middle of the list
PAGE_SIZE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


@dataclass
class Row:
    """One line of the table: a tool at a size, and its runs."""

    posts: int
    tool: str
    jobs: int
    per_page: bool = True
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    tree_mb: list[float] = field(default_factory=list)
    error: str | None = None
    pages: int = 0


@dataclass
class Outcome:
    seconds: float
    cpu: float  # user + system seconds of the process and the workers it waited for
    returncode: int
    rss_mb: float
    tree_mb: float | None
    log: Path


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process group from /proc until stopped (Linux only)."""

    def __init__(self, pgid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pgid = pgid
        self.interval = interval
        self.peak_kb = 0
        self.done = threading.Event()

    def sample(self) -> int:
        total = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.pgid:  # field 5 of stat: the process group
                total += int(fields[21]) * PAGE_SIZE_KB  # field 24: resident pages
        return total

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.peak_kb = max(self.peak_kb, self.sample())


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)  # the session run_once started: the run and its workers
    except ProcessLookupError:
        pass


def run_once(cmd: list[str], log: Path, env: dict[str, str], timeout: float) -> Outcome:
    """Run cmd as a fresh process in its own session; time it and take its rusage."""
    sample = Path("/proc/self/stat").exists()
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        sampler = TreeSampler(proc.pid) if sample else None
        if sampler:
            sampler.start()
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            if sampler:
                sampler.done.set()
                sampler.join()
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss_kb = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)  # macOS counts bytes
    tree_mb = sampler.peak_kb / 1024 if sampler and sampler.peak_kb else None
    cpu = usage.ru_utime + usage.ru_stime  # Linux counts the children it reaped in
    return Outcome(seconds, cpu, proc.returncode, rss_kb / 1024, tree_mb, log)


def failure(outcome: Outcome, timeout: float) -> str:
    """One line saying why a run failed: its exit status and the last line it printed."""
    if outcome.returncode == -signal.SIGKILL and outcome.seconds >= timeout:
        return f"timed out after {timeout:.0f} s"
    lines = [line.strip() for line in outcome.log.read_text(errors="replace").splitlines()]
    lines = [line for line in lines if line]
    last = lines[-1] if lines else "(no output)"
    if len(last) > 120:
        last = last[:117] + "..."
    return f"exit {outcome.returncode}: {last}"


def record(row: Row, outcome: Outcome, timeout: float, check: str | None = None) -> bool:
    """Add a run to its row, or mark the row failed; return whether it succeeded."""
    if outcome.returncode != 0:
        row.error = failure(outcome, timeout)
        return False
    if check:
        row.error = check
        return False
    row.times.append(outcome.seconds)
    row.cpu.append(outcome.cpu)
    row.rss_mb.append(outcome.rss_mb)
    if outcome.tree_mb is not None:
        row.tree_mb.append(outcome.tree_mb)
    return True


def renderer_command(arg: str | None, env: dict[str, str]) -> list[str]:
    """The renderer command: --renderer, else `renderer` on PATH, else this checkout's package."""
    if arg:
        return shlex.split(arg)
    exe = shutil.which("renderer")
    if exe:
        return [exe]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return [sys.executable, "-m", "renderer"]


def count_pages(site: Path) -> int:
    """Pages the site should produce: every post, the index's pages, every tag's pages, two
    plain pages. The posts a page (`per_page`) come from the site's site.toml."""
    routes = tomllib.loads((site / "site.toml").read_text(encoding="utf-8"))["routes"]
    per_page = {route["url"]: route["paginate"]["per_page"] for route in routes
                if "paginate" in route}
    tags: dict[str, int] = {}
    posts = 0
    pattern = re.compile(r"^tags: \[(.*)\]$", re.M)
    for path in (site / "content" / "posts").glob("*.md"):
        posts += 1
        match = pattern.search(path.read_text(encoding="utf-8"))
        if match:
            for tag in {tag.strip() for tag in match.group(1).split(",")}:
                tags[tag] = tags.get(tag, 0) + 1

    def pages(items: int, url: str) -> int:
        return max(1, -(-items // per_page[url])) if url in per_page else 1

    return posts + pages(posts, "/") + sum(pages(k, "/tags/<slug>/") for k in tags.values()) + 2


def used_cache(log: Path, pages: int) -> str | None:
    """Whether a --clean build says it rendered fewer pages than the site has (it used a cache).

    Reads renderer's summary line ("... (223 rendered, ...)"); says nothing if there is none.
    """
    match = re.search(r"(\d+) rendered", log.read_text(errors="replace"))
    if match and int(match.group(1)) < pages:
        return f"rendered only {match.group(1)} of {pages} pages, so the time is not a full build"
    return None


def count_html(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.html"))


def visible_files(root: Path) -> set[str]:
    """Files under root, relative, leaving out dot files and folders (markers, caches)."""
    found = set()
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if not any(part.startswith(".") for part in rel.parts) and path.is_file():
            found.add(rel.as_posix())
    return found


def compare(what: str, out: Path, reference: Path) -> str:
    """A note saying whether out holds the same bytes as the bare loop's reference output."""
    mine, theirs = visible_files(out), visible_files(reference)
    differ = sorted(mine ^ theirs)
    differ += [
        rel
        for rel in sorted(mine & theirs)
        if not filecmp.cmp(out / rel, reference / rel, shallow=False)
    ]
    if not differ:
        return f"{what}: byte-identical to the bare loop's output ({len(theirs)} files)"
    return (
        f"warning: {what}: differs from the bare loop's output in {len(differ)} of "
        f"{len(mine | theirs)} files, e.g. {differ[0]}"
    )


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def claim_workdir(base: Path, marker: str, script: str) -> Path:
    """`base`, made and marked as `script`'s; a folder there that `script` did not make
    is refused, since the benchmark replaces what it holds."""
    if base.exists() and not (base / marker).exists():
        raise SystemExit(f"error: {base} exists and was not made by {script}")
    base.mkdir(parents=True, exist_ok=True)
    (base / marker).write_text(f"made by benchmarks/{script}\n", encoding="utf-8")
    return base


def bench_size(
    n: int, args: argparse.Namespace, renderer: list[str], env: dict[str, str]
) -> tuple[list[Row], list[str]]:
    """All rows for one site size, plus notes (output checks, where logs were kept)."""
    base = claim_workdir(args.workdir / f"n{n}", RUN_MARKER, "run.py")
    logs = base / "logs"
    logs.mkdir(exist_ok=True)
    site = base / "site"
    progress(f"== {n} posts: generating {site}")
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(site), "--posts", str(n),
         "--seed", str(args.seed)],
        check=True,
    )  # fmt: skip
    pages = count_pages(site)
    notes: list[str] = []

    # Full builds, round-robin, each run of renderer next to the bare loop's at the same
    # --jobs, and which of the two goes first alternating: the machine's speed drifts.
    full = []
    for tool, jobs in (("renderer", 2), ("bare loop", 2), ("bare loop", 1), ("renderer", 1)):
        out = base / f"out-{tool.replace(' ', '-')}-j{jobs}"
        if tool == "renderer":
            cmd = [*renderer, "build", str(site), "--output", str(out), "--jobs", str(jobs)]
            cmd.append("--clean")
        else:
            cmd = [sys.executable, str(HERE / "bare_loop.py"), str(site), str(out)]
            cmd += ["--jobs", str(jobs)]
        full.append((Row(n, tool, jobs, pages=pages), cmd, out))
    for k in range(args.runs):
        order = full if k % 2 == 0 else [full[1], full[0], full[3], full[2]]
        for row, cmd, out in order:
            if row.error:
                continue
            progress(f"   run {k + 1}/{args.runs}: {row.tool} --jobs {row.jobs}")
            shutil.rmtree(out, ignore_errors=True)  # untimed: every tool writes every file
            log = logs / f"{row.tool.replace(' ', '-')}-j{row.jobs}-{k}.log"
            if not record(row, run_once(cmd, log, env, args.timeout), args.timeout):
                progress(f"   failed: {row.error}")
            elif row.tool == "renderer" and (cached := used_cache(log, pages)):
                notes.append(
                    f"warning: N={n}, renderer --jobs {row.jobs} --clean, run {k + 1}: {cached}"
                )
    reference = next(
        (out for row, _, out in full if row.tool == "bare loop" and not row.error), None
    )
    for row, _, out in full:
        if row.error:
            continue
        if (found := count_html(out)) != pages:
            notes.append(
                f"warning: N={n}, {row.tool} --jobs {row.jobs} wrote {found} pages, not {pages}"
            )
        if reference and row.tool == "renderer":
            notes.append(compare(f"N={n}, renderer --jobs {row.jobs}", out, reference))

    rows = [row for row, _, _ in full]
    inc_rows, inc_notes = bench_incremental(n, site, base, pages, args, renderer, env, reference)
    rows += inc_rows
    notes += inc_notes
    if any(row.error for row in rows):
        notes.append(f"N={n}: the logs of every run are kept in {logs}")
    elif not args.keep:
        shutil.rmtree(base)
    return rows, notes


def bench_incremental(
    n: int,
    site: Path,
    base: Path,
    pages: int,
    args: argparse.Namespace,
    renderer: list[str],
    env: dict[str, str],
    reference: Path | None,
) -> tuple[list[Row], list[str]]:
    """Rebuilds into a finished output: nothing changed, one post edited, base.html edited.

    With the edits undone, one more (untimed) rebuild must give the clean build's bytes.
    """
    jobs = args.inc_jobs
    out = base / "out-renderer-incremental"
    cmd = [*renderer, "build", str(site), "--output", str(out), "--jobs", str(jobs)]
    logs = base / "logs"
    none = Row(n, "renderer, nothing changed", jobs, per_page=False, pages=pages)
    post = Row(n, "renderer, 1 post edited", jobs, per_page=False, pages=pages)
    floor = Row(n, "bare loop, that 1 post alone", 1, per_page=False, pages=1)
    title = Row(n, "renderer, 1 post's title edited", jobs, per_page=False, pages=pages)
    tmpl = Row(n, "renderer, base.html edited", jobs, pages=pages)
    rows = [none, post, floor, title, tmpl]

    progress(f"   incremental: first build into {out}")
    first = run_once(cmd, logs / "incremental-setup.log", env, args.timeout)
    if first.returncode != 0:
        for row in rows:
            row.error = "first build " + failure(first, args.timeout)
        progress(f"   failed: {none.error}")
        return rows, []

    posts = sorted((site / "content" / "posts").glob("*.md"))
    edited = posts[int(len(posts) * EDITED_POST_INDEX)]
    other = posts[0] if edited != posts[0] else posts[-1]
    post_text = edited.read_text(encoding="utf-8")
    base_html = site / "templates" / "base.html"
    base_text = base_html.read_text(encoding="utf-8")
    post_out = out / "posts" / edited.stem / "index.html"
    floor_out = base / "out-bare-loop-one-post"
    floor_cmd = [sys.executable, str(HERE / "bare_loop.py"), str(site), str(floor_out),
                 "--only", str(edited.relative_to(site))]
    floor_post = floor_out / "posts" / edited.stem / "index.html"
    other_out = out / "posts" / other.stem / "index.html"

    def stale(path: Path, marker: str) -> str | None:
        try:
            if marker in path.read_text(encoding="utf-8"):
                return None
        except OSError:
            pass
        return f"stale output: {path.relative_to(out)} lacks the edit"

    def unlisted(marker: str) -> str | None:
        """Whether the post's page, a page of the index and one of each of its tags'
        (paginated lists: the post is on one of their pages) lack the edited title."""
        found = re.search(r"^tags: \[(.*)\]$", post_text, re.M)
        tags = [name.strip() for name in found.group(1).split(",")] if found else []
        for first in ["", *(f"tags/{name}" for name in tags)]:
            pages = [out / first / "index.html", *(out / first).glob("page/*/index.html")]
            if not any(marker in page.read_text(encoding="utf-8") for page in pages
                       if page.is_file()):
                return f"stale output: no page of /{first + '/' if first else ''} lists the edit"
        return stale(post_out, marker)

    try:
        for k in range(args.runs):
            tag = f"{k}-{time.time_ns()}"
            if not none.error:
                progress(f"   run {k + 1}/{args.runs}: nothing changed")
                outcome = run_once(cmd, logs / f"inc-none-{k}.log", env, args.timeout)
                record(none, outcome, args.timeout)
            if not post.error:
                progress(f"   run {k + 1}/{args.runs}: 1 post edited ({edited.name})")
                marker = f"Benchmark edit {tag}."
                edited.write_text(f"{post_text}\n{marker}\n", encoding="utf-8")
                # The floor of that rebuild (the one post converted and rendered by a fresh
                # process of the bare loop) runs in the same round, first every other round.
                runs = [(post, cmd, post_out, "post"), (floor, floor_cmd, floor_post, "floor")]
                for row, command, page, name in runs if k % 2 == 0 else runs[::-1]:
                    if row.error:
                        continue
                    outcome = run_once(command, logs / f"inc-{name}-{k}.log", env, args.timeout)
                    check = stale(page, marker) if outcome.returncode == 0 else None
                    record(row, outcome, args.timeout, check)
            if not title.error:
                progress(f"   run {k + 1}/{args.runs}: 1 post's title edited ({edited.name})")
                marker = f"Benchmark title {tag}"
                current = edited.read_text(encoding="utf-8")
                edited.write_text(current.replace("title: \"", f"title: \"{marker} ", 1),
                                  encoding="utf-8")
                outcome = run_once(cmd, logs / f"inc-title-{k}.log", env, args.timeout)
                check = unlisted(marker) if outcome.returncode == 0 else None
                record(title, outcome, args.timeout, check)
                # The title back, built untimed: base.html's rebuild starts as it used to.
                edited.write_text(current, encoding="utf-8")
                run_once(cmd, logs / f"inc-title-undo-{k}.log", env, args.timeout)
            if not tmpl.error:
                progress(f"   run {k + 1}/{args.runs}: base.html edited")
                marker = f"<!-- benchmark edit {tag} -->"
                base_html.write_text(
                    base_text.replace("</body>", f"{marker}\n</body>"), encoding="utf-8"
                )
                outcome = run_once(cmd, logs / f"inc-base-{k}.log", env, args.timeout)
                check = None
                if outcome.returncode == 0:
                    check = stale(other_out, marker) or stale(out / "index.html", marker)
                record(tmpl, outcome, args.timeout, check)
    finally:
        edited.write_text(post_text, encoding="utf-8")
        base_html.write_text(base_text, encoding="utf-8")
    for row in rows:
        if row.error:
            progress(f"   failed: {row.tool}: {row.error}")
    notes = []
    if reference and not any(row.error for row in rows):
        progress("   incremental: rebuild with the edits undone")
        last = run_once(cmd, logs / "incremental-undone.log", env, args.timeout)
        what = f"N={n}, incremental rebuild after undoing the edits"
        if last.returncode != 0:
            notes.append(f"warning: {what}: {failure(last, args.timeout)}")
        else:
            notes.append(compare(what, out, reference))
    return rows, notes


def machine_info(renderer: list[str], env: dict[str, str], workdir: Path) -> list[str]:
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    try:
        done = subprocess.run(
            [*renderer, "--version"], capture_output=True, text=True, env=env, timeout=60
        )
        lines = (done.stdout or done.stderr).strip().splitlines()
        renderer_version = lines[-1] if done.returncode == 0 and lines else "unavailable"
    except OSError as exc:
        renderer_version = f"unavailable ({exc.strerror})"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        import yaml

        libyaml = "with libyaml" if getattr(yaml, "__with_libyaml__", False) else "pure Python"
    except ImportError:
        libyaml = ""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {platform.platform()}; {cpu}; cpu count {os.cpu_count()} "
        f"({usable} usable); load average at start {load}",
        f"- python: {platform.python_implementation()} {platform.python_version()}",
        f"- renderer: `{shlex.join(renderer)}` {renderer_version}",
        f"- packages: Jinja2 {version('jinja2')}, Markdown {version('markdown')}, "
        f"PyYAML {version('pyyaml')} ({libyaml}), Pygments {version('pygments')}",
        f"- workdir: {workdir} ({filesystem(workdir)})",
    ]


def filesystem(path: Path) -> str:
    """The type of the file system holding path, from /proc/mounts where there is one."""
    best, kind = "", "unknown file system"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            _, mount, fstype, *_ = line.split()
            if str(path).startswith(mount) and len(mount) > len(best):
                best, kind = mount, fstype
    except OSError:
        pass
    return kind


def table(rows: list[Row]) -> list[str]:
    out = [
        "| N | tool | jobs | median s | p-min | p-max | CPU s | peak RSS MB | sum RSS MB "
        "| per-page ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    failures: list[str] = []
    for row in rows:
        if row.error:
            failures.append(row.error)
            mark = f"failed ({len(failures)})"
            out.append(f"| {row.posts} | {row.tool} | {row.jobs} | {mark} | | | | | | |")
            continue
        median = statistics.median(row.times)
        per_page = fmt(median * 1000 / row.pages) if row.per_page and row.pages else "–"
        tree = fmt(max(row.tree_mb), 0) if row.tree_mb else "–"
        out.append(
            f"| {row.posts} | {row.tool} | {row.jobs} | {fmt(median)} | {fmt(min(row.times))} "
            f"| {fmt(max(row.times))} | {fmt(statistics.median(row.cpu))} "
            f"| {fmt(max(row.rss_mb), 0)} | {tree} | {per_page} |"
        )
    if failures:
        out.append("")
        out += [f"({i}) {message}" for i, message in enumerate(failures, 1)]
    return out


def ratios(rows: list[Row]) -> list[str]:
    """renderer's clean build against the floor, at the same size and jobs."""
    done = {(r.posts, r.tool, r.jobs): r for r in rows if not r.error}
    out = []
    for (n, tool, jobs), row in done.items():
        floor = done.get((n, "bare loop", jobs))
        if tool == "renderer" and floor:
            wall = statistics.median(row.times) / statistics.median(floor.times)
            cpu = statistics.median(row.cpu) / statistics.median(floor.cpu)
            # Runs of one round ran minutes apart at most: their ratio is what drifts least
            # when the machine's speed does.
            paired = statistics.median(a / b for a, b in zip(row.times, floor.times, strict=False))
            out.append(f"- N={n}, jobs={jobs}: renderer takes {wall:.2f}x the floor "
                       f"(CPU time: {cpu:.2f}x; median of the rounds' ratios: {paired:.2f}x)")
        alone = done.get((n, "bare loop, that 1 post alone", 1))
        if tool == "renderer, 1 post edited" and alone:
            mine, bare = statistics.median(row.times), statistics.median(alone.times)
            out.append(f"- N={n}: renderer's one-post rebuild takes {mine:.2f} s, the bare loop "
                       f"rendering that post alone in a fresh process {bare:.2f} s "
                       f"({mine / bare:.2f}x)")
    return out


def default_workdir() -> Path:
    """tmpfs where there is one, so that disk noise does not drown the CPU cost."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm / "renderer-bench"
    return Path(tempfile.gettempdir()) / "renderer-bench"


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("post counts must be at least 1")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--posts",
        type=parse_sizes,
        default=[1000, 5000, 20000],
        help="site sizes, comma-separated (default 1000,5000,20000)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where sites and outputs go (default /dev/shm/renderer-bench "
        "if /dev/shm exists, else the temp folder)",
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument(
        "--renderer",
        default=None,
        help="renderer command (default: `renderer` on PATH, else "
        "`python -m renderer` from this checkout)",
    )
    parser.add_argument(
        "--inc-jobs", type=int, default=2, help="--jobs for the incremental rebuilds (default 2)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--keep", action="store_true", help="keep sites, outputs and logs")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.workdir = (args.workdir or default_workdir()).resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)

    env = dict(os.environ)
    # As installed: bytecode cached, so that no run pays for compiling the sources.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "renderer"),
                    str(HERE)], check=False, env=env)
    renderer = renderer_command(args.renderer, env)
    info = machine_info(renderer, env, args.workdir)
    rows: list[Row] = []
    notes: list[str] = []
    for n in args.posts:
        size_rows, size_notes = bench_size(n, args, renderer, env)
        rows += size_rows
        notes += size_notes

    report = [
        f"Median of {args.runs} runs; p-min and p-max are the fastest and slowest run. Peak RSS is",
        "the largest single process (os.wait4); sum RSS is the whole process group, sampled.",
        "",
        *table(rows),
        "",
        *ratios(rows),
        *[f"- {note}" for note in notes],
        "",
        *info,
    ]
    print("\n".join(report))
    if args.json:
        payload = {"info": info, "rows": [asdict(row) for row in rows], "notes": notes}
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
