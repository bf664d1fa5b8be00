"""Page references are computed: move content and every "page N" follows its target."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import layout_copy

from newsletter.build import build_issue
from newsletter.engine.typesetter import describe, page_references, typeset
from newsletter.errors import IssueError

LONG = (
    "An added paragraph that pushes the rest of the section down the page, written long "
    "enough to fill several lines of the layout. "
) * 12


def test_references_follow_moved_target(issue_copy: Path, tmp_path: Path) -> None:
    text = issue_copy.read_text(encoding="utf-8")
    # Before the paragraph that "Details page 9" points at, add a page's worth of text.
    anchor = "      - type: paragraph\n        id: expert-meetings\n"
    assert anchor in text
    filler = "".join(f"      - >-\n        {LONG}\n" for _ in range(4))
    issue_copy.write_text(text.replace(anchor, filler + anchor), encoding="utf-8")

    result = build_issue(issue_copy, tmp_path / "out")
    refs = {ref.target: ref for ref in result.references}
    moved = refs["expert-meetings"]
    assert moved.target_page == 10, "the filler should push the target from page 9 to page 10"
    assert moved.printed_number == 10 and moved.ok
    # Sections after it moved too, and the cover teasers say so.
    assert refs["working-groups"].target_page == 11 and refs["working-groups"].printed_number == 11
    assert all(ref.ok for ref in refs.values())


def _bad_refs(html: str, tmp_path: Path) -> list[str]:
    document = typeset(html, tmp_path, [tmp_path], tmp_path / "x.yaml")
    return [f"page {ref.page}: {describe(ref)}" for ref in page_references(document) if not ref.ok]


def test_display_flex_reference_is_caught(tmp_path: Path) -> None:
    """WeasyPrint prints 0 for a target-counter() inside a flex link: the check sees it."""
    html = """<html><head><style>
      a.pageref::after { content: target-counter(attr(href), page); }
      .flexy { display: flex; }
      </style></head><body>
      <p><a class="pageref flexy" href="#far">page </a></p>
      <p style="break-before: page" id="far">Target</p></body></html>"""
    assert _bad_refs(html, tmp_path) == [
        "page 1: reference to #far prints 'page0' but its target is on page 2"
    ]


def test_wrong_number_is_reported(tmp_path: Path) -> None:
    """A reference that prints a number other than its target's page is reported with both."""
    html = """<html><body>
      <p><a class="pageref" href="#far">page 7</a></p>
      <p style="break-before: page" id="far">Target</p></body></html>"""
    assert _bad_refs(html, tmp_path) == [
        "page 1: reference to #far prints 'page 7' but its target is on page 2"
    ]


def test_reference_to_missing_id_is_reported(tmp_path: Path) -> None:
    html = """<html><head><style>a.pageref::after { content: target-counter(attr(href), page); }</style>
      </head><body><p><a class="pageref" href="#nowhere">page </a></p></body></html>"""
    assert _bad_refs(html, tmp_path) == ["page 1: reference to #nowhere points at an id that does not exist"]


def test_build_refuses_a_layout_that_prints_wrong_numbers(minimal: Path, tmp_path: Path) -> None:
    """End to end: a layout that prints a digit after every number makes the build fail after
    its passes, nothing written."""
    layout = layout_copy(tmp_path, css_after='a.pageref::after { content: "9"; }\n')
    with pytest.raises(IssueError) as info:
        build_issue(minimal, tmp_path / "out", layout=layout)
    errors = [f for f in info.value.findings if f.severity == "error"]
    assert errors and all(f.rule == "page-reference" for f in errors)
    assert any(
        f.page == 2 and "#second prints 'page 39' but its target is on page 3" in f.message for f in errors
    )
    assert not (tmp_path / "out" / "issue-email.pdf").exists()
