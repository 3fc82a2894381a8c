"""The Jinja2 environment: autoescape, `url_for`, the `markdown` filter, and errors with lines.

Which templates a page used is found by reading the templates themselves
(`{% extends %}`, `{% include %}`, `{% import %}`), once per template and edit: that is
exact for literal names, and a template that names another by an expression is taken to
depend on every template, which is safe.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from markupsafe import Markup

from .config import SiteConfig
from .content import MarkdownConverter
from .errors import SiteError, TemplateError, did_you_mean, user_frames

AUTOESCAPE = ("html", "htm", "xml", "svg")


class TextLoader(jinja2.FileSystemLoader):
    """Jinja's loader of the templates folder; a template that is not UTF-8 text is an
    error at the line of its first bad byte, not Python's UnicodeDecodeError."""

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError as error:
            path = Path(self.searchpath[0], *jinja2.loaders.split_template_path(template))
            line = path.read_bytes()[:error.start].count(b"\n") + 1
            raise TemplateError(f"not UTF-8 text: {error.reason} at byte {error.start}",
                                file=path, line=line) from None


class Templates:
    """One site's templates."""

    def __init__(self, config: SiteConfig, converter: MarkdownConverter) -> None:
        self.config = config
        self.folder = config.templates
        self.env = jinja2.Environment(
            loader=TextLoader(self.folder),
            autoescape=jinja2.select_autoescape(AUTOESCAPE, default_for_string=False),
            auto_reload=False,  # serve drops changed templates itself, so no stat per use
            keep_trailing_newline=True,
        )
        self.env.filters["markdown"] = lambda text: Markup(converter.convert(str(text))[0])
        self._closures: dict[str, tuple[frozenset[Path], frozenset[str]]] = {}

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render a template; any error names the template file and line."""
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

    def invalidate(self, paths: set[Path]) -> None:
        """Forget compiled templates and their dependencies once a template changed."""
        if any(path.is_relative_to(self.folder) for path in paths):
            self.env.cache.clear()  # type: ignore[union-attr]
            self._closures.clear()

    def _references(self, name: str) -> list[str] | None:
        """Templates named by `name`, or None when one is named by an expression."""
        try:
            source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
            tree = self.env.parse(source)
        except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError):
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
