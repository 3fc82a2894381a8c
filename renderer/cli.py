"""The `renderer` command: parse the arguments, call one function, report.

Exit codes: 0 success, 1 an error in the site (printed as `file:line: message`),
2 a usage error (click's own).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from . import __version__

SITE_ARGUMENT = click.argument(
    "site", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
DRAFTS_OPTION = click.option("--drafts", is_flag=True, help="Include pages marked draft: true.")
TIMEOUT_OPTION = click.option("--timeout", type=click.FloatRange(min=0), default=60,
                              show_default=True,
                              help="Seconds a page may take to render (0: no limit).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="renderer")
@click.option("--debug", is_flag=True, help="Show renderer's own traceback on errors.")
@click.pass_context
def main(context: click.Context, debug: bool) -> None:
    """URL rules in site.toml, Jinja2 templates and data: served live or built to HTML."""
    context.obj = {**(context.obj or {}), "debug": debug}


def run(argv: list[str] | None = None) -> None:
    """The `renderer` command as a process (the console script, `python -m renderer`):
    free to end a finished build without tearing its objects down."""
    main.main(args=argv, prog_name="renderer", obj={"exit_fast": True})


@contextmanager
def site_errors(context: click.Context) -> Iterator[None]:
    """Print a SiteError as one `file:line: message` line and exit 1."""
    from .errors import SiteError

    try:
        yield
    except SiteError as error:
        if context.obj.get("debug"):
            raise
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(1)


@contextmanager
def build_errors(context: click.Context) -> Iterator[None]:
    """`site_errors`, and Ctrl+C or SIGTERM ending a build or check: a line, and the
    shell's exit code for the signal."""
    from .build.signals import Interrupted

    with site_errors(context):
        try:
            yield
        except Interrupted as stop:
            click.secho("error: interrupted", fg="red", err=True)
            sys.exit(128 + stop.signal)


def parse_now(context: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """`--now TIME` as the moment it names (ns since the epoch), for build and check."""
    from .dates import parse_moment

    try:
        return parse_moment(value) if value is not None else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--now") from None


def warn(message: str) -> None:
    click.secho(f"warning: {message}", fg="yellow", err=True)


def finish_interrupted_builds(site: Path) -> None:
    """Before reading a site: finish the commit of a build into it that was killed
    midway, and remove what builds that ended left (build/journal.py)."""
    from .build.journal import recover

    recover(site.resolve() / ".renderer-cache", warn)


@main.command()
@SITE_ARGUMENT
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: [site] output, or build/).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of CPUs).")
@DRAFTS_OPTION
@click.option("--strict", is_flag=True, help="Fail on warnings (broken links, links to drafts).")
@click.option("--clean", is_flag=True, help="Ignore the build cache and render everything.")
@TIMEOUT_OPTION
@click.option("--now", metavar="TIME", callback=parse_now,
              help="Build as of this time (2030-01-01, 2030-01-01T09:00+02:00): pages dated "
                   "up to it are published. Default: now.")
@click.option("--swap", is_flag=True, default=None,
              help="Exchange the whole new output folder with the old one in one step, so "
                   "that a web server serving it never sees a mix of two builds (Linux; "
                   "as [build] swap = true).")
@click.option("--verbose", "-v", is_flag=True,
              help="List every file rendered, copied, written and removed.")
@click.pass_context
def build(context: click.Context, site: Path, output: Path | None, jobs: int | None,
          drafts: bool, strict: bool, clean: bool, timeout: float,
          now: int | None, swap: bool | None, verbose: bool) -> None:
    """Render every URL of SITE to static files."""
    from .build import build as run_build

    with build_errors(context):
        result = run_build(site, output=output, drafts=drafts, strict=strict,
                           clean=clean, jobs=jobs or os.cpu_count() or 1,
                           progress=progress_printer(), warn=warn,
                           timeout=timeout or None, now=now, swap=swap)
        for warning in result.warnings:
            warn(warning)
        if verbose:
            for line in result.details():
                click.echo(f"  {line}")
        click.echo(result.summary())
    if context.obj.get("exit_fast"):
        # Done, and everything is written and closed: leave without freeing 100,000
        # objects one by one (a one-post rebuild would spend a tenth of its time there).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@main.command(short_help="Check SITE as build --strict would; write nothing.")
