"""Where things stand in a TOML text: the line of each key and table, and the line of a
syntax error, for messages that name `file:line`.

`tomllib` gives values without positions, so this reads the lines of the text itself.
"""

from __future__ import annotations

import re
import tomllib


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
