"""`renderer serve` when the site's own code is slow, stuck, or ends the process: the rest
of the site keeps answering, a stuck render is stopped at its line, and the server lives.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from pathlib import Path

from conftest import make_site
from serving import running, write

SITE = {
    "site.toml": """
        [sources]
        slow = "content/slow.py:value"
        [[routes]]
        url = "/"
        template = "index.html"
        [[routes]]
        url = "/slow/"
        template = "slow.html"
        [[routes]]
        url = "/about/"
        template = "index.html"
    """,
    "content/slow.py": """
        import time

        def value():
            time.sleep(3)
            return "slow value"
    """,
    "templates/index.html": "<p>quick</p>\n",
    "templates/slow.html": "<p>{{ data.slow }}</p>\n",
    "static/site.css": "body {}\n",
}

STUCK = """
def value():
    n = 0
    while True:
        n += 1
"""


def test_other_pages_answer_while_one_renders_slowly(tmp_path: Path) -> None:
    root = make_site(tmp_path, SITE)
    with running(root) as server:
        assert server.get("/").status == 200
        slow: list[int] = []
        thread = threading.Thread(target=lambda: slow.append(server.get("/slow/").status))
        thread.start()
        time.sleep(0.3)  # the slow page is rendering now
        started = time.monotonic()
        assert server.get("/about/").status == 200
        assert server.get("/site.css").status == 200
        assert server.get("/_renderer/").status == 200
        assert time.monotonic() - started < 2, server.log()
        thread.join(timeout=15)
        assert slow == [200]


def test_a_stuck_render_is_stopped_at_its_line_and_the_server_lives(tmp_path: Path) -> None:
    root = make_site(tmp_path, SITE)
    write(root / "content/slow.py", STUCK)
    with running(root, "--timeout", "1") as server:
        started = time.monotonic()
        reply = server.get("/slow/")
        assert reply.status == 500
        assert time.monotonic() - started < 8
        assert "took longer than 1 s" in reply.text
        assert re.search(r"slow\.py:[45]\b", reply.text), reply.text  # in the endless loop
        assert server.get("/about/").status == 200
        write(root / "content/slow.py", 'def value():\n    return "fixed"\n')
        server.wait_for("/slow/", lambda r: r.status == 200 and b"fixed" in r.body)
        assert "took longer than 1 s" in server.log()


def test_a_stuck_page_does_not_block_the_others(tmp_path: Path) -> None:
    root = make_site(tmp_path, SITE)
    write(root / "content/slow.py", STUCK)
    with running(root, "--timeout", "30") as server:

        def ask() -> None:
            with contextlib.suppress(OSError):  # the server stops while it is stuck
                server.get("/slow/")

        thread = threading.Thread(target=ask, daemon=True)
        thread.start()
        time.sleep(0.3)
        for path in ("/", "/about/", "/site.css", "/_renderer/"):
            assert server.get(path).status == 200, path
    # Stopping the server while the render is stuck must not hang: `running` waits 5 s.
