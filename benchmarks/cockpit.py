"""`renderer serve` at scale: start to first page, and the background check's own time.

    python benchmarks/cockpit.py                      # 5,000 and 20,000 posts
    python benchmarks/cockpit.py --posts 5000 --json out.json

For each size, a site from benchmarks/generate.py in a temporary folder, then:

1. **cold**: start `python -m renderer serve SITE --port 0` (this checkout) on a site
   never built, and ask for one post page, then the index, as soon as the server says
   where it listens. "First page" is from starting the process to the post page's
   last byte.
2. **the background check**: ask /_renderer/status.json (it renders nothing, so it does
   not hold the check up) every 50 ms until the check has rendered every page: the
   time from the start, and from its first rendered page to its last. Then one post's
   body is edited and the check is timed again (it renders only what the edit touched),
   and the server's resident memory is read from /proc.
3. **with an earlier build's cache**: `renderer build` the site, then start `serve`
   again and time the first page. `serve` reads none of the build's cache: what is
   warmer is the operating system's file cache.

`uptime` is printed with every figure: the machine is shared. Every process this
starts is stopped and the temporary folder removed, also on Ctrl+C.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from serve_process import serve_process

REPOSITORY = Path(__file__).resolve().parent.parent
POLL_S = 0.05
POST = "/posts/post-00001/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="renderer-cockpit-") as scratch:
        for posts in options.posts:
            site = Path(scratch) / f"site-{posts}"
            subprocess.run([sys.executable, str(REPOSITORY / "benchmarks" / "generate.py"),
                            str(site), "--posts", str(posts)], check=True,
                           stdout=subprocess.DEVNULL)
            results.append(measure(site, posts))
            print(json.dumps(results[-1]), file=sys.stderr)
    print(table(results))
    if options.json:
        options.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def measure(site: Path, posts: int) -> dict[str, Any]:
    result: dict[str, Any] = {"posts": posts}
    started = time.monotonic()
    with serve_process(site, site.parent / f"{site.name}-serve.log") as (base, process):
        result["cold_first_page_s"] = first_page(base, started)
        get(base + "/")
        result["cold_index_s"] = round(time.monotonic() - started, 3)
        result["uptime_cold"] = uptime()
        done, span, status = wait_for_check(base, started)
        result.update(check_done_after_start_s=done, check_s=span, pages=status["total"],
                      check_problems=status["problems"], uptime_check=uptime())
        post = site / "content" / "posts" / "post-00002.md"
        before = status["renders"]
        edited = time.monotonic()
        post.write_text(post.read_text(encoding="utf-8") + "\nOne more line.\n",
                        encoding="utf-8")
        done, _, status = wait_for_check(base, edited, after=before)
        result.update(edit_check_s=done, edit_check_pages=status["renders"] - before,
                      rss_mb=rss_mb(process.pid))
    subprocess.run([sys.executable, "-m", "renderer", "build", str(site)], check=True,
                   cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    with serve_process(site, site.parent / f"{site.name}-serve.log") as (base, _):
        result["cached_first_page_s"] = first_page(base, started)
        result["uptime_cached"] = uptime()
    return result


def first_page(base: str, started: float) -> float:
    body = get(base + POST)
    assert b"<html" in body.lower(), body[:200]
    return round(time.monotonic() - started, 3)


def wait_for_check(base: str, started: float, after: int = -1
                   ) -> tuple[float, float, dict[str, Any]]:
    """Poll the status until the check rendered every page (and more than `after`
    pages since the start): (seconds since `started`, seconds from its first page seen
    rendered to the end, the last status)."""
    first: float | None = None
    while True:
        status = json.loads(get(base + "/_renderer/status.json"))
        now = time.monotonic()
        if first is None and status["renders"] > max(after, 0):
            first = now
        if status["renders"] > after and not status["running"] \
                and status["checked"] == status["total"]:
            return round(now - started, 3), round(now - (first or now), 3), status
        time.sleep(POLL_S)


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=600) as response:
        return bytes(response.read())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| posts | first page, cold | first page, after a build | index, cold | "
             "full check | check after a one-post edit | memory |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['posts']:,} | {r['cold_first_page_s']} s | "
                     f"{r['cached_first_page_s']} s | {r['cold_index_s']} s | "
                     f"{r['check_s']} s ({r['pages']} pages; done {r['check_done_after_start_s']}"
                     f" s after the start) | {r['edit_check_s']} s ({r['edit_check_pages']} "
                     f"pages) | {r['rss_mb']} MB |")
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
