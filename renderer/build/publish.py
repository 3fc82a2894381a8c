"""Writing: files rendered into the staging folder moved into the output folder.

Only a build without errors gets here. Each file is replaced atomically (a rename), a
file renderer did not write is never replaced or deleted, and only what an earlier build
wrote (its manifest, in the cache folder) and this one no longer produces is deleted.
The commit as a whole is journaled (journal.py): the output is the old build or the new
one, never a mix, once the next command has started.

With `[build] swap` (or `--swap`) readers never see a mix at all: the staged tree is
completed with every file the build keeps and exchanged with the output folder in one
system call. It is not the default: the output folder becomes another folder, so
whatever holds the old one (a shell in it, a bind mount of it) keeps the old, emptied
one, and every file costs a hard link and every folder a mkdir per build.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_IMODE, S_ISDIR, S_ISLNK, S_ISREG
from typing import Any

from ..errors import SiteError, display_path
from ..routing import Target
from .journal import Journal, describe, is_inside
from .rendering import Rendering
from .signals import signals_held
from .staging import Staging, cannot_exchange, remove_folder

Warn = Callable[[str], None]
NO_LINKS = (errno.EPERM, errno.EMLINK, errno.EXDEV, errno.EOPNOTSUPP, errno.ENOTSUP)
NO_EXCHANGE = (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EBUSY)  # EBUSY: a mount point
FILE_BY_FILE = "committing file by file: a reader may see old and new files side by side " \
               "for a moment"


@dataclass
class Written:
    """What a commit did to the output folder, for the summary line."""

    written: int = 0
    unchanged: int = 0
    removed: int = 0
    copied: set[str] = field(default_factory=set)  # files copied, not renamed: new mtimes
    written_paths: list[str] = field(default_factory=list)  # for `build -v`
    removed_paths: list[str] = field(default_factory=list)


def commit(staging: Staging, rendered: dict[str, Rendering], targets: dict[str, Target],
           out: Path, manifest: Path, journal_path: Path, warn: Warn,
           swap: bool = False) -> Written:
    """Move rendered files into `out`; delete what the last build wrote and this one did
    not. Planned first, journaled, then carried out (journal.py): on an error nothing
    has changed, after a kill the next command finishes it. With `swap`, one exchange
    of folders where it works."""
    result = Written()
    previous = read_manifest(manifest, warn)
    produced = set(targets)
    staged = sorted(output for output, rendering in rendered.items() if rendering.staged)
    journal = Journal(journal_path, str(out), str(staging.folder))
    if staging.tree and len(staged) == len(produced) and _can_move_tree(staging.root, out):
        journal.tree = True
        _stage_manifest(journal, manifest, produced)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            _carry_out(journal)
            result.written, result.written_paths = len(staged), staged
            return result
        except OSError:  # not renamed (another file system, a bind mount): file by file
            journal.tree = False
    folders, replaced = check_in_the_way(staged, out, previous)
    result.written, result.written_paths = len(staged), staged
    result.unchanged = len(produced) - len(staged)
    if swap and (staged or produced != previous):
        removed = _swap(journal, staging, produced, previous, manifest, warn)
        if removed is not None:
            result.removed, result.removed_paths = removed, sorted(previous - produced)
            return result
    clear, make = _folders_to_make(staged, folders, out, previous)
    journal.clear, journal.folders, journal.clear_folders = clear, make, replaced
    journal.moves = [(staging.path(output), output) for output in staged]
    real_out = os.path.realpath(out)
    inside_replaced = tuple(f"{folder}/" for folder in replaced)
    for old in sorted(previous - produced - set(clear), reverse=True):
        path = out / old
        if inside_replaced and old.startswith(inside_replaced):
            result.removed += 1  # goes with its folder
            continue
        if os.path.commonpath([os.path.realpath(path.parent), real_out]) != real_out:
            continue  # through a symlinked folder to elsewhere: not renderer's to delete
        if path.is_file() or path.is_symlink():
            journal.deletes.append(old)
    if produced != previous:  # as read, so a corrupt or foreign one is written anew
        _stage_manifest(journal, manifest, produced)
    result.removed += len(journal.deletes) + len(journal.clear)
    result.removed_paths = sorted({*journal.deletes, *journal.clear,
                                   *(old for old in previous - produced
                                     if old.startswith(inside_replaced))})
    if journal.moves or journal.deletes or journal.clear or journal.manifest:
        out.mkdir(parents=True, exist_ok=True)
        result.copied = _carry_out(journal)
    return result


def _carry_out(journal: Journal) -> set[str]:
    """Write the journal and apply it, with Ctrl+C and SIGTERM held until it is done."""
    with signals_held():
        journal.write()
        return journal.apply()


def swap_possible(out: Path, warn: Warn) -> bool:
    """Whether the commit may exchange folders; where it cannot, a warning says why."""
    reason = cannot_exchange(out)
    if reason is not None:
        warn(f"swap: {reason}; {FILE_BY_FILE}")
    return reason is None


def _swap(journal: Journal, staging: Staging, produced: set[str], previous: set[str],
          manifest: Path, warn: Warn) -> int | None:
    """Commit by exchanging the staged tree, completed, with the output folder; then
    remove the old tree. Returns the number of files removed, or None (with a warning)
    where the file system cannot: the caller then commits file by file."""
    try:
        removed = _fill_tree(staging.root, journal.output, produced, previous)
    except OSError as error:
        if error.errno not in NO_LINKS:
            raise  # a full disk, say: an error, as it would be file by file
        warn(f"swap: no hard links here ({describe(error)}); {FILE_BY_FILE}")
        return None
    tree = os.stat(staging.root)
    journal.swap = (tree.st_dev, tree.st_ino)
    if produced != previous:
        _stage_manifest(journal, manifest, produced)
    try:
        _carry_out(journal)
    except OSError as error:
        if error.errno not in NO_EXCHANGE:
            raise
        warn(f"swap: the file system cannot exchange folders ({describe(error)}); "
             f"{FILE_BY_FILE}")
        if journal.manifest is not None:
            os.unlink(journal.staged_manifest)
        journal.swap, journal.manifest = None, None
        return None
    remove_folder(staging.root)  # the old tree
    return removed


def _fill_tree(root: str, out: str, produced: set[str], previous: set[str]) -> int:
    """Complete the staged tree `root` with what the build keeps of `out`: hard links to
    its files (pages that did not change, every file renderer did not write), its
    folders made anew with their permissions, its symbolic links copied. Leaves out the
    files an earlier build wrote that this one does not, and returns their number."""
    removed = 0
    made: list[str] = []  # folders made here for folders of `out` that held something
    stack = [""]
    while stack:
        relative = stack.pop()
        folder, copy = os.path.join(out, relative), os.path.join(root, relative)
        with os.scandir(folder) as found:
            entries = list(found)
        if not os.path.isdir(copy):
            os.mkdir(copy)
            made += [copy] if entries and relative else []
        os.chmod(copy, S_IMODE(os.stat(folder).st_mode))
        for entry in entries:
            path = f"{relative}/{entry.name}" if relative else entry.name
            target = os.path.join(root, path)
            if entry.is_dir(follow_symlinks=False):
                if os.path.isdir(target) or not os.path.lexists(target):
                    stack.append(path)
                else:  # an earlier build's folder where this one writes a file (checked)
                    removed += sum(len(files) for _, _, files in os.walk(entry.path))
            elif path in previous and path not in produced:
                removed += 1
            elif os.path.lexists(target):
                continue  # rendered anew
            elif entry.is_symlink():
                os.symlink(os.readlink(entry.path), target)
            else:
                os.link(entry.path, target, follow_symlinks=False)
    for folder in reversed(made):  # emptied: all it held was the earlier build's
        with contextlib.suppress(OSError):
            os.rmdir(folder)
    return removed


def _stage_manifest(journal: Journal, manifest: Path, files: set[str]) -> None:
    journal.manifest = str(manifest)
    write_manifest(Path(journal.staged_manifest), files)


def _can_move_tree(tree: str, out: Path) -> bool:
    """Whether the staged tree can become the output folder in one rename: `out` is
    still missing or empty, and not a link the user keeps."""
    if not os.path.isdir(tree) or out.is_symlink():
        return False  # nothing staged (a site of no files); or a link the user keeps
    try:
        with os.scandir(out) as entries:
            return next(entries, None) is None
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _folders_to_make(staged: list[str], there: set[str], out: Path,
                     previous: set[str]) -> tuple[list[str], list[str]]:
    """The earlier build's files that stand where this one needs a folder, and the
    folders to make (parents first)."""
    clear: list[str] = []
    make: list[str] = []
    seen = set(there)
    for output in staged:
        for parent in _parents(output):
            if parent in seen:
                continue
            seen.add(parent)
            path = out / parent
            if parent in previous and (path.is_file() or path.is_symlink()):
                clear.append(parent)
            make.append(parent)
    return clear, make


def check_in_the_way(staged: list[str], out: Path, previous: set[str]
                     ) -> tuple[set[str], list[str]]:
    """Refuse, before writing anything, to replace a file or folder renderer did not write.
    Returns the folders the staged files go into that are there already (as folders),
    and the folders an earlier build wrote (every file in them) where files now go."""
    checked: set[str] = set()
    folders: set[str] = set()
    replaced: list[str] = []
    for output in staged:
        target = os.path.join(out, output)
        if S_ISDIR(_lstat_mode(target)):
            if not _written_by_renderer(target, output, previous):
                raise SiteError(f"{display_path(Path(target))} is a folder where the site "
                                "writes a file; renderer does not delete what it did not write")
            replaced.append(output)
        for parent in _parents(output):
            if parent in checked:
                continue
            checked.add(parent)
            mode = _lstat_mode(os.path.join(out, parent))
            if S_ISDIR(mode):
                folders.add(parent)
            elif (S_ISREG(mode) or S_ISLNK(mode)) and parent not in previous:
                raise SiteError(f"{display_path(out / parent)} is a file where the site needs "
                                "a folder; renderer does not delete what it did not write")
    return folders, replaced


def _written_by_renderer(folder: str, relative: str, previous: set[str]) -> bool:
    """Whether every file under `folder` (the output's `relative`) is in the earlier
    build's manifest: then it is renderer's to remove (a rule that made folders now makes
    files). Empty folders inside hold nothing of the user's."""
    with os.scandir(folder) as entries:
        for entry in entries:
            path = f"{relative}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if not _written_by_renderer(entry.path, path, previous):
                    return False
            elif path not in previous:
                return False
    return True


def _lstat_mode(path: str) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def _parents(output: str) -> Iterator[str]:
    parts = output.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])


