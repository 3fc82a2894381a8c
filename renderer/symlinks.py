"""Symbolic links that lead out of the site folder, which renderer does not follow.

A site folder is what a person hands to `build` to publish. A link in it that points
elsewhere (`content/posts/x.md -> /etc/passwd`, `static/data -> ~/`) would publish files
that were never put in the site, so such a link is not followed unless site.toml says
`[site] follow_symlinks = true`. A link whose target is inside the site folder always works,
and so does a path that reaches outside the folder without a link (`../shared/*.md` named
in site.toml is the person's own choice).

Where files are found by listing (a collection's glob, static/), a link that leads out is
skipped and noted in `LinkCheck.skipped`, which the build prints as warnings and `serve`
logs; the link counts as a file the listing read, so that replacing it is a change. A
source or a template named in site.toml is a config error, and a template reached
through `{% include %}` or `{% extends %}` a template error. Links to folders inside
static/ are followed (each folder once on a path: a link back up does not loop).

Listing checks one lstat per file (the one `os.stat` would cost) and one realpath per
folder, not a realpath per file: 5,000 posts share one folder.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from stat import S_ISLNK

from .errors import display_path


def leads_out(path: Path | str, root: Path) -> Path | None:
    """Where `path` really is, when a symbolic link on its way leads outside `root` (a
    resolved folder); None when it stays inside or follows no link."""
    plain = os.path.abspath(path)
    real = os.path.realpath(plain)
    if real == plain or _inside(real, root):
        return None
    return Path(real)


def refusal(link: Path, target: Path, outcome: str = "not followed") -> str:
    """What is said of a link that is not followed."""
    return (f"{display_path(link)} is a symbolic link to {target}, outside the site folder: "
            f"{outcome} (set [site] follow_symlinks = true in site.toml to follow it)")


class LinkCheck:
    """The links of one site that lead out, as files are listed; `follow` turns it off."""

    def __init__(self, root: Path, follow: bool) -> None:
        self.root = root
        self.follow = follow
        self.skipped: dict[Path, Path] = {}  # link (as listed) -> where it leads
        self._folders: dict[str, str] = {}  # folder -> where a link takes it out, or ""
        # Static files and a collection may be listed on two threads at once (lookup.py).
        self._lock = threading.Lock()

    def plain_folder(self, path: str) -> bool:
        """Whether the folder of `path` is one no link takes out of the site (known)."""
        return self._folders.get(path[:path.rfind(os.sep)]) == "" or self.follow

    def skip(self, path: str, mode: int) -> bool:
        """Whether to skip the listed file at `path`, whose `os.lstat` gave `mode`: a link
        out, or a file in a folder reached through one. Noted if so."""
        if self.follow:
            return False
        folder, name = os.path.split(path)
        out = self._folders.get(folder)
        if out is None:  # where the folder leads, when a link takes it out; else ""
            out = str(leads_out(folder, self.root) or "")
            with self._lock:
                self._folders[folder] = out
        if not out and not S_ISLNK(mode):
            return False  # most files: a plain file in a folder of the site
        real = os.path.realpath(os.path.abspath(path)) if S_ISLNK(mode) \
            else os.path.join(out, name)
        if _inside(real, self.root) or real == os.path.abspath(path):
            return False
        with self._lock:
            self.skipped[Path(path)] = Path(real)
        return True

    def walk(self, folder: Path) -> tuple[list[Path], list[Path]]:
        """The files under `folder`, sorted, through links to folders too, and the links
        out of the site skipped on the way. A link back to a folder the walk is already
        in is not followed again (it would never end)."""
        files: list[Path] = []
        skipped: list[Path] = []

        def visit(path: str, chain: frozenset[str]) -> None:
            real = os.path.realpath(path)
            if real in chain:
                return
            chain = chain | {real}
            try:
                with os.scandir(path) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError:
                return
            for entry in entries:
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                    if self.skip(entry.path, mode):
                        skipped.append(Path(entry.path))
                    elif entry.is_dir():
                        visit(entry.path, chain)
                    else:
                        files.append(Path(entry.path))
                except OSError:
                    continue

        visit(str(folder), frozenset())
        return sorted(files), skipped

    def forget(self) -> None:
        """Forget where the folders lead and the links skipped (serve, after an edit: a
        folder may have become a link, a link may be gone)."""
        with self._lock:
            self._folders.clear()
            self.skipped.clear()


def _inside(real: str, root: Path) -> bool:
    top = str(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)
