"""Edit -> new text visible in Chromium, through `renderer serve`: median and p95.

    python benchmarks/latency.py                       # the repository's own site and 5,000 posts
    python benchmarks/latency.py SITE [SITE ...]       # given sites only
    python benchmarks/latency.py --posts 5000 --edits 20 --json out.json

For each site: copy it to a temporary folder (the original is never touched), start
`python -m renderer serve COPY --port 0`, open in headless Chromium (Playwright,
/usr/bin/chromium) a page made from a Markdown file, then `--edits` times: append a new
line of text to that file and time from the write until the page shows the text,
which it must do by itself (livereload). "Shows" is the first contentful paint of the
reloaded page (its HTML carries the new text), read from the page's own performance
timeline on the same wall clock as the write; Playwright's own detection, which adds the
time to re-attach to the new page and poll it, is reported beside it as an upper bound.
Between edits it waits for the page to settle.
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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("RENDERER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SKIPPED = shutil.ignore_patterns(".git", ".renderer-cache", "build", "__pycache__", ".mypy_cache",
                                 ".ruff_cache", ".pytest_cache", "node_modules", "*.egg-info")
SERVING = re.compile(r"serving .* at (http://\S+?)(/\S*) \(")
SETTLE_S = 0.3
# When the page now on screen first painted its content: the reloaded page carries the new
# text in its HTML, so this is when the edit became visible. Wall-clock milliseconds.
FIRST_PAINT = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return paint ? performance.timeOrigin + paint.startTime : null;
}"""


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
    samples_ms: list[float]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sites", nargs="*", type=Path,
                        help="site folders (default: the repository's site and a generated one)")
    parser.add_argument("--posts", type=int, default=5000,
                        help="posts of the generated site (default 5000; 0: none)")
    parser.add_argument("--edits", type=int, default=20, help="timed edits per site (default 20)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    results = []
    with tempfile.TemporaryDirectory(prefix="renderer-latency-") as scratch:
        sites = list(options.sites)
        if not sites:
            sites.append(REPOSITORY)
            if options.posts:
                sites.append(generated_site(Path(scratch) / "generated", options.posts))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for index, site in enumerate(sites):
                    copy = Path(scratch) / f"site-{index}"
                    shutil.copytree(site, copy, ignore=SKIPPED)
                    results.append(measure(browser, copy, site, options.edits))
                    print(report_line(results[-1]), file=sys.stderr)
            finally:
                browser.close()
    print(table(results))
    if options.json:
        options.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


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


@contextmanager
def serving(site: Path) -> Iterator[str]:
    log = site.parent / f"{site.name}-serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "renderer", "serve", str(site),
                                    "--port", "0"], stdout=out, stderr=subprocess.STDOUT,
                                   cwd=REPOSITORY, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        deadline = time.monotonic() + 60
        while True:
            found = SERVING.search(log.read_text(errors="replace"))
            if found:
                yield found.group(1)
                return
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"renderer serve did not start:\n{log.read_text()}")
            time.sleep(0.05)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(browser: Any, site: Path, original: Path, edits: int) -> Result:
    url, source, pages = pick_page(site)
    text = source.read_text(encoding="utf-8")
    samples: list[float] = []
    detections: list[float] = []
    with serving(site) as origin:
        page = browser.new_page()
        try:
            page.goto(origin + url, wait_until="load", timeout=120_000)
            nonce = os.urandom(3).hex()
            for number in range(-2, edits):  # two edits to warm up, not counted
                marker = f"latency-{nonce}-{number + 2}"
                started = time.time()
                source.write_text(f"{text}\n\n{marker}\n", encoding="utf-8")
                page.wait_for_function(
                    "m => document.body && document.body.innerText.includes(m)", arg=marker,
                    polling="raf", timeout=30_000)
                detected = 1000 * (time.time() - started)
                painted = page.evaluate(FIRST_PAINT)  # wall clock, ms since the epoch
                if number >= 0:
                    samples.append(painted - 1000 * started if painted else detected)
                    detections.append(detected)
                time.sleep(SETTLE_S)
        finally:
            page.close()
    ordered = sorted(samples)
    return Result(site=str(original), pages=pages, url=url,
                  edited=source.relative_to(site).as_posix(), edits=len(samples),
                  median_ms=round(statistics.median(ordered), 1),
                  p95_ms=round(percentile(ordered, 95), 1), min_ms=round(ordered[0], 1),
                  max_ms=round(ordered[-1], 1),
                  detected_median_ms=round(statistics.median(detections), 1),
                  samples_ms=[round(s, 1) for s in samples])


def percentile(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[int(rank) - 1]


def report_line(result: Result) -> str:
    return (f"{result.site}: {result.pages} pages, edit {result.edited} -> {result.url}: "
            f"median {result.median_ms} ms, p95 {result.p95_ms} ms "
            f"(Playwright saw it after {result.detected_median_ms} ms, median)")


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
    sys.exit(main())
