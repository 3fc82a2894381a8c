"""The docs against the code: content/commands.yaml, which the Commands pages render, says
what `renderer CMD --help` says. Every option and argument of every click command is
documented there, with its default, and nothing is documented that the CLI lacks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import yaml

from renderer.cli import main

COMMANDS_YAML = Path(__file__).resolve().parents[1] / "content" / "commands.yaml"
FLAG = re.compile(r"(?<![\w-])--?[a-z][\w-]*")


def documented() -> dict[str, Any]:
    return yaml.safe_load(COMMANDS_YAML.read_text(encoding="utf-8"))


def names(param: click.Parameter) -> frozenset[str]:
    """How the docs name a parameter: its flags (`-o`, `--output`, `--no-drafts`), or for
    an argument its metavar (`SITE`)."""
    if isinstance(param, click.Argument):
        return frozenset({param.human_readable_name})
    return frozenset(param.opts + param.secondary_opts)


def doc_names(flags: str) -> frozenset[str]:
    """`-o, --output DIR` -> {-o, --output}; `SITE` -> {SITE}."""
    found = FLAG.findall(flags)
    return frozenset(found) if found else frozenset({flags.strip()})


def default_problem(command: click.Command, param: click.Parameter, text: str) -> str | None:
    """Whether the documented default says what click's default is."""
    text = text.replace("`", "")
    default = param.get_default(click.Context(command))
    if isinstance(param, click.Option) and param.is_flag and param.secondary_opts:
        expected = param.opts[0] if default else param.secondary_opts[0]
    elif isinstance(param, click.Option) and param.is_flag:
        expected = "on" if default else "off"
    elif param.required:
        expected = "required"
    elif param.multiple:
        expected = "none"
    elif not isinstance(default, str | int | float):
        return None  # computed ("the number of CPUs", "[site] output"): said in words
    else:
        expected = str(default)
    return None if expected in text else f"default {text!r} does not say {expected!r}"


def problems(command: click.Command, entry: dict[str, Any]) -> list[str]:
    """What the docs of one command get wrong against the command itself."""
    params = {names(p): p for p in command.params if p.name != "help"}
    options = {doc_names(str(o["flags"])): o for o in entry.get("options", [])}
    found = []
    for key, param in params.items():
        option = options.get(key)
        if option is None:
            found.append(f"{command.name}: {'/'.join(sorted(key))} is not in commands.yaml")
            continue
        wrong = default_problem(command, param, str(option.get("default", "")))
        if wrong:
            found.append(f"{command.name} {option['flags']}: {wrong}")
        if isinstance(param, click.Option) and not key & doc_names(entry.get("usage", "")):
            found.append(f"{command.name}: {option['flags']} is not in its usage line")
    for key, option in options.items():
        if key not in params:
            found.append(f"{command.name}: {option['flags']} is documented but not an "
                         "option of the command")
    unknown = doc_names(entry.get("usage", "")) - {n for key in params for n in key}
    found.extend(f"{command.name}: the usage line names {flag}, which the command lacks"
                 for flag in sorted(unknown) if flag.startswith("-"))
    return found


def test_every_command_is_documented_and_nothing_else() -> None:
    listed = [entry["name"] for entry in documented()["commands"]]
    assert sorted(listed) == sorted(main.commands)


def test_commands_yaml_matches_the_options_of_every_command() -> None:
    entries = {entry["name"]: entry for entry in documented()["commands"]}
    found = [problem for name, command in main.commands.items()
             for problem in problems(command, entries.get(name, {}))]
    assert found == []


def test_global_options_match_renderer_itself() -> None:
    context = click.Context(main, **main.context_settings)
    expected = {n for p in main.get_params(context) for n in names(p)}
    listed = {n for o in documented()["global_options"] for n in doc_names(o["flags"])}
    assert listed == expected


def test_a_missing_or_extra_option_is_found() -> None:
    """The comparison itself: an option the docs lack, one the command lacks, a default
    that differs."""
    entry = next(e for e in documented()["commands"] if e["name"] == "routes")
    routes = main.commands["routes"]
    grown = click.Command("routes", params=[*routes.params,
                                            click.Option(["--depth"], default=3)])
    assert problems(grown, entry) == ["routes: --depth is not in commands.yaml"]
    shrunk = click.Command("routes", params=[p for p in routes.params if p.name != "urls"])
    assert problems(shrunk, entry) == [
        "routes: --urls is documented but not an option of the command",
        "routes: the usage line names --urls, which the command lacks"]
    changed = click.Command("routes", params=[
        click.Option(["--urls"], is_flag=True, default=True) if p.name == "urls" else p
        for p in routes.params])
    assert problems(changed, entry) == ["routes --urls: default 'off' does not say 'on'"]


def test_no_docs_page_is_over_250_lines() -> None:
    """Issue 18: a page a person reads to the end; longer ones are split."""
    pages = sorted((COMMANDS_YAML.parent / "docs").glob("*.md"))
    assert pages
    long = {page.name: n for page in pages
            if (n := len(page.read_text(encoding="utf-8").splitlines())) > 250}
    assert long == {}
