"""Freezing: what changed, what to render, then render (rendering.py), check links
(links.py) and write (publish.py), and remember it all for the next build.

Gather, then write: files are rendered into a staging folder first and links are checked,
and only a build without errors touches the output folder.

Incremental: the cache (renderer/cache.py) remembers what each output read and the URL
list. A file is rendered again only when one of its inputs changed, the site is
enumerated again only when what the URL list was made from changed, and a clean build
gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import SiteConfig, load_config
from ..content import (
    front_matter_digest,
    page_fields,
    read_page_text,
)
from ..converter import markdown_libraries
from ..digests import RACY_NS, code_stamp, text_digest
from ..errors import DEFAULT_TIMEOUT, LinkError, RenderTimeout, SiteError, display_path
from ..routing import Target
from ..site import Site
from ..symlinks import leads_out
from .ahead import read_pages_ahead
from .journal import JOURNAL_PREFIX, describe, recover
from .links import LinkCheck
from .markdown_store import MarkdownStore
from .page_cache import PageCache
from .publish import commit, swap_possible
from .rendering import (
    Progress,
    Rendering,
    cycle_collector,
    relative_paths,
    render_outputs,
)
from .signals import (
    LastResort,
    disarm,
    interruptible,
    time_limit,
    timeout_error,
)
from .skipped import link_warnings, remember_skipped, skipped_links, source_warnings
from .staging import (
    Staging,
    cache_folder,
    check_output_folder,
    remove_stale_staging,
    staging_place,
    try_lock,
)
from .state import BuildState, GlobMatch, ListingRecord, OutputEntry, glob_match
from .workers import grace

Warn = Callable[[str], None]


@dataclass
class BuildResult:
    """What a build did, for the summary line."""

    output: Path
    pages: int = 0
    static: int = 0
    rendered: int = 0  # pages rendered (the others were unchanged inputs)
    copied: int = 0  # static files read again
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # For `build -v`: output files (relative to the output folder), by what happened.
    rendered_paths: list[str] = field(default_factory=list)
    copied_paths: list[str] = field(default_factory=list)
    written_paths: list[str] = field(default_factory=list)
    removed_paths: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"built {plural(self.pages, 'page')} and {plural(self.static, 'static file')} "
                f"into {display_path(self.output)} in {self.seconds:.2f} s ({self.rendered} "
                f"rendered, {self.copied} copied, {self.written} written, {self.unchanged} "
                f"unchanged, {self.removed} removed, {plural(len(self.warnings), 'warning')})")

    def details(self) -> list[str]:
        """One line a file that was rendered, copied or removed, for `build -v`: a page
        rendered again may come out as it was (then it is not written)."""
        written = set(self.written_paths)
        lines = [f"{path}: {what}, {'written' if path in written else 'unchanged'}"
                 for what, paths in (("rendered", self.rendered_paths),
                                     ("copied", self.copied_paths)) for path in paths]
        return sorted(lines) + [f"{path}: removed" for path in self.removed_paths]


def plural(count: int, noun: str) -> str:
    """ "1 page", "2 pages", "0 pages". """
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def build(site_dir: Path | str, *, output: Path | None = None, drafts: bool = False,
          strict: bool = False, jobs: int = 1, clean: bool = False,
          progress: Progress | None = None, warn: Warn | None = None,
          timeout: float | None = DEFAULT_TIMEOUT, now: int | None = None,
          swap: bool | None = None) -> BuildResult:
    """Build the site in `site_dir` as of `now` (ns since the epoch; by default, the time
    it starts: pages dated after it are left out unless [site] future = true). On a
    SiteError nothing in the output has changed; an OSError (a full disk) is one too.
    `swap` (by default `[build] swap`): exchange the new tree with the output folder.
    `timeout`: the seconds a page may take to render (None: no limit). Ctrl+C and SIGTERM
    raise `Interrupted` (signals.py), with the workers stopped and the staging folder
    removed."""
    # The bookkeeping (cache, URL list, dependency sets) makes 100,000 long-lived objects
    # and no garbage cycles: the cycle collector would only walk them again and again.
    # It runs while pages render (render_outputs), where Jinja and Markdown make cycles.
    warn = warn or (lambda message: None)
    with cycle_collector(False), interruptible():
        config = load_config(site_dir, output=output)
        check_output_folder(config, config.output)
        try:
            cache = cache_folder(config.root)
            name = hashlib.blake2b(str(config.output).encode(), digest_size=8).hexdigest()
            lock = try_lock(cache / f"lock-{name}")
        except OSError as error:
            raise SiteError(f"cannot write the build cache: {describe(error)}") from None
        if lock is None:
            raise SiteError(f"another renderer build into {display_path(config.output)} is "
                            "running; wait for it to end")
        try:
            recover(cache, warn)
            remove_stale_staging(*staging_place(cache, config.output))
            return _build(config, cache, name, drafts=drafts, strict=strict, jobs=jobs,
                          clean=clean, progress=progress, warn=warn, timeout=timeout,
                          now=now, swap=config.build.swap if swap is None else swap)
        except storage_errors() as error:  # a full disk, a folder not writable
            raise SiteError(f"{describe(error)}; the output folder is as it was") from None
        finally:
            lock.close()


def _build(config: SiteConfig, cache: Path, name: str, *, drafts: bool, strict: bool,
           jobs: int, clean: bool, progress: Progress | None, warn: Warn,
           timeout: float | None, now: int | None, swap: bool) -> BuildResult:
    started = time.perf_counter()
    started_ns = time.time_ns()  # files changed after this are not trusted (Stamps)
    now = started_ns if now is None else now  # the clock pages' dates are compared with
    out = config.output
    state_path = cache / f"build-{name}.pickle"
    key = config_key(config, drafts)
    state = BuildState(key) if clean else BuildState.load(state_path, key, warn)
    # One per output folder, like the state: "front matter as the last build saw it".
    pages = PageCache(cache / f"pages-{name}.pickle", warn, clean=clean)
    markdown = MarkdownStore(cache / "markdown.sqlite", warn)
    if clean:
        markdown.clear()
    site = Site(config, drafts=drafts, markdown_cache=markdown, page_cache=pages,
                url_memo=state.urls, now=now)
    swap = swap and swap_possible(out, warn)
    staging = Staging.beside(cache, out, swap)
    try:
        changes = Changes.since(state, pages, site)
        hashed = read_pages_ahead(site, pages, jobs) if not state.outline else {}
        try:
            with LastResort(timeout, grace(timeout or 0)), time_limit(timeout):
                targets = list_targets(site, state, changes, now)
        except RenderTimeout as stop:
            assert timeout is not None
            disarm()
            raise timeout_error("listing the URLs", timeout, stop.__traceback__,
                                config.root) from None
        plan = plan_renders(targets, state, changes, out, now)
        links = LinkCheck(site, targets, state)
        last_digests = {output: state.outputs[output].digest for output in plan
                        if output in state.outputs}
        rendered = render_outputs(site, targets, plan, staging, jobs, progress, links.add,
                                  last_digests, timeout)
        broken = links.finish()
        skipped = skipped_links(cache / f"links-{name}.json", key, site.sources.links.skipped,
                                config.root, clean=clean)
        found = source_warnings(site, targets, rendered, state)
        warnings = link_warnings(skipped) + found + links.warnings(broken, rendered)
        result = BuildResult(out, warnings=warnings)
        result.copied_paths = sorted(o for o in rendered if targets[o].route is None)
        result.rendered_paths = sorted(o for o in rendered if targets[o].route is not None)
        result.rendered, result.copied = len(result.rendered_paths), len(result.copied_paths)
        if strict and result.warnings:
            raise strict_error(result.warnings, links_only=not (skipped or found))
        result.static = sum(1 for t in targets.values() if t.route is None)
        result.pages = len(targets) - result.static
        written = commit(staging, rendered, targets, out, cache / f"manifest-{name}.json",
                         cache / f"{JOURNAL_PREFIX}{name}.json", warn, swap)
        result.written, result.unchanged, result.removed = \
            written.written, written.unchanged, written.removed
        result.written_paths, result.removed_paths = written.written_paths, written.removed_paths
        try:
            remember(state, site, targets, rendered, broken, changes.globs, out, started_ns,
                     hashed, written.copied)
            state.save(state_path)
            remember_skipped(cache / f"links-{name}.json", key, skipped)
            pages.save(started_ns)
            markdown.prune(lambda: {site.converter.cache_key(d)
                                    for d in pages.body_digests()})
        except storage_errors() as error:  # the output is written, not the cache
            raise SiteError(f"{describe(error)}; the output folder holds the new build, "
                            "but the build cache could not be saved") from None
    finally:
        markdown.close()
        staging.remove()
    result.seconds = time.perf_counter() - started
    return result


def strict_error(warnings: list[str], *, links_only: bool) -> LinkError:
    """The error `--strict` makes of a build's warnings (`renderer check` says the same)."""
    what = "broken link" if links_only else "warning"
    return LinkError(f"{plural(len(warnings), what)} (--strict):\n  " + "\n  ".join(warnings))


