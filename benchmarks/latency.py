"""Edit -> new text visible in Chromium, through `renderer serve`: median and p95.

    python benchmarks/latency.py                       # the repository's own site and 5,000 posts
    python benchmarks/latency.py SITE [SITE ...]       # given sites only
    python benchmarks/latency.py SITE --posts 200      # given sites, then a generated one
    python benchmarks/latency.py --posts 5000 --edits 20 --json out.json

For each site: copy it to a temporary folder (the original is never touched; dot-folders
such as .venv and .git, and the output folder build/, are left out), start a fresh
`python -m renderer serve COPY --port 0` from this checkout, open in headless Chromium
(Playwright, /usr/bin/chromium) a page made from a Markdown file, then `--edits` times:
write a new first paragraph into that file's body and time from the write until the
page shows the text, which it must do by itself (livereload). Two more edits come first to
warm up and are not counted.

"Shows" is when Chromium painted the new paragraph: it carries an `elementtiming`
attribute, so the Element Timing API gives its render time (the paragraph goes first in
the body so that it is painted inside the viewport). Where that is missing, the first
contentful paint of the reloaded page stands in (its HTML carries the new text). The
page's clock (`performance.now()`) is placed on this script's monotonic clock with one
quick call, so no wall clocks of two processes are compared. Playwright's own
detection, which adds the time to re-attach to the new page and poll it, is reported
beside it as an upper bound. Before each edit the page's WebSocket must be connected
(as it is for a person who saves seconds after the page loaded) and a short pause lets
the machine settle.

Every process this starts (the servers, Chromium) is stopped and the temporary folder
removed, also on Ctrl+C or SIGTERM.
The generated site comes from benchmarks/generate.py (`--posts N`), or from a small
generator of its own when that script is missing.

Targets (docs/serve): median <= 150 ms on both sites, and the 5,000-page median
within 1.2x of the small site's. Run it on a quiet machine; it is never part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from serve_process import serve_process

REPOSITORY = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("RENDERER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Left out at the site's root, beside every dot-folder (.venv, .git ...):
SKIPPED_AT_ROOT = ("build", "public", "node_modules", "venv")
SKIPPED_EVERYWHERE = ("__pycache__",)
DEFAULT_POSTS = 5000
SETTLE_S = 0.3
TIMING_ID = "renderer-latency"
# When (ms, on the page's own clock) the marked paragraph was painted: the Element Timing
# API's render time of the element with elementtiming=TIMING_ID (reported only once it is
# painted inside the viewport), else the first contentful paint of the page now on screen
# (the reloaded page carries the new text in its HTML). Null when neither is there.
PAINT_TIME = """(id) => new Promise((resolve) => {
  const fallback = () => {
    const paint = performance.getEntriesByName("first-contentful-paint")[0];
    resolve(paint ? ["first-contentful-paint", paint.startTime] : null);
  };
  if (!(PerformanceObserver.supportedEntryTypes || []).includes("element")) return fallback();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.identifier === id && entry.renderTime) {
        observer.disconnect();
        resolve(["element-timing", entry.renderTime]);
      }
    }
  });
  observer.observe({type: "element", buffered: true});
  setTimeout(() => { observer.disconnect(); fallback(); }, 500);
})"""
# livereload.js has connected its WebSocket and finished the handshake.
CONNECTED = """() => { const c = window.LiveReload && window.LiveReload.connector;
  return !!(c && c._isSocketConnected && c._isSocketConnected() && c.protocol); }"""


@dataclass
class Result:
    site: str
    pages: int
    url: str
    edited: str
    edits: int
    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float
    detected_median_ms: float
    timed_by: dict[str, int]
    samples_ms: list[float]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sites", nargs="*", type=Path,
                        help="site folders (default: the repository's site and a generated one)")
    parser.add_argument("--posts", type=int, default=None,
                        help=f"posts of a generated site measured after the given ones (default: "
                             f"{DEFAULT_POSTS} when no site is given, else none; 0: none)")
    parser.add_argument("--edits", type=int, default=20, help="timed edits per site (default 20)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args(argv)
    if options.edits < 1:
        parser.error("--edits must be at least 1")
    signal.signal(signal.SIGTERM, stop)  # clean up as on Ctrl+C
    signal.signal(signal.SIGHUP, stop)

    from playwright.sync_api import sync_playwright

    results = []
    with tempfile.TemporaryDirectory(prefix="renderer-latency-") as scratch:
        sites = chosen_sites(options.sites, options.posts, Path(scratch))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for index, site in enumerate(sites):
                    copy = Path(scratch) / f"site-{index}"
                    shutil.copytree(site, copy, ignore=skipped(site))
                    label = site.name if site.is_relative_to(scratch) else str(site)
                    results.append(measure(browser, copy, label, options.edits))
                    print(report_line(results[-1]), file=sys.stderr)
            finally:
                browser.close()
    print(table(results))
    if options.json:
        options.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


def stop(signum: int, frame: Any) -> None:
    """SIGTERM and SIGHUP unwind like Ctrl+C, so every `finally` stops what it started."""
    raise SystemExit(128 + signum)


def chosen_sites(given: Sequence[Path], posts: int | None, scratch: Path) -> list[Path]:
    """The given sites (or the repository's), then a generated one if `--posts` asks."""
    sites = [site.resolve() for site in given] or [REPOSITORY]
    if posts is None:
        posts = 0 if given else DEFAULT_POSTS
    if posts > 0:
        sites.append(generated_site(scratch / f"generated-{posts}-posts", posts))
    return sites


def skipped(site: Path) -> Any:
    """copytree's ignore: at the site's top, dot-folders (.venv, .git, caches) and the
    output; everywhere, Python caches. A site's own dotfiles deeper down are kept."""
    top = site.resolve()

    def ignore(folder: str, names: list[str]) -> set[str]:
        at_top = Path(folder).resolve() == top
        return {name for name in names
                if name in SKIPPED_EVERYWHERE or (at_top and (
                    name.startswith(".") or name in SKIPPED_AT_ROOT
                    or name.endswith(".egg-info")))}

    return ignore


def generated_site(folder: Path, posts: int) -> Path:
    generator = REPOSITORY / "benchmarks" / "generate.py"
    print(f"generating {posts} posts ...", file=sys.stderr)
    if generator.is_file():
        subprocess.run([sys.executable, str(generator), str(folder), "--posts", str(posts)],
                       check=True, stdout=subprocess.DEVNULL)
    else:
        tiny_site(folder, posts)
    return folder


def tiny_site(folder: Path, posts: int) -> None:
    """A fallback generator: `posts` short Markdown posts, an index, a post template."""
    (folder / "content" / "posts").mkdir(parents=True)
    (folder / "templates").mkdir()
    (folder / "site.toml").write_text(
        '[site]\ntitle = "Latency"\n\n[sources]\nposts = "content/posts/*.md"\n\n'
        '[[routes]]\nurl = "/"\ntemplate = "index.html"\n\n'
        '[[routes]]\nurl = "/posts/<slug>/"\ntemplate = "post.html"\neach = "posts"\n')
    (folder / "templates" / "index.html").write_text(
        "<!doctype html><title>Index</title><ul>{% for p in data.posts %}"
        "<li><a href=\"{{ url_for('post', slug=p.slug) }}\">{{ p.title }}</a>{% endfor %}</ul>")
    (folder / "templates" / "post.html").write_text(
        "<!doctype html><html><head><title>{{ page.title }}</title></head>"
        "<body><h1>{{ page.title }}</h1>{{ page.content }}</body></html>")
    for number in range(1, posts + 1):
        (folder / "content" / "posts" / f"post-{number:05}.md").write_text(
            f"---\ntitle: Post {number}\n---\nThe text of post {number}.\n\n"
            + "Some words to render. " * 60 + "\n")


def pick_page(site: Path) -> tuple[str, Path, int]:
    """A URL made from one Markdown file of the site, that file, and the site's page count."""
    sys.path.insert(0, str(REPOSITORY))
    from renderer.content import Page
    from renderer.site import Site

    loaded = Site.load(site)
    targets = sorted(loaded.targets().values(), key=lambda t: t.output)
    pages = sum(1 for t in targets if t.route is not None)
    for each in (True, False):
        for target in targets:
            if target.route is None or (target.route.each is not None) != each:
                continue
            page = target.page
            if isinstance(page, Page) and isinstance(page.get("source"), str):
                url = loaded.config.base_path + target.url.lstrip("/")
                return url, site / page["source"], pages
    raise SystemExit(f"{site}: no page made from a Markdown file to edit")


def measure(browser: Any, site: Path, label: str, edits: int) -> Result:
    url, source, pages = pick_page(site)
    text = source.read_text(encoding="utf-8")
    samples: list[float] = []
    detections: list[float] = []
    timed_by: dict[str, int] = {}
    with serve_process(site, site.parent / f"{site.name}-serve.log", timeout=60) as (origin, _):
        page = browser.new_page()
        try:
            page.goto(origin + url, wait_until="load", timeout=120_000)
            nonce = os.urandom(3).hex()
            for number in range(-2, edits):  # two edits to warm up, not counted
                wait_until_connected(page)
                marker = f"latency-{nonce}-{number + 2}-end"
                shown, detected, method = timed_edit(page, source, text, marker)
                if number >= 0:
                    samples.append(shown)
                    detections.append(detected)
                    timed_by[method] = timed_by.get(method, 0) + 1
        finally:
            page.close()
    ordered = sorted(samples)
    return Result(site=label, pages=pages, url=url,
                  edited=source.relative_to(site).as_posix(), edits=len(samples),
                  median_ms=round(statistics.median(ordered), 1),
                  p95_ms=round(percentile(ordered, 95), 1), min_ms=round(ordered[0], 1),
                  max_ms=round(ordered[-1], 1),
                  detected_median_ms=round(statistics.median(detections), 1),
                  timed_by=timed_by, samples_ms=[round(s, 1) for s in samples])


def wait_until_connected(page: Any) -> None:
    """Settle, then wait for the page's WebSocket: an edit should reach a page that is
    listening, as it does when a person saves."""
    time.sleep(SETTLE_S)
    page.wait_for_function(CONNECTED, polling=20, timeout=30_000)


def timed_edit(page: Any, source: Path, text: str, marker: str) -> tuple[float, float, str]:
    """Write `marker` into `source` as a new first paragraph, wait until the page shows
    it, and return (ms until it was painted, ms until Playwright saw it, how the paint
    was timed)."""
    paragraph = f'<p elementtiming="{TIMING_ID}">{marker}</p>\n\n'
    started = time.monotonic()
    source.write_text(with_first_paragraph(text, paragraph), encoding="utf-8")
    page.wait_for_function("m => document.body && document.body.innerText.includes(m)",
                           arg=marker, polling="raf", timeout=30_000)
    detected = 1000 * (time.monotonic() - started)
    found = page.evaluate(PAINT_TIME, TIMING_ID)
    if not found:
        return detected, detected, "playwright"
    method, painted_ms = found
    # Place the page's clock on ours: it read performance.now() between `before` and
    # `after` (a quick call, a millisecond or two): take the middle.
    before = time.monotonic()
    page_now_ms = page.evaluate("() => performance.now()")
    after = time.monotonic()
    painted = (before + after) / 2 - (page_now_ms - painted_ms) / 1000
    return 1000 * (painted - started), detected, method


def with_first_paragraph(text: str, paragraph: str) -> str:
    """`text` with `paragraph` first in the body, after any front matter: at the top of
    the page it is painted inside the viewport, where a person would look."""
    lines = text.splitlines(keepends=True)
    fence = lines[0].rstrip() if lines else ""
    if fence in ("---", "+++"):
        for end in range(1, len(lines)):
            if lines[end].rstrip() == fence or (fence == "---" and lines[end].rstrip() == "..."):
                return "".join(lines[:end + 1]) + "\n" + paragraph + "".join(lines[end + 1:])
    return paragraph + text


def percentile(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1]


def report_line(result: Result) -> str:
    return (f"{result.site}: {result.pages} pages, edit {result.edited} -> {result.url}: "
            f"median {result.median_ms} ms, p95 {result.p95_ms} ms "
            f"(Playwright saw it after {result.detected_median_ms} ms, median; timed by "
            f"{', '.join(f'{k} {v}' for k, v in sorted(result.timed_by.items()))})")


def table(results: list[Result]) -> str:
    lines = [f"Edit -> visible in Chromium, {results[0].edits if results else 0} edits each "
             f"({platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()})",
             "", "| site | pages | median | p95 | min | max | seen by Playwright (median) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.site} | {r.pages} | {r.median_ms} ms | {r.p95_ms} ms | "
                     f"{r.min_ms} ms | {r.max_ms} ms | {r.detected_median_ms} ms |")
    if len(results) >= 2 and results[0].median_ms:
        lines.append("")
        lines.append(f"ratio of medians, last / first: "
                     f"{results[-1].median_ms / results[0].median_ms:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers, Chromium and temporary folders are gone", file=sys.stderr)
        sys.exit(130)