@SITE_ARGUMENT
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="The output folder the messages name, as build's (nothing is written).")
@DRAFTS_OPTION
@TIMEOUT_OPTION
@click.option("--now", metavar="TIME", callback=parse_now,
              help="Check as of this time (2030-01-01, 2030-01-01T09:00+02:00), as "
                   "build --now. Default: now.")
@click.pass_context
def check(context: click.Context, site: Path, output: Path | None, drafts: bool,
          timeout: float, now: int | None) -> None:
    """Render every URL of SITE without writing anything, and report what build --strict
    would: exit 0 when it would succeed, 1 when not (for CI and pre-commit hooks)."""
    from .build.check import check as run_check

    with build_errors(context):
        result = run_check(site, output=output, drafts=drafts, timeout=timeout or None,
                           now=now)
        for problem in result.errors:
            click.secho(f"error: {problem}", fg="red", err=True)
        click.echo(result.summary())
        if not result.ok:
            sys.exit(1)


def progress_printer() -> Callable[[int, int], None] | None:
    """Progress on stderr for long builds: every 500 files, or on a terminal a live line."""
    terminal = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if total < 500:
            return
        if terminal:
            end = "\n" if done == total else ""
            click.echo(f"\rrendered {done}/{total}", err=True, nl=False)
            click.echo(end, err=True, nl=False)
        elif done % 500 == 0 or done == total:
            click.echo(f"rendered {done}/{total}", err=True)

    return show


@main.command(short_help="Serve SITE live: render on demand, reload on edits.")
@SITE_ARGUMENT
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=5000, show_default=True,
              help="Port to listen on (0: any free port; the first line says which).")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a browser.")
@click.option("--drafts/--no-drafts", default=True, show_default=True,
              help="Show pages marked draft: true.")
@click.option("--timeout", type=click.FloatRange(min=0), default=60, show_default=True,
              help="Seconds a page may take to render before it is stopped (0: no limit).")
@click.option("--allow-host", "allow_hosts", metavar="NAME", multiple=True,
              help="Also answer requests addressed to NAME (a Host header; repeatable). "
                   "Bound to loopback, the server answers only localhost, *.localhost, "
                   "127.x.x.x, ::1 and the --host address, so that no other web site can "
                   "read it through DNS rebinding.")
@click.pass_context
def serve(context: click.Context, site: Path, host: str, port: int, open_browser: bool,
          drafts: bool, timeout: float, allow_hosts: tuple[str, ...]) -> None:
    """Serve SITE, rendering on demand and reloading the browser on every edit."""
    from .serve.server import serve as run_serve

    with site_errors(context):
        finish_interrupted_builds(site)
        run_serve(site, host=host, port=port, open_browser=open_browser, drafts=drafts,
                  timeout=timeout or None, allow_hosts=allow_hosts)


@main.command(short_help="List the URL rules of SITE and their URLs.")
@SITE_ARGUMENT
@click.option("--urls", is_flag=True, help="List every URL of every rule.")
@DRAFTS_OPTION
@click.pass_context
def routes(context: click.Context, site: Path, urls: bool, drafts: bool) -> None:
    """List the URL rules of SITE: rule, name, template, source, URL count."""
    from .site import Site

    with site_errors(context):
        finish_interrupted_builds(site)
        loaded = Site.load(site, drafts=drafts)
        rows = []
        for route in loaded.config.routes:
            targets = loaded.route_targets(route)
            source = route.each or route.page or (route.paginate.items if route.paginate else "")
            rows.append((route.url, route.name, route.template, source, str(len(targets)),
                         [t.url for t in targets]))
        print_table(("RULE", "NAME", "TEMPLATE", "SOURCE", "URLS"), [r[:5] for r in rows])
        if urls:
            for row in rows:
                click.echo(f"\n{row[0]}")
                for url in row[5]:
                    click.echo(f"  {url}")


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths,
                                                                           strict=True)).rstrip())


@main.command(short_help="Make a new site in DIRECTORY: a blog, or docs.")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--docs", is_flag=True,
              help="A documentation site (sidebar, contents page) instead of a blog.")
@click.pass_context
def new(context: click.Context, directory: Path, docs: bool) -> None:
    """Make a working site in DIRECTORY to start from: a blog, or with --docs a
    documentation site."""
    from .scaffold import create

    with site_errors(context):
        create(directory, "docs" if docs else "blog")
        click.echo(f"made a new site in {directory}; now: renderer serve {directory}")
