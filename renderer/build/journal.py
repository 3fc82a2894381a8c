"""The commit of a build into its output folder, journaled: after a crash at any moment the
output is the previous build or the new one, never a mix, once the next `renderer`
command has started.

Before the first file moves, the plan (folders to make, staged files to move, files to
delete, the new manifest) is written to `.renderer-cache/commit-<output>.json`. A
commit that fails in this process (a full disk, a file system error) is undone from
the journal's own record: every file it replaced or deleted was first hard-linked or
moved into the staging folder's `old/`, and goes back. A commit cut short by a kill
leaves the journal behind, and the next command rolls it forward: everything in it was
already rendered and written, so finishing it needs no work of the site, only renames.

With `[build] swap` the plan is one exchange of folders instead (publish.py): the
journal holds the new tree's inode, and the output's inode tells the next command
whether the exchange happened.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SiteError, display_path
from .staging import (
    STAGING_PREFIX,
    exchange,
    keep,
    locks,
    process_gone,
    remove_folder,
    remove_stale_staging,
    replace,
    set_aside,
    try_lock,
)

JOURNAL_PREFIX = "commit-"


@dataclass
class Journal:
    """One commit's plan, as written before it starts. Paths in `moves` and `folders`
    are relative to the output folder, except the staged files (absolute)."""

    path: Path  # the journal file
    output: str  # the output folder (absolute)
    staging: str  # the staging folder: `old/` keeps what the commit replaced or deleted
    tree: bool = False  # the staged tree becomes the output folder in one rename
    clear: list[str] = field(default_factory=list)  # earlier files where folders go
    clear_folders: list[str] = field(default_factory=list)  # earlier folders where files go
    folders: list[str] = field(default_factory=list)  # to make, parents first
    moves: list[tuple[str, str]] = field(default_factory=list)  # (staged file, output)
    deletes: list[str] = field(default_factory=list)  # the earlier build's, not produced
    manifest: str | None = None  # the manifest, replaced by the new one (staged_manifest)
    # The staged tree's (device, inode): it is exchanged with the output folder (swap).
    swap: tuple[int, int] | None = None
    _undo: list[tuple[str, str, str | None]] = field(default_factory=list, repr=False)

    @property
    def staged_manifest(self) -> str:
        """The new manifest, beside the manifest (in the cache, maybe not on the output's
        file system), until it replaces it."""
        assert self.manifest is not None
        return f"{self.manifest}.next"

    def write(self) -> None:
        """Write the journal (atomically): from here on the commit is rolled forward."""
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps({
                "version": 1, "output": self.output, "staging": self.staging,
                "tree": self.tree, "clear": self.clear, "folders": self.folders,
                "moves": self.moves, "deletes": self.deletes, "manifest": self.manifest,
                "clear_folders": self.clear_folders, "swap": self.swap}))
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    @classmethod
    def read(cls, path: Path) -> Journal:
        """The journal at `path`, checked as a cache file is (storage.py): it is made for
        the output folder its name says, moves only files of its staging folder, and
        names nothing outside the output folder; else ValueError."""
        import hashlib

        value = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(value, dict) or value.get("version") != 1:
            raise ValueError("a journal of another shape")
        journal = cls(path, str(value["output"]), str(value["staging"]), bool(value["tree"]),
                      clear=list(value["clear"]), folders=list(value["folders"]),
                      moves=[(str(a), str(b)) for a, b in value["moves"]],
                      deletes=list(value["deletes"]), manifest=value["manifest"],
                      clear_folders=list(value.get("clear_folders", [])),
                      swap=_inode(value.get("swap")))
        name = hashlib.blake2b(journal.output.encode(), digest_size=8).hexdigest()
        staging = journal.staging
        if path.name != f"{JOURNAL_PREFIX}{name}.json" or STAGING_PREFIX not in staging \
                or not os.path.isabs(staging) or not all(
                    isinstance(relative, str) and is_inside(relative)
                    for relative in (*journal.clear, *journal.folders, *journal.deletes,
                                     *journal.clear_folders,
                                     *(output for _, output in journal.moves))) \
                or not all(os.path.normpath(staged) == staged and (
                    os.path.dirname(staged) == staging
                    or staged.startswith(os.path.join(staging, "tree", "")))
                    for staged, _ in journal.moves) \
                or not isinstance(journal.manifest, str | None):
            raise ValueError("a journal that names files it may not touch")
        return journal

    # -- in this process: apply, or undo on any failure ---------------------------------

    def apply(self) -> set[str]:
        """Carry out the plan; on any error (or interruption) undo what was done, remove
        the journal and raise. Returns the outputs that were copied, not renamed (their
        modification time is new)."""
        copied: set[str] = set()
        old = os.path.join(self.staging, "old")
        try:
            if self.swap is not None:
                exchange(self._tree, os.path.realpath(self.output))
                self._undo.append(("exchanged", "", None))
            elif self.tree:
                self._tree_into_place()
            else:
                os.makedirs(old, exist_ok=True)
                self._apply_files(old, copied)
            if self.manifest is not None:
                os.replace(self.staged_manifest, self.manifest)
        except BaseException:
            self.undo()
            raise
        self._remove_emptied_folders()
        self.path.unlink(missing_ok=True)
        return copied

    @property
    def _tree(self) -> str:
        return os.path.join(self.staging, "tree")

    def _tree_into_place(self) -> None:
        out = self.output
        if os.path.isdir(out) and not os.path.islink(out):
            os.rmdir(out)  # empty (the build checked): the tree takes its place
            self._undo.append(("removed-folder", out, None))
        os.rename(self._tree, out)
        self._undo.append(("tree", out, None))

    def _apply_files(self, old: str, copied: set[str]) -> None:
        out = self.output
        number = 0

        def backup() -> str:
            nonlocal number
            number += 1
            return os.path.join(old, str(number))

        for relative in self.clear + self.clear_folders:
            aside = backup()
            set_aside(os.path.join(out, relative), aside)
            self._undo.append(("deleted", relative, aside))
        for relative in self.folders:
            path = os.path.join(out, relative)
            if not os.path.isdir(path):
                os.mkdir(path)
                self._undo.append(("made", relative, None))
        for staged, relative in self.moves:
            target = os.path.join(out, relative)
            kept: str | None = None
            if os.path.lexists(target):
                kept = backup()
                keep(target, kept)
            self._undo.append(("moved", relative, kept))
            if not replace(staged, target):
                copied.add(relative)
        for relative in self.deletes:
            path = os.path.join(out, relative)
            if os.path.isfile(path) or os.path.islink(path):
                aside = backup()
                set_aside(path, aside)
                self._undo.append(("deleted", relative, aside))

    def undo(self) -> None:
        """Put back what `apply` did, newest first; remove the journal. Best effort: a
        step that fails is skipped (and said, should the output not be as it was)."""
        failed = []
        for action, relative, kept in reversed(self._undo):
            path = os.path.join(self.output, relative)
            try:
                if action == "exchanged":
                    exchange(self._tree, os.path.realpath(self.output))
                elif action == "tree":
                    os.rename(path, self._tree)
                elif action == "removed-folder":
                    os.mkdir(path)
                elif action == "made":
                    os.rmdir(path)
                elif action == "moved" and kept is not None:
                    replace(kept, path)
                elif action == "moved":
                    os.unlink(path)
                elif action == "deleted" and kept is not None:
                    set_aside(kept, path)
            except OSError as error:
                failed.append(f"{relative}: {error.strerror}")
        self._undo.clear()
        self.path.unlink(missing_ok=True)
        if failed:
            raise SiteError(f"the commit into {display_path(Path(self.output))} failed and "
                            f"could not be undone everywhere ({'; '.join(failed[:3])}); "
                            "run the build again")

    def _remove_emptied_folders(self) -> None:
        out = self.output
        for relative in sorted(self.deletes + self.clear, reverse=True):
            folder = os.path.dirname(os.path.join(out, relative))
            while folder != out and folder.startswith(out + os.sep):
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                folder = os.path.dirname(folder)

    # -- at the next start: roll forward ----------------------------------------------

    def roll_forward(self) -> bool:
        """Finish a commit a killed build started (each step is skipped once done); or
        discard an exchange that did not happen (False)."""
        out = self.output
        if self.swap is not None:
            if _inode_of(out) != self.swap:  # not exchanged: the output is the old build
                if self.manifest is not None:
                    Path(self.staged_manifest).unlink(missing_ok=True)
                self.path.unlink(missing_ok=True)
                return False
        elif self.tree:
            tree = self._tree
            if os.path.isdir(tree):
                with contextlib.suppress(OSError):
                    os.rmdir(out)  # an empty folder: the tree takes its place
                if not os.path.exists(out):
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    os.rename(tree, out)
        else:
            for relative in self.clear:
                path = os.path.join(out, relative)
                if os.path.isfile(path) or os.path.islink(path):
                    os.unlink(path)
            for relative in self.clear_folders:
                path = os.path.join(out, relative)
                if os.path.isdir(path) and not os.path.islink(path):
                    remove_folder(path)
            for relative in self.folders:
                os.makedirs(os.path.join(out, relative), exist_ok=True)
            for staged, relative in self.moves:
                if os.path.exists(staged):
                    replace(staged, os.path.join(out, relative))
            for relative in self.deletes:
                path = os.path.join(out, relative)
                if os.path.isfile(path) or os.path.islink(path):
                    os.unlink(path)
        if self.manifest is not None and os.path.exists(self.staged_manifest):
            os.replace(self.staged_manifest, self.manifest)
        self._remove_emptied_folders()
        self.path.unlink(missing_ok=True)
        return True


def _inode_of(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _inode(value: Any) -> tuple[int, int] | None:
    """A (device, inode) pair as the journal keeps it (a JSON list); None if it is none."""
    if value is None:
        return None
    device, inode = value
    if not isinstance(device, int) or not isinstance(inode, int):
        raise ValueError("an inode that is not a number")
    return device, inode


def is_inside(relative: str) -> bool:
    """Whether a manifest entry names a file inside the output folder."""
    parts = relative.split("/")
    return bool(relative) and not relative.startswith("/") and "\\" not in relative \
        and "\0" not in relative and all(part not in ("", ".", "..") for part in parts)


def recover(cache: Path, warn: Any) -> None:
    """Roll forward the commit of every build into an output of this site that was
    killed mid-commit (its lock is free), then remove staging folders of builds that
    are no longer running. Run at the start of every command that reads the site."""
    if not cache.is_dir():
        return
    for path in sorted(cache.glob(f"{JOURNAL_PREFIX}*.json")):
        name = path.name[len(JOURNAL_PREFIX):-len(".json")]
        lock = try_lock(cache / f"lock-{name}")
        if lock is None:
            continue  # that build is running: its commit is its own
        try:
            try:
                journal = Journal.read(path)
            except (OSError, ValueError, KeyError, TypeError) as error:
                warn(f"{path}: discarding an unreadable commit journal ({error})")
                path.unlink(missing_ok=True)
                continue
            if not os.path.isdir(journal.staging):  # moved or deleted by hand since
                warn(f"the commit of an interrupted build into "
                     f"{display_path(Path(journal.output))} cannot be finished: its staging "
                     "folder is gone; the next build puts the output right")
                path.unlink(missing_ok=True)
                continue
            try:
                finished = journal.roll_forward()
            except OSError as error:
                raise SiteError(f"could not finish the commit of an interrupted build into "
                                f"{display_path(Path(journal.output))}: "
                                f"{describe(error)}; free the space and run renderer again "
                                "(the journal is kept)", file=path) from None
            where = display_path(Path(journal.output))
            warn(f"finished the commit of an interrupted build into {where}" if finished else
                 f"an interrupted build into {where} had not exchanged its folder yet: the "
                 "output is the build before it")
            remove_folder(journal.staging)
        finally:
            lock.close()
    remove_stale_staging(cache, STAGING_PREFIX)
    for entry in os.scandir(cache):  # `.<file>.<pid>.tmp`: half-written by a killed build
        name = entry.name
        if name.startswith(".") and name.endswith(".tmp") and locks \
                and process_gone(f"staging-{name.rsplit('.', 2)[-2]}"):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def describe(error: Exception) -> str:
    """An OSError (or an SQLite error) as a user reads it: `path: no space left on
    device`."""
    reason = (getattr(error, "strerror", None) or str(error)).rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    where = getattr(error, "filename", None)
    return f"{display_path(Path(os.fsdecode(where)))}: {reason}" if where else reason
