"""`renderer new DIR`: copy the starter site shipped with the package."""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

from .errors import SiteError


def create(directory: Path) -> None:
    """Copy the starter site into `directory`, which must be new or empty."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise SiteError(f"{directory} already exists and is not an empty folder; "
                        "renderer new never writes over files", file=directory)
    with as_file(files("renderer") / "starter") as starter:
        shutil.copytree(starter, directory, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
