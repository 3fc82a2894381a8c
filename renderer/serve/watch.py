"""What `serve` watches, and the watchfiles threads that report changes.

livereload's own watcher polls on the event-loop thread and reports one file per poll,
so `serve` brings its own: native file events from watchfiles, gathered for a few tens
of milliseconds, filtered through a `WatchPlan` and handed on as one set of paths.

What is watched: site.toml, the templates, content and static folders, and every file
`site.toml` names (sources, Python functions), wherever it lies; never the output folder,
caches, dotfiles, editor backups or logs. The plan is worked out again after every
change, since an edit of site.toml can move any of these.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import CONFIG_NAME, SiteConfig

logger = logging.getLogger("renderer")

DEBOUNCE_MS = 50  # the longest a burst of events is gathered
STEP_MS = 10  # a batch is handed over once no event came for this long
OLD_WATCHER_GRACE_S = 0.5  # a replaced watcher keeps running this long: no gap
CACHE_FOLDER = ".renderer-cache"
DEFAULT_FOLDERS = ("templates", "content", "static")
IGNORED_NAMES = ("4913", "__pycache__")  # vim's write test file; Python's caches
IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".swpx", ".tmp", ".pyc", ".pyo", ".log", ".part",
                    ".crdownload", ".orig", ".rej")


# -- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchPlan:
    """What to watch: folders with everything under them, folders for their own entries,
    and which paths count."""

    site: Path
    recursive: frozenset[Path]
    shallow: frozenset[Path]
    files: frozenset[Path]  # files that count wherever they are
    roots: frozenset[Path]  # folders that count once they exist (watched recursively then)
    ignored: frozenset[Path]  # the output folder and the caches

    def counts(self, path: Path) -> bool:
        """Whether a reported path is one the site reads (the watchers see more)."""
        if any(path.is_relative_to(folder) for folder in self.ignored):
            return False
        if path in self.files:
            return True
        base = next((r for r in self.recursive if path.is_relative_to(r)), None)
        if base is not None:
            return not is_noise(path.relative_to(self.site if path.is_relative_to(self.site)
                                                 else base))
        return any(path == root or root.is_relative_to(path) for root in self.roots)


@dataclass
class SitePaths:
    """The paths `site.toml` points at, before they are sorted into watcher roots."""

    folders: set[Path]  # watched with everything under them
    files: set[Path]  # single files, wherever they are
    shallow_dirs: set[Path]  # folders of a one-level glob: their own entries only
    ignored: set[Path]


def watch_plan(root: Path, config: SiteConfig | None) -> WatchPlan:
    """The plan for a site; with no config (a broken site.toml), the default folders."""
    paths = site_paths(root, config)
    recursive = outermost({f for f in paths.folders if f.is_dir()})
    files = set(paths.files)
    shallow = {root} | {d for d in paths.shallow_dirs if d.is_dir() and not covered(d, recursive)}
    roots = set(paths.folders) | paths.shallow_dirs
    for path in list(files) + [f for f in paths.folders if not f.is_dir()]:
        if not covered(path, recursive):
            shallow.add(nearest_folder(path.parent))
    for folder in paths.shallow_dirs:
        if folder.is_dir() and not covered(folder, recursive):
            files.update(p for p in folder.iterdir() if p.is_file())
    return WatchPlan(root, frozenset(recursive), frozenset(shallow), frozenset(files),
                     frozenset(roots), frozenset(paths.ignored))


def site_paths(root: Path, config: SiteConfig | None) -> SitePaths:
    """Every folder and file the site reads, as `site.toml` names them."""
    files = {root / CONFIG_NAME}
    if config is None:
        return SitePaths({root / name for name in DEFAULT_FOLDERS}, files, set(),
                         {root / "build", root / CACHE_FOLDER})
    paths = SitePaths({config.templates, config.content, config.static}, files, set(),
                      {config.output, root / CACHE_FOLDER})
    for spec in config.sources.values():
        if spec.path is not None:
            files.add(spec.path)
        if spec.python is not None:
            files.add(spec.python.file)
        if spec.kind == "collection":
            base, deep = glob_base(root, spec.target)
            (paths.folders if deep else paths.shallow_dirs).add(base)
    for route in config.routes:
        for reference in (route.context, route.each_function):
            if reference is not None:
                files.add(reference.file)
    files.update(config.template_files.files)  # filters and globals
    files.update(config.markdown.extension_files.values())
    return paths


def outermost(folders: set[Path]) -> set[Path]:
    """The folders not inside another one: one recursive watch covers the inner ones."""
    return {f for f in folders
            if not any(f != other and f.is_relative_to(other) for other in folders)}


def covered(path: Path, recursive: Iterable[Path]) -> bool:
    return any(path.is_relative_to(folder) for folder in recursive)


def nearest_folder(path: Path) -> Path:
    """`path`, or its closest ancestor that exists: a missing file is caught by watching
    the folder it will appear in."""
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def glob_base(root: Path, pattern: str) -> tuple[Path, bool]:
    """The folder a glob starts in, and whether it reaches below that folder's entries."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if any(char in part for char in "*?["):
            break
        fixed.append(part)
    rest = parts[len(fixed):]
    base = (root.joinpath(*fixed)).resolve()
    return base, len(rest) > 1 or any("**" in part for part in rest)


