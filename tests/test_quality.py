"""The code passes its own linters: ruff (B, E, F, I, UP, W) and mypy (strict).

CI installs both through the `test` extra; where one is missing this test says so and
skips rather than pass silently.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

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
