"""Files to values: Markdown pages with front matter, and TOML/JSON/YAML data files.

A Markdown page's HTML is made only when a template or source asks for `content` or
`toc`: listing 5,000 posts by title must not convert 5,000 bodies.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .converter import MarkdownConverter
from .dates import front_matter_dates
from .digests import text_digest
from .errors import ContentError, site_relative
from .toml_lines import toml_error_line, toml_message
from .yaml_loader import safe_loader

FENCES = {"---": "yaml", "+++": "toml"}
READ_SIZE = 65536  # a post in one read, most pages too
SPLIT_HEAD = 4096  # characters cut into lines to find the front matter's end, at first


class Page(Mapping[str, Any]):
    """A Markdown page: its front matter keys, `slug`, `source`, `content` and `toc`.

    Templates read it as `page.title` or `page["title"]`; Python sources as a mapping.
    The body is read from the file again only if its HTML is not in the cache.
    """

    __slots__ = ("_fields", "_body", "_digest", "path", "_converter", "on_body")

    def __init__(self, fields: dict[str, Any], path: Path, converter: MarkdownConverter, *,
                 body: str | None = None, digest: str | None = None) -> None:
        self._fields = fields
        self.path = path
        self._converter = converter
        self._body = body
        self._digest = digest if digest is not None else text_digest(body or "")
        # Told whenever the body (or its HTML) is read: a page that lists posts by title
        # does not depend on their bodies, and the dependency record says so.
        self.on_body: Callable[[Path], None] | None = None

    @property
    def body(self) -> str:
        """The Markdown text below the front matter. A page from the cache reads it from
        its file each time: kept, 20,000 bodies would hold 100 MB for nothing."""
        if self.on_body is not None:
            self.on_body(self.path)
        if self._body is None:
            return split_front_matter_text(read_text(self.path), self.path)[1]
        return self._body

    @property
    def digest(self) -> str:
        """A hash of the body, the key of its HTML in the Markdown cache."""
        return self._digest

    def __getitem__(self, key: str) -> Any:
        try:
            return self._fields[key]  # front matter first: a `content` key there wins
        except KeyError:
            if key != "content" and not (key == "toc" and self._converter.has_toc):
                raise
        # Converted again (from the Markdown cache) on each use rather than kept here: a
        # list of pages lives as long as the site, and its HTML need not.
        if self.on_body is not None:
            self.on_body(self.path)
        html, toc = self._converter.convert_digest(self._digest, lambda: self.body, self.path)
        return Markup(html if key == "content" else toc)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def _generated(self) -> list[str]:
        keys = ["content", "toc"] if self._converter.has_toc else ["content"]
        return [key for key in keys if key not in self._fields]

    def __iter__(self) -> Iterator[str]:
        yield from self._fields
        yield from self._generated()

    def __len__(self) -> int:
        return len(self._fields) + len(self._generated())

    def __contains__(self, key: object) -> bool:
        return key in self._fields or key in self._generated()

    def __repr__(self) -> str:
        return f"<Page {self._fields.get('source')!r}>"

    # A page is itself, not its values: `post == other`, `posts.index(post)` and `post in
    # posts` must not convert Markdown (Mapping's own __eq__ compares every value,
    # `content` included: a list of 135 posts did 404 conversions).
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def is_draft(self) -> bool:
        return self._fields.get("draft") is True

    def own_fields(self) -> dict[str, Any]:
        """The page's fields themselves, for the source that completes them (items.py)."""
        return self._fields

    def front_matter(self) -> dict[str, Any]:
        """The fields read from the file, as the page cache keeps them."""
        return dict(self._fields)

    def take_body(self, newer: Page) -> None:
        """Become `newer`, whose front matter is the same: only the body changed, so
        every list holding this page stays right as it is."""
        self._body = newer._body
        self._digest = newer._digest


def read_text(path: Path) -> str:
    return decode_text(read_bytes(path), path)


def read_bytes(path: Path) -> bytes:
    """A file's bytes, read without buffered IO's set-up (`Path.read_bytes` makes twice
    the system calls): 5.5 us a post instead of 14, twice a post in a cold build."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            chunks = []
            while chunk := os.read(descriptor, READ_SIZE):
                chunks.append(chunk)
        finally:
            os.close(descriptor)
    except OSError as error:
        raise ContentError(f"cannot read: {error.strerror}", file=path) from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def decode_text(data: bytes, path: Path) -> str:
    """A file's bytes as `open` in text mode reads them: UTF-8 with or without a byte
    order mark, every line ending made "\n". For a caller that needs the bytes too (to
    hash them), which then reads the file once."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ContentError(f"not UTF-8 text: {error.reason} at byte {error.start}",
                           file=path) from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def load_page(path: Path, root: Path, converter: MarkdownConverter) -> Page:
    """Read one Markdown file into a Page."""
    fields, body = read_page(path, root)
    return Page(fields, path, converter, body=body)


