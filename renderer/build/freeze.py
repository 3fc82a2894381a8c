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

import contextlib
import dataclasses
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import SiteConfig, load_config
from ..content import (
    decode_text,
    front_matter_digest,
    page_fields,
    read_bytes,
    read_page_text,
    split_front_matter_text,
)
from ..converter import markdown_libraries
from ..digests import bytes_digest, code_stamp, text_digest
from ..errors import LinkError, SiteError, display_path
from ..routing import Target
from ..site import Site
from ..symlinks import leads_out
from .links import LinkCheck, format_broken
from .markdown_store import MarkdownStore
from .page_cache import PageCache, pickle_fields
from .publish import commit
from .rendering import (
    PARALLEL_MINIMUM,
    Progress,
    Rendering,
    Staging,
    cycle_collector,
    relative_paths,
    render_outputs,
)
from .skipped import link_warnings, remember_skipped, skipped_links
from .state import BuildState, GlobMatch, ListingRecord, OutputEntry, glob_match
from .storage import RACY_NS
from .workers import Workers, can_fork

CACHE_FOLDER = ".renderer-cache"

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
    staging = Staging.beside(cache, out)
    try:
        changes = Changes.since(state, pages, site)
        hashed = read_pages_ahead(site, pages, jobs) if not state.outline else {}
        targets = list_targets(site, state, changes)
        plan = plan_renders(targets, state, changes, out)
        links = LinkCheck(site, targets, state)
        last_digests = {output: state.outputs[output].digest for output in plan
                        if output in state.outputs}
        rendered = render_outputs(site, targets, plan, staging, jobs, progress, links.add,
                                  last_digests)
        broken = links.finish()
        skipped = skipped_links(cache / f"links-{name}.json", key, site.sources.links.skipped,
                                config.root, clean=clean)
        warnings = link_warnings(skipped) + [format_broken(site, output, problem)
                                             for output in sorted(broken)
                                             for problem in broken[output]]
        result = BuildResult(out, rendered=len(rendered), warnings=warnings)
        if strict and result.warnings:
            what = "warnings" if skipped else "broken links"
            raise LinkError(f"{len(result.warnings)} {what} (--strict):\n  "
                            + "\n  ".join(result.warnings))
        result.static = sum(1 for t in targets.values() if t.route is None)
        result.pages = len(targets) - result.static
        written = commit(staging, rendered, targets, out, cache / f"manifest-{name}.json", warn)
        result.written, result.unchanged, result.removed = \
            written.written, written.unchanged, written.removed
        remember(state, site, targets, rendered, broken, changes.globs, out, started_ns,
                 hashed, written.copied)
        state.save(state_path)
        remember_skipped(cache / f"links-{name}.json", key, skipped)
        pages.save(started_ns)
        markdown.prune(lambda: {site.converter.cache_key(d) for d in pages.body_digests()})
    finally:
        markdown.close()
        staging.remove()
    result.seconds = time.perf_counter() - started
    return result


