"""Time renderer, the bare loop, Hugo, Eleventy, Pelican and MkDocs building the same site.

    python benchmarks/compare.py [--posts 1000] [--runs 3] [--tools renderer,bare,hugo,...]

For each size, generate.py writes the benchmark site (N posts of about 600 words with a
highlighted Python block; YAML front matter with title, date, tags and summary), and
compare_sites.py lays the same posts out for each other tool, with templates that make the
same pages: one per post, an index listing every post (title, date, summary), one per tag, and
the about and colophon pages. Then, after one untimed warm-up round, each round builds the site
once with every tool, from scratch (the output folder and the tool's caches removed first,
untimed), the order reversed every other round; the figure is the median wall time of the
rounds, from process start to exit, and the median CPU time (user + system of the process, its
threads and the workers it waited for, from os.wait4: the work apart from how it spreads over
the CPUs). After every run the output is checked (untimed): N post
pages each with its code highlighted, the index linking every post, one page per tag, so that
no tool is timed doing less. Ratios to the bare loop are the median of the rounds' own ratios
(runs seconds apart share the machine's speed of the moment).

The tools and what each does differently (say so next to any figure):

- renderer: `renderer build SITE --output OUT --clean` (two worker processes on two CPUs, its
  default), the generated site as it is: Python-Markdown with fenced_code, tables, toc and
  codehilite (Pygments), Jinja2, a Python source for the tags. Also writes its build cache.
- bare: `bare_loop.py SITE OUT --jobs 2`, the floor: the same libraries in a plain loop, no
  URL rules, records, caches or checks; byte for byte renderer's output. `bare1` is the same
  with `--jobs 1`, the floor for the one-process tools below.
- hugo: `hugo --source S --destination OUT --cacheDir C` (Go; one process, all CPUs). Goldmark
  Markdown; code highlighted by Chroma, not Pygments (its own lexer and HTML); Go templates.
  Feeds, sitemap, robots.txt, the /posts/ section page, the /tags/ list and 404 are turned off
  (disableKinds), as renderer's site has none.
- eleventy: `eleventy` (the binary `npx @11ty/eleventy` runs) in the site folder, NODE_PATH
  set to the node_modules outside the repository (Node.js; one process). markdown-it (no
  heading ids: no anchor plugin), code highlighted by Prism at build time
  (@11ty/eleventy-plugin-syntaxhighlight), Nunjucks templates; tag pages by paginating over
  the tag collections.
- pelican: `pelican content -s pelicanconf.py -o OUT` (Python; one process). Python-Markdown
  with the same extensions and Pygments; Jinja2; front matter as Pelican's `Key: value`
  metadata (YAML needs a plugin); it also converts each summary to HTML. Categories, authors,
  archives, the tag list and feeds off.
- mkdocs: `mkdocs build -d OUT` (Python; one process). Python-Markdown with the same
  extensions and Pygments; one Jinja2 template; search plugin off. No tag pages: MkDocs has
  none built in, so it builds the posts, the index and the two pages only (post pages name
  their tags as text), and writes its sitemap.xml(.gz), which it always does.

Install the other tools outside the repository (`--setup` runs these):

    apt-get install -y hugo                      # Debian's package: 0.111
    python3 -m venv /tmp/compare-tools/pyvenv && /tmp/compare-tools/pyvenv/bin/pip install \
        pelican mkdocs markdown pygments
    npm install --prefix /tmp/compare-tools/eleventy @11ty/eleventy \
        @11ty/eleventy-plugin-syntaxhighlight

Run it with the project's .venv python (the bare loop imports its libraries). The report, on
stdout, is Markdown; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import compare_sites
from generate import TAGS, generate
from run import claim_workdir, default_workdir, failure, progress, run_once

HERE = Path(__file__).resolve().parent
TOOLS = ["renderer", "bare", "bare1", "hugo", "eleventy", "pelican", "mkdocs"]
MARKERS = {  # what a highlighted code block looks like in each tool's HTML
    "hugo": 'class="chroma"',
    "eleventy": 'class="token ',
}
RUN_MARKER = ".renderer-compare-run"


@dataclass
class Tool:
    """One tool at one size: how to lay out, clean and build the site, and its runs."""

    name: str
    root: Path  # the site folder in this tool's layout
    out: Path
    command: list[str]
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)  # added to os.environ
    caches: list[Path] = field(default_factory=list)
    tag_pages: bool = True
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system, children and threads
    error: str | None = None


@dataclass
class Paths:
    """Where the other tools are installed."""

    renderer: list[str]
    pyvenv: Path
    eleventy: Path


def setup(paths: Paths) -> None:
    """Install Hugo, Pelican, MkDocs and Eleventy outside the repository."""
    if not shutil.which("hugo"):
        subprocess.run(["apt-get", "install", "-y", "hugo"], check=True)
    if not (paths.pyvenv / "bin" / "pelican").exists():
        subprocess.run([sys.executable, "-m", "venv", str(paths.pyvenv)], check=True)
        subprocess.run([str(paths.pyvenv / "bin" / "pip"), "install", "-q", "pelican", "mkdocs",
                        "markdown", "pygments"], check=True)  # fmt: skip
    if not (paths.eleventy / "node_modules" / ".bin" / "eleventy").exists():
        paths.eleventy.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(paths.eleventy), "--no-audit",
                        "--no-fund", "@11ty/eleventy", "@11ty/eleventy-plugin-syntaxhighlight"],
                       check=True)  # fmt: skip


def make_tool(name: str, site: Path, base: Path, paths: Paths) -> Tool:
    """Lay the site out for `name` (untimed) and say how to build it."""
    out = base / f"out-{name}"
    root = base / f"site-{name}"
    if name == "renderer":
        cmd = [*paths.renderer, "build", str(site), "--output", str(out), "--clean"]
        return Tool(name, site, out, cmd)
    if name in ("bare", "bare1"):
        jobs = "2" if name == "bare" else "1"
        cmd = [sys.executable, str(HERE / "bare_loop.py"), str(site), str(out), "--jobs", jobs]
        return Tool(name, site, out, cmd)
    if name == "hugo":
        compare_sites.hugo(site, root)
        cache = root / ".hugo-cache"
        cmd = ["hugo", "--source", str(root), "--destination", str(out),
               "--cacheDir", str(cache)]  # fmt: skip
        return Tool(name, root, out, cmd, caches=[cache, root / "resources"])
    if name == "eleventy":
        modules = paths.eleventy / "node_modules"
        compare_sites.eleventy(site, root)
        cmd = [str(modules / ".bin" / "eleventy"), "--quiet", f"--output={out}"]
        return Tool(name, root, out, cmd, cwd=root, caches=[root / ".cache"],
                    env={"NODE_PATH": str(modules)})  # fmt: skip
    if name == "pelican":
        compare_sites.pelican(site, root)
        cmd = [str(paths.pyvenv / "bin" / "pelican"), "content", "-s", "pelicanconf.py",
               "-o", str(out), "-q"]  # fmt: skip
        return Tool(name, root, out, cmd, cwd=root, caches=[root / "cache", root / "__pycache__"])
    if name == "mkdocs":
        compare_sites.mkdocs(site, root)
        cmd = [str(paths.pyvenv / "bin" / "mkdocs"), "build", "-q", "-d", str(out)]
        return Tool(name, root, out, cmd, cwd=root, tag_pages=False)
    raise SystemExit(f"error: unknown tool {name!r}; choose from {', '.join(TOOLS)}")


def version(tool: Tool, paths: Paths) -> str:
    """The tool's version as it reports it (the bare loop: its libraries')."""
    if tool.name.startswith("bare"):
        import jinja2
        import markdown
        import pygments

        return (f"Python {sys.version.split()[0]} (Markdown {markdown.__version__}, "
                f"Jinja2 {jinja2.__version__}, Pygments {pygments.__version__})")
    ask = {
        "renderer": [*paths.renderer, "--version"],
        "hugo": ["hugo", "version"],
        "eleventy": [tool.command[0], "--version"],
        "pelican": [tool.command[0], "--version"],
        "mkdocs": [tool.command[0], "--version"],
    }[tool.name]
    result = subprocess.run(ask, capture_output=True, text=True, check=False, cwd=tool.cwd)
    found = re.search(r"\d+\.\d+(?:\.\d+)?", result.stdout or result.stderr)
    return found.group(0) if found else "?"


def check_output(tool: Tool, posts: int, tags: int) -> str | None:
    """Why the output is short of the site (None if it is whole): every post page with its
    code highlighted, the index linking every post, a page per tag."""
    marker = MARKERS.get(tool.name, 'class="codehilite"')
    pages = list(tool.out.glob("posts/*/index.html"))
    if len(pages) != posts:
        return f"{len(pages)} post pages, not {posts}"
    plain = [p for p in pages if marker not in p.read_text(encoding="utf-8")]
    if plain:
        return f"{len(plain)} post pages without {marker}, e.g. {plain[0]}"
    index = tool.out / "index.html"
    linked = set(re.findall(r'href="/posts/([^/"]+)/"', index.read_text(encoding="utf-8")))
    if len(linked) != posts:
        return f"the index links {len(linked)} posts, not {posts}"
    found = len(list(tool.out.glob("tags/*/index.html")))
    if found != (tags if tool.tag_pages else 0):
        return f"{found} tag pages, not {tags if tool.tag_pages else 0}"
    return None


def html_files(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.html"))


def run_tool(
    tool: Tool, log: Path, posts: int, tags: int, timeout: float
) -> tuple[float, float] | None:
    """One cold build: clean (untimed), run, check the output (untimed); wall and CPU s."""
    shutil.rmtree(tool.out, ignore_errors=True)
    for cache in tool.caches:
        shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, **tool.env}
    cwd = os.getcwd()
    if tool.cwd:
        os.chdir(tool.cwd)  # run_once starts the command in the current folder
    try:
        outcome = run_once(tool.command, log, env, timeout)
    finally:
        os.chdir(cwd)
    if outcome.returncode != 0:
        tool.error = failure(outcome, timeout)
    else:
        tool.error = check_output(tool, posts, tags)
    return None if tool.error else (outcome.seconds, outcome.cpu)


def bench_size(n: int, names: list[str], args: argparse.Namespace, paths: Paths) -> list[dict]:
    """Every tool at one size: a warm-up round, then --runs rounds; one result per tool."""
    base = claim_workdir(args.workdir / f"compare-n{n}", RUN_MARKER, "compare.py")
    site = base / "site"
    progress(f"== {n} posts: generating {site}")
    generate(site, n, args.seed)
    tags = len({t for p in site.glob("content/posts/*.md") for t in _tags(p)})
    assert tags <= len(TAGS)
    tools = [make_tool(name, site, base, paths) for name in names]
    logs = base / "logs"
    logs.mkdir(exist_ok=True)
    for k in range(-args.warmup, args.runs):
        order = tools if k % 2 == 0 else tools[::-1]
        for tool in order:
            if tool.error:
                continue
            what = "warm-up" if k < 0 else f"round {k + 1}/{args.runs}"
            timed = run_tool(tool, logs / f"{tool.name}-{k}.log", n, tags, args.timeout)
            if timed is None:
                progress(f"   {what} {tool.name}: failed: {tool.error}")
                continue
            progress(f"   {what} {tool.name}: {timed[0]:.2f} s, CPU {timed[1]:.2f} s")
            if k >= 0:
                tool.times.append(timed[0])
                tool.cpu.append(timed[1])
    results = [summary(tool, tools, n, paths) for tool in tools]
    if not args.keep and not any(tool.error for tool in tools):
        shutil.rmtree(base)
    return results


def _tags(path: Path) -> list[str]:
    match = re.search(r"^tags: \[(.*)\]$", path.read_text(encoding="utf-8"), re.M)
    return [t.strip() for t in match.group(1).split(",")] if match else []


def summary(tool: Tool, tools: list[Tool], n: int, paths: Paths) -> dict:
    """One tool's figures: median and range, the ratios to the bare loops by round."""
    result: dict = {"posts": n, "tool": tool.name, "version": version(tool, paths),
                    "error": tool.error, "times": tool.times, "cpu": tool.cpu,
                    "html_files": html_files(tool.out) if not tool.error else None}
    if tool.error or not tool.times:
        return result
    result["median"] = statistics.median(tool.times)
    result["cpu_median"] = statistics.median(tool.cpu)
    for floor in tools:
        if floor.name in ("bare", "bare1") and not floor.error and floor.times:
            pairs = zip(tool.times, floor.times, strict=True)
            result[f"x_{floor.name}"] = statistics.median(a / b for a, b in pairs)
            pairs = zip(tool.cpu, floor.cpu, strict=True)
            result[f"x_cpu_{floor.name}"] = statistics.median(a / b for a, b in pairs)
    return result


