"""`slugify`: the one URL-safe form of a name, for the filter and for groups."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from renderer.slugs import slugify


def test_examples() -> None:
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("Café au lait") == "cafe-au-lait"
    assert slugify("snake_case name") == "snake-case-name"
    assert slugify(2024) == "2024"


@given(st.text())
def test_a_slug_is_url_safe_and_stable(text: str) -> None:
    slug = slugify(text)
    assert slug == slugify(slug)  # idempotent
    assert slug == slugify(text.casefold())
    assert not any(char in slug for char in "/\\?#%&= \t\n") and ".." not in slug
    assert not slug.startswith("-") and not slug.endswith("-")


@given(st.text(alphabet=st.characters(categories=("Lu", "Ll", "Nd"), max_codepoint=0x24F,
                                         exclude_characters="ıſ"),  # upper: I, S
               min_size=1),
       st.sampled_from([" ", "  ", "\t", "-", " - "]))
def test_case_and_spacing_variants_are_one_slug(word: str, space: str) -> None:
    assert slugify(f"{word}{space}{word}") == slugify(f"{word.upper()} {word.lower()}")
