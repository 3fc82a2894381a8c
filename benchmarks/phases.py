"""Where a build's time goes: wall time of each phase of one `renderer build`.

    python benchmarks/phases.py SITE [--output OUT] [--jobs 2] [--clean]

Runs one build in this process, as `renderer build` would, and prints how long each phase
took and when it ended (seconds since this script started, imports included): reading the
caches, what changed, the front matter read ahead, enumerating the URLs, planning,
rendering, the link check, writing, and saving the caches. The Performance page's
profiles come from it; run it twice and read the second run, so that the operating
system's caches are warm. It measures by wrapping the build's own functions, so it needs
no change to renderer and sees the real code path.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()

import renderer.build.freeze as build_module  # noqa: E402 - timed from the start
import renderer.build.links as links_module  # noqa: E402
import renderer.build.page_cache as page_cache_module  # noqa: E402
import renderer.build.state as state_module  # noqa: E402

IMPORTED = time.perf_counter()
PHASES: list[tuple[str, float, float]] = []

# (module or class, function, what the phase is)
TIMED = [
    (state_module.BuildState, "load", "read the build cache"),
    (build_module.Changes, "since", "what changed (stamps, globs, front matter)"),
    (build_module, "read_pages_ahead", "front matter read ahead in workers"),
    (build_module, "list_targets", "enumerate the URLs (or restore them)"),
    (build_module, "plan_renders", "plan: which outputs to render"),
    (build_module, "render_outputs", "render"),
    (links_module.LinkCheck, "finish", "check links (those of new pages as they render)"),
    (build_module, "commit", "write into the output folder"),
    (build_module, "remember", "record what each output read"),
    (state_module.BuildState, "save", "write the build cache"),
    (page_cache_module.PageCache, "save", "write the front matter cache"),
]


def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        begun = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            PHASES.append((label, begun, time.perf_counter()))

    return wrapper


@contextlib.contextmanager
def instrumented() -> Iterator[None]:
    """The phases' functions wrapped with a timer. A class method is read bound to its
    class, so the wrapper calls it as it was; an instance method binds as usual."""
    originals = [(owner, name, owner.__dict__[name]) for owner, name, _ in TIMED]
    for owner, name, label in TIMED:
        setattr(owner, name, timed(label, getattr(owner, name)))
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--clean", action="store_true")
    args = parser.parse_args(argv)
    with instrumented():
        result = build_module.build(args.site, output=args.output, jobs=args.jobs,
                                    clean=args.clean)
    finished = time.perf_counter()
    print(f"{'phase':<46} {'seconds':>8} {'ends at':>8}")
    print(f"{'Python start-up to here: imports':<46} {IMPORTED - STARTED:8.3f} "
          f"{IMPORTED - STARTED:8.3f}")
    for label, begun, ended in PHASES:
        print(f"{label:<46} {ended - begun:8.3f} {ended - STARTED:8.3f}")
    print(f"{'whole run':<46} {finished - STARTED:8.3f}")
    print(result.summary(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
