"""A/B: cold builds of one site by two (or more) renderer installs, alternating.

    python benchmarks/ab.py SITE --tool before=/tmp/a/.venv/bin/renderer \
        --tool after=/tmp/b/.venv/bin/renderer [--bare] [--runs 4] [--jobs 2]

Each tool builds its own copy of SITE (so no build finds another's cache) with
`build COPY --output OUT --jobs J --clean`, its output folder deleted first (untimed), one
build of each per round, the order reversed every other round: the machine's speed drifts,
and a change worth a few percent shows only between builds seconds apart. `--bare` adds
the bare loop (`bare_loop.py`) as one more tool. Prints, for each tool, the median wall
time, CPU time (user + system, of the process and its workers) and system time; with
`--bare`, whether each tool's last output holds the bare loop's bytes, file for file.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import compare  # this folder's run.py: the same byte-for-byte check

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """Wall, CPU (user + system) and system seconds of one run of `cmd` and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    system = after.ru_stime - before.ru_stime
    return wall, after.ru_utime - before.ru_utime + system, system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="a site folder (made by generate.py)")
    parser.add_argument("--tool", action="append", default=[], metavar="NAME=RENDERER",
                        help="a name and a renderer command; give two or more")
    parser.add_argument("--bare", action="store_true", help="add the bare loop")
    parser.add_argument("--runs", type=int, default=4, help="rounds (default 4)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of every build (default 2)")
    parser.add_argument("--workdir", type=Path, help="for the copies (default: a temporary folder)")
    args = parser.parse_args(argv)
    tools = [tuple(spec.split("=", 1)) for spec in args.tool]
    if any(len(tool) != 2 for tool in tools) or len(tools) + args.bare < 2:
        parser.error("give two or more --tool NAME=RENDERER (or one and --bare)")
    workdir = Path(tempfile.mkdtemp(prefix="ab-", dir=args.workdir))
    try:
        commands = {}
        for name, renderer in tools:
            copy, out = workdir / f"site-{name}", workdir / f"out-{name}"
            shutil.copytree(args.site, copy, ignore=shutil.ignore_patterns(".renderer-cache"))
            commands[name] = ([renderer, "build", str(copy), "--output", str(out),
                               "--jobs", str(args.jobs), "--clean"], out)
        if args.bare:
            out = workdir / "out-bare"
            commands["bare loop"] = ([sys.executable, str(HERE / "bare_loop.py"), str(args.site),
                                      str(out), "--jobs", str(args.jobs)], out)
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        names = list(commands)
        for round_ in range(args.runs):
            for name in names if round_ % 2 == 0 else names[::-1]:
                cmd, out = commands[name]
                shutil.rmtree(out, ignore_errors=True)
                results[name].append(run := timed(cmd))
                print(f"round {round_ + 1} {name}: wall {run[0]:.2f} s, CPU {run[1]:.2f} s, "
                      f"system {run[2]:.2f} s", file=sys.stderr, flush=True)
        checks = [compare(name, out, commands["bare loop"][1])
                  for name, (_, out) in commands.items() if args.bare and name != "bare loop"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("| tool | wall, median (fastest) | CPU, median | system, median |")
    print("| --- | ---: | ---: | ---: |")
    for name, runs in results.items():
        walls = [run[0] for run in runs]
        print(f"| {name} | {statistics.median(walls):.2f} s ({min(walls):.2f}) "
              f"| {statistics.median(run[1] for run in runs):.2f} s "
              f"| {statistics.median(run[2] for run in runs):.2f} s |")
    print("".join(f"\n- {check}" for check in checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
