"""Where things stand in a TOML text: the line of each key and table, of a syntax error,
and of a byte that is not UTF-8, for messages that name `file:line`.

`tomllib` gives values without positions, so this reads the lines of the text itself.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .errors import ConfigError


def decode_toml(file: Path) -> str:
    """The text of a TOML file (site.toml): UTF-8, with or without the byte order mark
    that some Windows editors put first; other bytes are a ConfigError at their line."""
    data = file.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ConfigError(f"not UTF-8 text: byte 0x{data[error.start]:02x} at column {column} "
                          f"({error.reason}); save the file as UTF-8", file=file,
                          line=line) from None


def toml_error_line(error: tomllib.TOMLDecodeError) -> int | None:
    """tomllib puts the line only in the message before Python 3.14."""
    lineno = getattr(error, "lineno", None)
    if isinstance(lineno, int):
        return lineno
    found = re.search(r"at line (\d+)", str(error))
    return int(found.group(1)) if found else None


def toml_message(error: tomllib.TOMLDecodeError) -> str:
    return re.sub(r"\s*\(at line \d+, column \d+\)$", "", str(error))


def locate_keys(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each table and key path of a TOML text to its line, for error messages.

    tomllib gives values without positions, so this reads the lines once more: table
    headers set the current table (arrays of tables count their entries), `key =` lines
    name a key in it. Keys inside multi-line values are not found; errors then fall back
    to the table's line.
    """
    lines: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    counts: dict[tuple[str | int, ...], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if found := re.match(r"^\[\[\s*(.+?)\s*\]\]", line):
            name = _dotted(found.group(1))
            counts[name] = counts.get(name, -1) + 1
            table = (*name, counts[name])
            lines.setdefault(table, number)
        elif found := re.match(r"^\[\s*(.+?)\s*\]", line):
            table = _dotted(found.group(1))
            lines.setdefault(table, number)
        elif found := re.match(r"^((?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)"
                               r"(?:\s*\.\s*(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=", line):
            key = (*table, *_dotted(found.group(1)))
            lines.setdefault(key, number)
            if found := re.search(r"=\s*\{(.*)\}", line):  # inline table: its keys share the line
                for inner in re.findall(r"([A-Za-z0-9_-]+)\s*=", found.group(1)):
                    lines.setdefault((*key, inner), number)
    return lines


def _dotted(name: str) -> tuple[str, ...]:
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)", name)
    return tuple(next(part for part in groups if part) for groups in parts)
