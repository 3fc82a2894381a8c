"""Warnings found while loading sources, as a build reports them, remembered between
builds: symbolic links skipped, and what the sources found (an item without the sort key,
a file name that does not fit its pattern).

What the sources found is in the dependency record of each output that read them (and of
the URL list), which the build state keeps: a warning lasts as long as an output made
from what it is about, and goes when that is rendered again without it. Links need more,
below: they are found by listing, and checked again on the file system.

A build finds links while it lists collections and static/ (see symlinks.py). A rebuild
that lists nothing again (nothing the URL list was made from has changed) would then say
nothing of them, and a person could take them for gone. So the cache keeps the last
build's, and each build says them again while they still exist and still lead out, until
site.toml (or --drafts, or the output folder) changes.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..routing import Target
from ..site import Site
from ..symlinks import leads_out, refusal
from .rendering import Rendering
from .state import BuildState
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


def source_warnings(site: Site, targets: dict[str, Target], rendered: dict[str, Rendering],
                    state: BuildState) -> list[str]:
    """What the sources found while loading (an item without the sort key, a file name
    that does not fit its pattern): from the renderings of this build and what the last
    one recorded of the outputs not rendered again, and from listing the URLs."""
    if any(target.partial for target in targets.values()):
        found = set(state.listing.warnings)  # not listed again: nothing it read changed
    else:
        found = set(site.targets_record().warnings)
    for output in targets:
        entry = rendered.get(output) or state.outputs.get(output)
        if entry is not None and entry.warnings:
            found.update(entry.warnings)
    return sorted(found)

