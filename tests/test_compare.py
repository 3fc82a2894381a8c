"""benchmarks/compare.py times only builds that made the whole site.

The comparison with other generators is run by hand (benchmarks/README.md); what is tested
here is what its figures stand on: a real run of the script with the tools that need nothing
outside this repository (renderer and the bare loop), the check that refuses an output short
of a post page or of highlighting, and the same front matter given to Pelican.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from conftest import REPOSITORY

BENCHMARKS = REPOSITORY / "benchmarks"


def load(name: str) -> ModuleType:
    """A benchmark script imported by its path (benchmarks/ is not a package)."""
    sys.path.insert(0, str(BENCHMARKS))  # compare.py imports its neighbours by name
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_a_run_times_renderer_and_the_bare_loop_on_the_whole_site(tmp_path: Path) -> None:
    renderer = Path(sys.executable).parent / "renderer"
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "compare.py"), "--posts", "6", "--runs", "1",
         "--warmup", "0", "--tools", "renderer,bare", "--workdir", str(tmp_path),
         "--renderer", str(renderer)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split("|")[2].strip(): line for line in result.stdout.splitlines()
            if re.match(r"\| 6 \|", line)}
    assert set(rows) == {"renderer", "bare"}
    for line in rows.values():  # 6 posts, the index, their tags, about and colophon
        cells = [cell.strip() for cell in line.split("|")]
        assert int(cells[4]) > 6 + 1 + 2, line
    assert re.search(r"\| bare \|.*\| 1\.00 \|", rows["bare"])  # its own ratio
    assert not any(tmp_path.iterdir()), "the work folder is left as it was found"


def test_an_output_short_of_the_site_is_refused(tmp_path: Path) -> None:
    compare = load("compare")
    generate = load("generate")
    site, out = tmp_path / "site", tmp_path / "out"
    generate.generate(site, 4)
    subprocess.run([sys.executable, str(BENCHMARKS / "bare_loop.py"), str(site), str(out)],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    tags = len({t for p in site.glob("content/posts/*.md") for t in compare._tags(p)})
    tool = compare.Tool("bare", site, out, [])
    assert compare.check_output(tool, 4, tags) is None

    post = out / "posts" / "post-00002" / "index.html"
    html = post.read_text(encoding="utf-8")
    post.write_text(html.replace('class="codehilite"', 'class="plain"'), encoding="utf-8")
    assert "without" in compare.check_output(tool, 4, tags)
    post.unlink()
    assert compare.check_output(tool, 4, tags) == "3 post pages, not 4"


def test_pelican_gets_the_same_front_matter() -> None:
    sites = load("compare_sites")
    text = ('---\ntitle: "Quick Cache: Notes"\ndate: 2012-03-04\ntags: [css, http]\n'
            'summary: "A *short* summary."\n---\n\nBody `code`.\n')
    assert sites.pelican_text(text) == (
        "Title: Quick Cache: Notes\nDate: 2012-03-04\nTags: css, http\n"
        "Summary: A *short* summary.\n\nBody `code`.\n"
    )
