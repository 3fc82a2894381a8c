"""Links: every link in the output that points to a URL the site does not produce.

While the site produces the same files as last time, a page that was not rendered again
links to what it linked to then, so only new renderings are checked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote

from ..config import MARKDOWN_SUFFIXES
from ..content import read_page
from ..errors import SiteError, display_path
from ..linkscan import BrokenLinks, Origins
from ..routing import Target
from ..site import Site
from .rendering import Rendering
from .state import BuildState


class LinkCheck:
    """Every output's links to URLs the site does not produce, as (link, URL, "draft" or
    "missing"). A rendering is checked as it arrives (`add`), while the workers render
    the rest and this process would only wait; `finish` adds the outputs not rendered.

    While the site produces the same files as last time, a page that was not rendered
    again links to what it linked to then, so only new renderings are checked.
    """

    def __init__(self, site: Site, targets: dict[str, Target], state: BuildState) -> None:
        self.site = site
        self.targets = targets
        self.state = state
        self.links = BrokenLinks(targets, site.config.base_path, site.config.build.ignore_links)
        self.draft_urls: set[str] | None = None
        self.checked: dict[str, tuple[tuple[str, str, str], ...]] = {}

    def add(self, rendering: Rendering) -> None:
        self.checked[rendering.output] = self._problems(rendering.output, rendering.links)

    def finish(self) -> dict[str, tuple[tuple[str, str, str], ...]]:
        """The problems of every output, rendered or not."""
        state = self.state
        same_files = state.outputs.keys() == self.targets.keys()
        broken = {}
        for output in self.targets:
            if output in self.checked:
                broken[output] = self.checked[output]
                continue
            remembered = state.outputs[output].broken
            # A broken link is looked at again: the draft it pointed to may be deleted
            # since, or the missing page it pointed to may be back as a draft.
            if same_files and not remembered:
                broken[output] = remembered
            else:
                broken[output] = self._problems(output, state.outputs[output].links)
        return broken

    def _problems(self, output: str, links: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
        problems = []
        for link, url, kind in self.links.of(self.targets[output].url, links):
            if kind == "missing":
                if self.draft_urls is None:
                    self.draft_urls = _draft_urls(self.site, self.targets)
                kind = "draft" if url in self.draft_urls else "missing"
            problems.append((link, url, kind))
        return tuple(problems)

    def warnings(self, broken: dict[str, tuple[tuple[str, str, str], ...]],
                 rendered: Mapping[str, Rendering]) -> list[str]:
        """A line for each broken link: where it came from (the Markdown file and line,
        a data file, the template; see linkscan.Origins), what it is, and the page. One
        line for a link that many pages have from one place (a typo in the base template
        is one line, "in build/index.html and 5,765 more pages", not 5,766)."""
        config = self.site.config
        origins = Origins(config.root, config.templates, config.base_path)
        pages: dict[tuple[str, str, str, tuple[str, int | None] | None], list[str]] = {}
        for output in sorted(broken):
            if not broken[output]:
                continue
            entry = rendered.get(output)
            read = entry.dependencies if entry is not None \
                else self.state.outputs[output].dependencies
            route = self.targets[output].route
            template = config.templates / route.template if route is not None else None
            for link, url, kind in broken[output]:
                origin = origins.find(link, read, template)
                pages.setdefault((link, url, kind, origin), []).append(output)
        return [format_broken(self.site, outputs[0], (link, url, kind), origin,
                              others=len(outputs) - 1)
                for (link, url, kind, origin), outputs in pages.items()]


def format_broken(site: Site, output: str, problem: tuple[str, str, str],
                  origin: tuple[str, int | None] | None = None, others: int = 0) -> str:
    """`file:line: link to LINK (URL), what it is (in OUTPUT)`, where `origin` is the
    file (relative to the site folder) and line the link came from, and `others` the
    number of other pages with the same link from there. `(URL)` only when it says
    something the link does not: a relative link, or one moved under the base path."""
    link, url, kind = problem
    config = site.config
    page = display_path(config.output / output)
    if others:
        page += f" and {others:,} more page{'s' if others > 1 else ''}"
    where = ""
    if origin is not None:
        name, line = origin
        where = f"{display_path(config.root / name)}:{line}" if line else \
            display_path(config.root / name)
        if kind == "missing" and line and link.lower().endswith(MARKDOWN_SUFFIXES) \
                and name.endswith(MARKDOWN_SUFFIXES):  # a Markdown file no route renders
            file = config.root / os.path.dirname(name) / unquote(link)
            what = "a draft" if _is_draft(file, config.root) else \
                "a Markdown file that no route renders"
            return f"{where}: link to {link} ({display_path(file)}), {what} (in {page})"
    what = {"draft": "a draft", "outside": f"outside the site's base path {config.base_path}"
            }.get(kind, "a URL the site does not produce")
    target = link if url == link else f"{link} ({url})"
    return f"{where}: link to {target}, {what} (in {page})" if where else \
        f"{page}: link to {target}, {what}"


def _is_draft(path: Path, root: Path) -> bool:
    try:
        return read_page(path, root)[0].get("draft") is True
    except (SiteError, OSError):
        return False


def _draft_urls(site: Site, targets: dict[str, Target]) -> set[str]:
    if site.drafts:
        return set()
    try:
        with_drafts = Site(site.config, drafts=True, now=site.sources.items.fixed_now,
                           future=site.sources.items.future).targets()
    except SiteError:
        return set()
    return {t.url for output, t in with_drafts.items() if output not in targets}
