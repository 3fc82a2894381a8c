"""Freezing: every target rendered through `Site.render_target`, then written at once.

Gather, then write: every file is rendered into a staging folder first, links are checked,
and only a build without errors touches the output folder. There it replaces each file
atomically, leaves files whose bytes did not change alone, and deletes only what an earlier
build wrote (its manifest) and this one no longer produces.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .errors import LinkError, SiteError
from .routing import Target, request_candidates
from .site import Site

CACHE_FOLDER = ".renderer-cache"
LINK = re.compile(
    rb"""<(?:a|link|img|script|source|iframe)\b[^>]*?\s(?:href|src)\s*=\s*["']([^"'#?]*)""",
    re.IGNORECASE)
HTML_TYPES = ("text/html",)


@dataclass
class BuildResult:
    """What a build did, for the summary line."""

    output: Path
    pages: int = 0
    static: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"built {self.pages} pages and {self.static} static files into "
                f"{_shown(self.output)} in {self.seconds:.2f} s ({self.written} written, "
                f"{self.unchanged} unchanged, {self.removed} removed, "
                f"{len(self.warnings)} warnings)")


@dataclass(frozen=True)
class Staged:
    """One rendered file waiting in the staging folder."""

    output: str
    staged: Path
    links: tuple[str, ...]


Progress = Callable[[int, int], None]


def build(site_dir: Path | str, *, output: Path | None = None, drafts: bool = False,
          strict: bool = False, jobs: int = 1, progress: Progress | None = None) -> BuildResult:
    """Build the site in `site_dir`. Raises SiteError, having changed nothing, on failure."""
    started = time.perf_counter()
    site = Site.load(site_dir, drafts=drafts, output=output)
    out = site.config.output
    check_output_folder(site, out)
    targets = site.targets()
    cache = cache_folder(site)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=cache))
    try:
        staged = render_all(site, targets, staging, progress)
        warnings = check_links(site, staged, targets)
        if strict and warnings:
            raise LinkError(f"{len(warnings)} broken links (--strict):\n  " + "\n  ".join(warnings))
        result = BuildResult(out, warnings=warnings)
        result.static = sum(1 for t in targets.values() if t.static_file is not None)
        result.pages = len(targets) - result.static
        commit(staged, out, manifest_path(cache, out), result)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    return result


def check_output_folder(site: Site, out: Path) -> None:
    """Refuse an output folder that holds the site's own sources."""
    config = site.config
    for folder in (config.root, config.templates, config.content, config.static):
        if out == folder or folder.is_relative_to(out) or (
                out.is_relative_to(folder) and folder != config.root):
            raise SiteError(f"the output folder {_shown(out)} overlaps the site's own folder "
                            f"{_shown(folder)}; pick another with --output or [site] output",
                            file=config.file, line=config.line_of("site", "output"))
    if out.exists() and not out.is_dir():
        raise SiteError(f"the output {_shown(out)} exists and is not a folder")


def cache_folder(site: Site) -> Path:
    folder = site.config.root / CACHE_FOLDER
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return folder


def manifest_path(cache: Path, out: Path) -> Path:
    digest = hashlib.blake2b(str(out).encode(), digest_size=8).hexdigest()
    return cache / f"manifest-{digest}.json"


def render_all(site: Site, targets: dict[str, Target], staging: Path,
               progress: Progress | None) -> list[Staged]:
    staged = []
    total = len(targets)
    for done, (output, target) in enumerate(sorted(targets.items()), start=1):
        rendered = site.render_target(target)
        path = staging / output
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered.body)
        links: tuple[str, ...] = ()
        if rendered.media_type.startswith(HTML_TYPES):
            found = LINK.findall(rendered.body)
            links = tuple(sorted({link.decode("utf-8", "replace") for link in found}))
        staged.append(Staged(output, path, links))
        if progress is not None:
            progress(done, total)
    return staged


