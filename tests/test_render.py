"""HTML rendering: labels come from the edition's language, text can never become markup."""

from __future__ import annotations

from pathlib import Path

from conftest import edit, layout_copy

from newsletter.build import DEFAULT_LAYOUT
from newsletter.engine.render import issue_renderer
from newsletter.issue.load import load_issue
from newsletter.issue.model import Issue
from newsletter.shipped import Layout


def render_html(issue: Issue, layout: Layout, image_base: Path) -> str:
    """The issue as one HTML document, every page reference printing 0."""
    return issue_renderer(issue, layout, image_base)({}).html


KEY_FIGURES = """      - type: key_figures
        figures:
          - value: "42"
            label: things counted
"""


def test_labels_follow_the_edition_language(minimal: Path) -> None:
    edit(minimal, "      - type: figure\n", KEY_FIGURES + "      - type: figure\n")
    english = render_html(load_issue(minimal).issue, DEFAULT_LAYOUT, minimal.parent)
    assert '<html lang="en">' in english and "Key figures" in english

    edit(minimal, "author: Test editors\n", "author: Test editors\nlanguage: fr\n")
    french = render_html(load_issue(minimal).issue, DEFAULT_LAYOUT, minimal.parent)
    assert '<html lang="fr">' in french
    assert "Chiffres clés" in french and "Key figures" not in french
    assert "Dans ce numéro" in french


def test_text_cannot_inject_markup(minimal: Path) -> None:
    edit(
        minimal,
        "A lead paragraph.",
        "'<link rel=attachment href=file:///etc/hostname><script>x</script> *fine*'",
    )
    html = render_html(load_issue(minimal).issue, DEFAULT_LAYOUT, minimal.parent)
    assert "&lt;link rel=attachment" in html and "&lt;script&gt;" in html
    assert "<link rel=attachment" not in html and "<script>" not in html
    # The paragraph's last letters are set unhyphenated (markup.set_text), inside the emphasis.
    assert '<em><span class="tail">fine</span></em>' in html


def test_every_block_type_has_its_macro() -> None:
    """One macro per member of the block union, found by the block's type: a new block type
    without a macro fails here, not silently in a PDF."""
    import typing

    import jinja2

    from newsletter.issue.model import Block

    members = typing.get_args(typing.get_args(Block)[0])
    tags = {typing.get_args(m.model_fields["type"].annotation)[0] for m in members}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(DEFAULT_LAYOUT.templates))
    env.filters.update(inline=str, display=str, date=str, dates=str, asset=str, address=str, page=str)
    module = env.get_template("blocks.html.j2").module
    dispatch = module.BLOCKS  # type: ignore[attr-defined]
    assert set(dispatch) == tags
    assert all(callable(macro) for macro in dispatch.values())


def test_a_block_type_without_a_macro_fails_loudly(minimal: Path) -> None:
    import jinja2
    import pytest

    layout = layout_copy(minimal.parent)
    edit(layout.templates / "blocks.html.j2", '  "figure": figure,\n', "")
    with pytest.raises(jinja2.UndefinedError, match="figure"):
        render_html(load_issue(minimal).issue, layout, minimal.parent)
