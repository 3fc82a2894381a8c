"""Requests per second from `renderer.create_app` under gunicorn, against a WSGI app of
three lines that returns the same bytes from memory.

    python benchmarks/wsgi.py                        # a generated site of 1,000 posts
    python benchmarks/wsgi.py --posts 1000 --seconds 10 --python /path/to/venv/bin/python

Generates a site (benchmarks/generate.py) in a temporary folder, builds it once (the
bytes the plain app serves), dates its files a minute back (as a deployed site's are),
then starts both apps, each under `gunicorn -w 2 --threads 8 -k gthread` on a free port
of 127.0.0.1, warms them (four requests per URL), and for the index page and one post
runs `wrk -t2 -c16 -d1s` SECONDS times against each, in alternate rounds (create_app,
plain, plain, create_app, ...): a machine whose speed wanders between rounds slows
both apps of a pair alike. It prints the median rate of each and the median of the
rounds' ratios, with their range. `--python` picks the interpreter that runs gunicorn
and renderer (another install, to compare versions). Needs `wrk` (Debian's package)
and gunicorn. Every server it starts is stopped; the folder is removed.

Target (issue 15): `create_app` at no less than 70 % of the plain app's rate.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLAIN_APP = """
import os, pathlib
OUT = pathlib.Path(os.environ["PLAIN_OUT"])
PAGES = {"/": OUT / "index.html", "/posts/post-00001/": OUT / "posts/post-00001/index.html"}
PAGES = {url: path.read_bytes() for url, path in PAGES.items()}
TYPE = ("Content-Type", "text/html; charset=utf-8")
def app(environ, start_response):
    body = PAGES[environ["PATH_INFO"]]
    start_response("200 OK", [TYPE, ("Content-Length", str(len(body)))])
    return [body]
"""
URLS = ("/", "/posts/post-00001/")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(python: str, target: str, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "-w", "2", "--threads", "8", "-k", "gthread",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", target],
        cwd=cwd, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start: {target}") from None
                time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def warm(base: str) -> None:
    for url in URLS:
        for _ in range(4):  # every worker process renders it once
            urllib.request.urlopen(base + url).read()


def requests_per_second(base: str, url: str, seconds: int) -> float:
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", base + url],
                         capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"wrk said:\n{out}")
    return float(found.group(1))


def alternate(ours: str, plain: str, url: str, rounds: int) -> list[tuple[float, float]]:
    """`rounds` pairs of one-second runs of `url` (create_app's rate, the plain app's),
    each pair in the other order than the one before."""
    pairs = []
    for number in range(rounds):
        if number % 2:
            theirs = requests_per_second(plain, url, 1)
            pairs.append((requests_per_second(ours, url, 1), theirs))
        else:
            first = requests_per_second(ours, url, 1)
            pairs.append((first, requests_per_second(plain, url, 1)))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10,
                        help="seconds each app is measured per URL, in one-second rounds")
    parser.add_argument("--python", default=sys.executable,
                        help="the Python that runs gunicorn and renderer")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="renderer-wsgi-"))
    try:
        site = folder / "site"
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(site), "--posts",
                        str(args.posts)], check=True, stdout=subprocess.DEVNULL)
        out = folder / "out"
        subprocess.run([args.python, "-m", "renderer", "build", str(site), "--output", str(out)],
                       check=True, stdout=subprocess.DEVNULL)
        then = time.time() - 60
        for path in site.rglob("*"):
            os.utime(path, (then, then))
        (folder / "plain.py").write_text(PLAIN_APP)
        env = {**os.environ, "PLAIN_OUT": str(out)}
        with ExitStack() as servers:
            ours = servers.enter_context(
                gunicorn(args.python, f"renderer:create_app({str(site)!r})", folder, env))
            plain = servers.enter_context(gunicorn(args.python, "plain:app", folder, env))
            warm(ours)
            warm(plain)
            rounds = {url: alternate(ours, plain, url, args.seconds) for url in URLS}
        print(f"{args.posts} posts, gunicorn -w 2 --threads 8 -k gthread, "
              f"{args.seconds} alternate rounds of wrk -t2 -c16 -d1s per app, "
              "requests/s (medians):\n")
        print("| URL | create_app | plain app | ratio (median of rounds) | range |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for url, pairs in rounds.items():
            ratios = sorted(a / b for a, b in pairs)
            print(f"| `{url}` | {statistics.median(a for a, _ in pairs):,.0f} | "
                  f"{statistics.median(b for _, b in pairs):,.0f} | "
                  f"{statistics.median(ratios):.0%} | {ratios[0]:.0%} to {ratios[-1]:.0%} |")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
