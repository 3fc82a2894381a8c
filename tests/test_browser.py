"""A real browser on `renderer serve`: the page must change by itself after every edit.

Playwright drives Debian's /usr/bin/chromium (DEVELOPERS.md has the flags). Without
Playwright or Chromium these tests are skipped, unless RENDERER_REQUIRE_BROWSER=1 (as
.ci/run sets it), which makes that a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_site
from serving import NOT_FOUND_ROUTE, SITE, running, write

CHROMIUM = Path(os.environ.get("RENDERER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 5000


def unavailable(reason: str) -> None:
    if os.environ.get("RENDERER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and RENDERER_REQUIRE_BROWSER=1")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:  # launch() gives Chromium a fresh temporary profile
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = make_site(tmp_path, SITE)
    write(site / "site.toml", (site / "site.toml").read_text() + NOT_FOUND_ROUTE)
    return site


def shows(page: Any, text: str, *, absent: str | None = None) -> None:
    """Wait until the page shows `text` (and not `absent`) by itself: no reload from here."""
    page.wait_for_function(
        "([text, absent]) => document.body && document.body.innerText.includes(text)"
        " && (absent === null || !document.body.innerText.includes(absent))",
        arg=[text, absent], timeout=TIMEOUT_MS)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    write(path, text.replace(old, new, 1))


def test_every_kind_of_edit_shows_by_itself(site: Path, page: Any) -> None:
    with running(site) as server:
        page.goto(server.base + "/")
        shows(page, "Visitors: 12")

        edit(site / "templates/index.html", "<p>Visitors:", "<p>Template v2. Visitors:")
        shows(page, "Template v2.")

        edit(site / "content/posts/hello.md", "title: Hello", "title: Hello from Markdown")
        shows(page, "Hello from Markdown")

        write(site / "content/stats.json", '{"visitors": 42}')
        shows(page, "Visitors: 42")

        edit(site / "content/team.py", '["Ada", "Grace"]', '["Ada", "Grace", "Katherine"]')
        shows(page, "Katherine")

        write(site / "content/posts/new.md", "---\ntitle: A new post\n---\nNew.\n")
        shows(page, "A new post")
        server.check_alive()


def test_error_page_appears_and_heals_by_itself(site: Path, page: Any) -> None:
    with running(site) as server:
        page.goto(server.base + "/posts/hello/")
        shows(page, "Hello, world.")

        edit(site / "templates/post.html", "{{ page.title }}", "{{ page.title }")
        shows(page, "Template error")
        shows(page, "templates/post.html:3")

        edit(site / "templates/post.html", "{{ page.title }", "{{ page.title }} (fixed)")
        shows(page, "Hello (fixed)", absent="Template error")

        config = (site / "site.toml").read_text()
        write(site / "site.toml", config.replace("[sources]", "[sources", 1))
        shows(page, "Configuration error")
        write(site / "site.toml", config)
        shows(page, "Hello (fixed)", absent="Configuration error")


def test_a_missing_page_turns_into_the_new_page(site: Path, page: Any) -> None:
    with running(site) as server:
        response = page.goto(server.base + "/posts/later/")
        assert response is not None and response.status == 404
        shows(page, "Nothing here")
        write(site / "content/posts/later.md", "---\ntitle: Later\n---\nWritten later.\n")
        shows(page, "Written later.")


def test_five_quick_edits_end_on_the_last(site: Path, page: Any) -> None:
    with running(site) as server:
        page.goto(server.base + "/")
        shows(page, "Visitors: 12")
        for visitors in range(1, 6):
            write(site / "content/stats.json", f'{{"visitors": {1000 + visitors}}}')
            page.wait_for_timeout(100)
        shows(page, "Visitors: 1005")
        page.wait_for_timeout(300)  # any reload still in flight must not bring back an older one
        shows(page, "Visitors: 1005")


def test_the_preview_of_a_broken_rule_heals_by_itself(site: Path, page: Any) -> None:
    """A rule whose `each` function raises: the preview shows it at its rule, its URLs
    are no links, every other page works; once fixed, the preview shows the links."""
    write(site / "site.toml", (site / "site.toml").read_text() + (
        '\n[[routes]]\nurl = "/team/<name>/"\ntemplate = "bare.html"\n'
        'each = "content/team.py:people"\n'))
    write(site / "content/team.py", "def members(data):\n    return ['Ada']\n\n\n"
                                    "def people():\n    raise LookupError('nobody')\n")
    with running(site) as server:
        response = page.goto(server.base + "/_renderer/")
        assert response is not None and response.status == 200
        shows(page, "LookupError: nobody")
        row = page.locator("#rule-7")
        assert "content/team.py:6" in row.inner_text()
        assert row.locator("a").count() == 0
        assert page.locator('a[href="/css/site.css"]').count() == 1
        page.locator('a[href="/about/"]').click()
        shows(page, "About this site.")
        page.go_back()
        shows(page, "LookupError: nobody")
        write(site / "content/team.py", "def members(data):\n    return ['Ada']\n\n\n"
                                        "def people():\n    return [{'name': 'ada'}]\n")
        shows(page, "/team/ada/", absent="LookupError")
        assert page.locator('#rule-7 a[href="/team/ada/"]').count() == 1
