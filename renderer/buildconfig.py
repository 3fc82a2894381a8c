"""`[build]` of site.toml: settings of `renderer build` alone (the links its check skips,
and whether its commit exchanges folders). In a module of its own, beside config.py,
which reads the rest of the file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

BUILD_KEYS = ("ignore_links", "swap")


@dataclass(frozen=True)
class BuildSettings:
    """`[build]`. `ignore_links`: fnmatch patterns of links the link check skips, matched
    against the link as written and against its path from the server's root
    (`/docs/legacy/x/` for a link to `/legacy/x/` from a site at `/docs/`). `swap`: the
    commit builds the whole new tree and exchanges it with the output folder (publish.py),
    so that readers never see old and new files side by side."""

    ignore_links: tuple[str, ...] = ()
    swap: bool = False


def check_build(table: Mapping[str, Any], unknown_keys: Callable[..., None],
                fail: Callable[..., ConfigError],
                boolean: Callable[..., bool]) -> BuildSettings:
    """The `[build]` table checked: unknown keys and values of the wrong type are errors."""
    unknown_keys(table, BUILD_KEYS, "build")
    patterns = table.get("ignore_links", [])
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        raise fail('must be a list of link patterns, like ["/legacy/*", "*.pdf"]',
                   "build", "ignore_links")
    return BuildSettings(tuple(patterns), boolean(table, "swap", "build"))
