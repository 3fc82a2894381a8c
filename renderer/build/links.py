"""Links: every link in the output that points to a URL the site does not produce.

While the site produces the same files as last time, a page that was not rendered again
links to what it linked to then, so only new renderings are checked.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from ..errors import SiteError, display_path
from ..routing import Target, request_candidates
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
        self.base_path = site.config.base_path
        self.known: dict[str, bool] = {}  # a site links to the same few URLs from many pages
        self.rooted: dict[str, str | None] = {}  # links from the root resolve alike anywhere
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
        page_url = self.base_path + self.targets[output].url.lstrip("/")
        problems = []
        for link in links:
            if link in self.rooted:
                url = self.rooted[link]
            else:
                url = resolve_link(page_url, link, self.base_path)
                if link.startswith("/"):
                    self.rooted[link] = url
            if url is None:
                continue
            if url not in self.known:
                self.known[url] = produces(url, self.targets)
            if self.known[url]:
                continue
            if self.draft_urls is None:
                self.draft_urls = _draft_urls(self.site, self.targets)
            problems.append((link, url, "draft" if url in self.draft_urls else "missing"))
        return tuple(problems)


def format_broken(site: Site, output: str, problem: tuple[str, str, str]) -> str:
    link, url, kind = problem
    what = "a draft" if kind == "draft" else "a URL the site does not produce"
    return f"{display_path(site.config.output / output)}: link to {link} ({url}), {what}"


def resolve_link(page_url: str, link: str, base_path: str) -> str | None:
    """A link as a site-relative path, or None when it points outside the site."""
    if not link or link.startswith(("https:", "http:", "//", "mailto:", "tel:", "data:",
                                    "javascript:")):
        return None  # the common schemes without urlsplit's cost: a site links out a lot
    if link.startswith("/") and "/." not in link:
        path = link  # already absolute and plain: the common case, without urljoin's cost
    elif urlsplit(link).scheme:
        return None
    else:
        path = urlsplit(urljoin(page_url, link)).path
    if not path.startswith(base_path):
        return None
    return "/" + path[len(base_path):]


def produces(url: str, targets: dict[str, Target]) -> bool:
    exact, folder = request_candidates(url)
    return (exact is not None and exact in targets) or (folder is not None and folder in targets)


def _draft_urls(site: Site, targets: dict[str, Target]) -> set[str]:
    if site.drafts:
        return set()
    try:
        with_drafts = Site(site.config, drafts=True, now=site.sources.items.fixed_now,
                           future=site.sources.items.future).targets()
    except SiteError:
        return set()
    return {t.url for output, t in with_drafts.items() if output not in targets}
