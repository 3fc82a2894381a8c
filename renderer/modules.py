"""The site's Python files, loaded by their path: data sources, template filters and
globals, Markdown extensions. One loader for all of them, so each is run the same way and
its errors name its own lines.

`Sources` keeps the loaded modules (and drops one when its file changes); this module only
loads, and turns what went wrong in the user's code into a located `SourceError`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .errors import SourceError, site_relative, user_frames
from .user_output import marked_output


def load_module(path: Path, root: Path) -> ModuleType:
    """Run the Python file at `path` (in the site folder `root`) as a module of its own."""
    digest = hashlib.blake2b(str(path).encode(), digest_size=8).hexdigest()
    name = f"renderer_source_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickle look their module up here
    try:
        # Compiled from the source each time, never from __pycache__: a .pyc is trusted
        # by mtime in whole seconds and size, so a quick same-size edit would be missed
        # (and a build writes nothing into the site's folders).
        code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        with marked_output(label(path, root)):
            exec(code, module.__dict__)  # noqa: S102 - the site's own Python source
    except SyntaxError as error:
        del sys.modules[name]
        raise SourceError(f"SyntaxError: {error.msg}", file=path, line=error.lineno) from None
    except Exception as error:
        del sys.modules[name]
        raise error_in(path, error, "while loading", root) from error
    except (SystemExit, KeyboardInterrupt) as error:  # sys.exit() in the site's own code
        del sys.modules[name]
        raise error_in(path, error, "while loading; a data source cannot end renderer",
                       root) from None
    return module


def label(path: Path, root: Path) -> str:
    """A Python file as its printed lines are marked: relative to the site folder."""
    return site_relative(path, root)


def error_in(path: Path, error: BaseException, where: str, root: Path) -> SourceError:
    """`error`, raised by the code of `path`, at its innermost line in that file (or in
    the site's files)."""
    frames = user_frames(error.__traceback__, [root])
    own = [frame for frame in frames if frame.file == path] or list(frames)
    line = own[-1].line if own else None
    file = own[-1].file if own else path
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return SourceError(f"{text} ({where})", file=file, line=line, frames=frames)
