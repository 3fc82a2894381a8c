"""URL-safe forms of names: the `slugify` filter, and the `slug` of every group.

One function for both, so that `url_for('tag', tag=name | slugify)` in a template makes
the URL the group route made. Case, spacing and accents do not make another slug:
"Python", " python " and "PYTHON" are one tag, and so are "Café" and "cafe".
"""

from __future__ import annotations

import re
import unicodedata

SEPARATORS = re.compile(r"[\W_]+")


def slugify(text: object) -> str:
    """Case folded ("Straße" and "STRASSE" alike), accents dropped, every run of other
    characters one "-", none at the ends: "Hello, World!" -> "hello-world". Letters of
    scripts without an ASCII form (Greek, CJK) are kept as they are: a URL can hold
    them, percent-encoded."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", str(text)).casefold())
    kept = "".join(char for char in folded if not unicodedata.combining(char))
    return SEPARATORS.sub("-", kept).strip("-")
