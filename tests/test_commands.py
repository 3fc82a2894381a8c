"""The commands a person types: routes, new, --version, --help, python -m renderer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import make_site, run_cli, run_renderer, tree

import renderer


def test_version() -> None:
    code, stdout, _ = run_renderer("--version")
    assert code == 0
    assert stdout.strip() == f"renderer, version {renderer.__version__}"


def test_help_lists_the_commands() -> None:
    code, stdout, _ = run_renderer("--help")
    assert code == 0
    for command in ("build", "serve", "routes", "new"):
        assert command in stdout
    code, stdout, _ = run_cli("build", "--help")
    assert code == 0
    for option in ("--output", "--jobs", "--drafts", "--strict"):
        assert option in stdout


def test_console_script() -> None:
    """The `renderer` entry point, where the install put it on PATH."""
    beside = Path(sys.executable).with_name("renderer")  # a venv's bin/, even if not on PATH
    script = str(beside) if beside.is_file() else shutil.which("renderer")
    if script is None:
        pytest.skip("the renderer console script is not on PATH")
    completed = subprocess.run([script, "--version"], capture_output=True, text=True,
                               check=False, timeout=60)
    assert completed.returncode == 0
    assert renderer.__version__ in completed.stdout


def test_routes_lists_rules(blog: Path) -> None:
    code, stdout, stderr = run_renderer("routes", blog)
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].split() == ["RULE", "NAME", "TEMPLATE", "SOURCE", "URLS"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["/posts/<slug>/"] == ["/posts/<slug>/", "post", "post.html", "posts", "2"]
    assert rows["/tags/<tag>/"] == ["/tags/<tag>/", "tag", "tag.html",
                                    "content/tags.py:tag_urls", "2"]
    assert rows["/about/"] == ["/about/", "page", "page.html", "about", "1"]
    assert rows["/"] == ["/", "index", "index.html", "1"]
    assert len(rows) == 7
    assert not (blog / "build").exists(), "routes writes nothing"


def test_routes_urls_lists_every_url(blog: Path) -> None:
    code, stdout, stderr = run_cli("routes", blog, "--urls")
    assert code == 0, stderr
    listed = {line.strip() for line in stdout.splitlines() if line.startswith("  ")}
    assert {"/posts/first-steps/", "/posts/second-post/", "/tags/intro/", "/tags/python/",
            "/archive/2024/", "/feed.xml", "/404.html", "/about/", "/"} <= listed
    assert "/posts/secret/" not in listed
    code, stdout, _ = run_cli("routes", blog, "--urls", "--drafts")
    assert "/posts/secret/" in stdout


def test_routes_reports_a_site_error(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "site.toml": '[[routes]]\nurl = "/<v>/"\ntemplate = "a.html"\n',
        "templates/a.html": "",
    })
    code, _, stderr = run_cli("routes", site, cwd=tmp_path)
    assert code == 1
    assert stderr.startswith("error: site/site.toml:1: ")
    assert "each" in stderr


def test_new_makes_a_site_that_builds_strict(tmp_path: Path) -> None:
    code, stdout, stderr = run_renderer("new", "fresh", cwd=tmp_path)
    assert code == 0, stderr
    assert "fresh" in stdout
    site = tmp_path / "fresh"
    assert (site / "site.toml").is_file()
    code, stdout, stderr = run_renderer("build", site, "--strict")
    assert code == 0, stderr
    assert "0 warnings" in stdout
    built = tree(site / "build")
    assert "index.html" in built and "404.html" in built
    assert any(name.startswith("posts/") for name in built)
    assert not any("__pycache__" in name for name in tree(site))
    code, stdout, stderr = run_cli("routes", site, "--urls")
    assert code == 0, stderr
    assert "/posts/<slug>/" in stdout
    for name in built:
        if name.endswith("index.html") and name != "index.html":
            assert "/" + name.removesuffix("index.html") in stdout


def test_new_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("mine\n")
    code, _, stderr = run_cli("new", tmp_path / "taken")
    assert code == 1
    assert stderr.startswith("error: ")
    assert (tmp_path / "taken" / "mine.txt").read_text() == "mine\n"
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["mine.txt"]


def test_new_into_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, stderr = run_cli("new", tmp_path / "empty")
    assert code == 0, stderr
    assert (tmp_path / "empty" / "site.toml").is_file()


def test_build_without_arguments_builds_the_working_folder(tmp_path: Path) -> None:
    run_cli("new", tmp_path / "here")
    code, stdout, stderr = run_renderer("build", cwd=tmp_path / "here")
    assert code == 0, stderr
    assert "into build" in stdout
    assert (tmp_path / "here" / "build" / "index.html").is_file()


def test_every_option_of_every_command_says_what_it_does() -> None:
    """`renderer COMMAND --help` explains each option (serve's --port had no text)."""
    from renderer.cli import main

    silent = [f"{name} {' / '.join(option.opts)}" for name, command in main.commands.items()
              for option in command.params
              if isinstance(option, click.Option) and not option.help]
    assert silent == []


def test_help_summaries_are_whole() -> None:
    """`renderer --help` shows each command's summary whole, not cut with "..."."""
    code, stdout, _ = run_renderer("--help")
    assert code == 0
    commands = stdout.split("Commands:")[1]
    assert "..." not in commands, commands
    assert "Serve SITE live" in commands and "List the URL rules" in commands


def test_a_missing_site_folder_is_named_as_missing(tmp_path: Path) -> None:
    for command in ("build", "serve", "routes"):
        code, _, stderr = run_cli(command, tmp_path / "nope")
        assert code == 2, stderr
        assert "nope' does not exist" in stderr, stderr


@pytest.mark.parametrize("commit", [(), ("--swap",)], ids=["file-by-file", "swap"])
def test_verbose_build_lists_each_file_and_what_happened(blog: Path,
                                                          commit: tuple[str, ...]) -> None:
    code, stdout, stderr = run_cli("build", blog, "-v", *commit)
    assert code == 0, stderr
    lines = [line.strip() for line in stdout.splitlines() if line.startswith("  ")]
    produced = sorted(str(p.relative_to(blog / "build")) for p in (blog / "build").rglob("*")
                      if p.is_file())
    assert sorted(line.split(": ")[0] for line in lines) == produced
    assert all(line.endswith((": rendered, written", ": copied, written")) for line in lines)
    assert "0 removed" in stdout
    post = blog / "content/posts/first-steps.md"
    post.write_text(post.read_text() + "\nMore text.\n")
    code, stdout, stderr = run_cli("build", blog, "-v", *commit)
    assert code == 0, stderr
    changed = [line.strip() for line in stdout.splitlines() if line.startswith("  ")]
    assert any(line.endswith(": rendered, written") for line in changed), stdout
    assert len(changed) < len(lines), stdout
    post.unlink()
    code, stdout, stderr = run_cli("build", blog, "-v", *commit)
    assert code == 0, stderr
    removed = [line.strip() for line in stdout.splitlines() if line.endswith(": removed")]
    assert "posts/first-steps/index.html: removed" in removed, stdout
    assert not (blog / "build/posts/first-steps/index.html").exists()
