"""The build (`renderer build`): what changed and what to render, rendering in forked
workers, link checks, the atomic commit to the output folder, and the caches it keeps.

May import the site core, digests and errors; nothing outside it imports it but `cli`.
"""

from .freeze import BuildResult, build

__all__ = ["BuildResult", "build"]
