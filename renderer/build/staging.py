"""Where a build writes: the output folder (checked), the cache folder, and the staging
folder where rendered files wait until the build has no errors.

The staging folder is on the output's file system, so that the commit (journal.py) puts
every file in place by a rename; never a copy that a full disk could leave half-written
in the output folder.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..config import SiteConfig
from ..errors import SiteError, display_path
from .journal import STAGING_PREFIX, try_lock

CACHE_FOLDER = ".renderer-cache"


def check_output_folder(config: SiteConfig, out: Path) -> None:
    """Refuse an output folder that holds the site's own sources."""
    for folder in (config.root, config.templates, config.content, config.static):
        if out == folder or folder.is_relative_to(out) or (
                out.is_relative_to(folder) and folder != config.root):
            raise SiteError(f"the output folder {display_path(out)} overlaps the site's own "
                            f"folder {display_path(folder)}; pick another with --output or "
                            "[site] output", file=config.file,
                            line=config.line_of("site", "output"))
    if out.exists() and not out.is_dir():
        raise SiteError(f"the output {display_path(out)} exists and is not a folder")


def cache_folder(root: Path) -> Path:
    folder = root / CACHE_FOLDER
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return folder


@dataclass
class Staging:
    """Where rendered files wait until the build has no errors.

    Into an output folder that holds files, each is moved on its own, so the staging
    folder is flat: making and removing a folder per page costs more than rendering some
    pages. Into a missing or empty output folder (a first build, a `--clean` build after
    deleting it) the staging folder is laid out as the output itself, and the whole tree
    becomes the output in one rename.

    It is on the output's file system, so that every file goes into place by a rename:
    in the cache folder when that is on the same one, else beside the output folder. It
    holds a `lock` for as long as its build runs (journal.py): a staging folder whose
    lock is free is left from a build that was killed, and the next one removes it.
    """

    folder: Path
    tree: bool
    _made: set[str] = field(default_factory=set)  # folders of the tree made by this process
    _lock: IO[bytes] | None = None

    @classmethod
    def beside(cls, cache: Path, out: Path) -> Staging:
        import tempfile

        parent, prefix = staging_place(cache, out)
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
        try:
            lock = try_lock(folder / "lock")
        except OSError:  # a full disk
            os.rmdir(folder)
            raise
        return cls(folder, tree=not _holds_anything(out), _lock=lock)

    def remove(self) -> None:
        """Remove the staging folder: empty after a build wrote its files but for its
        lock (shutil, and the compression modules it imports, only for what an error
        left in it)."""
        try:
            old = os.path.join(self.folder, "old")  # what a commit replaced
            if os.path.isdir(old):
                with os.scandir(old) as entries:  # a folder among them: shutil below
                    for entry in entries:
                        os.unlink(entry.path)
                os.rmdir(old)
            os.unlink(os.path.join(self.folder, "lock"))
            os.rmdir(self.folder)
        except OSError:
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @property
    def root(self) -> str:
        """The folder that becomes the output, in tree mode."""
        return os.path.join(self.folder, "tree")

    def path(self, output: str) -> str:
        """Where `output` waits (its folder made, in tree mode)."""
        if not self.tree:
            return os.path.join(self.folder,
                                hashlib.blake2b(output.encode(), digest_size=12).hexdigest())
        parent = output.rpartition("/")[0]
        if parent not in self._made:
            os.makedirs(os.path.join(self.root, parent), exist_ok=True)
            self._made.add(parent)
        return os.path.join(self.root, output)
def staging_place(cache: Path, out: Path) -> tuple[Path, str]:
    """The folder that staging folders of builds into `out` are made in, and their
    prefix: the cache folder if it is on the output's file system, else the folder the
    output is in."""
    real = Path(os.path.realpath(out))
    anchor = real
    while not anchor.exists() and anchor.parent != anchor:
        anchor = anchor.parent
    try:
        same = os.stat(anchor).st_dev == os.stat(cache).st_dev
    except OSError:
        same = True
    return (cache, STAGING_PREFIX) if same else \
        (real.parent, f".{real.name}.renderer-{STAGING_PREFIX}")


def _holds_anything(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except FileNotFoundError:
        return False
    except OSError:
        return True  # not a folder, or not readable: the careful way, file by file
