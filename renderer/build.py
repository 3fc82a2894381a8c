"""Freezing: every file of the site rendered through `Site.render_target`, then written.

Gather, then write: files are rendered into a staging folder first and links are checked,
and only a build without errors touches the output folder. There each file is replaced
atomically, files whose bytes did not change are left alone, and only what an earlier
build wrote (its manifest) and this one no longer produces is deleted.

Incremental: the cache (renderer/cache.py) remembers what each output read. A file is
rendered again only when one of those inputs changed, and a clean build gives the same
bytes. `--jobs N` renders in N forked worker processes that inherit the loaded site.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR, S_ISLNK, S_ISREG
from typing import Any
from urllib.parse import urljoin, urlsplit

from . import __version__
from .cache import (
    BuildState,
    ListingRecord,
    MarkdownStore,
    OutputEntry,
    PageCache,
    file_digest,
    glob_digest,
    text_digest,
)
from .config import SiteConfig, load_config
from .content import load_page, read_page
from .errors import LinkError, SiteError, display_path
from .routing import Target, request_candidates
from .site import Site

CACHE_FOLDER = ".renderer-cache"
LINK = re.compile(
    rb"""<(?:a|link|img|script|source|iframe)\b[^>]*?\s(?:href|src)\s*=\s*["']([^"'#?]*)""",
    re.IGNORECASE)
PARALLEL_MINIMUM = 64  # fewer files than this render faster in one process than in a pool
BATCH = 16

Progress = Callable[[int, int], None]
Warn = Callable[[str], None]