def storage_errors() -> tuple[type[Exception], ...]:
    """What a full disk or a file system raises: OSError, and SQLite's errors (the
    Markdown cache) where SQLite was loaded (looked up as an exception is matched, so a
    build that needs no SQLite does not import it)."""
    sqlite = sys.modules.get("sqlite3")
    return (OSError, sqlite.Error) if sqlite is not None else (OSError,)


def config_key(config: SiteConfig, drafts: bool) -> str:
    """What every output depends on: site.toml, drafts, where it goes, and the code that
    renders it (renderer, Python, and the libraries that make the HTML: after upgrading
    one, every page is rendered again)."""
    libraries = ["jinja2", "markupsafe", "yaml", *markdown_libraries(config.markdown.extensions)]
    return text_digest("\0".join([config.file.read_text(encoding="utf-8"), str(drafts),
                                  str(config.output), code_stamp(libraries)]))


# -- what to render ---------------------------------------------------------------------------

@dataclass
class Changes:
    """What changed since the last build, as its state sees it (paths relative to the
    site folder)."""

    files: set[str]  # whose bytes changed, or which are gone
    fields: set[str]  # of those, all but Markdown pages whose front matter is as it was
    globs: dict[str, GlobMatch]  # every glob the last build used, with what it matches now
    changed_globs: set[str]

    @classmethod
    def since(cls, state: BuildState, pages: PageCache, site: Site) -> Changes:
        root = site.config.root
        files = state.stamps.check(root)
        trusted = state.stamps.written_at - RACY_NS
        globs = {pattern: glob_match(pattern, known, trusted)
                 for pattern, known in state.globs.items()}
        same_fields = set()
        for relative in files:
            fields = pages.fields(relative)
            if fields is None or leads_out_of(site, root / relative):
                continue  # a page now read through a link out: listed again, and skipped
            try:
                block, _ = read_page_text(root / relative)
                if pages.same_front_matter(relative, front_matter_digest(block)) or \
                        page_fields(block, root / relative, root) == fields:
                    same_fields.add(relative)
            except (SiteError, OSError):
                continue
        return cls(files, files - same_fields, globs,
                   {g for g, known in state.globs.items() if globs[g][0] != known[0]})

    def touch(self, dependencies: frozenset[str], meta: frozenset[str]) -> bool:
        return not (self.files.isdisjoint(dependencies) and self.fields.isdisjoint(meta))


