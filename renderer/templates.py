"""The Jinja2 environment: autoescape, `url_for`, the `markdown` filter and the other
built-ins of `filters.py`, the site's own filters and globals, and errors with lines.

Which templates a page used is found by reading the templates themselves
(`{% extends %}`, `{% include %}`, `{% import %}`), once per template and edit: that is
exact for literal names, and a template that names another by an expression is taken to
depend on every template, which is safe.

The site's filters and globals are loaded with the environment, before any template is
compiled (Jinja checks filter names when it compiles), and again after their file
changed. One that fails to load fails every render with its own file and line.
"""

from __future__ import annotations

import contextlib
import glob
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2.utils import missing
from markupsafe import Markup

from .config import SiteConfig
from .converter import MarkdownConverter
from .errors import (
    SiteError,
    SourceError,
    TemplateError,
    did_you_mean,
    display_path,
    user_frames,
)
from .filters import CONTEXT_NAMES, builtin_filters, line_of, recorded, site_functions
from .records import Record
from .sources import Sources
from .symlinks import leads_out, refusal

AUTOESCAPE = ("html", "htm", "xml", "svg")


class Templates:
    """One site's templates."""

    def __init__(self, config: SiteConfig, converter: MarkdownConverter, sources: Sources,
                 globals: Mapping[str, Any]) -> None:
        self.config = config
        self.folder = config.templates
        self.sources = sources
        self.env = jinja2.Environment(
            loader=SiteLoader(self.folder, config.root, config.follow_symlinks),
            autoescape=jinja2.select_autoescape(AUTOESCAPE, default_for_string=False),
            auto_reload=False,  # serve drops changed templates itself, so no stat per use
            keep_trailing_newline=True,
            undefined=self._undefined() if config.template_files.globals else ItemUndefined,
        )
        self.env.filters["markdown"] = lambda text: Markup(converter.convert(str(text))[0])
        self.env.filters.update(builtin_filters(config.base_url))
        # Globals too, as in Flask: macros imported without context still see them.
        self.env.globals.update(globals)
        self._taken = {"filter": frozenset(self.env.filters),
                       "global": frozenset(self.env.globals) | CONTEXT_NAMES}
        self._closures: dict[str, tuple[frozenset[Path], frozenset[str]]] = {}
        self._variables: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()
        self._site_names: dict[str, set[str]] = {"filter": set(), "global": set()}
        self._loaded = False  # the site's functions, as their files are now
        try:
            self.load_site_functions()
        except SiteError:
            pass  # every render raises it (`render`), until the file is fixed

    def load_site_functions(self) -> None:
        """Add the public functions of the `[templates]` files as filters and globals (in
        place of those of an earlier load: a render on another thread still finds them)."""
        with self._lock:
            if self._loaded:
                return
            files = self.config.template_files
            found: dict[str, dict[str, Any]] = {"filter": {}, "global": {}}
            origins: dict[tuple[str, str], Path] = {}
            for kind, paths in (("filter", files.filters), ("global", files.globals)):
                for path in paths:
                    module = self.sources.module(path)
                    for name, function in site_functions(module, path, kind,
                                                         self._taken[kind]).items():
                        if (kind, name) in origins:
                            raise SourceError(f'{kind} "{name}" is defined in '
                                              f"{display_path(origins[kind, name])} too",
                                              file=path, line=line_of(function))
                        origins[kind, name] = path
                        found[kind][name] = recorded(function, self._noting(path))
            for kind, table in (("filter", self.env.filters), ("global", self.env.globals)):
                for name in self._site_names[kind] - found[kind].keys():
                    del table[name]
                table.update(found[kind])
                self._site_names[kind] = set(found[kind])
            self.env.cache.clear()  # type: ignore[union-attr]
            self._loaded = True

    def _noting(self, path: Path) -> Any:
        return lambda: self.sources.note(Record({path}))

    def _undefined(self) -> type[jinja2.Undefined]:
        """Jinja's Undefined, noting the globals files whenever a template looks up a name
        that nothing defines: defining it there would change the page."""
        files = set(self.config.template_files.globals)
        sources = self.sources

        class SiteUndefined(ItemUndefined):
            __slots__ = ()

            def __init__(self, hint: str | None = None, obj: Any = missing,
                         name: str | None = None, exc: Any = jinja2.UndefinedError) -> None:
                super().__init__(hint, obj, name, exc)
                if obj is missing and name is not None:
                    sources.note(Record(set(files)))

        return SiteUndefined

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render a template; any error names the template file and line."""
        if not self._loaded:
            self.load_site_functions()
        try:
            return self.env.get_template(name).render(context)
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"TemplateSyntaxError: {error.message}",
                                file=self._path(error.filename or error.name or name),
                                line=error.lineno) from None
        except SiteError as error:
            if error.file is not None:
                raise
            raise self._located(error, error.message) from None
        except jinja2.TemplateNotFound as error:
            known = self.env.list_templates()
            raise self._located(error, f'no template "{error.name}"'
                                f"{did_you_mean(str(error.name), known)}") from None
        except Exception as error:
            raise self._located(error, f"{type(error).__name__}: {error}") from error

    def dependencies(self, name: str) -> tuple[frozenset[Path], frozenset[str]]:
        """The files of `name` and of every template it extends, includes or imports; and,
        as glob patterns, those it names that do not exist (`{% include "x" ignore missing
        %}`), whose creation changes the page too."""
        if name not in self._closures:
            seen: set[str] = set()
            pending = [name]
            while pending:
                current = pending.pop()
                if current in seen:
                    continue
                seen.add(current)
                referenced = self._references(current)
                if referenced is None:
                    seen.update(self.env.list_templates())
                    break
                pending.extend(referenced)
            paths = [self.folder / n for n in seen]
            self._closures[name] = (
                frozenset(p for p in paths if p.is_file()),
                frozenset(glob.escape(str(p)) for p in paths if not p.is_file()))
        return self._closures[name]

    def variables(self, name: str) -> frozenset[str]:
        """The names that `name` and the templates it reaches take from the context (a
        page gets `previous` and `next`, and depends on its neighbours, only if asked)."""
        if name in self._variables:
            return self._variables[name]
        if not self._loaded:  # the site's filters first: Jinja checks that filters exist
            with contextlib.suppress(SiteError):  # every render raises it (`render`)
                self.load_site_functions()
        found: set[str] = set()
        for path in self.dependencies(name)[0]:
            try:
                tree = self.env.parse(path.read_text(encoding="utf-8"))
                found |= jinja2.meta.find_undeclared_variables(tree)
            except (OSError, UnicodeDecodeError, jinja2.TemplateError):
                return frozenset(found)  # rendering reports it; not kept, asked again
        self._variables[name] = frozenset(found)
        return self._variables[name]

    def invalidate(self, paths: set[Path]) -> None:
        """Forget compiled templates and their dependencies once a template changed, and
        the site's filters and globals once their file changed."""
        if any(path.is_relative_to(self.folder) for path in paths):
            self.env.cache.clear()  # type: ignore[union-attr]
            self._closures.clear()
            self._variables.clear()
        if not paths.isdisjoint(self.config.template_files.files):
            self._loaded = False  # loaded again by the next render

    def _references(self, name: str) -> list[str] | None:
        """Templates named by `name`, or None when one is named by an expression."""
        try:
            source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
            tree = self.env.parse(source)
        except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError, SiteError):
            return []  # rendering reports these with their line
        names = list(jinja2.meta.find_referenced_templates(tree))
        if any(n is None for n in names):
            return None
        return [n for n in names if n is not None]

    def _path(self, name: str) -> Path:
        path = Path(name)
        return path if path.is_absolute() else self.folder / name

    def _located(self, error: BaseException, message: str) -> TemplateError:
        """A TemplateError at the innermost template line of the traceback."""
        frames = user_frames(error.__traceback__, [self.config.root])
        in_templates = [f for f in frames if f.file.is_relative_to(self.folder)]
        innermost = in_templates[-1] if in_templates else None
        return TemplateError(message, file=innermost.file if innermost else None,
                             line=innermost.line if innermost else None, frames=frames)


