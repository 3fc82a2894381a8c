"""`renderer new DIR`: copy a starter site shipped with the package."""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

from .errors import SiteError

# The folders of the package that hold the starters, by kind. pyproject.toml's
# package-data lists them too, so that an installed copy ships every file.
STARTERS = {"blog": "starter", "docs": "starter_docs"}


def create(directory: Path, kind: str = "blog") -> None:
    """Copy the starter of this kind into `directory`, which must be new or empty:
    `renderer new` never writes over a person's files."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise SiteError(f"{directory} already exists and is not an empty folder; "
                        "renderer new never writes over files", file=directory)
    with as_file(files("renderer") / STARTERS[kind]) as starter:
        shutil.copytree(starter, directory, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
