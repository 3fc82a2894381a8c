"""Digests: of bytes, of text, of files, and of the code that made a cached value.

The build's caches and the core (a page's body digest is the key of its HTML) name
things by these, so they live below both.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from . import __version__

# A file changed this close to when it was read may have changed while it was read (the
# "racy" case git knows): its size and modification time alone are not trusted.
RACY_NS = 2_000_000_000


def bytes_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_digest(path: Path) -> str:
    return bytes_digest(path.read_bytes())


def text_digest(text: str) -> str:
    return bytes_digest(text.encode("utf-8"))


def code_stamp(modules: Iterable[str]) -> str:
    """A digest of the code that made a cached value: renderer's and Python's versions,
    and the installed libraries `modules` (top-level names), each known by the size and
    modification time of its `__init__.py` (or module file), which installing another
    version rewrites. Upgrading Python-Markdown must not leave the HTML of the old one
    in the cache; asking importlib.metadata for versions would cost more than rendering
    a page."""
    import importlib.util

    parts = [__version__, sys.version]
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
            stat = os.stat(origin) if origin else None
        except (ImportError, ValueError, OSError):
            stat = origin = None
        parts.append(f"{name}:{origin}:{stat.st_mtime_ns}:{stat.st_size}" if stat
                     else f"{name}:missing")
    return text_digest("\0".join(parts))