def config_key(config: SiteConfig, drafts: bool) -> str:
    """What every output depends on: site.toml, drafts, where it goes, and the code that
    renders it (renderer, Python, and the libraries that make the HTML: after upgrading
    one, every page is rendered again)."""
    libraries = ["jinja2", "markupsafe", "yaml", *markdown_libraries(config.markdown.extensions)]
    return text_digest("\0".join([config.file.read_text(encoding="utf-8"), str(drafts),
                                  str(config.output), code_stamp(libraries)]))


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
    doing that alone idles the rest. Meanwhile this process prepares what every render
    worker would otherwise do for itself (`_prepare`)."""
    if jobs < 2:
        return {}
    missing = [name for name in site.sources.markdown_files() if name not in pages.entries]
    if len(missing) < PARALLEL_MINIMUM or not can_fork():
        return {}
    root = site.config.root
    stamps: dict[str, list[Any]] = {}

    def keep(parsed: list[tuple[str, os.stat_result, bytes | None, str, str, str]]) -> None:
        for relative, stat, pickled, digest, front, file_hash in parsed:
            if pickled is not None:
                pages.put_pickled(relative, stat, pickled, digest, front)
            stamps[relative] = [stat.st_mtime_ns, stat.st_size, file_hash]

    keep(_read_pages((root, missing[:1])))  # here first: the workers inherit its imports
    with Workers(jobs, _read_pages, ahead=4) as workers:  # 4: busy while _prepare runs
        chunks = [(root, missing[i:i + 64]) for i in range(1, len(missing), 64)]
        parsed_chunks = workers.map_unordered(chunks)
        _prepare(site)  # while the workers parse: their results wait in the pipes
        for parsed in parsed_chunks:
            keep(parsed)
    return stamps


def _prepare(site: Site) -> None:
    """Done once here, before the render workers are forked, rather than once in each:
    compile the URL rules and the routes' templates, and load Python-Markdown. An error
    is left for rendering, which reports it where it belongs."""
    with contextlib.suppress(Exception):
        site.router.compiled  # noqa: B018 - compiled on first use
    templates = site.templates
    for route in site.config.routes:
        with contextlib.suppress(Exception):
            for path in sorted(templates.dependencies(route.template)[0]):
                templates.env.get_template(path.relative_to(templates.folder).as_posix())
    with contextlib.suppress(Exception):
        site.converter.load()


def _read_pages(chunk: tuple[Path, list[str]]
                ) -> list[tuple[str, os.stat_result, bytes | None, str, str, str]]:
    """Stat, hash and parse the front matter of some pages, in a worker. The fields come
    back pickled as the page cache keeps them: the build stores 5,000 of them as they are,
    rather than pickle each again itself while the workers wait."""
    root, names = chunk
    parsed = []
    for name in names:
        path = root / name
        try:
            stat = os.stat(path)
            data = read_bytes(path)  # once, for its stamp's hash and for its text
            block, body = split_front_matter_text(decode_text(data, path), path)
            fields = page_fields(block, path, root)
        except (SiteError, OSError):
            continue  # enumerating reads it again and reports the error where it belongs
        parsed.append((name, stat, pickle_fields(fields), text_digest(body),
                       front_matter_digest(block), bytes_digest(data)))
    return parsed


def plan_renders(targets: dict[str, Target], state: BuildState, changes: Changes,
                 out: Path) -> list[str]:
    """The outputs to render: new ones, those with a changed input, and those whose file in
    the output folder is not the one the last build wrote. A page that only read the front
    matter of Markdown files does not depend on their bodies."""
    files, fields, changed_globs = changes.files, changes.fields, changes.changed_globs
    outputs = state.outputs
    folder = f"{out}{os.sep}"
    plan = []
    # One pass over 5,000 entries after editing one post: kept to the bare minimum.
    for output in sorted(targets):
        entry = outputs.get(output)
        if entry is None or not files.isdisjoint(entry.dependencies) \
                or not fields.isdisjoint(entry.meta) \
                or changed_globs and not changed_globs.isdisjoint(entry.globs):
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
    for output in targets:
        if output in rendered:
            r = rendered[output]
            mtime, size = r.stamp
            if output in copied:
                stat = os.stat(folder + output)
                mtime, size = stat.st_mtime_ns, stat.st_size
            dependencies, meta = frozenset(r.dependencies), frozenset(r.meta)
            outputs[output] = OutputEntry(sets.setdefault(dependencies, dependencies),
                                          sets.setdefault(meta, meta), r.globs,
                                          r.digest, r.links, broken[output], mtime, size)
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
    read = set(listing.files | listing.meta)
    # Each distinct set once: the index and the 20 tag pages share one of 5,000 posts.
    for dependencies in {e.dependencies for e in outputs.values()} | \
            {e.meta for e in outputs.values()}:
        read.update(dependencies)
    state.stamps.keep_only(root, read, started, hashed)
    patterns = {g for entry in outputs.values() for g in entry.globs} | listing.globs
    state.globs = {g: globs[g] if g in globs else glob_match(g) for g in patterns}


