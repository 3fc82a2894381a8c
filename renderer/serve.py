"""Placeholder until the dev server lands."""

from __future__ import annotations

from pathlib import Path


def serve(site: Path, *, host: str, port: int, open_browser: bool, drafts: bool) -> None:
    raise NotImplementedError