def check_links(site: Site, staged: Iterable[Staged], targets: dict[str, Target]) -> list[str]:
    """A warning for every link in the output to a URL the site does not produce."""
    base_path = site.config.base_path
    warnings = []
    draft_urls: set[str] | None = None
    for item in staged:
        page_url = base_path + targets[item.output].url.lstrip("/")
        for link in item.links:
            url = resolve_link(page_url, link, base_path)
            if url is None or produces(url, targets):
                continue
            if draft_urls is None:
                draft_urls = _draft_urls(site, targets)
            what = "a draft" if url in draft_urls else "a URL the site does not produce"
            warnings.append(f"{_shown(site.config.output / item.output)}: link to {link} "
                            f"({url}), {what}")
    return warnings


def resolve_link(page_url: str, link: str, base_path: str) -> str | None:
    """A link as a site-relative path, or None when it points outside the site."""
    if not link or link.startswith(("//", "mailto:", "tel:", "data:", "javascript:")):
        return None
    if urlsplit(link).scheme:
        return None
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


def commit(staged: list[Staged], out: Path, manifest: Path, result: BuildResult) -> None:
    """Move staged files into `out`; delete what the last build wrote and this one did not."""
    previous = read_manifest(manifest)
    produced = {item.output for item in staged}
    check_in_the_way(staged, out, previous)
    out.mkdir(parents=True, exist_ok=True)
    for item in staged:
        target = out / item.output
        if _clear_way(target, out, previous):
            result.removed += 1
        if target.is_file() and _same_bytes(target, item.staged):
            result.unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace(item.staged, target)
        result.written += 1
    for old in sorted(previous - produced, reverse=True):
        path = out / old
        if path.is_file() or path.is_symlink():
            path.unlink()
            result.removed += 1
            _remove_empty_parents(path.parent, out)
    write_manifest(manifest, produced)


def check_in_the_way(staged: list[Staged], out: Path, previous: set[str]) -> None:
    """Refuse, before writing anything, to replace a file or folder renderer did not write."""
    for item in staged:
        target = out / item.output
        if target.is_dir() and not target.is_symlink():
            raise SiteError(f"{_shown(target)} is a folder where the site writes a file; "
                            "renderer does not delete what it did not write")
        for parent in target.relative_to(out).parents:
            if str(parent) == ".":
                continue
            path = out / parent
            if (path.is_file() or path.is_symlink()) and parent.as_posix() not in previous:
                raise SiteError(f"{_shown(path)} is a file where the site needs a folder; "
                                "renderer does not delete what it did not write")


def _clear_way(target: Path, out: Path, previous: set[str]) -> bool:
    """Remove an earlier build's file that stands where this build needs a folder."""
    for parent in reversed(target.relative_to(out).parents):
        path = out / parent
        if str(parent) != "." and path.is_file() and parent.as_posix() in previous:
            path.unlink()
            return True
    return False


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return a.read_bytes() == b.read_bytes()


def _replace(source: Path, target: Path) -> None:
    """Atomically put `source` at `target`: a rename, through a temporary file beside the
    target when the two are on different file systems."""
    try:
        os.replace(source, target)
    except OSError:
        temporary = target.with_name(f".{target.name}.renderer-tmp")
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)


def _remove_empty_parents(folder: Path, out: Path) -> None:
    while folder != out and folder.is_relative_to(out):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def read_manifest(path: Path) -> set[str]:
    try:
        value = json.loads(path.read_text())
        files = value["files"] if isinstance(value, dict) else None
        if isinstance(files, list) and all(isinstance(f, str) for f in files):
            return set(files)
    except (OSError, ValueError, KeyError):
        pass
    return set()


def write_manifest(path: Path, files: set[str]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"version": 1, "files": sorted(files)}, indent=0))
    os.replace(temporary, path)


def _shown(path: Path) -> str:
    from .errors import display_path

    return display_path(path)
