"""The background check of `renderer serve`: every URL rendered, out of the page's way.

After the start and after every edit, one thread renders the site's pages through the
same `Site.render_target` as a request, and keeps for each page its error (with file and
line), its broken links, its render time and its dependency record. `/_renderer/`, the
badge and the inspector read what it found (`Checker.report`, `reading`, `result`).

It stays out of the way of the page being looked at:

- one thread, so at most one page of the check renders at a time, at a lower priority
  for the operating system (Linux: a thread's own niceness, `NICENESS`), so that the
  browser and the editor have the processor first;
- a page of the check that is rendering when a request comes in (or an edit) is paused
  where it is: Python calls `_give_way` on every function call and return of the check's
  thread (`sys.setprofile`), and it sleeps there while a request renders, so that the
  request has the interpreter (the GIL) to itself; for `MAX_PAUSE` at most, in case the
  check holds a lock the request waits for;
- it starts `DELAY` seconds after an edit, when the open pages have asked for their
  reload already, and before each page it waits while any request renders, and until
  `QUIET` seconds after the last one ended (the watchdog knows them: `busy`);
- an edit cancels the running pass between two pages and starts another, which
  renders again only the pages whose record read a changed file, the pages that failed,
  and new URLs (all of them after `site.toml` changed).

Its renders are watched by the same watchdog as requests, so `--timeout` stops a stuck
one. Every field it shares with request threads is read and written under `_lock`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

from ..app import RendererApp
from ..errors import RenderTimeout, SiteError, display_path, timeout_error
from ..linkscan import BrokenLinks, Origins, links_in
from ..records import Change
from ..routing import Target
from ..site import Site
from .watchdog import Watchdog

logger = logging.getLogger("renderer")
DELAY = 0.5  # seconds after an edit before the check starts: the reloads come first
QUIET = 0.1  # seconds after the last request's render before the check goes on
IDLE_POLL = 0.01  # how often a waiting check looks again
NICENESS = 10  # the check's thread gives the processor to the browser and the editor
MAX_PAUSE = 1.0  # seconds a page of the check stays paused mid-render at most
PAUSE_POLL = 0.002  # how often a paused render looks again


@dataclass(frozen=True)
class Checked:
    """One page as the check last rendered it."""

    url: str
    output: str
    rule: int
    seconds: float
    error: SiteError | None
    files: frozenset[Path] = frozenset()
    meta: frozenset[Path] = frozenset()  # Markdown pages of which only the front matter
    globs: frozenset[str] = frozenset()
    links: tuple[str, ...] = ()
    broken: tuple[str, ...] = ()  # one line per broken link, "file:line: link to ..."
    times: int = 1  # how often the check rendered this URL since the start

    def touched(self, change: Change) -> bool:
        """Whether the change may change this page: as `Change.touches` says of a record
        (a page whose front matter alone it read is not touched by an edit of the body)."""
        return not change.bodies.isdisjoint(self.files) \
            or any(self.reads(path) for path in change.paths)

    def reads(self, path: Path) -> bool:
        """Whether an edit to `path` may change this page (the dependency record)."""
        return path in self.files or path in self.meta \
            or any(fnmatch.fnmatch(str(path), pattern) for pattern in self.globs)


@dataclass(frozen=True)
class Report:
    """What the check found so far, for `/_renderer/` and the badge."""

    started: bool
    running: bool
    checked: int
    total: int
    version: int  # counts every change of what the check found
    renders: int  # pages rendered since the start (an edit renders only what it touched)
    site_error: SiteError | None = None
    failing_count: int = 0
    broken_count: int = 0
    failing: tuple[Checked, ...] = ()  # listed only when asked (`report(listed=True)`)
    broken: tuple[tuple[str, str], ...] = ()  # (URL, line)

    @property
    def problems(self) -> int:
        return self.failing_count + self.broken_count + (self.site_error is not None)


@dataclass
class _State:
    """The check's findings; only ever touched under `Checker._lock`."""

    results: dict[str, Checked] = field(default_factory=dict)  # by output path
    unchecked: set[str] = field(default_factory=set)
    outputs: frozenset[str] = frozenset()  # the page targets the results are of
    changed: Change | None = None  # since the last pass began (None: anything)
    site: Site | None = None
    site_error: SiteError | None = None
    running: bool = False
    version: int = 0
    renders: int = 0  # pages the check rendered since the start


