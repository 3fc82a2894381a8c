"""The templates a page's template uses, and how: for the inspector.

Read from the templates themselves (Jinja's syntax tree), as `Templates.dependencies`
reads them to record a render's dependencies, but keeping how each is used (extends,
includes, imports) and by which template, which a person reading the page needs and the
record does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from jinja2 import nodes

from ...errors import SiteError

HOW = {nodes.Extends: "extends", nodes.Include: "includes", nodes.Import: "imports",
       nodes.FromImport: "imports"}
COMPUTED = "(a name computed while rendering)"


@dataclass(frozen=True)
class Used:
    """`by` uses `name` (`how`); `depth` 0 is the route's own template."""

    name: str
    how: str
    by: str
    depth: int
    missing: bool = False


def template_tree(env: jinja2.Environment, name: str) -> list[Used]:
    """`name` and every template it extends, includes or imports, depth first, each
    template's own uses once."""
    found: list[Used] = []
    seen: set[str] = set()

    def visit(used: Used) -> None:
        source = _source(env, used.name) if used.name != COMPUTED else None
        found.append(Used(used.name, used.how, used.by, used.depth,
                          missing=source is None and used.name != COMPUTED))
        if source is None or used.name in seen:
            return
        seen.add(used.name)
        for how, names in _uses(env, source):
            for named in names:
                visit(Used(named, how, used.name, used.depth + 1))

    visit(Used(name, "renders", "", 0))
    return found


def _source(env: jinja2.Environment, name: str) -> str | None:
    assert env.loader is not None
    try:
        return env.loader.get_source(env, name)[0]
    except (jinja2.TemplateNotFound, SiteError, OSError):
        return None


def _uses(env: jinja2.Environment, source: str) -> list[tuple[str, list[str]]]:
    """(how, the names) of each extends, include and import in a template's source."""
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError:
        return []
    uses = []
    for node in tree.find_all(tuple(HOW)):
        assert isinstance(node, (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))
        uses.append((HOW[type(node)], _names(node.template)))
    return uses


def _names(template: nodes.Expr) -> list[str]:
    """The template names of an expression: a string, a list of strings (the first that
    exists is used), else a name known only while rendering."""
    if isinstance(template, nodes.Const):
        value = template.value
        if isinstance(value, str):
            return [value]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
    if isinstance(template, (nodes.Tuple, nodes.List)) and all(
            isinstance(item, nodes.Const) and isinstance(item.value, str)
            for item in template.items):
        return [item.value for item in template.items if isinstance(item, nodes.Const)]
    return [COMPUTED]
