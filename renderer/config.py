"""Read `site.toml` and check it into frozen dataclasses.

Everything a later step needs from the file is decided here, once: unknown keys, missing
templates and source files and malformed values are reported with the line they stand on,
so the rest of renderer can trust what it is given.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from . import toml_lines
from .buildconfig import BuildSettings, check_build
from .config_lists import check_group, check_group_references, check_paginate
from .errors import ConfigError, did_you_mean
from .extension_settings import (
    PygmentsStyle,
    TemplateFiles,
    extension_files,
    fingerprint,
    pygments_style,
    template_files,
)
from .filenames import checked_pattern
from .specs import PythonReference, RouteSpec, SourceSpec
from .symlinks import leads_out, refusal
from .toml_lines import key_label, nearest_line, type_name

CONFIG_NAME = "site.toml"
TOP_LEVEL_KEYS = ("site", "markdown", "sources", "routes", "templates", "build")
ROUTE_KEYS = ("url", "template", "name", "each", "page", "context", "paginate")
MARKDOWN_KEYS = ("extensions", "extension_configs", "pygments_style")
SOURCE_TABLE_KEYS = ("glob", "path", "sort", "filename", "group", "by")
FOLDER_KEYS = ("output", "templates", "content", "static")
DEFAULT_FOLDERS = {"output": "build", "templates": "templates", "content": "content",
                   "static": "static"}
DEFAULT_EXTENSIONS = ("fenced_code", "tables", "toc", "codehilite")
DEFAULT_EXTENSION_CONFIGS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {"codehilite": MappingProxyType({"guess_lang": False})}
)
MARKDOWN_SUFFIXES = (".md", ".markdown")
DATA_SUFFIXES = (".toml", ".json", ".yaml", ".yml")
PYTHON_REFERENCE = re.compile(r"^(?P<file>.+\.py):(?P<function>[A-Za-z_][A-Za-z0-9_]*)$")

@dataclass(frozen=True)
class MarkdownSettings:
    """`[markdown]`. The extensions are loaded, and so checked, with the first page
    converted: importing Python-Markdown and its extensions costs a rebuild that converts
    nothing more than the rest of its start-up."""

    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS
    extension_configs: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: DEFAULT_EXTENSION_CONFIGS)
    file: Path | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)
    # The extensions given as "file.py:Name", with their files; and the style sheet.
    extension_files: Mapping[str, Path] = field(default_factory=dict)
    pygments_style: PygmentsStyle | None = None


@dataclass(frozen=True)
class SiteConfig:
    """A checked `site.toml`. Paths are absolute."""

    root: Path
    file: Path
    site: Mapping[str, Any]
    base_url: str | None
    base_path: str
    output: Path
    templates: Path
    content: Path
    static: Path
    markdown: MarkdownSettings
    sources: Mapping[str, SourceSpec]
    routes: tuple[RouteSpec, ...]
    lines: Mapping[tuple[str | int, ...], int] = field(repr=False)
    follow_symlinks: bool = False  # [site] follow_symlinks: links out of the site folder
    future: bool = False  # [site] future: pages dated after the build's time are built
    template_files: TemplateFiles = TemplateFiles()
    fingerprint: bool = False  # [site] fingerprint: a content hash on static URLs
    build: BuildSettings = BuildSettings()

    def line_of(self, *key: str | int) -> int | None:
        """The line of a key, or of the nearest table around it."""
        return nearest_line(self.lines, key)


def load_config(site_dir: Path | str, *, output: Path | None = None,
                lenient: bool = False) -> SiteConfig:
    """Read and check `site.toml` in `site_dir`. `lenient` (serve, create_app): a route
    whose template does not exist is left to fail its own URLs (`missing_template`),
    not the whole site; a build refuses it here."""
    root = Path(site_dir).resolve()
    file = root / CONFIG_NAME
    if not file.is_file():
        raise ConfigError(f"no {CONFIG_NAME} here: {root} is not a site folder "
                          f"(`renderer new DIR` makes one)", file=file)
    text = toml_lines.decode_toml(file)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"TOML syntax error: {toml_lines.toml_message(error)}", file=file,
                          line=toml_lines.toml_error_line(error)) from None
    checker = _Checker(root, file, raw, toml_lines.locate_keys(text))
    checker.lenient = lenient
    return checker.check(output)


def missing_template(config: SiteConfig, route: RouteSpec) -> ConfigError:
    """The error of a route whose template does not exist, at its line of site.toml."""
    key = ("routes", route.index, "template")
    return ConfigError(f"{key_label(key)}: {_no_template(config.templates, route.template)}",
                       file=config.file, line=config.line_of(*key))


def _no_template(templates: Path, template: str) -> str:
    known = [p.relative_to(templates).as_posix() for p in templates.rglob("*")
             if p.is_file()] if templates.is_dir() else []
    return f'no template "{template}" in {templates.name}/{did_you_mean(template, known)}'


class _Checker:
    """Turns the parsed TOML into a SiteConfig, one section at a time."""

    def __init__(self, root: Path, file: Path, raw: dict[str, Any],
                 lines: dict[tuple[str | int, ...], int]) -> None:
        self.root = root
        self.file = file
        self.raw = raw
        self.lines = lines
        self.follow = False  # [site] follow_symlinks, read first
        self.lenient = False  # a missing template: the route's problem (load_config)

    def fail(self, message: str, *key: str | int) -> ConfigError:
        """An error at `key`, shown with its path (`routes[2].template`) and line."""
        where, line = key_label(key), nearest_line(self.lines, key)
        return ConfigError(f"{where}: {message}" if where else message, file=self.file, line=line)

    def check(self, output: Path | None) -> SiteConfig:
        self.unknown_keys(self.raw, TOP_LEVEL_KEYS)
        site = self.table("site")
        self.follow = self.boolean(site, "follow_symlinks", "site")
        folders = {key: self.folder(site, key) for key in FOLDER_KEYS}
        base_url, base_path = self.base_url(site)
        sources = check_group_references(self.sources(), self.fail)
        routes = self.routes(sources, folders["templates"])
        return SiteConfig(
            root=self.root,
            file=self.file,
            site=MappingProxyType(dict(site)),
            base_url=base_url,
            base_path=base_path,
            output=output.resolve() if output else folders["output"],
            templates=folders["templates"],
            content=folders["content"],
            static=folders["static"],
            markdown=self.markdown(),
            sources=MappingProxyType(sources),
            routes=routes,
            lines=MappingProxyType(self.lines),
            follow_symlinks=self.follow,
            future=self.boolean(site, "future", "site"),
            template_files=template_files(self, self.raw.get("templates", {})),
            fingerprint=fingerprint(self, site),
            build=check_build(self.table("build"), self.unknown_keys, self.fail, self.boolean),
        )

    def unknown_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...],
                     *key: str | int) -> None:
        for name in table:
            if name not in allowed:
                raise self.fail(f'unknown key "{name}"{did_you_mean(name, allowed)}; '
                                f"known keys: {', '.join(allowed)}", *key, name)

    def table(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(f"must be a table ([{name}]), not {type_name(value)}", name)
        return value

    def string(self, table: Mapping[str, Any], name: str, *key: str | int,
               required: bool = False) -> str | None:
        value = table.get(name)
        if value is None:
            if required:
                raise self.fail(f'missing key "{name}"', *key)
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"must be a non-empty string, not {type_name(value)}", *key, name)
        return value

    def boolean(self, table: Mapping[str, Any], name: str, *key: str | int) -> bool:
        value = table.get(name, False)
        if not isinstance(value, bool):
            raise self.fail(f"must be true or false, not {type_name(value)}", *key, name)
        return value

    def folder(self, site: Mapping[str, Any], name: str) -> Path:
        value = self.string(site, name, "site") or DEFAULT_FOLDERS[name]
        if name != "output":  # where the build writes, not what it reads
            self.followed(self.root / value, "site", name)
        return (self.root / value).resolve()

    def followed(self, path: Path, *key: str | int) -> None:
        """Refuse a path named in site.toml that a link leads out of the site folder."""
        target = None if self.follow else leads_out(path, self.root)
        if target is not None:
            raise self.fail(refusal(path, target), *key)

    def base_url(self, site: Mapping[str, Any]) -> tuple[str | None, str]:
        value = self.string(site, "base_url", "site")
        if value is None:
            return None, "/"
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https", "") or (parts.scheme and not parts.netloc):
            raise self.fail(f'"{value}" is not a URL like "https://example.org/docs/"',
                            "site", "base_url")
        path = parts.path if parts.path.startswith("/") else "/" + parts.path
        return value, path if path.endswith("/") else path + "/"

    def markdown(self) -> MarkdownSettings:
        table = self.table("markdown")
        self.unknown_keys(table, MARKDOWN_KEYS, "markdown")
        extensions = table.get("extensions", list(DEFAULT_EXTENSIONS))
        if not isinstance(extensions, list) or not all(isinstance(e, str) for e in extensions):
            raise self.fail("must be a list of extension names", "markdown", "extensions")
        configs = table.get("extension_configs", {})
        if not isinstance(configs, dict) or not all(isinstance(v, dict) for v in configs.values()):
            raise self.fail("must be a table of tables, e.g. [markdown.extension_configs.toc]",
                            "markdown", "extension_configs")
        merged = {name: dict(DEFAULT_EXTENSION_CONFIGS.get(name, {})) for name in extensions}
        for name, settings in configs.items():
            if name not in extensions:
                raise self.fail(f'settings for "{name}", which is not in extensions',
                                "markdown", "extension_configs", name)
            merged[name].update(settings)
        return MarkdownSettings(
            tuple(extensions),
            MappingProxyType({k: MappingProxyType(v) for k, v in merged.items() if v}),
            self.file,
            self.lines.get(("markdown", "extensions")) or self.lines.get(("markdown",)),
            MappingProxyType(extension_files(self, extensions)),
            pygments_style(self, table.get("pygments_style"),
                           self.lines.get(("markdown", "pygments_style"))),
        )

    def sources(self) -> dict[str, SourceSpec]:
        table = self.table("sources")
        return {name: self.source(name, value) for name, value in table.items()}

    def source(self, name: str, value: Any) -> SourceSpec:
        key = ("sources", name)
        sort = filename = None
        if isinstance(value, dict) and ("group" in value or "by" in value):
            return SourceSpec(name, "group", **check_group(name, value, self.fail, self.lines))
        if isinstance(value, dict):
            self.unknown_keys(value, SOURCE_TABLE_KEYS, *key)
            if ("glob" in value) == ("path" in value):
                raise self.fail('give exactly one of "glob" or "path"', *key)
            sort = self.string(value, "sort", *key)
            filename = checked_pattern(self.string(value, "filename", *key),
                                       lambda message: self.fail(message, *key, "filename"))
            target = self.string(value, "glob" if "glob" in value else "path", *key)
            assert target is not None
            if "glob" in value and not _is_glob(target):
                raise self.fail(f'"{target}" has no wildcard; use path = for one file', *key)
        elif isinstance(value, str) and value.strip():
            target = value
        else:
            raise self.fail(f"must be a path, a glob or a table, not {type_name(value)}", *key)
        line = self.lines.get(key)
        if _is_glob(target):
            return SourceSpec(name, "collection", target, sort=sort, line=line, filename=filename)
        if sort is not None or filename is not None:
            option = "sort" if sort is not None else "filename"
            raise self.fail(f'"{option}" applies to a collection (a glob) only', *key, option)
        if python := PYTHON_REFERENCE.match(target):
            reference = self.python(target, *key)
            return SourceSpec(name, "python", target, python=reference, line=line)
        del python
        path = self.existing_file(target, *key)
        if path.suffix in MARKDOWN_SUFFIXES:
            return SourceSpec(name, "page", target, path=path, line=line)
        if path.suffix in DATA_SUFFIXES:
            return SourceSpec(name, "data", target, path=path, line=line)
        raise self.fail(f'"{target}" is neither Markdown ({", ".join(MARKDOWN_SUFFIXES)}), '
                        f'data ({", ".join(DATA_SUFFIXES)}) nor a Python source '
                        '("file.py:function")', *key)

    def python(self, target: str, *key: str | int) -> PythonReference:
        found = PYTHON_REFERENCE.match(target)
        if not found:
            raise self.fail(f'"{target}" is not a Python source; write "path/to/file.py:function"',
                            *key)
        return PythonReference(self.existing_file(found.group("file"), *key),
                               found.group("function"))

    def existing_file(self, target: str, *key: str | int) -> Path:
        self.followed(self.root / target, *key)
        path = (self.root / target).resolve()
        if not path.is_file():
            siblings = [p.name for p in path.parent.iterdir()] if path.parent.is_dir() else []
            raise self.fail(f'no file "{target}"{did_you_mean(path.name, siblings)}', *key)
        return path

    def routes(self, sources: Mapping[str, SourceSpec], templates: Path) -> tuple[RouteSpec, ...]:
        entries = self.raw.get("routes", [])
        if not isinstance(entries, list):
            raise self.fail("must be an array of tables ([[routes]])", "routes")
        if not entries:
            raise ConfigError('no [[routes]], so the site makes no pages (and a build would '
                              'remove every page it wrote before); add one, like: [[routes]] '
                              'url = "/" template = "index.html"', file=self.file,
                              line=self.lines.get(("routes",)))
        routes = tuple(self.route(index, entry, sources, templates)
                       for index, entry in enumerate(entries))
        seen: dict[str, RouteSpec] = {}
        for route in routes:
            explicit = "name" in entries[route.index]
            if explicit and route.name in seen and "name" in entries[seen[route.name].index]:
                other = seen[route.name]
                raise self.fail(f'name "{route.name}" is already used by {other.label} '
                                f"on line {other.line}", "routes", route.index, "name")
            seen.setdefault(route.name, route)
        return routes

    def route(self, index: int, entry: Any, sources: Mapping[str, SourceSpec],
              templates: Path) -> RouteSpec:
        key: tuple[str | int, ...] = ("routes", index)
        if not isinstance(entry, dict):
            raise self.fail("must be a table", *key)
        self.unknown_keys(entry, ROUTE_KEYS, *key)
        url = self.string(entry, "url", *key, required=True)
        template = self.string(entry, "template", *key, required=True)
        assert url is not None and template is not None
        if not url.startswith("/"):
            raise self.fail(f'"{url}" must start with "/"', *key, "url")
        self.followed(templates / template, *key, "template")
        if not self.lenient and not (templates / template).is_file():
            raise self.fail(_no_template(templates, template), *key, "template")
        name = self.string(entry, "name", *key) or Path(template).name.split(".")[0]
        if name == "static":
            raise self.fail('"static" is the name of static files in url_for; pick another',
                            *key, "name")
        each = self.string(entry, "each", *key)
        page = self.string(entry, "page", *key)
        if each and page:
            raise self.fail('give "each" (one URL per item) or "page" (one value), not both',
                            *key, "page")
        each_function = None
        for option in ("each", "page"):
            reference = entry.get(option)
            if reference is None or reference in sources:
                continue
            if option == "each" and PYTHON_REFERENCE.match(reference):
                each_function = self.python(reference, *key, option)
                continue
            raise self.fail(f'no source named "{reference}"{did_you_mean(reference, sources)}; '
                            'name one of [sources]' + (' or write "file.py:function"'
                                                       if option == "each" else ""), *key, option)
        context_ref = self.string(entry, "context", *key)
        context = self.python(context_ref, *key, "context") if context_ref else None
        paginate = check_paginate(entry, key, sources, self.fail, self.lines)
        return RouteSpec(index, url, template, name, each, page, context,
                         self.lines.get(key), each_function, paginate)


def _is_glob(target: str) -> bool:
    return any(char in target for char in "*?[")

