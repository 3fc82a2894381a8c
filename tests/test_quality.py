"""The code passes its own linters: ruff (B, E, F, I, UP, W) and mypy (strict).

CI installs both through the `test` extra; where one is missing this test says so and
skips rather than pass silently.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPOSITORY


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, check=False,
                          timeout=300)


def test_ruff() -> None:
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed (pip install '.[test]')")
    if not (REPOSITORY / "pyproject.toml").is_file():
        pytest.skip("not run from a source checkout")
    folders = [name for name in ("renderer", "tests", "benchmarks")
               if (REPOSITORY / name).is_dir()]
    result = run_tool(sys.executable, "-m", "ruff", "check", *folders)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install '.[test]')")
    if not (REPOSITORY / "pyproject.toml").is_file():
        pytest.skip("not run from a source checkout")
    result = run_tool(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


PACKAGE = REPOSITORY / "renderer"
CORE = {"config", "content", "sources", "routing", "templates", "site", "digests", "errors",
        "app", "scaffold", "__init__", "__main__"}
MAX_LINES = 400


def imported_modules(path: Path) -> set[str]:
    """The renderer modules a file imports (at any depth, TYPE_CHECKING included), as
    dotted names below `renderer`."""
    module = path.relative_to(PACKAGE).with_suffix("").parts
    package = module[:-1] if module[-1] != "__init__" else module[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1] if node.level > 1 else package
                names = [".".join((*base, node.module)) if node.module else ".".join(base)]
                if not node.module:
                    names = [".".join((*base, alias.name)) for alias in node.names]
            elif node.module and node.module.startswith("renderer."):
                names = [node.module.removeprefix("renderer.")]
            else:
                continue
            found.update(name.strip(".") for name in names if name.strip("."))
        elif isinstance(node, ast.Import):
            found.update(alias.name.removeprefix("renderer.") for alias in node.names
                         if alias.name.startswith("renderer."))
    return found


def part_of(name: str) -> str:
    first = name.split(".")[0]
    if first == "__main__":  # `python -m renderer`: the command line
        return "cli"
    return first if first in ("build", "serve", "cli") else "core"


def test_the_arrows_point_one_way() -> None:
    """cli -> serve | build -> app | site -> core: the core imports neither part, and the
    build and the dev server do not import each other."""
    allowed = {"core": {"core"}, "build": {"core", "build"}, "serve": {"core", "serve"},
               "cli": {"core", "build", "serve", "cli"}}
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for imported in imported_modules(path):
            if part_of(imported) not in allowed[part_of(name)]:
                wrong.append(f"{name} imports {imported}")
    assert wrong == []


def test_no_module_is_a_god_module() -> None:
    long = {str(path.relative_to(REPOSITORY)): lines for path in PACKAGE.rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_circle() -> None:
    """Modules as nodes, imports as edges: no cycle (a package's __init__ that only
    re-exports its own modules does not count as importing them back)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = {m for m in imported_modules(path) if not (
            parts[-1] == "__init__" and (not name or m.startswith(name + ".")))}
    known = set(graph)
    edges = {node: {m if m in known else m.rpartition(".")[0] for m in targets} & known
             for node, targets in graph.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for target in sorted(edges[node]):
            if target == node:
                continue
            if state.get(target) == 1:
                cycle.extend([*trail, node, target])
                return True
            if target not in state and visit(target, [*trail, node]):
                return True
        state[node] = 2
        return False

    for node in sorted(edges):
        if node not in state and visit(node, []):
            break
    assert cycle == []
