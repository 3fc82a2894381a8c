"""The dev server's Host check against DNS rebinding, on a real `renderer serve` process.

A rebinding attack is a web page on a name the attacker controls whose DNS answer turns
into 127.0.0.1: the browser then sends the dev server requests with that name as the Host
header (and as the WebSocket's Origin, which then matches). A Host header is just a
header, so these tests send `Host: evil-rebind.example` by hand; nothing depends on
/etc/hosts or on DNS. Pages, the routing preview and the live-reload WebSocket must all
refuse it, unless `--allow-host` names it.
"""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_site
from serving import SITE, Server, running

from renderer.serve.hosts import HostPolicy, bound_to_loopback, host_name, is_loopback

EVIL = "evil-rebind.example"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_site(tmp_path_factory.mktemp("hosts"), SITE)


@pytest.fixture(scope="module")
def strict_server(site: Path) -> Iterator[Server]:
    with running(site) as server:
        yield server


def upgrade_status(server: Server, host: str) -> int:
    """The status of a WebSocket handshake to the live-reload socket sent with this Host
    (and a matching Origin, as a browser on that name would send): 101 if it upgraded."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /_renderer/livereload HTTP/1.1\r\nHost: {host}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Origin: http://{host}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request.encode("ascii"))
        received = b""
        while b"\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                break
            received += chunk
    status_line = received.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1.1 "), status_line
    return int(status_line.split()[1])


def answers(server: Server, host: str) -> dict[str, int]:
    """The status of a page, the routing preview, the reload script and the WebSocket
    upgrade, each asked with this Host header."""
    return {
        "page": server.raw("/", {"Host": host}).status,
        "preview": server.raw("/_renderer/", {"Host": host}).status,
        "script": server.raw("/_renderer/livereload.js", {"Host": host}).status,
        "websocket": upgrade_status(server, host),
    }


ACCEPTED = {"page": 200, "preview": 200, "script": 200, "websocket": 101}
REFUSED = {"page": 400, "preview": 400, "script": 400, "websocket": 400}


def test_a_rebinding_name_is_refused_everywhere(strict_server: Server) -> None:
    server = strict_server
    for host in (EVIL, f"{EVIL}:{server.port}", "EVIL-rebind.example.", "localhost.evil.example",
                 "127.0.0.1.evil.example", "0x7f000001", "2130706433"):
        assert answers(server, host) == REFUSED, host
    refused = server.raw("/", {"Host": EVIL})
    assert b"Test site" not in refused.body and b"--allow-host" in refused.body
    server.check_alive()


def test_loopback_names_are_accepted(strict_server: Server) -> None:
    server = strict_server
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}", "localhost",
                 "127.0.0.1", f"127.1.2.3:{server.port}", f"[::1]:{server.port}",
                 f"app.localhost:{server.port}", f"LOCALHOST:{server.port}"):
        assert answers(server, host) == ACCEPTED, host


def test_allow_host_adds_a_name(site: Path) -> None:
    with running(site, "--allow-host", EVIL, "--allow-host", "other.test") as server:
        assert answers(server, f"{EVIL}:{server.port}") == ACCEPTED
        assert answers(server, "other.test") == ACCEPTED
        assert answers(server, f"localhost:{server.port}") == ACCEPTED
        assert answers(server, "third.example") == REFUSED


# -- the policy itself: names only, never DNS -------------------------------------------------


def test_the_check_never_asks_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"DNS lookup of {args[0]!r} on the request path")

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        monkeypatch.setattr(socket, name, no_dns)
    policy = HostPolicy("127.0.0.1", loopback=True, allowed=["Docs.Test"])
    assert policy("localhost:5000") and policy("docs.test:80") and policy("[::1]")
    assert not policy(EVIL) and not policy("example.com:5000")
    assert not is_loopback(EVIL) and not is_loopback("localhost.example")


def test_host_names() -> None:
    assert host_name("Example.COM:5000") == "example.com"
    assert host_name("[::1]:5000") == "::1"
    assert host_name("[::1]") == "::1"
    assert host_name("::1") == "::1"
    assert host_name("localhost.") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"


def test_the_bound_address_is_allowed_and_wildcards_allow_all() -> None:
    named = HostPolicy("devbox", loopback=True)  # --host devbox, a name for 127.0.1.1
    assert named("devbox:5000") and not named("devbox.evil.example")
    assert HostPolicy("0.0.0.0", loopback=False)(EVIL)
    assert bound_to_loopback(["127.0.0.1", "::1"])
    assert not bound_to_loopback(["127.0.0.1", "0.0.0.0"]) and not bound_to_loopback([])