def leads_out_of(site: Site, path: Path) -> bool:
    return not site.config.follow_symlinks and leads_out(path, site.config.root) is not None


def list_targets(site: Site, state: BuildState, changes: Changes, now: int
                 ) -> dict[str, Target]:
    """Every file the site produces: enumerated afresh, or, when nothing the last build
    enumerated them from has changed (the usual case after editing a post's text or a
    template) and the clock has not passed the date of a page it left out (nor gone back
    before one it listed), restored from its outline."""
    listing = state.listing
    if state.outline and not changes.touch(listing.files, listing.meta) \
            and changes.changed_globs.isdisjoint(listing.globs) \
            and listing.window[0] <= now < listing.window[1]:
        return site.restore_targets(state.outline)
    return site.targets()


def plan_renders(targets: dict[str, Target], state: BuildState, changes: Changes,
                 out: Path, now: int) -> list[str]:
    """The outputs to render: new ones, those with a changed input (the clock too: a page
    dated in the future it left out is due), and those whose file in the output folder is
    not the one the last build wrote. A page that only read the front matter of Markdown
    files does not depend on their bodies."""
    files, fields, changed_globs = changes.files, changes.fields, changes.changed_globs
    outputs = state.outputs
    folder = f"{out}{os.sep}"
    plan = []
    # One pass over 5,000 entries after editing one post: kept to the bare minimum.
    for output in sorted(targets):
        entry = outputs.get(output)
        if entry is None or not files.isdisjoint(entry.dependencies) \
                or not fields.isdisjoint(entry.meta) \
                or changed_globs and not changed_globs.isdisjoint(entry.globs) \
                or not entry.window[0] <= now < entry.window[1]:
            plan.append(output)
            continue
        try:
            stat = os.stat(folder + output)
        except OSError:
            plan.append(output)
            continue
        if stat.st_mtime_ns != entry.mtime or stat.st_size != entry.size:
            plan.append(output)
    return plan


