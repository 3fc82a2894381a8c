"""Where a build writes: the output folder (checked), the cache folder, and the staging
folder where rendered files wait until the build has no errors.

The staging folder is on the output's file system, so that the commit (journal.py) puts
every file in place by a rename; never a copy that a full disk could leave half-written
in the output folder. With `[build] swap`, its tree is exchanged with the output folder
in one system call (`exchange`).

Who is running: each build holds a lock (`flock`) on `lock-<output>` in the cache
and on the `lock` file of its staging folder; the kernel drops both when the process
dies, however it dies. A journal or a staging folder whose lock is free is left from a
build that is gone. Without `fcntl` (Windows) no lock is taken and nothing is treated as
stale but a journal found by the next build into the same output.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..config import SiteConfig
from ..errors import SiteError, display_path

CACHE_FOLDER = ".renderer-cache"
STAGING_PREFIX = "staging-"

fcntl: Any
try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


def try_lock(path: Path | str) -> IO[bytes] | None:
    """Hold an exclusive lock on the file at `path` (made if missing) until the returned
    file is closed or the process ends; None if another process holds it."""
    handle = open(path, "a+b")  # noqa: SIM115 - kept open: it is the lock
    if fcntl is None:
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


locks = fcntl is not None  # whether staging folders are locked while their build runs


# -- the exchange of the staged tree with the output folder (swap) ----------------------


RENAME_EXCHANGE = 2  # from linux/fs.h
AT_FDCWD = -100
SYS_RENAMEAT2 = {"x86_64": 316}  # the system call, for a C library without renameat2


def exchange(staged: str, out: str) -> None:
    """Swap two folders in one step (renameat2 with RENAME_EXCHANGE): whoever opens
    `out` gets one tree or the other, never a mix. Raises OSError: ENOSYS without the
    call, EINVAL where the file system cannot exchange, EXDEV across file systems."""
    call = _renameat2()
    if call is None:
        raise OSError(errno.ENOSYS, "this system cannot exchange two folders", out)
    if call(os.fsencode(staged), os.fsencode(out)) != 0:
        import ctypes

        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), staged, None, out)


def cannot_exchange(out: Path) -> str | None:
    """Why the staged tree cannot be exchanged with the output folder, or None. A
    missing output folder needs no exchange: the tree is renamed into place."""
    if _renameat2() is None:
        return "exchanging two folders needs Linux (renameat2)"
    if _is_mount_point(os.path.realpath(out)):
        return f"{display_path(out)} is a mount point, which cannot be exchanged"
    return None


def _is_mount_point(path: str) -> bool:
    """os.path.ismount, and the mount points Linux lists (a folder bind-mounted from the
    same file system, as `docker run -v` does, has its parent's device number)."""
    if os.path.ismount(path):
        return True
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as file:
            points = [line.split()[4] for line in file]
    except (OSError, IndexError):
        return False
    import re

    octal = re.compile(r"\\([0-7]{3})")  # a space is \040
    return any(octal.sub(lambda m: chr(int(m.group(1), 8)), point) == path
               for point in points)


@functools.cache
def _renameat2() -> Callable[[bytes, bytes], int] | None:
    """renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) through ctypes: the C
    library's function, else the system call by number; None where there is neither."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import platform

    libc = ctypes.CDLL(None, use_errno=True)
    if hasattr(libc, "renameat2"):
        function = libc.renameat2
        function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                             ctypes.c_uint)
        function.restype = ctypes.c_int
        return lambda a, b: int(function(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE))
    number = SYS_RENAMEAT2.get(platform.machine())
    if number is None:
        return None
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    return lambda a, b: int(syscall(ctypes.c_long(number), ctypes.c_int(AT_FDCWD),
                                    ctypes.c_char_p(a), ctypes.c_int(AT_FDCWD),
                                    ctypes.c_char_p(b), ctypes.c_uint(RENAME_EXCHANGE)))


# -- moving files where the staging folder is on another file system --------------------
# (an output folder that is a mount point: its staging folder is beside it)


def replace(source: str, target: str) -> bool:
    """Atomically put `source` at `target`: a rename, or where the two are on different
    file systems (a bind mount), a copy to a temporary file beside the target, renamed;
    the temporary file is removed on failure. False when it was copied."""
    try:
        os.replace(source, target)
        return True
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    import shutil

    folder, name = os.path.split(target)
    temporary = os.path.join(folder, f".{name}.renderer-tmp")
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return False


def keep(target: str, kept: str) -> None:
    """Keep what is at `target` at `kept` too, to put it back should the commit fail: a
    hard link; a copy across file systems; where there are no hard links (FAT), `target`
    moved there for a moment."""
    try:
        os.link(target, kept, follow_symlinks=False)
    except OSError as error:
        if error.errno != errno.EXDEV:
            os.rename(target, kept)
            return
        import shutil

        shutil.copy2(target, kept, follow_symlinks=False)


def set_aside(path: str, aside: str) -> None:
    """Move the file or folder at `path` to `aside`: a rename, or across file systems a
    copy, then the original removed."""
    try:
        os.rename(path, aside)
        return
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    import shutil

    if os.path.isdir(path) and not os.path.islink(path):
        shutil.copytree(path, aside, symlinks=True)
        shutil.rmtree(path)
    else:
        shutil.copy2(path, aside, follow_symlinks=False)
        os.unlink(path)


# -- the output, the cache and the staging folder -----------------------------------------


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
    becomes the output in one rename. So it is with `swap`: the tree, completed with
    the files the build keeps, is exchanged with the output folder (publish.py).

    It is on the output's file system, so that every file goes into place by a rename:
    in the cache folder when that is on the same one, else beside the output folder. It
    holds a `lock` for as long as its build runs (journal.py): a staging folder whose
    lock is free is left from a build that was killed, and the next one removes it.
    """

    folder: Path
    tree: bool  # laid out as the output (else flat)
    empty: bool  # the output folder held nothing: no file there can be kept
    _made: set[str] = field(default_factory=set)  # folders of the tree made by this process
    _lock: IO[bytes] | None = None

    @classmethod
    def beside(cls, cache: Path, out: Path, swap: bool = False) -> Staging:
        import tempfile

        parent, prefix = staging_place(cache, out)
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
        try:
            lock = try_lock(folder / "lock")
        except OSError:  # a full disk
            os.rmdir(folder)
            raise
        empty = not _holds_anything(out)
        return cls(folder, tree=empty or swap, empty=empty, _lock=lock)

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
        """The folder that becomes the output (or is exchanged with it), in tree mode."""
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


def remove_stale_staging(folder: Path, prefix: str) -> None:
    """Remove the staging folders named `prefix`* in `folder` whose build is gone."""
    try:
        names = [entry.name for entry in os.scandir(folder)
                 if entry.name.startswith(prefix) and entry.is_dir(follow_symlinks=False)]
    except OSError:
        return
    if fcntl is None:
        return
    for name in names:
        path = folder / name
        lock = try_lock(path / "lock") if (path / "lock").exists() else None
        if lock is None and (path / "lock").exists():
            continue  # held: that build is running
        if lock is None and not process_gone(name):
            continue  # without a lock (an older renderer): its process may still run
        try:
            remove_folder(str(path))
        finally:
            if lock is not None:
                lock.close()


def process_gone(name: str) -> bool:
    """Whether the process named in a staging folder's name (`staging-<pid>-...`) is
    gone; a name without one is of an older renderer, whose builds have ended."""
    parts = name.rsplit("staging-", 1)[-1].split("-")
    if not parts[0].isdigit():
        return True
    try:
        os.kill(int(parts[0]), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def remove_folder(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
