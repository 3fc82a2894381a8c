"""Named data sources: Markdown collections and pages, data files, Python functions.

Sources load when something first asks for them and are kept until a file they read
changes. Every load notes what it read in a `Record`; a render merges the records of the
sources it used into its own, which is how `serve` knows what an edit invalidates and how
an incremental build knows what to render again.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from stat import S_ISLNK, S_ISREG
from types import ModuleType
from typing import Any

from .config import DATA_SUFFIXES, MARKDOWN_SUFFIXES, SiteConfig
from .content import (
    Page,
    front_matter_digest,
    load_data_file,
    load_page,
    page_fields,
    read_page_text,
)
from .converter import MarkdownConverter
from .dataview import DataView, SiteView
from .digests import text_digest
from .errors import SiteError, SourceError, did_you_mean, site_relative
from .groups import make_groups
from .items import ItemRules
from .modules import error_in, label, load_module
from .records import Change, FrontMatterCache, Record
from .sorting import sort_items
from .specs import PythonReference, SourceSpec
from .symlinks import LinkCheck, leads_out
from .user_output import marked_output


class Sources:
    """The sources of one site, loaded lazily and cached."""

    def __init__(self, config: SiteConfig, converter: MarkdownConverter, *, drafts: bool,
                 page_cache: FrontMatterCache | None = None, future: bool | None = None,
                 now: int | None = None) -> None:
        self.config = config
        self.converter = converter
        self.drafts = drafts
        self.items = ItemRules(config, drafts=drafts, future=future, now=now)  # see items.py
        self.page_cache = page_cache
        self.links = LinkCheck(config.root, config.follow_symlinks)
        self._values: dict[str, tuple[Any, Record]] = {}
        self._files: dict[Path, Any] = {}
        self._modules: dict[Path, ModuleType] = {}
        # Loads and invalidation take this lock (re-entrant: a Python source reads other
        # sources): fifty first requests at once load a collection once, and a render
        # never sees a half-made cache. Rendering itself runs in parallel.
        self._lock = threading.RLock()
        self._local = threading.local()  # .reading: this thread's records, innermost last
        converter.modules = self.module  # the site's own Markdown extensions
        if converter.extension_files:  # which make every conversion depend on their files
            converter.on_convert = lambda: self.note(Record(set(converter.extension_files)))

    @contextmanager
    def reading(self, record: Record) -> Iterator[None]:
        """Note in `record` the Markdown bodies read until the block ends."""
        stack = self._reading()
        stack.append(record)
        try:
            yield
        finally:
            stack.pop()

    @contextmanager
    def patience(self, seconds: float) -> Iterator[None]:
        """Within the block, this thread waits at most `seconds` for what another thread is
        loading (`hold`), then gives up with an error: the routing preview must answer
        while a page is stuck loading a source."""
        self._local.patience = seconds
        try:
            yield
        finally:
            self._local.patience = None

    @contextmanager
    def hold(self, lock: threading.RLock | None = None) -> Iterator[None]:
        """Take `lock` (the sources' own by default), waiting no longer than this thread's
        `patience`."""
        lock = lock or self._lock
        wait = getattr(self._local, "patience", None)
        if not lock.acquire(timeout=-1 if wait is None else wait):
            raise SourceError("still loading: another page is loading the site's data right "
                              "now (a slow or stuck Python source?); this shows once it is done")
        try:
            yield
        finally:
            lock.release()

    def _reading(self) -> list[Record]:
        """The records this thread is filling (each render on its own thread has its own)."""
        stack: list[Record] | None = getattr(self._local, "reading", None)
        if stack is None:
            stack = self._local.reading = []
        return stack

    def _body_read(self, path: Path) -> None:
        stack = self._reading()
        if stack:
            stack[-1].files.add(path)

    def data(self, record: Record) -> DataView:
        """`data` as templates and Python sources see it, noting what is read in `record`."""
        return DataView(self.value, self.config.sources, record)

    def value(self, name: str, record: Record) -> Any:
        """The value of the source `name`."""
        entry = self._values.get(name)
        if entry is None:
            entry = self._load_value(name)
        value, own = entry
        record.update(own)
        return value

    def _load_value(self, name: str) -> tuple[Any, Record]:
        with self.hold():
            if name in self._values:  # loaded by another thread meanwhile
                return self._values[name]
            spec = self.config.sources.get(name)
            if spec is None:
                # No file: the mistake is where the name is asked for (a template's or a
                # Python source's line), which the caller adds.
                raise SourceError(f'no source named "{name}"'
                                  f"{did_you_mean(name, self.config.sources)}")
            own = Record()
            with self.reading(own):
                value = self._load(spec, own)
            own.freeze_meta()  # what reads it shares its pages (a list of 5,000 posts)
            entry = self._values[name] = (value, own)
            return entry

    def page(self, path: Path, record: Record, relative: str | None = None) -> Page:
        """The Markdown page at `path` (`relative` to the site folder, when known), as a
        collection holding it would give it."""
        page = self._file(path, record, relative)
        if not isinstance(page, Page):
            raise SourceError("not a Markdown page", file=path)
        return page

    def call(self, reference: PythonReference, record: Record, **arguments: Any) -> Any:
        """Call a Python source function with what it names among `data`, `site`, `arguments`."""
        import inspect

        function = self._function(reference)
        record.files.add(reference.file)
        offered = {"data": self.data(record), "site": SiteView(self.config.site), **arguments}
        parameters = inspect.signature(function).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            chosen = offered
        else:
            chosen = {name: value for name, value in offered.items() if name in parameters}
        try:
            with self.reading(record), marked_output(label(reference.file, self.config.root)):
                return function(**chosen)
        except SiteError as error:
            if error.file is not None:
                raise
            located = self._error_in(reference.file, error, f"in {reference}")
            raise SourceError(f"{error.message} (in {reference})", file=located.file,
                              line=located.line, frames=located.frames) from None
        except Exception as error:
            raise self._error_in(reference.file, error, f"in {reference}") from error
        except (SystemExit, KeyboardInterrupt) as error:
            # sys.exit() or a KeyboardInterrupt raised by the site's own code: an error
            # of that source, not the end of the build (which stops on Ctrl+C through
            # an exception of its own, build/signals.py).
            raise self._error_in(reference.file, error, f"in {reference}; a data source "
                                 "cannot end renderer") from None

    def found_warnings(self) -> list[str]:
        """The warnings of the sources loaded (`Record.warnings`), for serve's log."""
        return sorted({w for _, own in list(self._values.values()) for w in own.warnings})

    def invalidate(self, paths: Iterable[Path]) -> Change:
        """Forget everything read from `paths`, and say how they changed.

        A Markdown page whose front matter is unchanged takes its new body in place:
        lists of pages (and the URLs made from them) stay as they are, and only what
        read the body is dropped. Python values are also recomputed on a change that
        renderer cannot follow (a file outside templates/ and static/ that no source
        read): a function may open files by itself.
        """
        with self._lock:
            return self._invalidate(paths)

    def _invalidate(self, paths: Iterable[Path]) -> Change:
        change = Change(set(paths), set())
        self.links.forget()
        for path in list(change.paths):
            if self._take_new_body(path):
                change.paths.discard(path)
                change.bodies.add(path)
        for path in change.paths:
            self._files.pop(path, None)
            self._modules.pop(path, None)
        self.items.forget(change.paths)
        opaque = change.opaque(self.config)
        for name, (_, record) in list(self._values.items()):
            spec = self.config.sources[name]
            if spec.kind in ("python", "group") and opaque or change.touches(record):
                del self._values[name]
        return change

    def _take_new_body(self, path: Path) -> bool:
        """Whether the page at `path` was only edited below its front matter (and now
        holds the new body)."""
        page = self._files.get(path)
        if not isinstance(page, Page) or not self.config.follow_symlinks \
                and leads_out(path, self.config.root) is not None:
            return False  # a page now read through a link out: listed again, and skipped
        try:
            newer = load_page(path, self.config.root, self.converter)
        except (SiteError, OSError):
            return False
        self.items.dress(newer, path)
        if newer.front_matter() != page.front_matter():
            return False
        page.take_body(newer)
        return True

    def _load(self, spec: SourceSpec, record: Record) -> Any:
        if spec.kind == "collection":
            return self._collection(spec, record)
        if spec.kind == "python":
            assert spec.python is not None
            return self.call(spec.python, record)
        if spec.kind == "group":
            return make_groups(spec, self.value(spec.target, record), self.config.file,
                               record.warnings.add)
        assert spec.path is not None
        item = self._file(spec.path, record)
        return item if self.items.shown(item) else None

    def markdown_files(self) -> list[str]:
        """The Markdown files of every collection, relative to the site folder: the first
        thing enumerating the site reads (a cold build parses them ahead, in parallel)."""
        return [name for spec in self.config.sources.values() if spec.kind == "collection"
                for name, _ in self._listed(spec, None) if name.endswith(MARKDOWN_SUFFIXES)]

    def _collection_names(self, spec: SourceSpec) -> list[str]:
        suffixes = MARKDOWN_SUFFIXES + DATA_SUFFIXES
        return sorted(name for name in glob.glob(spec.target, root_dir=self.config.root,
                                                 recursive=True)
                      if name.endswith(suffixes) and not os.path.basename(name).startswith("."))

    def _listed(self, spec: SourceSpec, record: Record | None
                ) -> Iterator[tuple[str, os.stat_result]]:
        """The files of a collection, with their stat; not a folder, nor a link out of the
        site (see symlinks.py), which `record` notes as read: replacing it is a change."""
        root, links = self.config.root, self.links
        for name in self._collection_names(spec):
            path = os.path.join(root, name)
            try:
                stat = os.lstat(path)
                if S_ISREG(stat.st_mode) and links.plain_folder(path):
                    yield name, stat  # most files: nothing more to check
                    continue
                if links.skip(path, stat.st_mode):
                    if record is not None:
                        record.files.add(Path(path))
                    continue
                if S_ISLNK(stat.st_mode):
                    stat = os.stat(path)
            except OSError:
                continue
            if S_ISREG(stat.st_mode):
                yield name, stat

    def _collection(self, spec: SourceSpec, record: Record) -> list[Any]:
        root = self.config.root
        record.globs.add(str(root / spec.target))
        items = [self._file(root / name, record, name, stat)
                 for name, stat in self._listed(spec, record)]
        items = [item for item in items if self.items.shown(item)]
        return sort_items(items, spec, self.config.file, record.warnings.add) \
            if spec.sort else items

    def _file(self, path: Path, record: Record, relative: str | None = None,
              stat: os.stat_result | None = None) -> Any:
        """One Markdown page or data file, cached by path until it changes."""
        markdown = path.suffix in MARKDOWN_SUFFIXES
        (record.meta if markdown else record.files).add(path)
        known = self._files.get(path)
        if known is None:
            with self.hold():
                known = self._load_file(path, markdown, relative, stat)
        self.items.note(path, record)
        return known

    def _load_file(self, path: Path, markdown: bool, relative: str | None,
                   stat: os.stat_result | None) -> Any:
        if path not in self._files:
            if markdown:
                page = self._page(path, relative, stat)
                page.on_body = self._body_read
                self.items.dress(page, path)
                self._files[path] = page
            else:
                value = load_data_file(path)
                if isinstance(value, dict):
                    value.setdefault("slug", path.stem)
                    value.setdefault("source", site_relative(path, self.config.root))
                    self.items.dress(value, path)
                self._files[path] = value
        return self._files[path]

    def _page(self, path: Path, relative: str | None, stat: os.stat_result | None) -> Page:
        """A Markdown page, from the front matter cache when the file is unchanged."""
        if self.page_cache is None:
            return load_page(path, self.config.root, self.converter)
        if relative is None:
            relative = site_relative(path, self.config.root)
        stat = stat or os.stat(path)
        hit = self.page_cache.get(relative, stat)
        if hit is not None:
            fields, digest = hit
            return Page(fields, path, self.converter, digest=digest)
        block, body = read_page_text(path)
        front = front_matter_digest(block)
        kept = self.page_cache.fields_for(relative, front)
        # Parsed only when new, or when its front matter was edited:
        parsed = kept if kept is not None else page_fields(block, path, self.config.root)
        digest = text_digest(body)
        self.page_cache.put(relative, stat, parsed, digest, front)
        # Without its body, read again only if its HTML is not in the Markdown cache.
        return Page(parsed, path, self.converter, digest=digest)

    def _function(self, reference: PythonReference) -> Callable[..., Any]:
        module = self.module(reference.file)
        function = getattr(module, reference.function, None)
        if not callable(function):
            names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
            raise SourceError(f'no function "{reference.function}" in {reference.file.name}'
                              f"{did_you_mean(reference.function, names)}",
                              file=self.config.file, line=self._line_of(reference))
        return function  # type: ignore[no-any-return]

    def _line_of(self, reference: PythonReference) -> int | None:
        """The line of site.toml that names `reference`."""
        for spec in self.config.sources.values():
            if spec.python == reference:
                return spec.line
        for route in self.config.routes:
            for key, value in (("each", route.each_function), ("context", route.context)):
                if value == reference:
                    return self.config.line_of("routes", route.index, key)
        return None

    def module(self, path: Path) -> ModuleType:
        """Load a Python file by its path, afresh once it has changed."""
        known = self._modules.get(path)
        if known is not None:
            return known
        with self.hold():
            return self._load_module(path)

    def _load_module(self, path: Path) -> ModuleType:
        if path not in self._modules:  # else loaded by another thread meanwhile
            self._modules[path] = load_module(path, self.config.root)
        return self._modules[path]

    def _error_in(self, path: Path, error: BaseException, where: str) -> SourceError:
        return error_in(path, error, where, self.config.root)

    def note(self, record: Record) -> None:
        """Add `record` to the one this thread is filling (a render's): a filter's file,
        the URL list, a fingerprinted static file."""
        stack = self._reading()
        if stack:
            stack[-1].update(record)

