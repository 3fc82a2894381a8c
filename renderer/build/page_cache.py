"""The front matter cache: each Markdown file's parsed front matter and body digest, by
path, size and modification time, so that a rebuild parses only the pages that changed.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import Any

from ..digests import RACY_NS, code_stamp
from .storage import FORMAT, Warn, safe_loads, write_pickle

RESTAMP_LIMIT = 50


def pickle_fields(fields: dict[str, Any]) -> bytes | None:
    """Front matter as the page cache keeps it; None when it holds more than plain data
    and dates (a page whose fields then are not cached)."""
    try:
        pickled = pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)
        safe_loads(pickled)
    except (pickle.PicklingError, pickle.UnpicklingError, TypeError, AttributeError):
        return None
    return pickled


class PageCache:
    """Front matter and body digest of Markdown files, by path, size and mtime.

    Each page's fields are kept pickled, and unpickled (through the restricted
    unpickler) only when a page asks for them: after editing one post, a build looks
    at that post's entry alone, and reading 5,000 entries of fields in one go cost
    more than rendering the post. Unpickled anew, they are each page's own copy, so a
    source that changes a page's fields in place cannot change the cache. Fields parsed
    by another version of PyYAML (or of renderer) are not used.
    """

    def __init__(self, path: Path, warn: Warn, *, clean: bool) -> None:
        self.path = path
        self.warn = warn
        # relative path -> (mtime, size, pickled fields, body digest, front matter digest)
        self.entries: dict[str, tuple[int, int, bytes, str, str]] = {}
        self.written_at = 0
        self.put_at: dict[str, int] = {}  # entries made by this process, and when
        self.dirty = clean
        self.restamped = 0  # entries put again with the front matter they had
        self.code = code_stamp(["yaml"])
        if not clean and path.exists():
            self._load()

    def _load(self) -> None:
        try:
            value = safe_loads(self.path.read_bytes())
            if not isinstance(value, dict) or value.get("format") != FORMAT \
                    or value.get("code") != self.code:
                self.warn(f"{self.path}: discarding a front matter cache made by another "
                          "version of renderer, Python or PyYAML")
                return
            entries = value["pages"]
            if not isinstance(entries, dict) or not all(
                    type(e) is tuple and len(e) == 5 and type(e[2]) is bytes
                    and type(e[3]) is str and type(e[4]) is str
                    for e in entries.values()):
                raise ValueError("entries of the wrong shape")
            self.entries = entries
            self.written_at = value["written_at"]
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError,
                AttributeError, IndexError) as error:
            self.warn(f"{self.path}: discarding a corrupt front matter cache ({error})")

    def get(self, relative: str, stat: os.stat_result) -> tuple[dict[str, Any], str] | None:
        """The fields (a copy of its own) and body digest of an unchanged page."""
        entry = self.entries.get(relative)
        if entry is None:
            return None
        mtime, size, _, digest, _ = entry
        if mtime != stat.st_mtime_ns or size != stat.st_size \
                or mtime >= self.put_at.get(relative, self.written_at) - RACY_NS:
            return None
        fields = self.fields(relative)
        return None if fields is None else (fields, digest)

    def body_digests(self) -> set[str]:
        """The digest of every body the cache knows: the Markdown cache keeps their HTML."""
        return {entry[3] for entry in self.entries.values()}

    def same_front_matter(self, relative: str, front_digest: str) -> bool:
        """Whether a page's front matter text is as the cache saw it (its body may not be)."""
        entry = self.entries.get(relative)
        return entry is not None and entry[4] == front_digest

    def fields_for(self, relative: str, front_digest: str) -> dict[str, Any] | None:
        """The fields (a copy of its own) of a page whose front matter text is as the
        cache saw it, whatever its body: equal text, equal fields."""
        if not self.same_front_matter(relative, front_digest):
            return None
        return self.fields(relative)

    def put(self, relative: str, stat: os.stat_result, fields: dict[str, Any],
            digest: str, front_digest: str) -> None:
        pickled = pickle_fields(fields)
        if pickled is not None:
            self.put_pickled(relative, stat, pickled, digest, front_digest)

    def put_pickled(self, relative: str, stat: os.stat_result, pickled: bytes,
                    digest: str, front_digest: str) -> None:
        """`put`, for fields `pickle_fields` pickled (in a worker process, say)."""
        previous = self.entries.get(relative)
        self.entries[relative] = (stat.st_mtime_ns, stat.st_size, pickled, digest, front_digest)
        self.put_at[relative] = time.time_ns()
        if previous is None or previous[2] != pickled or previous[4] != front_digest:
            self.dirty = True
        else:
            self.restamped += 1

    def save(self, started: int) -> None:
        """Write the cache; its entries are trusted as of `started` (the build's start).

        Not when all this build learned is new stamps for pages whose front matter is as
        the file has it (after editing a post's text): the next build parses those few
        again, which costs less than writing 5,000 entries. The front matter the file
        keeps is what matters (it tells a body edit from a front matter edit), and it is
        current. Past `RESTAMP_LIMIT` such pages, the file is written after all."""
        if self.dirty or self.restamped > RESTAMP_LIMIT:
            write_pickle(self.path, {"format": FORMAT, "code": self.code,
                                      "written_at": started, "pages": self.entries})
            self.dirty = False

    def fields(self, relative: str) -> dict[str, Any] | None:
        """The front matter of a page as the last build saw it, whatever the file is now
        (a copy of its own). An entry that does not unpickle to a mapping of plain data is
        dropped with a warning, and its page is read again."""
        entry = self.entries.get(relative)
        if entry is None:
            return None
        try:
            fields = safe_loads(entry[2])
            if type(fields) is not dict:
                raise ValueError("not a mapping")
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError,
                AttributeError, IndexError) as error:
            self.warn(f"{self.path}: discarding a corrupt entry for {relative} ({error})")
            del self.entries[relative]
            self.dirty = True
            return None
        return fields