def report(results: list[dict], runs: int) -> list[str]:
    lines = [
        f"Median wall time of {runs} rounds (fastest-slowest); × = median of the rounds' ratios.",
        "",
        "| posts | tool | version | HTML files | median s (range) | CPU s | × bare loop, 2 proc "
        "| × bare loop, 1 proc | CPU × bare loop, 2 proc |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        if r["error"]:
            lines.append(f"| {r['posts']} | {r['tool']} | {r['version']} | | failed: "
                         f"{r['error']} | | | | |")
            continue
        span = f"{min(r['times']):.2f}-{max(r['times']):.2f}"
        two = f"{r['x_bare']:.2f}" if "x_bare" in r else "–"
        one = f"{r['x_bare1']:.2f}" if "x_bare1" in r else "–"
        cpu = f"{r['x_cpu_bare']:.2f}" if "x_cpu_bare" in r else "–"
        lines.append(f"| {r['posts']} | {r['tool']} | {r['version']} | {r['html_files']} "
                     f"| {r['median']:.2f} ({span}) | {r['cpu_median']:.2f} | {two} | {one} "
                     f"| {cpu} |")
    return lines


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", default="1000", help="sizes, comma-separated (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"comma-separated, of {','.join(TOOLS)} (default all)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="sites and outputs (default /dev/shm/renderer-bench)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--renderer", default=str(Path(sys.executable).parent / "renderer"),
                        help="the renderer command (default: beside this python)")
    parser.add_argument("--pyvenv", type=Path, default=Path("/tmp/compare-tools/pyvenv"),
                        help="the venv with pelican and mkdocs")
    parser.add_argument("--eleventy", type=Path, default=Path("/tmp/compare-tools/eleventy"),
                        help="the folder whose node_modules holds Eleventy")
    parser.add_argument("--setup", action="store_true", help="install the tools first")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--keep", action="store_true", help="keep sites, outputs and logs")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.tools.split(",") if name.strip()]
    if unknown := set(names) - set(TOOLS):
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.workdir = (args.workdir or default_workdir()).resolve()
    paths = Paths([args.renderer], args.pyvenv.resolve(), args.eleventy.resolve())
    if args.setup:
        setup(paths)
    before = uptime()
    results = []
    for n in (int(part) for part in args.posts.split(",")):
        results += bench_size(n, names, args, paths)
    lines = [f"- before: `{before}`", f"- after: `{uptime()}`", "", *report(results, args.runs)]
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
