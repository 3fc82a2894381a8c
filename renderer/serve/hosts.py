"""Who may talk to the dev server: loopback checks, the Host header check, and limits on
the size of a request.

The dev server shows drafts, error pages with source lines, and the routing preview. It
binds 127.0.0.1 by default, and while it is bound to loopback it also refuses requests
addressed to any other name, so a web page elsewhere cannot read it through DNS
rebinding (a hostile name that resolves to 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

# Tornado reads a request's head (request line and headers) whole before anything else,
# and closes the connection without a word when it passes `max_header_size`. So the
# server reads heads up to MAX_REQUEST_HEAD, and `RequestLimits` answers those over the
# usual limits with a status. Beyond MAX_REQUEST_HEAD, Tornado still closes silently.
MAX_REQUEST_HEAD = 1024 * 1024
MAX_URI = 16 * 1024  # 414 URI Too Long above this
MAX_HEADERS = 64 * 1024  # 431 Request Header Fields Too Large above this (Tornado's default)


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) means this machine only."""
    host = host.strip("[]")
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback
                               for info in infos)


def is_allowed_host(bound: str, host: str) -> bool:
    """Whether a request's Host header `host` may be answered by a server bound to
    `bound`: anything when bound elsewhere than loopback, else loopback names only."""
    if not is_loopback(bound):
        return True
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    return (name in ("localhost", bound.lower()) or name.endswith(".localhost")
            or is_loopback(name))


def url_host(host: str) -> str:
    """The host part of a URL a browser can open for a server bound to `host` (a wildcard
    address is not one)."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1" if host != "::" else "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class HostCheck:
    """WSGI: answer 400 to a request whose Host header is not one the server allows."""

    def __init__(self, app: Any, allowed: Callable[[str], bool]) -> None:
        self.app = app
        self.allowed = allowed

    def __call__(self, environ: Any, start_response: Any) -> Any:
        host = environ.get("HTTP_HOST", "")
        if host and not self.allowed(host):
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [f"400 Bad Request: unknown host {host!r}; the dev server answers "
                    "requests to localhost only (serve --host to change)\n".encode()]
        return self.app(environ, start_response)


class RequestLimits:
    """WSGI: answer 414 to a request whose URI is too long, 431 to one whose headers are too
    large, rather than drop the connection with no status."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        uri = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
        headers = sum(len(name) + len(str(value)) for name, value in environ.items()
                      if name.startswith("HTTP_"))
        if uri > MAX_URI:
            status, message = "414 URI Too Long", f"the URI is over {MAX_URI} bytes"
        elif headers > MAX_HEADERS:
            status, message = "431 Request Header Fields Too Large", \
                f"the headers are over {MAX_HEADERS} bytes"
        else:
            return self.app(environ, start_response)
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                                ("Connection", "close")])
        return [f"{status}: {message}\n".encode()]