def read_manifest(path: Path, warn: Warn) -> set[str]:
    """The files the last build wrote. Without it (none, or one that does not parse) no
    file of an earlier build is deleted: renderer never deletes what it cannot tell it
    wrote. An entry that would name a place outside the output folder is dropped."""
    import json

    if not path.exists():
        return set()
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        warn(f"{path}: discarding a corrupt list of written files ({error})")
        return set()
    files = value.get("files") if isinstance(value, dict) else None
    if not isinstance(files, list):
        warn(f"{path}: discarding a list of written files of an unknown shape")
        return set()
    kept = set(files) if _all_inside(files) else \
        {f for f in files if isinstance(f, str) and is_inside(f)}
    if len(kept) != len(files):
        warn(f"{path}: ignoring {len(files) - len(kept)} entries that are not files inside "
             "the output folder")
    return kept


def _all_inside(files: list[Any]) -> bool:
    """`is_inside` of every entry, checked at once (5,000 calls took 5 ms a build): in the
    entries joined by "/" between two more, a part that is empty, "." or ".." shows as
    "//", "/./" or "/../". False sends the caller to `is_inside`, entry by entry."""
    try:
        joined = "/".join(files)
    except TypeError:  # not all strings
        return False
    path = f"/{joined}/"
    return "\0" not in joined and "\\" not in joined and "//" not in path \
        and "/./" not in path and "/../" not in path


def write_manifest(path: Path, files: set[str]) -> None:
    from .storage import dump_json

    dump_json(path, {"version": 1, "files": sorted(files)})
