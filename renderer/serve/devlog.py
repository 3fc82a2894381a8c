"""What `serve` prints on the terminal: one line per request, each error once per change.

A browser asks for a broken page again and again (reloads, favicons, the 404 page), and
a wall of identical tracebacks hides the one line that matters. So an error is printed
the first time only, until the next change to the site makes it worth saying again.
"""

from __future__ import annotations

import logging
import sys
import threading

from tornado.httputil import HTTPServerRequest
from tornado.wsgi import WSGIContainer

logger = logging.getLogger("renderer")
QUIET_PATH = "/_renderer/status.json"  # not logged: the badge's status (devpages/cockpit.py)


class OncePerChange(logging.Filter):
    """Errors are shown once until the next change, however often a page is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()
        self.lock = threading.Lock()  # records may come from any thread

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        key = record.getMessage()
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
        return True

    def reset(self) -> None:
        """A change was applied: every error may be news again."""
        with self.lock:
            self.seen.clear()


# One filter for the process, like the logging handlers it sits on: `serve` resets it on
# every change it applies.
ONCE = OncePerChange()


class TerminalFormatter(logging.Formatter):
    """Plain lines, with errors starting `error:` like the rest of the command line."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR and not message.startswith("error:"):
            message = f"error: {message}"
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return message


def setup_logging() -> None:
    """renderer's lines on stderr; Tornado and livereload only when something is wrong."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TerminalFormatter())
    handler.addFilter(ONCE)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    tornado_handler = logging.StreamHandler(sys.stderr)
    tornado_handler.addFilter(ONCE)
    tornado = logging.getLogger("tornado")
    tornado.addHandler(tornado_handler)
    tornado.setLevel(logging.WARNING)
    tornado.propagate = False
    logging.getLogger("livereload").setLevel(logging.WARNING)


class LoggedContainer(WSGIContainer):
    """Tornado's WSGI container, logging one short line per request: method, path, status
    and how long the render took, which is what a person watching the terminal needs."""

    def _log(self, status_code: int, request: HTTPServerRequest) -> None:
        if request.path == QUIET_PATH and status_code == 200:
            return  # every open page asks for it every second (the badge)
        took = 1000.0 * request.request_time()
        logger.info("%s %s %d %.0f ms", request.method, request.uri, status_code, took)
