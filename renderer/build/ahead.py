"""Reading ahead: a cold build parses the front matter of every Markdown page in worker
processes before enumerating the site, while this process prepares what every render
worker would otherwise do for itself.

Out of freeze.py, whose job is the order of a build's steps; this is one step's way of
going faster.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from ..content import (
    decode_text,
    front_matter_digest,
    page_fields,
    read_bytes,
    split_front_matter_text,
)
from ..digests import bytes_digest, text_digest
from ..errors import SiteError
from ..site import Site
from .page_cache import PageCache, pickle_fields
from .rendering import PARALLEL_MINIMUM
from .workers import Workers, can_fork


def read_pages_ahead(site: Site, pages: PageCache, jobs: int) -> dict[str, list[Any]]:
    """Parse, in `jobs` processes, the front matter of the collections' Markdown files that
    the page cache lacks, and hash the files for their stamps. Enumerating the site reads
    them all before any page can be rendered: on a cold build of 5,000 posts, one process
    doing that alone idles the rest. Meanwhile this process prepares what every render
    worker would otherwise do for itself (`_prepare`)."""
    if jobs < 2:
        return {}
    missing = [name for name in site.sources.markdown_files() if name not in pages.entries]
    if len(missing) < PARALLEL_MINIMUM or not can_fork():
        return {}
    root = site.config.root
    stamps: dict[str, list[Any]] = {}

    def keep(parsed: list[tuple[str, os.stat_result, bytes | None, str, str, str]]) -> None:
        for relative, stat, pickled, digest, front, file_hash in parsed:
            if pickled is not None:
                pages.put_pickled(relative, stat, pickled, digest, front)
            stamps[relative] = [stat.st_mtime_ns, stat.st_size, file_hash]

    keep(_read_pages((root, missing[:1])))  # here first: the workers inherit its imports
    with Workers(jobs, _read_pages, ahead=4) as workers:  # 4: busy while _prepare runs
        chunks = [(root, missing[i:i + 64]) for i in range(1, len(missing), 64)]
        parsed_chunks = workers.map_unordered(chunks)
        _prepare(site)  # while the workers parse: their results wait in the pipes
        for parsed in parsed_chunks:
            keep(parsed)
    return stamps


def _prepare(site: Site) -> None:
    """Done once here, before the render workers are forked, rather than once in each:
    compile the URL rules and the routes' templates, and load Python-Markdown. An error
    is left for rendering, which reports it where it belongs."""
    with contextlib.suppress(Exception):
        site.router.compiled  # noqa: B018 - compiled on first use
    templates = site.templates
    for route in site.config.routes:
        with contextlib.suppress(Exception):
            for path in sorted(templates.dependencies(route.template)[0]):
                templates.env.get_template(path.relative_to(templates.folder).as_posix())
    with contextlib.suppress(Exception):
        site.converter.load()


def _read_pages(chunk: tuple[Path, list[str]]
                ) -> list[tuple[str, os.stat_result, bytes | None, str, str, str]]:
    """Stat, hash and parse the front matter of some pages, in a worker. The fields come
    back pickled as the page cache keeps them: the build stores 5,000 of them as they are,
    rather than pickle each again itself while the workers wait."""
    root, names = chunk
    parsed = []
    for name in names:
        path = root / name
        try:
            stat = os.stat(path)
            data = read_bytes(path)  # once, for its stamp's hash and for its text
            block, body = split_front_matter_text(decode_text(data, path), path)
            fields = page_fields(block, path, root)
        except (SiteError, OSError):
            continue  # enumerating reads it again and reports the error where it belongs
        parsed.append((name, stat, pickle_fields(fields), text_digest(body),
                       front_matter_digest(block), bytes_digest(data)))
    return parsed
