"""The site.toml keys that extend renderer with a site's own code and assets, checked:
`[templates] filters` and `globals`, `[markdown] extensions` given as `"file.py:Name"`,
`[markdown] pygments_style` and `[site] fingerprint`.

Kept out of `config.py`, which checks the rest of site.toml in the same way: these keys
grow with the features, and config.py is the module every other one imports. The checks
are made through the `Checks` protocol (config's checker), so this module does not
import config back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .errors import ConfigError, did_you_mean

TEMPLATES_KEYS = ("filters", "globals")
EXTENSION_FILE = re.compile(r"^(?P<file>.+\.py):(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")
STYLE_KEYS = ("light", "dark")


class Checks(Protocol):
    """What the checker of site.toml offers (`config._Checker`)."""

    def fail(self, message: str, *key: str | int) -> ConfigError: ...

    def existing_file(self, target: str, *key: str | int) -> Path: ...

    def unknown_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...],
                     *key: str | int) -> None: ...


@dataclass(frozen=True)
class TemplateFiles:
    """`[templates]`: Python files whose public functions become filters and globals."""

    filters: tuple[Path, ...] = ()
    globals: tuple[Path, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        return self.filters + self.globals


@dataclass(frozen=True)
class PygmentsStyle:
    """`[markdown] pygments_style`: a Pygments style, and one for dark mode if named."""

    light: str
    dark: str | None = None
    line: int | None = None


def template_files(checks: Checks, table: Any) -> TemplateFiles:
    """`[templates] filters = "content/filters.py"`, `globals = [...]`: a path or a list."""
    if not isinstance(table, dict):
        raise checks.fail("must be a table ([templates])", "templates")
    checks.unknown_keys(table, TEMPLATES_KEYS, "templates")
    found: dict[str, tuple[Path, ...]] = {}
    for key in TEMPLATES_KEYS:
        value = table.get(key, [])
        paths = [value] if isinstance(value, str) else value
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            raise checks.fail(f'must be a path or a list of paths, like "content/{key}.py"',
                              "templates", key)
        for path in paths:
            if not path.endswith(".py"):
                raise checks.fail(f'"{path}" is not a Python file (.py)', "templates", key)
        found[key] = tuple(dict.fromkeys(checks.existing_file(p, "templates", key)
                                         for p in paths))
    return TemplateFiles(found["filters"], found["globals"])


def extension_files(checks: Checks, extensions: list[str]) -> dict[str, Path]:
    """The extensions given as `"file.py:Name"`, with their files (checked to exist)."""
    files = {}
    for name in extensions:
        if found := EXTENSION_FILE.match(name):
            files[name] = checks.existing_file(found.group("file"), "markdown", "extensions")
        elif name.partition(":")[0].endswith(".py") or name.endswith(".py"):
            raise checks.fail(f'"{name}": write a Python file\'s extension as "path/to/file.py'
                              ':ClassName"', "markdown", "extensions")
    return files


def pygments_style(checks: Checks, value: Any, line: int | None) -> PygmentsStyle | None:
    """`"friendly"`, or `{ light = "friendly", dark = "monokai" }`; each a Pygments style."""
    if value is None:
        return None
    key = ("markdown", "pygments_style")
    if isinstance(value, str):
        names = {"light": value}
    elif isinstance(value, dict):
        checks.unknown_keys(value, STYLE_KEYS, *key)
        if "light" not in value:
            raise checks.fail('needs "light", the style of the page: { light = "friendly", '
                              'dark = "monokai" }', *key)
        names = value
    else:
        raise checks.fail('must be a Pygments style name ("friendly") or a table '
                          '{ light = "friendly", dark = "monokai" }', *key)
    for mode, name in names.items():
        where = key if isinstance(value, str) else (*key, mode)
        if not isinstance(name, str) or not name:
            raise checks.fail("must be the name of a Pygments style", *where)
        if not _is_style(name):
            raise checks.fail(f'no Pygments style "{name}"{did_you_mean(name, _styles())}; '
                              f"the styles: {', '.join(sorted(_styles()))}", *where)
    return PygmentsStyle(names["light"], names.get("dark"), line)


def _is_style(name: str) -> bool:
    """Whether Pygments knows the style: its own, or a plugin's (looked up only then, as
    that reads every installed package's metadata)."""
    from pygments.styles import STYLE_MAP, get_style_by_name
    from pygments.util import ClassNotFound

    if name in STYLE_MAP:
        return True
    try:
        get_style_by_name(name)
    except ClassNotFound:
        return False
    return True


def _styles() -> list[str]:
    from pygments.styles import get_all_styles

    return list(get_all_styles())


def fingerprint(checks: Checks, site: Mapping[str, Any]) -> bool:
    """`[site] fingerprint = true`: a content hash on every static URL."""
    value = site.get("fingerprint", False)
    if not isinstance(value, bool):
        raise checks.fail("must be true or false", "site", "fingerprint")
    return value
