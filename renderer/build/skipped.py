"""Symbolic links out of the site folder that builds skipped, remembered between builds.

A build finds them while it lists collections and static/ (see symlinks.py). A rebuild
that lists nothing again (nothing the URL list was made from has changed) would then say
nothing of them, and a person could take them for gone. So the cache keeps the last
build's, and each build says them again while they still exist and still lead out, until
site.toml (or --drafts, or the output folder) changes.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..symlinks import leads_out, refusal
from .storage import dump_json


def skipped_links(path: Path, key: str, found: dict[Path, Path], root: Path, *,
                  clean: bool) -> dict[str, str]:
    """The links skipped by this build (`found`) and by the last one, while they still
    lead out of `root`: link -> where it leads, both absolute."""
    links = {str(link): str(target) for link, target in found.items()}
    if clean:
        return links
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        remembered = value["links"] if value.get("config") == key else {}
        for link in remembered:
            if link not in links:
                target = leads_out(str(link), root)
                if target is not None:
                    links[str(link)] = str(target)
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass  # none remembered: a cache is never trusted blindly
    return links


def link_warnings(links: dict[str, str]) -> list[str]:
    return [refusal(Path(link), Path(target), "skipped")
            for link, target in sorted(links.items())]


def remember_skipped(path: Path, key: str, links: dict[str, str]) -> None:
    dump_json(path, {"config": key, "links": links})
