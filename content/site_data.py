"""Python data sources of the documentation site.

renderer loads this file by its path (no sys.path needed) and calls the function named
in site.toml with what it names among its parameters: `data` (every source), `site`
([site] of site.toml) and, for a `context` function, the URL variables of the page.
Everything here is plain Python over `data`: no imports from renderer, no I/O.
"""

from __future__ import annotations

import re


def sections(data, site):
    """The docs grouped by their `section` front-matter key, in [site] sections order.

    [{"title": "Guide", "id": "guide", "pages": [page, ...]}, ...]; inside a section the
    pages keep the order of the `docs` collection (its `order` key).
    """
    names = list(site.get("sections", []))
    groups = {name: [] for name in names}
    for page in data.docs:
        section = page.get("section")
        if section not in groups:
            raise ValueError(
                f'{page["source"]}: section {section!r} is not one of [site] sections {names}')
        groups[section].append(page)
    return [{"title": name, "id": _slugify(name), "pages": pages}
            for name, pages in groups.items() if pages]


def command_list(data):
    """The commands of content/commands.yaml: one page each at /docs/commands/<name>/."""
    return data.commands["commands"]


def command_neighbours(name, data):
    """The previous and next command of the command `name` (the URL variable).

    A `context` function: it gets the URL variable `name`, and its dict is merged into
    the template context. (An `each` route's template also gets `previous` and `next`
    built in, as doc.html uses them; this one names its own.)
    """
    commands = command_list(data)
    index = next(i for i, command in enumerate(commands) if command["name"] == name)
    return {
        "previous_command": commands[index - 1] if index > 0 else None,
        "next_command": commands[index + 1] if index + 1 < len(commands) else None,
    }


def _slugify(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