def read_page(path: Path, root: Path) -> tuple[dict[str, Any], str]:
    """The fields (front matter, `slug`, `source`) and the body of a Markdown file."""
    block, body = read_page_text(path)
    return page_fields(block, path, root), body


FrontMatter = tuple[str, str] | None  # (kind, text) of a front matter block, or no block


def read_page_text(path: Path) -> tuple[FrontMatter, str]:
    """A Markdown file's front matter block, unparsed, and its body."""
    return split_front_matter_text(read_text(path), path)


def page_fields(block: FrontMatter, path: Path, root: Path) -> dict[str, Any]:
    """A page's fields: its front matter parsed, with `slug` and `source`."""
    fields = parse_front_matter(block, path)
    fields.setdefault("slug", path.stem)
    if not isinstance(fields["slug"], str):
        fields["slug"] = str(fields["slug"])
    fields["source"] = site_relative(path, root)
    return fields


def front_matter_digest(block: FrontMatter) -> str:
    """A digest of a front matter block's text. The same text in the same file gives the
    same fields (they depend on nothing else), so after an edit below the front matter
    the page cache's fields serve, and PyYAML is not even imported."""
    return text_digest("" if block is None else f"{block[0]}\0{block[1]}")


def split_front_matter_text(text: str, path: Path) -> tuple[FrontMatter, str]:
    """((kind, front matter text) or None, body) without parsing the front matter. Only
    the first few kilobytes are cut into lines when the front matter ends there: the
    body, most of a file, is not."""
    head = text[:SPLIT_HEAD]
    if len(head) < len(text):
        lines = head.splitlines(keepends=True)[:-1]  # the last one may be cut short
        split = _split_lines(lines, text) if lines else None
        if split is not None:
            return split
    lines = text.splitlines(keepends=True)
    split = _split_lines(lines, text)
    if split is None:
        raise ContentError(f"front matter opened with {lines[0].rstrip()} is never closed",
                           file=path, line=1)
    return split


def _split_lines(lines: list[str], text: str) -> tuple[FrontMatter, str] | None:
    """The split of `text`, of which `lines` are the first lines; None when its front
    matter does not end among them."""
    fence = lines[0].rstrip() if lines else ""
    if fence not in FENCES:
        return None, text
    for end in range(1, len(lines)):
        if lines[end].rstrip() == fence or (fence == "---" and lines[end].rstrip() == "..."):
            body_start = sum(map(len, lines[:end + 1]))
            return (FENCES[fence], "".join(lines[1:end])), text[body_start:]
    return None


def parse_front_matter(block: FrontMatter, path: Path) -> dict[str, Any]:
    """Front matter (YAML between --- lines, TOML between +++ lines) as a dict."""
    if block is None:
        return {}
    value = parse_data(block[1], block[0], path, first_line=2)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ContentError(f"front matter must be a mapping of keys, not {type(value).__name__}",
                           file=path, line=2)
    return front_matter_dates(value, block, path, first_line=2)


def load_data_file(path: Path) -> Any:
    """The parsed value of a .toml, .json, .yaml or .yml file."""
    kind = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}[path.suffix]
    return parse_data(read_text(path), kind, path)


def parse_data(text: str, kind: str, path: Path, first_line: int = 1) -> Any:
    """Parse TOML, JSON or YAML, turning its error into one naming file and line."""
    try:
        if kind == "toml":
            return tomllib.loads(text)
        if kind == "json":
            return json.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = toml_error_line(error)
        raise ContentError(f"TOML syntax error: {toml_message(error)}", file=path,
                           line=line + first_line - 1 if line else first_line) from None
    except json.JSONDecodeError as error:
        raise ContentError(f"JSON syntax error: {error.msg}", file=path,
                           line=error.lineno + first_line - 1) from None
    return parse_yaml(text, path, first_line)


def parse_yaml(text: str, path: Path, first_line: int) -> Any:
    """YAML with the safe loader, libyaml's when PyYAML has it (ten times faster).
    PyYAML is imported here: a rebuild that parses nothing new does not pay for it."""
    import yaml

    try:
        return yaml.load(text, Loader=safe_loader())  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        last = max(len(text.splitlines()) - 1, 0)
        if mark is not None and mark.line > last:  # found at the end: where it opened
            mark = getattr(error, "context_mark", None) or mark
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        message = f"{context}, {problem}" if context else problem
        what = "YAML error" if isinstance(error, yaml.constructor.ConstructorError) \
            else "YAML syntax error"
        raise ContentError(f"{what}: {message}", file=path,
                           line=min(mark.line, last) + first_line if mark else first_line) from None

