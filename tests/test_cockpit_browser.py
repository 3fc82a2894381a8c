"""The cockpit in a real browser: the badge and /_renderer/ change by themselves when the
background check finds a problem on a page nobody opened, and the inspector shows a
page's templates. Chromium as in test_browser.py (whose fixtures these tests share).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import test_browser
from conftest import make_site
from serving import NOT_FOUND_ROUTE, SITE, running, write
from test_browser import TIMEOUT_MS, edit, shows

browser = test_browser.browser  # the fixtures, shared
page = test_browser.page
CHECK_TIMEOUT_MS = 3 * TIMEOUT_MS  # the check starts after the reloads, then renders all
BADGE = """(text) => { const host = document.querySelector("renderer-badge");
  const link = host && host.shadowRoot && host.shadowRoot.querySelector("a");
  return !!link && link.textContent === text && link.getAttribute("href") === "/_renderer/"; }"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = make_site(tmp_path, SITE)
    write(site / "site.toml", (site / "site.toml").read_text() + NOT_FOUND_ROUTE)
    edit(site / "templates/post.html", "{{ page.content }}",
         "{{ page.content }}{% if page.fail %}{{ url_for('nowhere') }}{% endif %}")
    write(site / "templates/partials/footer.html", "<footer>Made with care</footer>\n")
    edit(site / "templates/base.html", "</body>", '{% include "partials/footer.html" %}</body>')
    return site


def badge_shows(page: Any, text: str) -> None:
    page.wait_for_function(BADGE, arg=text, timeout=CHECK_TIMEOUT_MS)


def test_a_problem_nobody_opened_shows_in_the_badge_and_the_preview(
        site: Path, page: Any, browser: Any) -> None:
    with running(site) as server:
        page.goto(server.base + "/")
        shows(page, "Visitors: 12")
        badge_shows(page, "\u2713")
        preview = browser.new_context().new_page()
        try:
            preview.goto(server.base + "/_renderer/")
            shows(preview, "No page fails and no link is broken.")

            write(site / "content/posts/doomed.md",
                  "---\ntitle: Doomed\nfail: true\n---\nNobody opens this post.\n")
            hello = site / "content/posts/hello.md"
            write(hello, hello.read_text() + "\nSee [the lost page](/lost/).\n")
            badge_shows(page, "2 problems")
            preview.wait_for_function(
                "() => document.body.innerText.includes('link to /lost/')"
                " && document.body.innerText.includes('/posts/doomed/')",
                timeout=CHECK_TIMEOUT_MS)

            edit(site / "content/posts/doomed.md", "fail: true", "fail: false")
            edit(hello, "(/lost/)", "(/about/)")
            badge_shows(page, "\u2713")
            preview.wait_for_function(
                "() => document.body.innerText.includes('No page fails')"
                " && !document.body.innerText.includes('link to /lost/')",
                timeout=CHECK_TIMEOUT_MS)
        finally:
            preview.context.close()
        server.check_alive()


def test_the_inspector_shows_the_base_template_and_an_included_partial(
        site: Path, page: Any) -> None:
    with running(site) as server:
        server.wait_for("/_renderer/status.json", lambda r: (
            (status := json.loads(r.body))["running"] is False
            and status["checked"] == status["total"] > 0), timeout=CHECK_TIMEOUT_MS / 1000)
        page.goto(server.base + "/_renderer/")
        page.click('a.inspect[href="/_renderer/inspect?url=/posts/hello/"]')
        shows(page, "post.html")
        templates = page.locator("ul.templates").inner_text()
        assert "base.html" in templates and "extended by post.html" in templates
        assert "partials/footer.html" in templates and "included by base.html" in templates
        assert "content/posts/hello.md" in page.locator("body").inner_text()
        page.click("text=content/posts/hello.md")  # the pages whose check read it
        shows(page, "Pages that read it")
        assert "/posts/hello/" in page.locator("body").inner_text()
