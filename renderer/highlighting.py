"""Pygments' HTML formatter for codehilite, with its style tables made once.

Python-Markdown's codehilite makes a new `HtmlFormatter` for every code block, and the
formatter's constructor walks the whole Pygments style to map each token type to its CSS
class and style: 0.2 ms a block, 4 % of converting a post with one code block, the same
again for each more. Those tables depend only on the style and the class prefix, and
Pygments only reads them once made, so they are made once per pair and shared. The HTML
is the same, byte for byte (tests/test_highlighting.py compares them).

Given to codehilite as its `pygments_formatter` option (converter.py), unless the site
names a formatter of its own there.
"""

from __future__ import annotations

import functools
from typing import Any

from pygments.formatters.html import HtmlFormatter


@functools.lru_cache(maxsize=64)  # thread-safe; a site has one or two styles
def _style_tables(style: type, classprefix: str) -> tuple[dict[Any, str], dict[str, Any]]:
    """`ttype2class` and `class2style` of an `HtmlFormatter` with this style and prefix."""
    formatter = HtmlFormatter(style=style, classprefix=classprefix)
    return formatter.ttype2class, formatter.class2style


class SharedStyleHtmlFormatter(HtmlFormatter):  # type: ignore[misc]
    """An `HtmlFormatter` whose style tables come from `_style_tables`."""

    def _create_stylesheet(self) -> None:
        self.ttype2class, self.class2style = _style_tables(self.style, self.classprefix)
