"""Markdown to HTML: Python-Markdown with the site's extensions, and a cache of the HTML.

Out of `content.py` (which turns files into pages and values) since it has a life of its
own: its cache key names the code and the settings that make the HTML, including the
site's own extensions (`"file.py:Name"` in `[markdown] extensions`), which are loaded by
path through the sources (`Sources.module`) and make every page that converts Markdown
depend on their files.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from pathlib import Path
from types import ModuleType
from typing import Any

from . import mdlinks
from .config import MarkdownSettings
from .digests import code_stamp, file_digest, text_digest
from .errors import ConfigError, did_you_mean

LOAD_ERRORS = (ImportError, AttributeError, TypeError, KeyError, ValueError)


def builtin_extensions() -> list[str]:
    """The names of Python-Markdown's own extensions ("footnotes", "toc"), for "did you
    mean" after a typo: read from its package, not from the entry points of every
    installed package."""
    import pkgutil

    import markdown.extensions

    return [module.name for module in pkgutil.iter_modules(markdown.extensions.__path__)]


def markdown_libraries(extensions: tuple[str, ...]) -> list[str]:
    """The packages whose code makes a page's HTML: Python-Markdown, Pygments
    (codehilite), and the top-level package of each extension ("pymdownx" of
    "pymdownx.superfences"; for "toc", no module "toc", which stamps as missing). An
    extension in a file of the site ("file.py:Name") is known by its file's digest
    instead (`MarkdownConverter.extension_files`)."""
    packages = ["markdown", "pygments"]
    for name in extensions:
        if ".py:" in name:
            continue
        package = name.partition(":")[0].partition(".")[0]
        if package not in packages:
            packages.append(package)
    return packages


class MarkdownConverter:
    """Python-Markdown with the site's settings, and a cache of HTML by source text.

    `cache` may be any mutable mapping; the build passes one kept on disk so that an
    unchanged body is never converted twice, even across builds. Python-Markdown itself
    is imported on the first conversion that misses the cache.

    A `markdown.Markdown` instance keeps the state of the text it converts (`reset`,
    then `convert`), so each thread has its own: under a threaded WSGI server, one shared
    instance mixed one post's code blocks into another's HTML.

    The site's own extensions are loaded with `modules` (a Python file by its path), and
    each conversion tells `on_convert` (the sources note the extension files in the
    record being filled); `invalidate` takes an edit of one of those files.
    """

    def __init__(self, settings: MarkdownSettings,
                 cache: MutableMapping[str, tuple[str, str]] | None = None,
                 base_path: str = "/") -> None:
        self.settings = settings
        self.base_path = base_path
        self.links: Callable[[str, Path | None], str] | None = None  # see mdlinks.py
        self.cache: MutableMapping[str, tuple[str, str]] = {} if cache is None else cache
        self.has_toc = "toc" in settings.extensions
        self.extension_files = frozenset(settings.extension_files.values())
        self.modules: Callable[[Path], ModuleType] | None = None
        self.on_convert: Callable[[], None] | None = None
        self._local = threading.local()  # .markdown: this thread's instance, .generation
        self._generation = 0  # one more when an extension file changed
        self._salt = self._make_salt()

    def _make_salt(self) -> str:
        settings = self.settings
        salt = json.dumps([settings.extensions, settings.extension_configs, self.base_path,
                           mdlinks.VERSION], default=dict, sort_keys=True)
        files = "".join(f"\0{path}\0{_digest(path)}" for path in sorted(self.extension_files))
        return text_digest(salt + code_stamp(markdown_libraries(settings.extensions)) + files)

    def invalidate(self, paths: Iterable[Path]) -> None:
        """After an edit of an extension file: a new cache key, new converters."""
        if self.extension_files and not self.extension_files.isdisjoint(paths):
            self._salt = self._make_salt()
            self._generation += 1

    def convert(self, text: str) -> tuple[str, str]:
        """HTML and table of contents ("" without the toc extension) of a Markdown text."""
        return self.convert_digest(text_digest(text), lambda: text)

    def cache_key(self, digest: str) -> str:
        """The cache's key for a text known by its digest: these settings, this code."""
        return f"{self._salt}:{digest}"

    def convert_digest(self, digest: str, load: Callable[[], str],
                       source: Path | None = None) -> tuple[str, str]:
        """Like `convert`, for a text known by its digest (read on a cache miss) in
        `source`. The cache keeps the HTML with links to Markdown files marked, by text
        alone; they are resolved from `source` each time (see mdlinks.py)."""
        if self.on_convert is not None:
            self.on_convert()
        key = self.cache_key(digest)
        try:
            result = self.cache[key]
        except KeyError:
            markdown = self.load()
            markdown.reset()
            result = self.cache[key] = (markdown.convert(load()), getattr(markdown, "toc", ""))
        if mdlinks.MARK not in result[0]:
            return result
        resolve = self.links or mdlinks.unmarked  # links to Markdown files, from `source`
        return resolve(result[0], source), result[1]

    def load(self) -> Any:
        """This thread's Python-Markdown converter, made (and Python-Markdown imported) if
        not done yet. The build makes it before forking workers, so that they do not do
        it each: a forked worker's one thread is the thread that forked it."""
        markdown = getattr(self._local, "markdown", None)
        if markdown is None or self._local.generation != self._generation:
            generation = self._generation
            markdown = self._local.markdown = self._load_markdown()
            self._local.generation = generation
        return markdown

    def _load_markdown(self) -> Any:
        """Python-Markdown with the site's extensions; a bad one is a site.toml error."""
        try:
            return self._markdown_with(self.settings.extensions)
        except LOAD_ERRORS as error:
            culprit = next((name for name in self.settings.extensions
                            if not self._loads(name)), self.settings.extensions[0])
            raise ConfigError(f'markdown.extensions: Markdown extension "{culprit}" cannot be '
                              f"loaded: {error}{did_you_mean(culprit, builtin_extensions())}",
                              file=self.settings.file, line=self.settings.line) from None

    def _markdown_with(self, names: tuple[str, ...]) -> Any:
        """Python-Markdown's own extensions ("toc") are made here from their modules:
        looking a name up among installed entry points, as Python-Markdown does, reads
        the metadata of every installed package, which costs more than rendering a page."""
        import importlib

        import markdown

        extensions: list[Any] = [mdlinks.markdown_extension(self.base_path)]
        configs = {}
        for name in names:
            options = dict(self.settings.extension_configs.get(name, {}))
            module = None
            if name in self.settings.extension_files:
                extensions.append(self._site_extension(name, options))
                continue
            if name.isidentifier():
                try:
                    module = importlib.import_module(f"markdown.extensions.{name}")
                except ImportError:
                    pass
            if module is not None:
                if name == "codehilite" and "pygments_formatter" not in options:
                    from .highlighting import SharedStyleHtmlFormatter

                    options["pygments_formatter"] = SharedStyleHtmlFormatter
                extensions.append(module.makeExtension(**options))
            else:
                extensions.append(name)
                configs[name] = options
        return markdown.Markdown(extensions=extensions, extension_configs=configs)

    def _site_extension(self, name: str, options: Mapping[str, Any]) -> Any:
        """The extension `"file.py:Name"`: the class (or a function that makes one, like
        `makeExtension`) called with its settings, or an extension made already."""
        from markdown.extensions import Extension

        assert self.modules is not None, "the sources set `modules`"
        path = self.settings.extension_files[name]
        module = self.modules(path)  # a SourceError, with the file's line, if it fails
        attribute = name.rpartition(":")[2]
        found = getattr(module, attribute, None)
        if isinstance(found, Extension):
            return found
        if not callable(found):
            names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
            raise ConfigError(f'markdown.extensions: no "{attribute}" in {path.name}'
                              f"{did_you_mean(attribute, names)}; give a Python-Markdown "
                              "Extension class", file=self.settings.file, line=self.settings.line)
        extension = found(**options)
        if not isinstance(extension, Extension):
            raise ConfigError(f'markdown.extensions: "{name}" made a {type(extension).__name__}, '
                              "not a Python-Markdown Extension", file=self.settings.file,
                              line=self.settings.line)
        return extension

    def _loads(self, name: str) -> bool:
        try:
            self._markdown_with((name,))
        except LOAD_ERRORS:
            return False
        return True


def _digest(path: Path) -> str:
    try:
        return file_digest(path)
    except OSError:
        return "missing"
