"""Rendering outputs into the staging folder, in this process or in forked workers.

Every file goes through `Site.render_target`, the one road. A file whose bytes the output
folder already holds is not staged. Workers are forked from a process that has loaded the
site, so each loads it once, not once per page; their results come back with the URLs they
built, for the memo the next build starts from.
"""

from __future__ import annotations

import gc
import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..digests import bytes_digest
from ..errors import RenderTimeout, SiteError, user_frames
from ..linkscan import links_in
from ..records import EARLIEST, LATEST
from ..routing import Target
from ..site import Rendered, Site
from .signals import LastResort, disarm, time_limit, timeout_error
from .staging import Staging
from .workers import Overdue, Workers, busy, can_fork, grace

PARALLEL_MINIMUM = 64  # fewer files than this render faster in one process than in a pool
BATCH = 16
LISTING_SHARE = 10  # a route with under a tenth of the biggest one's pages: see `tasks`
LISTING_BATCH = 32

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rendering:
    """One file rendered into the staging folder, and what went into it."""

    output: str
    digest: str
    links: tuple[str, ...]
    dependencies: tuple[str, ...]
    meta: tuple[str, ...]
    globs: tuple[str, ...]
    staged: bool  # False: the output folder already holds these bytes
    # Modification time (ns) and size of the file as written into the staging folder (a
    # rename keeps both) or as found in the output folder: what the build records, without
    # a `stat` of every output once they are in place.
    stamp: tuple[int, int]
    warnings: tuple[str, ...] = ()  # what the sources it read found (Rendered.warnings)
    window: tuple[int, int] = (EARLIEST, LATEST)  # the times it holds for (Record.dated)

    def shared(self, shared: Shared) -> Rendering:
        """This rendering with its paths and links made the objects `shared` already
        holds (one that came from a worker arrives with copies of its own)."""
        return Rendering(self.output, self.digest, shared.strings(self.links),
                         shared.strings(self.dependencies), shared.strings(self.meta),
                         self.globs, self.staged, self.stamp, self.warnings, self.window)


class Shared:
    """One object for equal strings, and for equal long tuples of them, among the
    renderings of a build, which keeps them all until its end: 5,000 pages name the
    same templates and link to the same pages, and an index and each tag page read the
    same 5,000 posts. A long set of paths is also made relative and sorted only once."""

    LONG = 64  # shorter tuples (a post's own file and its templates) are rarely equal

    def __init__(self, root: Path) -> None:
        self.root = root
        self._strings: dict[str, str] = {}
        self._tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._paths: dict[frozenset[Path], tuple[str, ...]] = {}

    def strings(self, values: tuple[str, ...]) -> tuple[str, ...]:
        if len(values) < self.LONG:
            return tuple(self._strings.setdefault(value, value) for value in values)
        known = self._tuples.get(values)
        if known is None:
            known = tuple(self._strings.setdefault(value, value) for value in values)
            self._tuples[known] = known
        return known

    def paths(self, paths: frozenset[Path]) -> tuple[str, ...]:
        """`relative_paths` of `paths`, shared."""
        if len(paths) < self.LONG:
            return self.strings(relative_paths(self.root, paths))
        known = self._paths.get(paths)
        if known is None:
            known = self._paths[paths] = self.strings(relative_paths(self.root, paths))
        return known


