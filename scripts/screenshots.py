"""The screenshots of the Live preview page (content/docs/live-preview.md).

    python scripts/screenshots.py            # writes static/img/live-preview/*.png

Copies this repository's own site (site.toml, content/, templates/, static/) to a
temporary folder, puts one broken link into a copy of a docs page so that the cockpit
has something to show, starts `python -m renderer serve` on it (this checkout, a free
port of 127.0.0.1) and photographs, in headless Chromium (/usr/bin/chromium, as the
tests use it): /_renderer/ with the background check's findings, a page with the badge,
the inspector of a docs page, and the error page of a template mistake. The site of
this repository is never touched; the server and the browser are always stopped.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from serve_process import serve_process  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
OUTPUT = REPOSITORY / "static" / "img" / "live-preview"
CHROMIUM = os.environ.get("RENDERER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 960, "height": 640}
BROKEN_LINK = "\nThe [old configuration page](/docs/configuration-old/) is gone.\n"
MAX_BYTES = 150_000


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="renderer-screenshots-") as scratch:
        site = copy_site(Path(scratch) / "site")
        with serving(site) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport=VIEWPORT, color_scheme="light")
                shoot(page, base, site)
            finally:
                browser.close()
    for png in sorted(OUTPUT.glob("*.png")):
        size = png.stat().st_size
        print(f"{png.relative_to(REPOSITORY)}: {size // 1000} KB")
        if size > MAX_BYTES:
            print(f"  larger than {MAX_BYTES // 1000} KB", file=sys.stderr)
            return 1
    return 0


def shoot(page: Any, base: str, site: Path) -> None:
    page.goto(base + "/_renderer/")
    page.wait_for_function("() => document.body.innerText.includes('link to /docs/')",
                           timeout=120_000)
    page.locator("#renderer-check").scroll_into_view_if_needed()
    page.evaluate("() => window.scrollBy(0, -80)")
    page.screenshot(path=OUTPUT / "preview.png")

    page.goto(base + "/docs/live-preview/")
    page.wait_for_function("""() => { const h = document.querySelector("renderer-badge");
        return h && h.shadowRoot.querySelector("a").textContent.includes("problem"); }""")
    page.screenshot(path=OUTPUT / "badge.png")

    page.goto(base + "/_renderer/inspect?url=/docs/templates/")
    page.screenshot(path=OUTPUT / "inspector.png")

    template = site / "templates" / "doc.html"
    text = template.read_text(encoding="utf-8")
    template.write_text(text.replace("{{ page.title }}", "{{ page.title|nosuchfilter }}", 1),
                        encoding="utf-8")
    page.goto(base + "/docs/live-preview/")
    page.wait_for_function("() => document.body.innerText.includes('nosuchfilter')",
                           timeout=10_000)
    page.screenshot(path=OUTPUT / "error.png")


def copy_site(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy2(REPOSITORY / "site.toml", folder / "site.toml")
    for name in ("content", "templates", "static"):
        shutil.copytree(REPOSITORY / name, folder / name,
                        ignore=shutil.ignore_patterns("__pycache__", "live-preview"))
    urls = folder / "content" / "docs" / "urls.md"
    urls.write_text(urls.read_text(encoding="utf-8") + BROKEN_LINK, encoding="utf-8")
    return folder


@contextmanager
def serving(site: Path) -> Iterator[str]:
    """`renderer serve` on `site`, once it has answered its first page."""
    with serve_process(site, site.parent / "serve.log", timeout=60) as (base, _):
        with urllib.request.urlopen(base + "/", timeout=60):
            pass
        yield base


if __name__ == "__main__":
    sys.exit(main())
