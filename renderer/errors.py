"""Errors that carry the place in the user's site where they come from.

Every mistake a person can make in their site is a `SiteError`: the command line prints
it as one `file:line: message` line, the dev server shows it as a page. Anything else that
escapes is a bug in renderer itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Frame:
    """One frame of a traceback that lies in the user's own files."""

    file: Path
    line: int
    function: str


class SiteError(Exception):
    """A mistake in a site: a file, the line where known, and what is wrong."""

    kind = "Site error"

    def __init__(
        self,
        message: str,
        *,
        file: Path | None = None,
        line: int | None = None,
        frames: tuple[Frame, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.frames = frames

    def __reduce__(self) -> tuple[Any, ...]:
        # Build workers send errors to the main process: keep the location on the way.
        return (_rebuild, (type(self), self.message, self.file, self.line, self.frames))

    @property
    def location(self) -> str:
        """`file:line`, `file` or empty, with the file relative to the working folder."""
        if self.file is None:
            return ""
        where = display_path(self.file)
        return f"{where}:{self.line}" if self.line else where

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


def _rebuild(kind: type[SiteError], message: str, file: Path | None, line: int | None,
             frames: tuple[Frame, ...]) -> SiteError:
    return kind(message, file=file, line=line, frames=frames)


class ConfigError(SiteError):
    kind = "Configuration error"


class ContentError(SiteError):
    kind = "Content error"


class SourceError(SiteError):
    kind = "Data source error"


class TemplateError(SiteError):
    kind = "Template error"


class RouteError(SiteError):
    kind = "Routing error"


class LinkError(SiteError):
    kind = "Broken link"


DEFAULT_TIMEOUT = 60.0  # seconds a page may take to render, in build and in serve


class RenderTimeout(BaseException):
    """A render ran past its time limit; raised where it was, so that its traceback names
    the line. A BaseException, so that a site's `except Exception:` cannot swallow it."""


def timeout_error(what: str, seconds: float, traceback: TracebackType | None,
                  root: Path, hint: str) -> SiteError:
    """The error for `what` (e.g. "rendering /x/") having run past `seconds`, located at
    the innermost frame of the site's own code it was in (a Python source first, else a
    template, at the template's own line)."""
    frames = site_frames(traceback, root)
    python = [frame for frame in frames if frame.file.suffix == ".py"]
    where = (python or frames)[-1] if frames else None
    at = f"; it was in {where.function}()" if where is not None and python else ""
    return SiteError(f"{what} took longer than {seconds:g} s{at} ({hint})",
                     file=where.file if where is not None else None,
                     line=where.line if where is not None else None, frames=tuple(frames))


def site_frames(traceback: TracebackType | None, root: Path) -> list[Frame]:
    """The frames of a traceback in files under `root`. A compiled Jinja template's line
    is mapped back to the template's own: Jinja does that itself only for an Exception,
    and a timeout is not one."""
    frames = []
    root = root.resolve()
    while traceback is not None:
        frame = traceback.tb_frame
        path = Path(frame.f_code.co_filename)
        line = traceback.tb_lineno
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            line = template.get_corresponding_lineno(line)
        if path.is_absolute() and path.resolve().is_relative_to(root):
            frames.append(Frame(path, line, frame.f_code.co_name))
        traceback = traceback.tb_next
    return frames


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def site_relative(path: Path, root: Path) -> str:
    """A file as the site names it (a page's `source`, a printed line's file): relative
    to the site folder with "/" between parts, or absolute when outside it. By string
    first: `PurePath.relative_to` parses both paths, 20 us on each of 5,000 pages."""
    text, folder = str(path), str(root)
    prefix = folder if folder.endswith(os.sep) else folder + os.sep
    if text.startswith(prefix):
        relative = text[len(prefix):]
        return relative if os.sep == "/" else relative.replace(os.sep, "/")
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else text


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the nearest choice, or '' when nothing is near (nor
    when `word` is a choice itself: it is right, something else is wrong)."""
    import difflib  # only on an error: a build without one does not pay for it

    choices = list(choices)
    if word in choices:
        return ""
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f' (did you mean "{near[0]}"?)' if near else ""


def user_frames(tb: TracebackType | None, roots: Iterable[Path]) -> tuple[Frame, ...]:
    """The frames of a traceback whose file lies under one of `roots` (the user's files)."""
    import traceback  # only on an error

    roots = tuple(root.resolve() for root in roots)
    frames = []
    for summary in traceback.extract_tb(tb):
        path = Path(summary.filename)
        if not path.is_absolute() or not path.exists():
            continue
        if any(path.resolve().is_relative_to(root) for root in roots):
            frames.append(Frame(path, summary.lineno or 0, summary.name))
    return tuple(frames)
