"""`renderer check`: every page rendered as a build renders it, and nothing written.

For CI and pre-commit hooks: what `renderer build --strict` would report (an error in a
page, a broken link, a link to a draft, a missing sort key, a symbolic link skipped) and
nothing else, without an output folder, a staging folder or a cache. It goes through
the build's own parts (`Site.render_target` in `render_in_time`, the link check and the
warnings of `links.py` and `skipped.py`, the `--strict` error of `freeze.py`), in one
process: a check has no cache to start from, and forks no workers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import load_config
from ..digests import bytes_digest
from ..errors import DEFAULT_TIMEOUT, SiteError
from ..site import Site
from .freeze import plural, strict_error
from .links import LinkCheck
from .rendering import Rendering, Shared, render_in_time, rendering_of
from .signals import interruptible
from .skipped import link_warnings, source_warnings
from .staging import check_output_folder
from .state import BuildState


@dataclass
class CheckResult:
    """What a check found: the pages, the distinct errors of the pages that failed, and
    (when none failed) the `--strict` error of the warnings."""

    pages: int = 0
    static: int = 0
    errors: list[SiteError] = field(default_factory=list)
    failed: int = 0  # pages whose render raised one of `errors`
    warnings: int = 0  # the warnings in the `--strict` error among `errors`, each a problem
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        checked = f"checked {plural(self.pages, 'page')} and " \
                  f"{plural(self.static, 'static file')} in {self.seconds:.2f} s"
        if self.ok:
            return f"{checked}, no problems"
        failed = f"{plural(self.failed, 'page')} failed, " if self.failed else ""
        problems = len(self.errors) - (1 if self.warnings else 0) + self.warnings
        return f"{checked}: {failed}{plural(problems, 'problem')}"


def check(site_dir: Path | str, *, output: Path | None = None, drafts: bool = False,
          timeout: float | None = DEFAULT_TIMEOUT, now: int | None = None) -> CheckResult:
    """Render every target of the site in `site_dir` as a build as of `now` would, and
    report what `build --strict` would. A SiteError that stops the whole site (site.toml,
    the URL list) is raised, as the build raises it."""
    started = time.perf_counter()
    with interruptible():
        config = load_config(site_dir, output=output)
        check_output_folder(config, config.output)
        site = Site(config, drafts=drafts, now=time.time_ns() if now is None else now)
        targets = site.targets()
        result = CheckResult(static=sum(1 for t in targets.values() if t.route is None))
        result.pages = len(targets) - result.static
        links = LinkCheck(site, targets, BuildState(""))
        shared = Shared(config.root)
        rendered: dict[str, Rendering] = {}
        distinct: dict[str, SiteError] = {}
        for output_path in sorted(targets):
            target = targets[output_path]
            try:
                page = render_in_time(site, target, timeout, "check")
            except SiteError as error:
                result.failed += 1
                distinct.setdefault(str(error), error)
                continue
            rendered[output_path] = rendering_of(target, page, bytes_digest(page.body),
                                                 shared, staged=False, stamp=(0, 0))
            links.add(rendered[output_path])
        result.errors = list(distinct.values())
        if not result.errors:  # as the build: links are checked once every page renders
            skipped = {str(link): str(to) for link, to in site.sources.links.skipped.items()}
            found = source_warnings(site, targets, rendered, BuildState(""))
            warnings = link_warnings(skipped) + found + \
                links.warnings(links.finish(), rendered)
            if warnings:
                result.errors.append(strict_error(warnings, links_only=not (skipped or found)))
                result.warnings = len(warnings)
    result.seconds = time.perf_counter() - started
    return result