@dataclass
class BuildResult:
    """What a build did, for the summary line."""

    output: Path
    pages: int = 0
    static: int = 0
    rendered: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"built {self.pages} pages and {self.static} static files into "
                f"{display_path(self.output)} in {self.seconds:.2f} s ({self.rendered} rendered, "
                f"{self.written} written, {self.unchanged} unchanged, {self.removed} removed, "
                f"{len(self.warnings)} warnings)")


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

    def shared(self, strings: dict[str, str]) -> Rendering:
        """This rendering with its paths and links made the objects already in `strings`:
        5,000 pages name the same templates and link to the same pages, and the build
        keeps every rendering until the end."""
        def one(values: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(strings.setdefault(value, value) for value in values)

        return Rendering(self.output, self.digest, one(self.links), one(self.dependencies),
                         one(self.meta), self.globs, self.staged)


def build(site_dir: Path | str, *, output: Path | None = None, drafts: bool = False,
          strict: bool = False, jobs: int = 1, clean: bool = False,
          progress: Progress | None = None, warn: Warn | None = None) -> BuildResult:
    """Build the site in `site_dir`. On a SiteError nothing in the output has changed."""
    # The bookkeeping (cache, URL list, dependency sets) makes 100,000 long-lived objects
    # and no garbage cycles: the cycle collector would only walk them again and again.
    # It runs while pages render (render_outputs), where Jinja and Markdown make cycles.
    with cycle_collector(False):
        return _build(site_dir, output=output, drafts=drafts, strict=strict, jobs=jobs,
                      clean=clean, progress=progress, warn=warn)


@contextmanager
def cycle_collector(enabled: bool) -> Iterator[None]:
    """Run the block with Python's cycle collector on or off, then restore it."""
    was = gc.isenabled()
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


def _build(site_dir: Path | str, *, output: Path | None, drafts: bool, strict: bool,
           jobs: int, clean: bool, progress: Progress | None, warn: Warn | None) -> BuildResult:
    started = time.perf_counter()
    started_ns = time.time_ns()  # files changed after this are not trusted (Stamps)
    warn = warn or (lambda message: None)
    config = load_config(site_dir, output=output)
    out = config.output
    check_output_folder(config, out)
    cache = cache_folder(config.root)
    name = hashlib.blake2b(str(out).encode(), digest_size=8).hexdigest()
    state_path = cache / f"build-{name}.pickle"
    key = config_key(config, drafts)
    state = BuildState(key) if clean else BuildState.load(state_path, key, warn)
    # One per output folder, like the state: "front matter as the last build saw it".
    pages = PageCache(cache / f"pages-{name}.pickle", warn, clean=clean)
    markdown = MarkdownStore(cache / "markdown.sqlite", warn)
    if clean:
        markdown.clear()
    site = Site(config, drafts=drafts, markdown_cache=markdown, page_cache=pages,
                url_memo=state.urls)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=cache))
    try:
        changes = Changes.since(state, pages, site)
        hashed = read_pages_ahead(site, pages, jobs) if not state.outline else {}
        targets = list_targets(site, state, changes)
        plan = plan_renders(targets, state, changes, out)
        rendered = render_outputs(site, targets, plan, staging, jobs, progress)
        broken = find_broken_links(site, targets, rendered, state)
        warnings = [format_broken(site, output, problem)
                    for output in sorted(broken) for problem in broken[output]]
        result = BuildResult(out, rendered=len(rendered), warnings=warnings)
        if strict and result.warnings:
            raise LinkError(f"{len(result.warnings)} broken links (--strict):\n  "
                            + "\n  ".join(result.warnings))
        result.static = sum(1 for t in targets.values() if t.static_file is not None)
        result.pages = len(targets) - result.static
        commit(staging, rendered, targets, out, cache / f"manifest-{name}.json", result, warn)
        remember(state, site, targets, rendered, broken, changes.globs, out, started_ns,
                 hashed)
        state.save(state_path)
        pages.save(started_ns)
    finally:
        markdown.close()
        shutil.rmtree(staging, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    return result


def config_key(config: SiteConfig, drafts: bool) -> str:
    """What every output depends on: site.toml, drafts, where it goes, renderer itself."""
    return text_digest("\0".join([config.file.read_text(encoding="utf-8"), str(drafts),
                                  str(config.output), __version__, sys.version]))


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


# -- what to render ---------------------------------------------------------------------------

@dataclass
class Changes:
    """What changed since the last build, as its state sees it (paths relative to the
    site folder)."""

    files: set[str]  # whose bytes changed, or which are gone
    fields: set[str]  # of those, all but Markdown pages whose front matter is as it was
    globs: dict[str, str]  # every glob the last build used, with a digest of its matches now
    changed_globs: set[str]

    @classmethod
    def since(cls, state: BuildState, pages: PageCache, site: Site) -> Changes:
        root = site.config.root
        files = state.stamps.check(root)
        globs = {pattern: glob_digest(pattern) for pattern in state.globs}
        same_fields = set()
        for relative in files:
            fields = pages.fields(relative)
            if fields is None:
                continue
            try:
                page = load_page(root / relative, root, site.converter)
            except (SiteError, OSError):
                continue
            if page.front_matter() == fields:
                same_fields.add(relative)
        return cls(files, files - same_fields, globs,
                   {g for g, digest in state.globs.items() if globs.get(g) != digest})

    def touch(self, dependencies: frozenset[str], meta: frozenset[str]) -> bool:
        return not (self.files.isdisjoint(dependencies) and self.fields.isdisjoint(meta))


def list_targets(site: Site, state: BuildState, changes: Changes) -> dict[str, Target]:
    """Every file the site produces: enumerated afresh, or, when nothing the last build
    enumerated them from has changed (the usual case after editing a post's text or a
    template), restored from its outline."""
    listing = state.listing
    if state.outline and not changes.touch(listing.files, listing.meta) \
            and changes.changed_globs.isdisjoint(listing.globs):
        return site.restore_targets(state.outline)
    return site.targets()


def read_pages_ahead(site: Site, pages: PageCache, jobs: int) -> dict[str, list[Any]]:
    """Parse, in `jobs` processes, the front matter of the collections' Markdown files that
    the page cache lacks, and hash the files for their stamps. Enumerating the site reads
    them all before any page can be rendered: on a cold build of 5,000 posts, one process
    doing that alone idles the rest. Meanwhile this process compiles the URL rules."""
    if jobs < 2:
        return {}
    missing = [name for name in site.sources.markdown_files() if name not in pages.entries]
    if len(missing) < PARALLEL_MINIMUM or "fork" not in _start_methods():
        return {}
    import multiprocessing
    import threading

    root = site.config.root
    stamps: dict[str, list[Any]] = {}
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        # Started after the fork: importing Werkzeug and compiling the rules takes as
        # long as parsing a few hundred pages, and this process would only wait.
        compiling = threading.Thread(target=_compile_rules, args=(site,), daemon=True)
        compiling.start()
        chunks = [(root, missing[i:i + 64]) for i in range(0, len(missing), 64)]
        for parsed in pool.imap_unordered(_read_pages, chunks):
            for relative, stat, fields, digest, file_hash in parsed:
                pages.put(relative, stat, fields, digest)
                stamps[relative] = [stat.st_mtime_ns, stat.st_size, file_hash]
        compiling.join()
    return stamps


def _compile_rules(site: Site) -> None:
    with contextlib.suppress(SiteError):  # reported where enumerating needs the rules
        site.router.compiled  # noqa: B018 - compiled on first use


def _read_pages(chunk: tuple[Path, list[str]]
                ) -> list[tuple[str, os.stat_result, dict[str, Any], str, str]]:
    root, names = chunk
    parsed = []
    for name in names:
        path = root / name
        try:
            stat = os.stat(path)
            file_hash = file_digest(path)
            fields, body = read_page(path, root)
        except (SiteError, OSError):
            continue  # enumerating reads it again and reports the error where it belongs
        parsed.append((name, stat, fields, text_digest(body), file_hash))
    return parsed


def plan_renders(targets: dict[str, Target], state: BuildState, changes: Changes,
                 out: Path) -> list[str]:
    """The outputs to render: new ones, those with a changed input, and those whose file in
    the output folder is not the one the last build wrote. A page that only read the front
    matter of Markdown files does not depend on their bodies."""
    changed_globs = changes.changed_globs
    folder = f"{out}{os.sep}"
    touched: dict[tuple[frozenset[str], frozenset[str]], bool] = {}
    plan = []
    for output in sorted(targets):
        entry = state.outputs.get(output)
        if entry is None:
            plan.append(output)
            continue
        key = entry.dependencies, entry.meta
        if key not in touched:
            touched[key] = changes.touch(entry.dependencies, entry.meta)
        if touched[key] or changed_globs and not changed_globs.isdisjoint(entry.globs):
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


# -- rendering, in this process or in workers -------------------------------------------------

def render_outputs(site: Site, targets: dict[str, Target], plan: list[str], staging: Path,
                   jobs: int, progress: Progress | None) -> dict[str, Rendering]:
    with cycle_collector(True):
        return _render_outputs(site, targets, plan, staging, jobs, progress)


def _render_outputs(site: Site, targets: dict[str, Target], plan: list[str], staging: Path,
                    jobs: int, progress: Progress | None) -> dict[str, Rendering]:
    results: dict[str, Rendering] = {}
    strings: dict[str, str] = {}
    total = len(plan)
    if jobs > 1 and total >= PARALLEL_MINIMUM and "fork" in _start_methods():
        import multiprocessing  # only a build with enough to render pays for importing it

        batches = [plan[i:i + BATCH] for i in range(0, total, BATCH)]
        flush = getattr(site.converter.cache, "flush", None)
        if flush is not None:
            flush()  # nothing half-written may cross the fork
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_start_worker,
                          initargs=(site, targets, staging)) as pool:
            for renderings, urls in pool.imap_unordered(_render_batch, batches):
                site.router.memo.update(urls)
                for rendering in renderings:
                    results[rendering.output] = rendering.shared(strings)
                if progress is not None:
                    progress(len(results), total)
    else:
        for output in plan:
            results[output] = render_one(site, targets[output], staging).shared(strings)
            if progress is not None:
                progress(len(results), total)
    return results


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def render_one(site: Site, target: Target, staging: Path) -> Rendering:
    """Render one target into the staging folder, unless the output folder already
    holds these very bytes (most files of most rebuilds)."""
    rendered = site.render_target(target)
    staged = not _holds(os.path.join(site.config.output, target.output), rendered.body)
    if staged:
        with open(staging_path(staging, target.output), "wb") as file:
            file.write(rendered.body)
    links: tuple[str, ...] = ()
    if rendered.media_type.startswith("text/html"):
        found = LINK.findall(rendered.body)
        links = tuple(sorted({link.decode("utf-8", "replace") for link in found}))
    root = site.config.root
    return Rendering(target.output, hashlib.blake2b(rendered.body, digest_size=16).hexdigest(),
                     links, relative_paths(root, rendered.dependencies),
                     relative_paths(root, rendered.meta), tuple(sorted(rendered.globs)), staged)


