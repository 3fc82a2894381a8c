"""Fields carried by file names: `filename = "{date}-{slug}"` on a collection reads
Jekyll's `2024-05-01-hello.md` as date 2024-05-01 and slug "hello".

A pattern is matched against the whole file name without its extension (the stem).
`{date}` matches `YYYY-MM-DD` and gives a `datetime.date`; any other `{name}` matches
text of at least one character and gives a string. Each placeholder takes as little
text as lets the rest of the pattern match (so in `{year}-{slug}`, `2024-a-b` gives year
"2024" and slug "a-b"): the last one takes what is left. Everything else in the pattern
is literal text. Front matter wins over the file name, and the file stem is `slug` only
when neither gives one.

A compiled pattern is part of the checked config, so a change to it is a change of
site.toml (every page renders again); the fields come from the file's path alone, which
the collection's glob already records.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
DATE = r"\d{4}-\d{2}-\d{2}"


class PatternError(ValueError):
    """A `filename` pattern that cannot be used; config.py locates it in site.toml."""


@dataclass(frozen=True)
class FilenamePattern:
    """A checked `filename` pattern: its text, fields and regular expression."""

    text: str
    fields: tuple[str, ...]
    regex: re.Pattern[str] = field(compare=False, repr=False)

    def match(self, stem: str) -> dict[str, Any] | None:
        """The fields a file stem gives, or None when it does not match (or its `{date}`
        is not a day of the calendar, like 2024-02-30)."""
        found = self.regex.fullmatch(stem)
        if found is None:
            return None
        fields: dict[str, Any] = found.groupdict()
        if "date" in fields:
            try:
                fields["date"] = datetime.date.fromisoformat(fields["date"])
            except ValueError:
                return None
        return fields

    def fill(self, fields: dict[str, Any], stem: str) -> bool:
        """Add the fields the stem gives to `fields`, where the front matter has none;
        False when the stem does not match and the front matter lacks some of them."""
        found = self.match(stem)
        if found is None:
            return all(name in fields for name in self.fields)
        for name, value in found.items():
            fields.setdefault(name, value)
        return True


def checked_pattern(text: str | None, fail: Callable[[str], Exception]
                    ) -> FilenamePattern | None:
    """A `filename` value compiled; a bad one is the error `fail` makes of the message."""
    try:
        return compile_pattern(text) if text is not None else None
    except PatternError as error:
        raise fail(str(error)) from None


def compile_pattern(text: str) -> FilenamePattern:
    """Check and compile a `filename` pattern; a PatternError says what is wrong."""
    parts = []
    names: list[str] = []
    position = 0
    for found in PLACEHOLDER.finditer(text):
        parts.append(_literal(text[position:found.start()], text))
        name = found.group(1)
        if name in names:
            raise PatternError(f'"{{{name}}}" appears twice in "{text}"')
        names.append(name)
        parts.append(f"(?P<{name}>{DATE})" if name == "date" else f"(?P<{name}>.+?)")
        position = found.end()
    parts.append(_literal(text[position:], text))
    if not names:
        raise PatternError(f'"{text}" has no placeholder; write one like "{{date}}-{{slug}}"')
    if "/" in text or "\\" in text:
        raise PatternError(f'"{text}" is matched against a file name, which has no "/"')
    return FilenamePattern(text, tuple(names), re.compile("".join(parts)))


def _literal(part: str, text: str) -> str:
    if "{" in part or "}" in part:
        raise PatternError(f'"{text}" has a brace that is not a placeholder: placeholders '
                           'are names in braces, like "{date}" or "{slug}"')
    return re.escape(part)