def is_noise(relative: Path) -> bool:
    """Dotfiles and dot-folders, editor backups and swap files, Python caches, logs."""
    name = relative.name
    return (any(part.startswith(".") for part in relative.parts) or name.startswith("#")
            or name.endswith(IGNORED_SUFFIXES) or name in IGNORED_NAMES
            or "__pycache__" in relative.parts)


# -- what a batch of events means ------------------------------------------------------------


def expand(paths: Iterable[Path]) -> set[Path]:
    """The changed paths, with the files of a folder that was added or moved in: watchfiles
    reports the folder, not each file in it."""
    changed: set[Path] = set()
    for path in paths:
        changed.add(path)
        if path.is_dir():
            changed.update(p for p in path.rglob("*") if p.is_file())
    return changed


def is_structural(path: Path) -> bool:
    """A folder that went away (moved or deleted): its files were not reported one by one."""
    return not path.exists() and not path.suffix


# -- the watcher threads ---------------------------------------------------------------------


class Watchers:
    """A recursive and a shallow watchfiles watcher, replaced when the plan changes."""

    def __init__(self, root: Path, on_change: Callable[[set[Path]], None]) -> None:
        self.root = root
        self.on_change = on_change
        self.plan: WatchPlan | None = None
        self.threads: list[WatchThread] = []

    def update(self, plan: WatchPlan, *, force: bool = False) -> None:
        """Watch by `plan`. The new watchers start before the old ones stop, so no edit
        falls into a gap between them."""
        if plan == self.plan and not force:
            return
        old = self.threads
        self.plan = plan
        self.threads = [WatchThread(sorted(paths), recursive, plan.counts, self.on_change)
                        for paths, recursive in ((plan.recursive, True), (plan.shallow, False))
                        if paths]
        for thread in self.threads:
            thread.start_watching()
        if old:
            stop_later(old)

    def is_root(self, path: Path) -> bool:
        """Whether `path` is (or holds) a watched folder: it moving needs new watchers."""
        plan = self.plan
        if plan is None:
            return False
        return any(folder == path or folder.is_relative_to(path)
                   for folder in plan.recursive | plan.roots if folder != self.root)

    def stop(self) -> None:
        for thread in self.threads:
            thread.stop()


def stop_later(threads: list[WatchThread]) -> None:
    """Stop replaced watchers after a grace period, on a timer thread."""
    def stop_old() -> None:
        for thread in threads:
            thread.stop()

    timer = threading.Timer(OLD_WATCHER_GRACE_S, stop_old)
    timer.daemon = True
    timer.start()


@dataclass
class WatchThread:
    """One watchfiles watcher on a thread of its own, set up before start_watching returns
    (so that an edit made right after cannot be missed)."""

    paths: list[Path]
    recursive: bool
    counts: Callable[[Path], bool]
    on_change: Callable[[set[Path]], None]
    stop_event: threading.Event = field(default_factory=threading.Event)

    def start_watching(self) -> None:
        from watchfiles._rust_notify import RustNotify

        existing = [str(path) for path in self.paths if path.exists()]
        if not existing:
            return
        try:
            notify = RustNotify(existing, False, False, 300, self.recursive, True)
        except (FileNotFoundError, OSError) as error:  # a folder went away meanwhile
            logger.warning("warning: cannot watch %s: %s", ", ".join(existing), error)
            return
        threading.Thread(target=self._loop, args=(notify,), daemon=True,
                         name="renderer-watch").start()

    def _loop(self, notify: Any) -> None:
        with notify:
            while not self.stop_event.is_set():
                result = notify.watch(DEBOUNCE_MS, STEP_MS, 1000, self.stop_event)
                if isinstance(result, str):  # "timeout", "stop", "signal"
                    continue
                paths = {Path(path) for _, path in result}
                paths = {path for path in paths if self.counts(path)}
                if paths:
                    self.on_change(paths)

    def stop(self) -> None:
        self.stop_event.set()
