"""Links: every link in the output that points to a URL the site does not produce.

While the site produces the same files as last time, a page that was not rendered again
links to what it linked to then, so only new renderings are checked.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from .cache import BuildState
from .errors import SiteError, display_path
from .rendering import Rendering
from .routing import Target, request_candidates
from .site import Site


def find_broken_links(site: Site, targets: dict[str, Target], rendered: dict[str, Rendering],
                      state: BuildState) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """For every output, its links to URLs the site does not produce.

    While the site produces the same files as last time, a page that was not rendered
    again links to what it linked to then, so only new renderings are checked.
    """
    same_files = state.outputs.keys() == targets.keys()
    base_path = site.config.base_path
    known: dict[str, bool] = {}  # a site links to the same few URLs from many pages
    rooted: dict[str, str | None] = {}  # links from the site's root resolve alike anywhere
    draft_urls: set[str] | None = None
    broken = {}
    for output in targets:
        if output not in rendered and same_files:
            remembered = state.outputs[output].broken
            # A broken link is looked at again: the draft it pointed to may be deleted
            # since, or the missing page it pointed to may be back as a draft.
            if not remembered:
                broken[output] = remembered
                continue
        links = rendered[output].links if output in rendered else state.outputs[output].links
        page_url = base_path + targets[output].url.lstrip("/")
        problems = []
        for link in links:
            if link in rooted:
                url = rooted[link]
            else:
                url = resolve_link(page_url, link, base_path)
                if link.startswith("/"):
                    rooted[link] = url
            if url is None:
                continue
            if url not in known:
                known[url] = produces(url, targets)
            if known[url]:
                continue
            if draft_urls is None:
                draft_urls = _draft_urls(site, targets)
            problems.append((link, url, "draft" if url in draft_urls else "missing"))
        broken[output] = tuple(problems)
    return broken


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
        with_drafts = Site(site.config, drafts=True).targets()
    except SiteError:
        return set()
    return {t.url for output, t in with_drafts.items() if output not in targets}
