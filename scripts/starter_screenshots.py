"""Screenshots of the two starter sites, for the Getting started page.

    .venv/bin/python scripts/starter_screenshots.py

Makes each starter with `renderer new` in a temporary folder, builds it, serves the
built folder on 127.0.0.1 (a free port) as a static host would, and saves PNGs into
static/img/ of this repository (the documentation's static folder): the blog in light
and dark, the docs site in light. Run by hand after changing a starter's look, and
commit the PNGs. Needs Playwright and Chromium (/usr/bin/chromium, or $RENDERER_CHROMIUM).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

from playwright.sync_api import ViewportSize, sync_playwright

REPOSITORY = Path(__file__).resolve().parent.parent
OUTPUT = REPOSITORY / "static" / "img"
CHROMIUM = os.environ.get("RENDERER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT: ViewportSize = {"width": 960, "height": 640}
LIMIT = 150 * 1024  # bytes a screenshot may weigh: the docs page loads them all
# (file name, starter options, URL path, colour scheme)
SHOTS: list[tuple[str, tuple[str, ...], str, Literal["light", "dark"]]] = [
    ("starter-blog-light.png", (), "/", "light"),
    ("starter-blog-dark.png", (), "/posts/code/", "dark"),
    ("starter-docs.png", ("--docs",), "/writing-pages/", "light"),
]


def renderer(*args: str) -> None:
    """The real command, as a person runs it."""
    subprocess.run([sys.executable, "-m", "renderer", *args], check=True)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """No line per request on the terminal."""


@contextmanager
def static_host(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 at a free port, like `python3 -m http.server -d`."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def build(work: Path, options: tuple[str, ...]) -> Path:
    """A starter made and built once per set of options; its output folder."""
    site = work / ("docs" if options else "blog")
    if not site.exists():
        renderer("new", str(site), *options)
        renderer("build", str(site), "--strict")
    return site / "build"


def main() -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, options, path, scheme in SHOTS:
                with static_host(build(Path(temporary), options)) as base:
                    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
                    page = context.new_page()
                    page.goto(base + path, wait_until="networkidle")
                    page.screenshot(path=str(OUTPUT / name))
                    context.close()
                size = (OUTPUT / name).stat().st_size
                print(f"{name}: {size // 1024} KB")
                if size > LIMIT:
                    raise SystemExit(f"{name} weighs {size} bytes, over {LIMIT}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
