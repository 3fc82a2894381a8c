"""How the build's cache files are read and written: atomically (a reader never sees
half a file), and unpickled into plain data and dates only (a cache file is never trusted
to name code to run).

Nothing in a cache is trusted blindly: a file that does not parse, has another format
version, or was written by another renderer version is discarded with a warning.
"""

from __future__ import annotations

import io
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 7
Warn = Callable[[str], None]


def dump_json(path: Path, value: Any) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value, indent=0))
    os.replace(temporary, path)


def write_pickle(path: Path, value: Any) -> None:
    """Write atomically: a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(temporary, path)


class _DatesOnly(pickle.Unpickler):
    """Unpickles plain data and dates, nothing else: a cache file is never trusted with
    more (pickle would otherwise import and call whatever the file names)."""

    ALLOWED = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"),
               ("datetime", "timedelta"), ("datetime", "timezone")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache file")


def safe_loads(data: bytes) -> Any:
    return _DatesOnly(io.BytesIO(data)).load()