class Checker:
    """The background check of one dev app; `start` it once, `restart` it on every edit."""

    def __init__(self, app: RendererApp, watchdog: Watchdog) -> None:
        self.app = app
        self.watchdog = watchdog
        self._lock = threading.Lock()
        self._state = _State()
        self._wake = threading.Event()
        self._cancel = threading.Event()
        self._stop = threading.Event()
        self._due = 0.0
        self._stubborn = False  # paused too long: not again until no request renders
        self._owned: tuple[Callable[[], bool], ...] = ()  # whether it holds the site's locks
        self._thread: threading.Thread | None = None

    # -- control (any thread) --------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="check", daemon=True)
        self._thread.start()
        self.restart(None)

    def stop(self) -> None:
        self._stop.set()
        self._cancel.set()
        self._wake.set()

    def restart(self, change: Change | None) -> None:
        """Files changed, as the site saw them (None: anything may have): stop the running
        pass between two pages, and check again what they fed, `DELAY` seconds from now."""
        with self._lock:
            state = self._state
            if change is None or state.changed is None:
                state.changed = None
            else:
                state.changed.paths |= change.paths
                state.changed.bodies |= change.bodies
            self._due = time.monotonic() + DELAY
            state.running = True  # due: the badge does not say "done" meanwhile
            state.version += 1
        self._cancel.set()
        self._wake.set()

    # -- what it found (any thread) --------------------------------------------------------

    def report(self, *, listed: bool = True) -> Report:
        """What the check found; the pages and links themselves only if `listed` (the
        badge asks every second for the numbers alone)."""
        with self._lock:
            state = self._state
            failing = [r for r in state.results.values() if r.error is not None]
            broken = [r for r in state.results.values() if r.broken]
            return Report(self._thread is not None, state.running,
                          len(state.outputs) - len(state.unchecked), len(state.outputs),
                          state.version, state.renders, state.site_error, len(failing),
                          sum(len(r.broken) for r in broken),
                          tuple(sorted(failing, key=lambda r: r.url)) if listed else (),
                          tuple((r.url, line) for r in sorted(broken, key=lambda r: r.url)
                                for line in r.broken) if listed else ())

    def result(self, output: str) -> Checked | None:
        with self._lock:
            return self._state.results.get(output)

    def reading(self, path: Path) -> list[Checked]:
        """The pages whose last check read `path`: what an edit to it will change."""
        with self._lock:
            found = [r for r in self._state.results.values() if r.reads(path)]
        return sorted(found, key=lambda r: r.url)

    # -- the check's thread ------------------------------------------------------------------

    def _run(self) -> None:
        sys.setprofile(self._give_way)  # this thread only
        with contextlib.suppress(AttributeError, OSError):  # Linux: a thread's own niceness
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            while (remaining := self._due - time.monotonic()) > 0:
                if self._stop.wait(remaining):
                    return
            try:
                self._pass()
            except Exception:  # a bug in renderer: said, and the server lives on
                logger.exception("internal error in the background check (a bug in renderer)")

    def _pass(self) -> None:
        with self._lock:
            self._cancel.clear()
            changed, self._state.changed = self._state.changed, Change(set(), set())
        if not self._wait_idle():
            return
        try:
            site = self.app.site
            self._owned = owned_by_this_thread(site)
            targets = site.targets()
        except SiteError as error:
            with self._lock:
                self._state = _State(site_error=error, version=self._state.version + 1,
                                     running=self._cancel.is_set(),
                                     renders=self._state.renders)
            return
        self._owned = owned_by_this_thread(site)
        pages = {output: t for output, t in targets.items() if t.route is not None}
        links = BrokenLinks(targets, site.config.base_path, site.config.build.ignore_links)
        origins = Origins(site.config.root, site.config.templates, site.config.base_path)
        todo = self._plan(site, pages, changed, links, origins)
        for output in todo:
            if self._cancel.is_set() or not self._wait_idle():
                return
            result = self._check(site, pages[output], links, origins)
            with self._lock:
                previous = self._state.results.get(output)
                if previous is not None:
                    result = replace(result, times=previous.times + 1)
                self._state.results[output] = result
                self._state.unchecked.discard(output)
                self._state.version += 1
                self._state.renders += 1
        with self._lock:
            self._state.running = bool(self._state.unchecked) or self._cancel.is_set()
            self._state.version += 1

    def _plan(self, site: Site, pages: dict[str, Target], changed: Change | None,
              links: BrokenLinks, origins: Origins) -> list[str]:
        """Mark what this pass renders (and drop pages the site no longer makes); the
        broken links of the others are looked at again when the URL list changed."""
        with self._lock:
            state = self._state
            fresh = site is not state.site or changed is None
            relinked = state.outputs != pages.keys()
            kept = {o: r for o, r in state.results.items() if o in pages}
        if relinked:
            kept = {o: self._relink(site, r, pages[o], links, origins) for o, r in kept.items()}
        stale = {o for o, r in kept.items()
                 if fresh or r.error is not None or changed is not None and r.touched(changed)}
        with self._lock:
            state = self._state
            state.site, state.site_error = site, None
            state.results = kept
            state.outputs = frozenset(pages)
            state.unchecked = ((state.unchecked & state.outputs) | stale
                               | (state.outputs - kept.keys()))
            state.running = bool(state.unchecked)
            state.version += 1
            return sorted(state.unchecked)

    def _give_way(self, frame: FrameType, event: str, arg: object) -> None:
        """Called on every call and return in the check's thread: pause while a request
        renders, or while an edit is fresh (the open pages are about to ask again)."""
        if not (self.watchdog.requests or self._cancel.is_set()):
            self._stubborn = False
            return
        if self._stubborn or any(owned() for owned in self._owned):
            return  # holding the site's lock: the request may be waiting for it
        deadline = time.monotonic() + MAX_PAUSE
        while self.watchdog.requests or self._cancel.is_set() and not self._stop.is_set() \
                and time.monotonic() < self._due:
            if time.monotonic() > deadline:  # the check likely holds a lock they wait
                self._stubborn = True  # for: it goes on, until no request renders
                return
            time.sleep(PAUSE_POLL)

    def _wait_idle(self) -> bool:
        """Wait while requests render; False when an edit or the stop came meanwhile."""
        while self.watchdog.busy(QUIET):
            if self._cancel.wait(IDLE_POLL):
                return False
        return not self._cancel.is_set()

    def _check(self, site: Site, target: Target, links: BrokenLinks,
               origins: Origins) -> Checked:
        assert target.route is not None
        started = time.perf_counter()
        try:
            try:
                with self.watchdog.watching(target.url, background=True):
                    rendered = site.render_target(target)
            except RenderTimeout as stop:
                raise timeout_error(f"rendering {target.url}", self.watchdog.limit or 0,
                                    stop.__traceback__, self.app.site_dir,
                                    "the limit is renderer serve --timeout SECONDS") from None
        except SiteError as error:
            return Checked(target.url, target.output, target.route.index,
                           time.perf_counter() - started, error)
        except Exception as error:  # a bug in renderer: listed like a page's error
            return Checked(target.url, target.output, target.route.index,
                           time.perf_counter() - started,
                           SiteError(f"internal error in renderer: {type(error).__name__}: "
                                     f"{error}"))
        seconds = time.perf_counter() - started
        found = tuple(sorted(links_in(rendered.body))) \
            if rendered.media_type.startswith("text/html") else ()
        result = Checked(target.url, target.output, target.route.index, seconds, None,
                         rendered.dependencies, rendered.meta, rendered.globs, found)
        return self._relink(site, result, target, links, origins)

    def _relink(self, site: Site, result: Checked, target: Target, links: BrokenLinks,
                origins: Origins) -> Checked:
        """`result` with the broken links among its links, each with where it came from."""
        problems = links.of(result.url, result.links)
        if not problems and not result.broken:
            return result
        config = site.config
        read = [p.relative_to(config.root).as_posix() for p in result.files
                if p.is_relative_to(config.root)]
        template = config.templates / target.route.template if target.route else None
        lines = []
        for link, url, kind in problems:
            origin = origins.find(link, read, template)
            where = "" if origin is None else display_path(config.root / origin[0]) + (
                f":{origin[1]}" if origin[1] else "")
            what = f"outside the base path {config.base_path}" if kind == "outside" \
                else "a URL the site does not produce"
            lines.append(f"{where + ': ' if where else ''}link to {link} ({url}), {what}")
        return replace(result, broken=tuple(lines))


def owned_by_this_thread(site: Site) -> tuple[Callable[[], bool], ...]:
    """Whether this thread holds the site's or its sources' lock, each a function (the
    re-entrant locks' own `_is_owned`): the check is not paused while it holds one."""
    locks = (getattr(site, "_lock", None), getattr(site.sources, "_lock", None))
    return tuple(owned for lock in locks if (owned := getattr(lock, "_is_owned", None)))
