"""Who may talk to the dev server: loopback checks, the Host header check, and limits on
the size of a request.

The dev server shows drafts, error pages with source lines, and the routing preview. It
binds 127.0.0.1 by default, and while it is bound to loopback it also refuses requests
addressed to any other name, so a web page elsewhere cannot read it through DNS
rebinding (a hostile name that resolves to 127.0.0.1).

The check reads names, never resolves them. Asking DNS whether a Host header's name
resolves to loopback is exactly what a rebinding attacker controls (a name of theirs
that answers 127.0.0.1), and a lookup per request would block the server's one loop.
So only literal loopback names pass (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`),
the address the server was told to bind, and the names given with `--allow-host`.
Whether the server is bound to loopback at all is read from the sockets the OS bound
(`bound_to_loopback`), not from a lookup of the `--host` name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

# Tornado reads a request's head (request line and headers) whole before anything else,
# and closes the connection without a word when it passes `max_header_size`. So the
# server reads heads up to MAX_REQUEST_HEAD, and `RequestLimits` answers those over the
# usual limits with a status. Beyond MAX_REQUEST_HEAD, Tornado still closes silently.
MAX_REQUEST_HEAD = 1024 * 1024
MAX_URI = 16 * 1024  # 414 URI Too Long above this
MAX_HEADERS = 64 * 1024  # 431 Request Header Fields Too Large above this (Tornado's default)


def is_loopback(host: str) -> bool:
    """Whether `host`, an address or a name, literally means this machine only:
    `localhost`, a name under `.localhost`, or a loopback address. No DNS lookup."""
    host = host.strip("[]").lower().removesuffix(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def bound_to_loopback(addresses: Iterable[str]) -> bool:
    """Whether every address a server listens on (as `socket.getsockname()[0]` gives it)
    is a loopback address."""
    addresses = list(addresses)
    return bool(addresses) and all(is_loopback(address) for address in addresses)


def host_name(host: str) -> str:
    """The name of a Host header (`name`, `name:port`, `[::1]:port`), lower case, with
    no port, brackets or final dot."""
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        name = host.split(":", 1)[0]
    else:
        name = host  # a bare name or address, or an unbracketed IPv6 address
    return name.removesuffix(".")


class HostPolicy:
    """Which Host headers a server answers: any when it listens beyond loopback; else the
    literal loopback names, the address it was told to bind, and the allowed names."""

    def __init__(self, bound: str, *, loopback: bool, allowed: Iterable[str] = ()) -> None:
        self.loopback = loopback
        self.names = frozenset(host_name(name) for name in (bound, *allowed) if name)

    def __call__(self, host: str) -> bool:
        if not self.loopback:
            return True
        name = host_name(host)
        return name in self.names or is_loopback(name)


def url_host(host: str) -> str:
    """The host part of a URL a browser can open for a server bound to `host` (a wildcard
    address is not one)."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1" if host != "::" else "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def refusal(host: str) -> str:
    """The body of the 400 answer to a request for an unknown host."""
    return (f"400 Bad Request: unknown host {host!r}; the dev server answers requests to "
            "localhost only (serve --allow-host NAME adds a name, --host changes the "
            "address it listens on)\n")


class HostCheck:
    """WSGI: answer 400 to a request whose Host header is not one the server allows.
    (The WebSocket and script under /_renderer/ are Tornado handlers: see
    reloading.HostChecked, which asks the same policy.)"""

    def __init__(self, app: Any, allowed: Callable[[str], bool]) -> None:
        self.app = app
        self.allowed = allowed

    def __call__(self, environ: Any, start_response: Any) -> Any:
        host = environ.get("HTTP_HOST", "")
        if host and not self.allowed(host):
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [refusal(host).encode()]
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