def relative_paths(root: Path, paths: Iterable[Path]) -> tuple[str, ...]:
    """Paths as the cache keeps them: relative to the site folder when inside it."""
    prefix = f"{root}{os.sep}"
    skip = len(prefix)
    return tuple(sorted(name[skip:] if name.startswith(prefix) else name
                        for name in map(str, paths)))


def _holds(path: str, body: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(body):
            return False
        with open(path, "rb") as file:
            return file.read() == body
    except OSError:
        return False


def staging_path(staging: Path, output: str) -> str:
    """Where an output waits: flat, since making and removing a folder per page costs
    more than rendering some pages."""
    return os.path.join(staging, hashlib.blake2b(output.encode(), digest_size=12).hexdigest())


@dataclass
class _Worker:
    """What a forked worker process renders with (a copy of the parent's loaded site)."""

    site: Site
    targets: dict[str, Target]
    staging: Path
    sent_urls: set[str]
    strings: dict[str, str] = field(default_factory=dict)


_worker: _Worker | None = None  # set once in each worker process, never in the parent


def _start_worker(site: Site, targets: dict[str, Target], staging: Path) -> None:
    global _worker
    _worker = _Worker(site, targets, staging, set(site.router.memo))


def _render_batch(outputs: list[str]) -> tuple[list[Rendering], dict[str, str]]:
    assert _worker is not None
    site, targets = _worker.site, _worker.targets
    renderings = [render_one(site, targets[output], _worker.staging).shared(_worker.strings)
                  for output in outputs]
    flush = getattr(site.converter.cache, "flush", None)
    if flush is not None:
        flush()
    memo = site.router.memo
    urls = {key: memo[key] for key in memo.keys() - _worker.sent_urls}
    _worker.sent_urls.update(urls)
    return renderings, urls


# -- links ----------------------------------------------------------------------------------

def find_broken_links(site: Site, targets: dict[str, Target], rendered: dict[str, Rendering],
                      state: BuildState) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """For every output, its links to URLs the site does not produce.

    While the site produces the same files as last time, a page that was not rendered
    again links to what it linked to then, so only new renderings are checked.
    """
    same_files = state.outputs.keys() == targets.keys()
    base_path = site.config.base_path
    known: dict[str, bool] = {}  # a site links to the same few URLs from many pages
    draft_urls: set[str] | None = None
    broken = {}
    for output in targets:
        if output not in rendered and same_files:
            remembered = state.outputs[output].broken
            # A link to a draft may since point to a deleted page: looked at again.
            if not any(kind == "draft" for _, _, kind in remembered):
                broken[output] = remembered
                continue
        links = rendered[output].links if output in rendered else state.outputs[output].links
        page_url = base_path + targets[output].url.lstrip("/")
        problems = []
        for link in links:
            url = resolve_link(page_url, link, base_path)
            if url is None:
                continue
            if url not in known:
                known[url] = produces(url, targets)
            if known[url]:
                continue
            if draft_urls is None:
                draft_urls = _draft_urls(site, targets)
            problems.append((link, url, "draft" if url in draft_urls else "missing"))
        broken[output] = tuple(problems)
    return broken


def format_broken(site: Site, output: str, problem: tuple[str, str, str]) -> str:
    link, url, kind = problem
    what = "a draft" if kind == "draft" else "a URL the site does not produce"
    return f"{display_path(site.config.output / output)}: link to {link} ({url}), {what}"


def resolve_link(page_url: str, link: str, base_path: str) -> str | None:
    """A link as a site-relative path, or None when it points outside the site."""
    if not link or link.startswith(("//", "mailto:", "tel:", "data:", "javascript:")):
        return None
    if link.startswith("/") and "/." not in link:
        path = link  # already absolute and plain: the common case, without urljoin's cost
    elif urlsplit(link).scheme:
        return None
    else:
        path = urlsplit(urljoin(page_url, link)).path
    if not path.startswith(base_path):
        return None
    return "/" + path[len(base_path):]


def produces(url: str, targets: dict[str, Target]) -> bool:
    exact, folder = request_candidates(url)
    return (exact is not None and exact in targets) or (folder is not None and folder in targets)


def _draft_urls(site: Site, targets: dict[str, Target]) -> set[str]:
    if site.drafts:
        return set()
    try:
        with_drafts = Site(site.config, drafts=True).targets()
    except SiteError:
        return set()
    return {t.url for output, t in with_drafts.items() if output not in targets}


# -- writing ----------------------------------------------------------------------------------

def commit(staging: Path, rendered: dict[str, Rendering], targets: dict[str, Target], out: Path,
           manifest: Path, result: BuildResult, warn: Warn) -> None:
    """Move rendered files into `out`; delete what the last build wrote and this one did not."""
    previous = read_manifest(manifest, warn)
    produced = set(targets)
    staged = sorted(output for output, rendering in rendered.items() if rendering.staged)
    check_in_the_way(staged, out, previous)
    out.mkdir(parents=True, exist_ok=True)
    ready: set[str] = {""}  # folders known to be in place (made, or cleared of a file)
    for output in staged:
        parent = output.rpartition("/")[0]
        if parent not in ready:
            result.removed += _clear_way(parent, out, previous)
            os.makedirs(os.path.join(out, parent), exist_ok=True)
            ready.add(parent)
        _replace(staging_path(staging, output), os.path.join(out, output))
    result.written += len(staged)
    result.unchanged += len(rendered) - len(staged) + len(produced) - len(rendered)
    real_out = os.path.realpath(out)
    for old in sorted(previous - produced, reverse=True):
        path = out / old
        if os.path.commonpath([os.path.realpath(path.parent), real_out]) != real_out:
            continue  # through a symlinked folder to elsewhere: not renderer's to delete
        if path.is_file() or path.is_symlink():
            path.unlink()
            result.removed += 1
            _remove_empty_parents(path.parent, out)
    write_manifest(manifest, produced)


def remember(state: BuildState, site: Site, targets: dict[str, Target],
             rendered: dict[str, Rendering], broken: dict[str, tuple[tuple[str, str, str], ...]],
             globs: dict[str, str], out: Path, started: int,
             hashed: dict[str, list[Any]]) -> None:
    """Record what each output read, and what the URL list was made from, for the next
    build."""
    root = site.config.root
    folder = f"{out}{os.sep}"
    outputs = {}
    sets: dict[frozenset[str], frozenset[str]] = {}  # equal sets made one (an index and its
    # tag pages each list the same 5,000 posts)
    for output in targets:
        if output in rendered:
            r = rendered[output]
            stat = os.stat(folder + output)
            dependencies, meta = frozenset(r.dependencies), frozenset(r.meta)
            outputs[output] = OutputEntry(sets.setdefault(dependencies, dependencies),
                                          sets.setdefault(meta, meta), r.globs,
                                          r.digest, r.links, broken[output], stat.st_mtime_ns,
                                          stat.st_size)
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
                                      frozenset(record.globs))
    listing = state.listing
    depsets = {(e.dependencies, e.meta) for e in outputs.values()}
    read = {d for deps, meta in depsets for d in deps | meta} | listing.files | listing.meta
    state.stamps.keep_only(root, read, started, hashed)
    patterns = {g for entry in outputs.values() for g in entry.globs} | listing.globs
    state.globs = {g: globs[g] if g in globs else glob_digest(g) for g in patterns}


