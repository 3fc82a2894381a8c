"""PyYAML's safe loader, with values that cannot be made reported where they stand.

YAML's grammar accepts `2024-13-45` as a date and `!!int x` as an integer; PyYAML then
raises a bare ValueError (or AttributeError) while making the value, with no line. The
loader here turns those into YAML errors at the node, so that content.parse_yaml reports
them with their file and line like any syntax error. Made on first use, as PyYAML is
imported only when something is parsed.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def safe_loader() -> type:
    """PyYAML's safe loader, whose values that parse but cannot be made (`2024-13-45`,
    `!!int x`, `!!timestamp x`) are YAML errors at their node, not bare ValueErrors."""
    import yaml
    from yaml.constructor import ConstructorError

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, TypeError, AttributeError, OverflowError) as error:
                tag = node.tag.rpartition(":")[2]
                kind = {"timestamp": "a date", "int": "an integer", "float": "a number"}
                shown = repr(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
                reason = "" if isinstance(error, AttributeError) else f" ({error})"
                raise ConstructorError(None, None, f"{shown} is not {kind.get(tag, tag)}"
                                       f"{reason}", node.start_mark) from None

    return Loader