def render_outputs(site: Site, targets: dict[str, Target], plan: list[str], staging: Staging,
                   jobs: int, progress: Progress | None,
                   each: Callable[[Rendering], None] | None = None,
                   last_digests: Mapping[str, str] | None = None,
                   limit: float | None = None) -> dict[str, Rendering]:
    """Render the outputs of `plan`, calling `each` with every rendering as it is made (with
    workers, this process does that while they render the rest). `last_digests`: the
    digests of the files the last build wrote, by output (see `render_one`). Rendering (Jinja,
    Markdown) makes reference cycles, so the cycle collector runs wherever pages render: in
    the workers, or here; not in this process while it only gathers what workers send,
    where a collection would walk the whole build's bookkeeping again and again for no
    garbage. `limit`: seconds a page may take (see signals.py); a worker stuck past it
    and a grace period is killed."""
    results: dict[str, Rendering] = {}
    shared = Shared(site.config.root)
    last_digests = last_digests or {}
    total = len(plan)
    if jobs > 1 and total >= PARALLEL_MINIMUM and can_fork():
        batches = tasks(plan, targets)
        flush = getattr(site.converter.cache, "flush", None)
        if flush is not None:
            flush()  # nothing half-written may cross the fork
        try:
            with Workers(jobs, _render_batch, _start_worker,
                         (site, targets, staging, last_digests, plan, limit),
                         limit=limit) as workers:
                for renderings, urls, skipped in workers.map_unordered(batches):
                    site.router.memo.update(urls)
                    site.sources.links.skipped.update(skipped)  # links out, found by a worker
                    for rendering in renderings:
                        results[rendering.output] = rendering = rendering.shared(shared)
                        if each is not None:
                            each(rendering)
                    if progress is not None:
                        progress(len(results), total)
        except Overdue as overdue:
            url = targets[plan[overdue.label]].url if 0 <= overdue.label < total else "a page"
            raise SiteError(f"rendering {url} took longer than {overdue.seconds:g} s and did "
                            "not stop: "
                            "its worker process was killed (the limit is renderer build "
                            "--timeout SECONDS)") from None
        return results
    with cycle_collector(True, frozen=True), LastResort(limit, grace(limit or 0)) as resort:
        for output in plan:
            resort.pace()
            results[output] = rendering = render_one(site, targets[output], staging, shared,
                                                     last_digests.get(output), limit)
            if each is not None:
                each(rendering)
            if progress is not None:
                progress(len(results), total)
    return results


def tasks(plan: list[str], targets: dict[str, Target]) -> list[list[str]]:
    """The plan cut into the lists of outputs workers take one at a time.

    A route that makes few pages (the index, the tag pages, an archive) makes the costly
    ones: each lists many items, and rendering one can cost as much as a hundred posts.
    They go first, so that no worker is left with them at the end while the other waits,
    and up to `LISTING_BATCH` in one task: the first listing a worker renders makes it
    load every item listed (0.13 s for 5,000 posts, after a rebuild restored its URL
    list rather than load them before forking), and this way one worker does that
    while the other renders posts. The many pages of the big routes follow in batches,
    which saves a message per page."""
    routes = {output: targets[output].route for output in plan}
    sizes = Counter(route.index for route in routes.values() if route is not None)
    cut = max(sizes.values(), default=0) // LISTING_SHARE
    listings = [output for output, route in routes.items()
                if route is not None and sizes[route.index] <= cut]
    first = set(listings)
    rest = [output for output in plan if output not in first]
    return [listings[i:i + LISTING_BATCH] for i in range(0, len(listings), LISTING_BATCH)] \
        + [rest[i:i + BATCH] for i in range(0, len(rest), BATCH)]


def render_one(site: Site, target: Target, staging: Staging, shared: Shared,
               last_digest: str | None = None, limit: float | None = None) -> Rendering:
    """Render one target into the staging folder, unless the output folder already
    holds these very bytes (most files of most rebuilds). It is not looked at when it
    cannot hold them: the output folder was empty (`staging.empty`), or `last_digest`,
    the digest of what the last build wrote there, is another (a stat of each of 5,000
    pages after editing the base template). A render may take `limit` seconds."""
    rendered = render_in_time(site, target, limit)
    digest = bytes_digest(rendered.body)
    held = None if staging.empty or last_digest is not None and last_digest != digest else \
        _holds(os.path.join(site.config.output, target.output), rendered.body)
    stamp = _write(staging.path(target.output), rendered.body) if held is None else held
    return rendering_of(target, rendered, digest, shared, staged=held is None, stamp=stamp)


def render_in_time(site: Site, target: Target, limit: float | None,
                   command: str = "build") -> Rendered:
    """`Site.render_target`, stopped after `limit` seconds; the site's code may not end
    the process (SystemExit) either: both are errors of the page. `command` is the one
    whose --timeout the message names."""
    try:
        with time_limit(limit):
            return site.render_target(target)
    except RenderTimeout as stop:
        assert limit is not None
        disarm()
        raise timeout_error(f"rendering {target.url}", limit, stop.__traceback__,
                            site.config.root, command) from None
    except (SystemExit, KeyboardInterrupt) as error:  # the site's code, never the build's
        frames = user_frames(error.__traceback__, [site.config.root])
        raise SiteError(f"{type(error).__name__} raised while rendering {target.url}: a "
                        "page cannot end renderer", file=frames[-1].file if frames else None,
                        line=frames[-1].line if frames else None, frames=frames) from None


