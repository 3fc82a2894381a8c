"""`renderer serve` as a child process, for the scripts that measure it (cockpit.py,
latency.py) or photograph it (scripts/screenshots.py): one way to start it, find where
it listens and stop it, so that the three cannot drift apart."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"serving .* at (http://\S+?)/? \(")


@contextmanager
def serve_process(site: Path, log: Path, *, timeout: float = 120
                  ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `renderer serve SITE --port 0` from this checkout, its output in `log`; yield
    its base URL ("http://127.0.0.1:PORT") and the process once its first line says
    where it listens (SystemExit with the log if it does not within `timeout` s); stop
    it at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "renderer", "serve",
                                    str(site.resolve()), "--port", "0"],
                                   stdout=out, stderr=subprocess.STDOUT, cwd=REPOSITORY,
                                   env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        deadline = time.monotonic() + timeout
        while not (found := SERVING.search(log.read_text(errors="replace"))):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"renderer serve did not start:\n{log.read_text()}")
            time.sleep(0.01)
        yield found.group(1), process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
