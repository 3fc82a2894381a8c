"""One request's target, found without listing the whole site: a problem stays local.

The build lists every target (`Site.targets`), and any broken rule stops it. A request
needs one: a static file is looked up in the static folder, and a page only in the
routes whose Werkzeug rule matches its URL, each listed on its own. So an `each`
function that raises, or a post with bad front matter, fails the URLs of the rules that
list it; every other page, and every static file, still answers.

Each route's targets are kept with the record of what they were made from, and dropped
as the whole list is (`Site.invalidate`). Requests come on many threads: each route is
listed once, under a lock of its own, so a slow source holds only the URLs that need it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import PurePosixPath

from .assets import generated_targets
from .config import SiteConfig
from .errors import SiteError
from .records import Change, Record
from .routing import Router, Target, collect, static_url
from .specs import RouteSpec
from .symlinks import LinkCheck

IGNORED_STATIC = (".DS_Store", "Thumbs.db")
IGNORED_STATIC_SUFFIXES = ("~", ".swp", ".swx", ".tmp")

Table = tuple[dict[str, Target], Record]  # targets by output file, and what they came from
RouteLister = Callable[[RouteSpec, Record], Iterator[Target]]
StaticLister = Callable[[Record], Iterator[Target]]
Hold = Callable[[threading.RLock], AbstractContextManager[None]]


class Lookup:
    """The targets of one site by output file, listed a route at a time as asked."""

    def __init__(self, config: SiteConfig, router: Router, routes: RouteLister,
                 static: StaticLister, hold: Hold) -> None:
        self.config = config
        self.router = router
        self._list_route = routes
        self._list_static = static
        self._hold = hold  # takes a lock, waiting no longer than the thread's patience
        self._tables: dict[int, Table] = {}  # by route index; -1: the static files
        self._locks = {index: threading.RLock() for index in [-1, *range(len(config.routes))]}
        self._lock = threading.Lock()  # for `_tables` itself, never held while listing
        self._generation = 0  # one more on every change: a table listed before is not kept

    def target(self, output: str) -> Target | None:
        """The target written to `output`, or None. A static file wins, then the routes
        in site.toml's order; the error of a matching route that cannot list its targets
        is raised only when no other makes the file."""
        found = self.static().get(output)
        if found is not None:
            return found
        error: SiteError | None = None
        for route in self.config.routes:
            if not self.router.matches(route, output):
                continue
            try:
                found = self._table(route.index).get(output)
            except SiteError as problem:
                error = error or problem
                continue
            if found is not None:
                return found
        if error is not None:
            raise error
        return None

    def static(self) -> dict[str, Target]:
        """The static files, and the files made from site.toml (pygments.css), by output;
        a clash between them is left to `Site.targets` to report."""
        return self._table(-1)

    def records(self) -> list[Record]:
        """What the targets found so far were made from (create_app watches it)."""
        with self._lock:
            return [record for _, record in self._tables.values()]

    def invalidate(self, change: Change, computed: bool) -> None:
        """Drop the tables made from a changed file; all of the routes' when `computed`
        (a Python function may have read the change behind renderer's back)."""
        with self._lock:
            self._generation += 1
            for index, (_, record) in list(self._tables.items()):
                if change.touches(record) or computed and index >= 0:
                    del self._tables[index]

    def _table(self, index: int) -> dict[str, Target]:
        table = self._tables.get(index)
        if table is None:
            with self._hold(self._locks[index]):
                table = self._tables.get(index)
                if table is None:
                    generation = self._generation
                    table = self._make(index)
                    with self._lock:
                        if generation == self._generation:  # else made from older files
                            self._tables[index] = table
        return table[0]

    def _make(self, index: int) -> Table:
        record = Record()
        if index < 0:
            found: Iterable[Target] = [*self._list_static(record), *_generated(self.config)]
        else:
            found = self._list_route(self.config.routes[index], record)
        return collect(found, self.config.file), record


def _generated(config: SiteConfig) -> list[Target]:
    try:
        return generated_targets(config)
    except SiteError:  # a static file at its place: the static file is served
        return []


def static_targets(config: SiteConfig, links: LinkCheck, record: Record) -> Iterator[Target]:
    """The files of the static folder (links out of the site skipped, noted in `links`),
    with what the list was made from in `record`."""
    folder = config.static
    # Both: glob's "**" finds files at every depth, fnmatch's "*" those at the top.
    record.globs.update((str(folder / "*"), str(folder / "**" / "*")))
    if not folder.is_dir():
        return
    files, skipped = links.walk(folder)
    record.files.update(skipped)  # links out of the site: replacing one is a change
    for path in files:
        if not path.is_file() or path.name in IGNORED_STATIC \
                or path.name.endswith(IGNORED_STATIC_SUFFIXES):
            continue
        relative = PurePosixPath(path.relative_to(folder).as_posix())
        record.files.add(path)
        yield Target(static_url(relative), relative.as_posix(), static_file=path)