def remember(state: BuildState, site: Site, targets: dict[str, Target],
             rendered: dict[str, Rendering], broken: dict[str, tuple[tuple[str, str, str], ...]],
             globs: dict[str, GlobMatch], out: Path, started: int,
             hashed: dict[str, list[Any]], copied: set[str]) -> None:
    """Record what each output read, and what the URL list was made from, for the next
    build. A rendered file's modification time and size are those of the file the
    rendering wrote (a rename keeps them), or found, unless it was `copied` into place."""
    root = site.config.root
    folder = f"{out}{os.sep}"
    outputs = {}
    sets: dict[frozenset[str], frozenset[str]] = {}  # equal sets made one (an index and its
    # tag pages each list the same 5,000 posts)
    made: dict[int, frozenset[str]] = {}  # by the id of a tuple `Shared` made one object

    def one_set(paths: tuple[str, ...]) -> frozenset[str]:
        """The set of `paths`, made and hashed once per shared tuple: the 764 pages of a
        5,000-post blog's paginated index and tags read one tuple of 5,000 posts, and a
        set of it for each page took 1.5 s of the build's one thread."""
        known = made.get(id(paths))
        if known is None:
            fresh = frozenset(paths)
            known = made[id(paths)] = sets.setdefault(fresh, fresh)
        return known

    for output in targets:
        if output in rendered:
            r = rendered[output]  # kept in `rendered`: the ids in `made` stay theirs
            mtime, size = r.stamp
            if output in copied:
                stat = os.stat(folder + output)
                mtime, size = stat.st_mtime_ns, stat.st_size
            outputs[output] = OutputEntry(one_set(r.dependencies), one_set(r.meta), r.globs,
                                          r.digest, r.links, broken[output], mtime, size,
                                          r.warnings, r.window)
        else:
            entry = state.outputs[output]
            if entry.broken != broken[output]:  # what it links to came or went
                entry = dataclasses.replace(entry, broken=broken[output])
            outputs[output] = entry
    state.outputs = outputs
    if not any(target.partial for target in targets.values()):
        record = site.targets_record()
        state.outline = site.outline()
        state.listing = ListingRecord(frozenset(relative_paths(root, record.files)),
                                      frozenset(relative_paths(root, record.meta)),
                                      frozenset(record.globs), frozenset(record.warnings),
                                      (record.after, record.before))
    listing = state.listing
    read = set(listing.files | listing.meta)
    # Each distinct set once: the index and the 20 tag pages share one of 5,000 posts.
    for dependencies in {e.dependencies for e in outputs.values()} | \
            {e.meta for e in outputs.values()}:
        read.update(dependencies)
    state.stamps.keep_only(root, read, started, hashed)
    patterns = {g for entry in outputs.values() for g in entry.globs} | listing.globs
    state.globs = {g: globs[g] if g in globs else glob_match(g) for g in patterns}


