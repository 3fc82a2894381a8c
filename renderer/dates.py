"""Dates: front matter strings in the formats blogs use, turned into dates; the time a
date stands for.

Strings are matched whole against a few strict patterns (ISO 8601 and RFC 3339, Jekyll's
`2019-09-25 20:29:15 +0200`, RFC 2822's `Wed, 25 Sep 2019 20:29:15 +0200`) rather than
handed to a forgiving parser such as dateutil's: a title like "May 4" or "2024" must stay
text, and renderer adds no dependency for it. Any top-level front matter value that
matches becomes a `datetime.date` or `datetime.datetime`; under the keys of `DATE_KEYS`
a value that is not a date is an error naming the file and the line of the key.

A date without a time is midnight UTC of that day, and a date-time without an offset is
UTC: the same in every build, whatever the machine's time zone (sorting compares them so
too). Write an offset (`2024-05-01T10:00:00+02:00`) to say otherwise.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

from .errors import ContentError

DATE_KEYS = ("date", "updated", "lastmod")  # a value there must be a date
ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
                 r"(?: ?(?:Z|[+-]\d{2}(?::?\d{2})?))?)?", re.IGNORECASE)
RFC_2822 = re.compile(r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
                      r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                      r"\d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|UT|GMT|Z)")
SPACED_OFFSET = re.compile(r" (?=[+-]\d{2}(?::?\d{2})?$)")
FORMATS = "2024-05-01, 2024-05-01T10:00:00+02:00 or 2019-09-25 20:29:15 +0200"
Date = datetime.date  # a datetime.datetime is one too


def parse_date(text: str) -> Date | None:
    """The date or date-time a string states, or None when it states none."""
    text = text.strip()
    try:
        if ISO.fullmatch(text):
            if len(text) == 10:
                return datetime.date.fromisoformat(text)
            text = SPACED_OFFSET.sub("", text.replace(",", "."))
            return datetime.datetime.fromisoformat(re.sub("[zZ]$", "+00:00", text))
        if RFC_2822.fullmatch(text):
            # imported here: the email package costs every build 6 ms, and few sites
            # write their dates as "Wed, 25 Sep 2019 20:29:15 +0200"
            from email.utils import parsedate_to_datetime

            return parsedate_to_datetime(text)
    except (ValueError, TypeError):  # 2024-02-30, hour 25
        return None
    return None


def front_matter_dates(fields: dict[str, Any], block: tuple[str, str], path: Path,
                       first_line: int) -> dict[str, Any]:
    """`fields` with each string that states a date made a date. A value of a key of
    `DATE_KEYS` that is neither a date nor empty is an error at its line (`block` is the
    front matter's kind and text, which starts at `first_line` of the file)."""
    for key, value in fields.items():
        if isinstance(value, str):
            parsed = parse_date(value)
            if parsed is not None:
                fields[key] = parsed
                continue
        elif value is None or isinstance(value, datetime.date) or key not in DATE_KEYS:
            continue
        if key in DATE_KEYS:
            shown = repr(value) if isinstance(value, str) else f"{value} ({type(value).__name__})"
            raise ContentError(f'"{key}" is not a date: {shown}; write it like {FORMATS}',
                               file=path, line=key_line(block[1], key, first_line))
    return fields


def key_line(text: str, key: str, first_line: int) -> int:
    """The line of the file where a top-level front matter key is written (YAML `key:`,
    TOML `key =`, quoted or not); `first_line` when it cannot be found."""
    found = re.search(rf"""^["']?{re.escape(key)}["']?[ \t]*[:=]""", text, re.MULTILINE)
    return first_line + text.count("\n", 0, found.start()) if found else first_line


def timestamp(value: Date) -> int:
    """The moment a date stands for, in ns since the epoch: a date is midnight UTC of its
    day, a date-time without an offset is UTC."""
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    delta = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def parse_moment(text: str) -> int:
    """`renderer build --now TEXT`: a date or date-time in ns since the epoch."""
    parsed = parse_date(text)
    if parsed is None:
        raise ValueError(f"{text!r} is not a date or time; write it like {FORMATS}")
    return timestamp(parsed)