def rendering_of(target: Target, rendered: Rendered, digest: str, shared: Shared, *,
                 staged: bool, stamp: tuple[int, int]) -> Rendering:
    """What the build keeps of a rendered file: its digest, links and inputs."""
    links: tuple[str, ...] = ()
    if rendered.media_type.startswith("text/html"):
        links = shared.strings(tuple(sorted(links_in(rendered.body))))
    return Rendering(target.output, digest, links, shared.paths(rendered.dependencies),
                     shared.paths(rendered.meta), tuple(sorted(rendered.globs)), staged, stamp,
                     tuple(sorted(rendered.warnings)), rendered.window)


def relative_paths(root: Path, paths: Iterable[Path]) -> tuple[str, ...]:
    """Paths as the cache keeps them: relative to the site folder when inside it."""
    prefix = f"{root}{os.sep}"
    skip = len(prefix)
    return tuple(sorted(name[skip:] if name.startswith(prefix) else name
                        for name in map(str, paths)))


def _write(path: str, body: bytes) -> tuple[int, int]:
    """Write a new file: unbuffered, as one write (a third cheaper than open()). Returns
    its modification time and size."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0),
                         0o666)
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(descriptor, view):]
        stat = os.fstat(descriptor)
    finally:
        os.close(descriptor)
    return stat.st_mtime_ns, stat.st_size


def _holds(path: str, body: bytes) -> tuple[int, int] | None:
    """The modification time and size of the file at `path` if it holds exactly `body`."""
    try:
        stat = os.stat(path)
        if stat.st_size != len(body):
            return None
        with open(path, "rb") as file:
            same = file.read() == body
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size) if same else None


@dataclass
class _Worker:
    """What a forked worker process renders with (a copy of the parent's loaded site)."""

    site: Site
    targets: dict[str, Target]
    staging: Staging
    last_digests: Mapping[str, str]
    sent_urls: int  # how many of the URL memo's entries the parent has
    shared: Shared
    numbers: dict[str, int]  # each output's place in the plan, for `busy`
    limit: float | None


_worker: _Worker | None = None  # set once in each worker process, never in the parent


def _start_worker(site: Site, targets: dict[str, Target], staging: Staging,
                  last_digests: Mapping[str, str], plan: list[str],
                  limit: float | None) -> None:
    global _worker
    _worker = _Worker(site, targets, staging, last_digests, len(site.router.memo),
                      Shared(site.config.root), {output: n for n, output in enumerate(plan)},
                      limit)
    gc.enable()


def _render_batch(outputs: list[str]
                  ) -> tuple[list[Rendering], dict[str, str], dict[Path, Path]]:
    assert _worker is not None
    site, targets, digests = _worker.site, _worker.targets, _worker.last_digests
    renderings = []
    for output in outputs:
        busy(_worker.numbers[output])  # what the build names if this worker is stuck
        renderings.append(render_one(site, targets[output], _worker.staging, _worker.shared,
                                     digests.get(output), _worker.limit))
    flush = getattr(site.converter.cache, "flush", None)
    if flush is not None:
        flush()
    # The memo is only ever added to: what is new is at its end, taken from there (not
    # by skipping the 5,000 entries before it, for each batch: 90 ms a cold build).
    memo = site.router.memo
    new = len(memo) - _worker.sent_urls
    urls = dict(reversed(list(itertools.islice(reversed(memo.items()), new))))
    _worker.sent_urls = len(memo)
    return renderings, urls, site.sources.links.skipped


@contextmanager
def cycle_collector(enabled: bool, *, frozen: bool = False) -> Iterator[None]:
    """Run the block with Python's cycle collector on or off, then restore it. `frozen`:
    what exists before the block is left out of its collections (gc.freeze), so that
    rendering one page after loading the build's records does not walk them all."""
    was = gc.isenabled()
    if frozen:
        gc.freeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
        if frozen:
            gc.unfreeze()
