"""`Site`: a checked config with its sources, templates and routes; `urls()` and `render(url)`.

`render` is the only place a page is made. The WSGI app calls it per request and the
build calls it per file, so what `serve` shows and what `build` writes cannot differ.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .assets import Assets, generated_targets
from .config import SiteConfig, load_config, missing_template
from .content import Page
from .converter import MarkdownConverter
from .errors import RouteError, SiteError
from .fields import describe, url_variables
from .filters import SiteURL, url_list
from .lookup import Lookup, static_targets
from .mdlinks import MarkdownLinks
from .pagination import Sequences
from .records import EARLIEST, LATEST, Change, FrontMatterCache, Record
from .routing import (
    Router,
    Target,
    collect,
    makes_files,
    media_type_of,
    output_path,
    request_candidates,
    url_for_function,
)
from .sources import Sources
from .specs import RouteSpec

if TYPE_CHECKING:
    from .templates import Templates


@dataclass(frozen=True)
class Rendered:
    """One rendered file: its bytes, media type, and every file that went into it."""

    body: bytes
    media_type: str
    dependencies: frozenset[Path]
    globs: frozenset[str] = frozenset()
    # Pages whose front matter was read, those whose body was read as well included: the
    # 5,000 posts that show their neighbours then read one equal set, which the build keeps
    # once (without their own page, each set would be another).
    meta: frozenset[Path] = frozenset()
    warnings: frozenset[str] = frozenset()  # found by the sources it read (items.py)
    window: tuple[int, int] = (EARLIEST, LATEST)  # the times it holds for (Record.dated)


class Site:
    """A site folder, ready to enumerate and render its URLs."""

    def __init__(self, config: SiteConfig, *, drafts: bool = False,
                 markdown_cache: MutableMapping[str, tuple[str, str]] | None = None,
                 page_cache: FrontMatterCache | None = None, url_memo: dict[str, str] | None = None,
                 future: bool | None = None, now: int | None = None) -> None:
        self.config = config
        self.drafts = drafts
        self.converter = MarkdownConverter(config.markdown, markdown_cache, config.base_path)
        self.sources = Sources(config, self.converter, drafts=drafts, page_cache=page_cache,
                               future=future, now=now)
        self.converter.links = MarkdownLinks(  # what a page reads is noted in its record
            config, self.targets, lambda: next(reversed(self.sources._reading()), None),
            self.sources.items.note).resolve
        self.router = Router(config, url_memo)
        self.assets = Assets(config, self.sources, self.router)  # url_for, pygments.css
        self.sequences = Sequences(config, self.sources, self.router)  # pagination, neighbours
        self._targets: dict[str, Target] | None = None
        self._targets_record = Record()
        self._completed: dict[int, dict[str, Target]] = {}  # restored targets, by route
        # Requests may come on many threads (create_app under a threaded server): what is
        # made lazily here (the URL list, the templates) is made once, under this lock.
        self._lock = threading.RLock()
        self._templates: Templates | None = None
        self.lookup = Lookup(config, self.router, self._targets_of,  # a request's target
                             lambda record: static_targets(config, self.sources.links, record),
                             self.sources.hold)

    @property
    def templates(self) -> Templates:
        """Made when first used: a rebuild that renders nothing does not import Jinja2."""
        if self._templates is None:
            with self._lock:
                if self._templates is None:
                    self._templates = self._make_templates()
        return self._templates

    def _make_templates(self) -> Templates:
        from .templates import Templates

        return Templates(self.config, self.converter, self.sources, {
            "url_for": url_for_function(self.assets.url_for), "site": self.config.site,
            "site_urls": self.site_urls})

    @classmethod
    def load(cls, site_dir: Path | str, *, drafts: bool = False, output: Path | None = None,
             future: bool | None = None, lenient: bool = False) -> Site:
        """Read `site.toml` in `site_dir` and make the site (`lenient`: see load_config)."""
        return cls(load_config(site_dir, output=output, lenient=lenient), drafts=drafts,
                   future=future)

    # -- what the site produces -------------------------------------------------------

    def targets(self) -> dict[str, Target]:
        """Every file the site produces, by output path (routes' URLs and static files)."""
        targets = self._targets
        if targets is None:
            with self.sources.hold(self._lock):
                targets = self._targets
                if targets is None:
                    record = Record()
                    found = [*self._route_targets(record),
                             *static_targets(self.config, self.sources.links, record),
                             *generated_targets(self.config)]
                    targets = self._targets = collect(found, self.config.file)
                    self._targets_record = record
        return targets

    def outline(self) -> dict[str, tuple[str, int, str]]:
        """The targets in a form the build keeps between builds: by output file, the URL,
        the route's index (-1: a static file) and the Markdown page or static file it
        is made from, relative to the site folder ("" when neither; -2 and the name of a
        file the site makes, such as pygments.css)."""
        prefix = f"{self.config.root}{os.sep}"
        outline = {}
        for output, target in self.targets().items():
            source = target.static_file or (target.page.path if isinstance(target.page, Page)
                                            else target.generated)
            name = str(source).removeprefix(prefix)
            index = target.route.index if target.route else -2 if target.generated else -1
            outline[output] = (target.url, index, name)
        return outline

    def listings(self) -> list[Record]:
        """What the URL lists made so far were made from (create_app watches them)."""
        return [*self.lookup.records(), *([self._targets_record] if self._targets else [])]

    def targets_record(self) -> Record:
        """What the URL list was made from: while none of it changes, neither does the list."""
        self.targets()
        return self._targets_record

    def restore_targets(self, outline: Mapping[str, tuple[str, int, str]]) -> dict[str, Target]:
        """The targets of an `outline`, for a build that knows none of what the URL list
        was made from has changed. Each is completed (its page loaded) when rendered."""
        root, routes = self.config.root, self.config.routes
        targets = {}
        for output, (url, index, source) in outline.items():
            if index == -2:
                targets[output] = Target(url, output, generated=source)
            elif index < 0:
                targets[output] = Target(url, output, static_file=root / source)
            else:
                targets[output] = Target(url, output, routes[index], partial=True,
                                         page_source=source)
        self._targets = targets
        return targets

    def site_urls(self) -> list[SiteURL]:
        """`site_urls()` in templates: every URL of the routes. The page that asks depends
        on what the URL list was made from (a list a build restored is made anew)."""
        if any(target.partial for target in self.targets().values()):
            self._targets = None
        self.sources.note(self.targets_record())
        return url_list(self.targets().values(), self.config)

    def urls(self) -> list[str]:
        """Every URL of the site, site-relative, in output-path order."""
        return [target.url for _, target in sorted(self.targets().items())]

    def route_targets(self, route: RouteSpec) -> list[Target]:
        """The targets of one route (the routing preview lists them rule by rule)."""
        return list(self._targets_of(route, Record()))

    def find(self, url: str) -> Target | str | None:
        """The target serving a site-relative request path; a URL to redirect to (a
        folder asked for without its slash); or None."""
        exact, folder = request_candidates(url)
        found = self.target_at(exact) if exact is not None else None
        if found is not None:
            return found
        if folder is not None and self.target_at(folder) is not None:
            return url + "/"
        return None

    def target_at(self, output: str) -> Target | None:
        """The target written to `output`, listing only the routes that may make it
        (lookup.py) unless the whole list is made already: a broken rule or source fails
        the URLs that need it, not every request."""
        targets = self._targets
        if targets is not None:
            return targets.get(output)
        return self.lookup.target(output)

    # -- rendering ----------------------------------------------------------------------

    def render(self, url: str) -> Rendered:
        """Render one URL of the site (site-relative, as `urls()` gives it)."""
        target = self.find(url)
        if not isinstance(target, Target) or target.url != url and target.static_file is None:
            raise RouteError(f"the site has no URL {url!r}")
        return self.render_target(target)

    def render_target(self, target: Target) -> Rendered:
        if target.partial:
            target = self._complete(target)
        media_type = media_type_of(target.output)
        if target.static_file is not None:
            return Rendered(target.static_file.read_bytes(), media_type,
                            frozenset({target.static_file}))
        if target.generated:
            return Rendered(self.assets.stylesheet(), media_type, frozenset({self.config.file}))
        assert target.route is not None
        record = Record(files={self.config.file, *target.inputs}, globs=set(target.input_globs),
                        meta=target.input_meta, after=target.input_window[0],
                        before=target.input_window[1])
        if isinstance(target.page, Page):  # its date, and a warning about its file name
            self.sources.items.note(target.page.path, record)
        with self.sources.reading(record):
            context = self._context(target, target.route, record)
            text = self._render_template(target.route, context)
        templates, missing = self.templates.dependencies(target.route.template)
        record.files |= templates
        record.globs |= missing
        return Rendered(text.encode("utf-8"), media_type, frozenset(record.files),
                        frozenset(record.globs), record.frozen_meta(),
                        frozenset(record.warnings), (record.after, record.before))

    def _render_template(self, route: RouteSpec, context: dict[str, Any]) -> str:
        try:
            return self.templates.render(route.template, context)
        except SiteError:
            if not (self.config.templates / route.template).is_file():  # a lenient load
                raise missing_template(self.config, route) from None
            raise

    def invalidate(self, paths: set[Path]) -> Change:
        """Forget what was read from `paths` (serve calls this on every edit), and say how
        they changed. The URL list is kept unless what it was made from changed: with
        5,000 posts, an edit to one post's text must not enumerate them all again."""
        change = self.sources.invalidate(paths)
        self.converter.invalidate(paths)
        self.assets.invalidate(paths)
        if self._templates is not None:  # made already (see `templates`)
            self._templates.invalidate(paths)
        computed = (any(r.each_function for r in self.config.routes)
                    or any(spec.kind == "python" for spec in self.config.sources.values())) \
            and change.opaque(self.config)
        self.lookup.invalidate(change, computed)
        if self._targets is not None and (change.touches(self._targets_record) or computed):
            self._targets = None
        return change

    # -- internals ----------------------------------------------------------------------

    def _complete(self, partial: Target) -> Target:
        """A restored target with its page, variables and inputs, as enumerating would
        have made it: straight from its page file, or by enumerating its route."""
        route = partial.route
        assert route is not None
        if partial.page_source and route.each is not None and route.paginate is None:
            own = Record()
            page = self.sources.page(self.config.root / partial.page_source, own,
                                     partial.page_source)
            variables = url_variables(route, self.router.arguments(route), page, 0,
                                      self.config.file)
            return Target(partial.url, partial.output, route, variables, page,
                          inputs=frozenset({page.path}))
        if route.index not in self._completed:
            self._completed[route.index] = {t.output: t for t in self._targets_of(route, Record())}
        return self._completed[route.index][partial.output]

    def _context(self, target: Target, route: RouteSpec, record: Record) -> dict[str, Any]:
        url_for = url_for_function(self.assets.url_for)
        context: dict[str, Any] = {
            **target.variables,
            "site": self.config.site,
            "data": self.sources.data(record),
            "page": target.page,
            "url": self.config.base_path + target.url.lstrip("/"),
            "url_for": url_for,
        }
        extra: Mapping[str, Any] = {}
        if route.context is not None:
            extra = self.sources.call(route.context, record, **target.variables)
            if not isinstance(extra, Mapping):
                raise SiteError(f"{route.label}: context {route.context} returned "
                                f"{type(extra).__name__}, not a dict", file=route.context.file)
        names = self.templates.variables(route.template) - extra.keys()  # theirs win
        context.update(self.sequences.context(target, record, names))
        context.update(extra)
        return context

    def _route_targets(self, record: Record) -> Iterator[Target]:
        for route in self.config.routes:
            yield from self._targets_of(route, record)

    def _targets_of(self, route: RouteSpec, record: Record) -> Iterator[Target]:
        arguments = self.router.arguments(route)
        if route.each is None:
            if arguments:
                raise RouteError(f"{route.label} has the variables {sorted(arguments)} but no "
                                 '"each" to say which URLs it makes; add each = "<source>"',
                                 file=self.config.file, line=route.line)
            own = Record()
            page = self.sources.value(route.page, own) if route.page else None
            record.update(own)
            if route.page and page is None:
                return  # a draft, left out of the build
            url = self.router.url(route, {})
            try:
                output = output_path(url, makes_files(route.url))
            except RouteError as error:  # the rule itself: "/../x/"
                raise RouteError(f"{route.label}: {error.message}", file=self.config.file,
                                 line=self.config.line_of("routes", route.index, "url")
                                 ) from None
            files, globs, meta, window = _inputs(page, _frozen(own))
            yield from self.sequences.pages(Target(url, output, route, {}, page, inputs=files,
                                                   input_globs=globs, input_meta=meta,
                                                   input_window=window), record)
            return
        if not arguments:
            raise RouteError(f'{route.label} has "each" but no variable in its URL, so every '
                             'item would make the same URL; add one, like "/posts/<slug>/"',
                             file=self.config.file, line=route.line)
        own = Record()
        items = self._items(route, own)
        record.update(own)
        source = _frozen(own)  # one set for all the items: it may name 5,000 posts
        as_file = makes_files(route.url)
        for position, item in enumerate(items):
            variables = url_variables(route, arguments, item, position, self.config.file)
            try:
                url = self.router.url(route, variables)
            except RouteError as error:
                raise RouteError(f"{error.message} (item {describe(item, position)})",
                                 file=self.config.file, line=route.line) from None
            try:
                output = output_path(url, as_file)
            except RouteError as error:  # the rule ("/../<slug>/"), or a value ("..")
                raise RouteError(f"{route.label}: {error.message} (item "
                                 f"{describe(item, position)})", file=self.config.file,
                                 line=self.config.line_of("routes", route.index, "url")
                                 ) from None
            files, globs, meta, window = _inputs(item, source)
            yield from self.sequences.pages(Target(url, output, route, variables, item,
                                                   inputs=files, input_globs=globs,
                                                   input_meta=meta, input_window=window), record)

    def _items(self, route: RouteSpec, record: Record) -> list[Any]:
        assert route.each is not None
        if route.each_function is not None:
            items = self.sources.call(route.each_function, record)
        else:
            items = self.sources.value(route.each, record)
        if isinstance(items, Mapping) or not hasattr(items, "__iter__"):
            raise RouteError(f'{route.label}: each = "{route.each}" must give a list of items, '
                             f"not {type(items).__name__}", file=self.config.file,
                             line=route.line)
        return list(items)


Inputs = tuple[frozenset[Path], frozenset[str], frozenset[Path], tuple[int, int]]


def _frozen(record: Record) -> Inputs:
    return (frozenset(record.files), frozenset(record.globs), record.frozen_meta(),
            (record.after, record.before))


def _inputs(item: Any, source: Inputs) -> Inputs:
    """What a target's `page` came from (files, globs, pages' front matter, the times it
    holds for): a Markdown page's own file (its date is noted when it renders), else all
    that its source read (a Python source's items may mix anything; a group's hold the
    posts published by then)."""
    if isinstance(item, Page):
        return frozenset({item.path}), frozenset(), frozenset(), (EARLIEST, LATEST)
    return source