def check_in_the_way(staged: list[str], out: Path, previous: set[str]) -> None:
    """Refuse, before writing anything, to replace a file or folder renderer did not write."""
    checked: set[str] = set()
    for output in staged:
        target = os.path.join(out, output)
        if S_ISDIR(_lstat_mode(target)):
            raise SiteError(f"{display_path(Path(target))} is a folder where the site writes a "
                            "file; renderer does not delete what it did not write")
        for parent in _parents(output):
            if parent in checked:
                continue
            checked.add(parent)
            mode = _lstat_mode(os.path.join(out, parent))
            if (S_ISREG(mode) or S_ISLNK(mode)) and parent not in previous:
                raise SiteError(f"{display_path(out / parent)} is a file where the site needs "
                                "a folder; renderer does not delete what it did not write")


def _lstat_mode(path: str) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def _parents(output: str) -> Iterator[str]:
    parts = output.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])


def _clear_way(folder: str, out: Path, previous: set[str]) -> int:
    """Remove an earlier build's file that stands where this build needs a folder."""
    for parent in _parents(f"{folder}/x"):
        path = out / parent
        if path.is_file() and parent in previous:
            path.unlink()
            return 1
    return 0


def _replace(source: str, target: str) -> None:
    """Atomically put `source` at `target`: a rename, through a temporary file beside the
    target when the two are on different file systems."""
    try:
        os.replace(source, target)
    except OSError:
        folder, name = os.path.split(target)
        temporary = os.path.join(folder, f".{name}.renderer-tmp")
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)


def _remove_empty_parents(folder: Path, out: Path) -> None:
    while folder != out and folder.is_relative_to(out):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


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
    kept = {f for f in files if isinstance(f, str) and is_inside(f)}
    if len(kept) != len(files):
        warn(f"{path}: ignoring {len(files) - len(kept)} entries that are not files inside "
             "the output folder")
    return kept


def is_inside(relative: str) -> bool:
    """Whether a manifest entry names a file inside the output folder."""
    parts = relative.split("/")
    return bool(relative) and not relative.startswith("/") and "\\" not in relative \
        and "\0" not in relative and all(part not in ("", ".", "..") for part in parts)


def write_manifest(path: Path, files: set[str]) -> None:
    from .cache import dump_json

    dump_json(path, {"version": 1, "files": sorted(files)})
