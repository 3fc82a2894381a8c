"""What a source makes of a file beyond its own fields: the fields its file name carries
(`filename = "{date}-{slug}"`), and whether it is shown: drafts and pages dated after the
build's time are left out unless asked for, and a future page that is shown is marked
`future = true`.

Kept apart from sources.py, which loads and caches, because these rules are what a
build's dependency record must also know: the file name (a page's path, which the
collection's glob records) and the clock. A page's date is noted in every record that
receives the page (`Record.dated`): an output is right from the newest date it published
until the earliest it left out, and the build renders it again outside that window,
without `--clean` (and after `--now` set the clock back).

A date without a time counts from midnight UTC, a date-time without an offset is UTC
(see dates.py): the same on every machine.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
import time
from pathlib import Path
from typing import Any

from .config import SiteConfig
from .content import Page
from .dates import timestamp
from .errors import display_path
from .filenames import FilenamePattern
from .records import LATEST, Record


class ItemRules:
    """The file-name fields, drafts and dates rules of one site, as one build (or one
    `serve`) applies them. `now` (ns since the epoch) fixes the clock, as a build does;
    None reads it whenever it is needed (serve, create_app)."""

    def __init__(self, config: SiteConfig, *, drafts: bool, future: bool | None = None,
                 now: int | None = None) -> None:
        self.config = config
        self.drafts = drafts
        self.future = config.future if future is None else future
        self.fixed_now = now
        self._patterns = [(re.compile(fnmatch.translate(str(config.root / spec.target))),
                           spec.filename, name)
                          for name, spec in config.sources.items()
                          if spec.kind == "collection" and spec.filename is not None]
        self._warnings: dict[Path, str] = {}  # a file name that does not fit its pattern
        self._moments: dict[Path, int] = {}  # the moment of each dated page, in ns
        self.expires = LATEST  # the earliest future date met, while the clock runs

    @property
    def now(self) -> int:
        return self.fixed_now if self.fixed_now is not None else time.time_ns()

    def dress(self, item: Any, path: Path) -> None:
        """Complete a page's (or a data file's table's) fields as loaded: the fields of
        its file name, and the `future` mark."""
        fields = item.own_fields() if isinstance(item, Page) else item
        if not isinstance(fields, dict):
            return
        found = self._pattern(path)
        if found is not None:
            self._from_name(fields, path, *found)
        if not isinstance(item, Page):
            return
        date = fields.get("date")
        if isinstance(date, datetime.date):
            moment = self._moments[path] = timestamp(date)
            if moment > self.now:
                fields["future"] = True
                self.expires = min(self.expires, moment)

    def note(self, path: Path, record: Record) -> None:
        """Tell `record` what it depends on through the page at `path` beyond its file:
        the clock, and a warning about its name."""
        moment = self._moments.get(path)
        if moment is not None:
            record.dated(moment, self.now)
        if self._warnings:
            warning = self._warnings.get(path)
            if warning is not None:
                record.warnings.add(warning)

    def shown(self, item: Any) -> bool:
        """Whether a page is published: not a draft (unless drafts are shown), not dated
        after now (unless future pages are)."""
        if not isinstance(item, Page):
            return True
        if item.is_draft and not self.drafts:
            return False
        moment = self._moments.get(item.path)
        return self.future or moment is None or moment <= self.now

    def forget(self, paths: set[Path]) -> None:
        for path in paths:
            self._warnings.pop(path, None)
            self._moments.pop(path, None)

    def _pattern(self, path: Path) -> tuple[FilenamePattern, str] | None:
        if not self._patterns:
            return None
        text = str(path)
        for regex, pattern, name in self._patterns:
            if regex.match(text):
                return pattern, name
        return None

    def _from_name(self, fields: dict[str, Any], path: Path, pattern: FilenamePattern,
                   source: str) -> None:
        found = pattern.match(path.stem)
        if found is None:
            missing = [name for name in pattern.fields if name not in fields]
            if missing:
                line = self.config.line_of("sources", source, "filename")
                self._warnings[path] = (
                    f'{display_path(path)}: the file name does not match filename = '
                    f'"{pattern.text}" ({display_path(self.config.file)}:{line}, source '
                    f'"{source}") and the front matter gives no {", ".join(missing)}')
            return
        for name, value in found.items():
            # `slug` is the file stem when the front matter gives none (content.py)
            if name == "slug" and fields.get("slug") == path.stem or name not in fields:
                fields[name] = value