class ItemUndefined(jinja2.Undefined):
    """Jinja's Undefined, saying 'content/posts/a.md has no "date"' when a template asks
    a page (or an item of a data file) for a field it lacks: Jinja's own message names
    only the type ("'Page object' has no attribute 'date'"), not which of 5,000 posts."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        item, name = self._undefined_obj, self._undefined_name
        if self._undefined_hint is None and isinstance(name, str) \
                and isinstance(item, Mapping) and isinstance(item.get("source"), str):
            return (f'{item["source"]} has no "{name}"'
                    f"{did_you_mean(name, [str(key) for key in item])}")
        return str(super()._undefined_message)


class SiteLoader(jinja2.FileSystemLoader):
    """Templates from the site's folder; one reached through a symbolic link that leads out
    of the site folder is an error (see symlinks.py), unless the site follows them, and
    one that is not UTF-8 text an error at the line of its first bad byte."""

    def __init__(self, folder: Path, root: Path, follow: bool) -> None:
        super().__init__(folder)
        self.root = root
        self.follow = follow

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Any]:
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as error:  # at its line, not Python's error
            path = Path(self.searchpath[0], *jinja2.loaders.split_template_path(template))
            line = path.read_bytes()[:error.start].count(b"\n") + 1
            raise TemplateError(f"not UTF-8 text: {error.reason} at byte {error.start}",
                                file=path, line=line) from None
        target = None if self.follow else leads_out(filename, self.root)
        if target is not None:
            raise TemplateError(refusal(Path(filename), target))
        return source, filename, uptodate
