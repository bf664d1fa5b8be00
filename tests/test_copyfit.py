"""Copy-fitting: how full each page is, and the `copy-fit` warning for a section that spills a
few lines onto a page of its own or ends on a half-empty page, with what it would take."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, BuiltPdf, edit, layout_copy
from typer.testing import CliRunner

from newsletter import cli
from newsletter.build import BuildOptions, check_issue
from newsletter.check.copyfit import HALF, PageFill, SectionPart, advise, underfull
from newsletter.engine.fitbounds import bounds
from newsletter.errors import Finding
from newsletter.shipped import DEFAULT_LAYOUT
from newsletter.workbench.proofs import checked_and_measured

COPYFIT = FIXTURES / "copyfit"
runner = CliRunner()


@pytest.fixture
def spill(tmp_path: Path) -> Path:
    """A writable copy of the fixture whose first section runs a few lines onto page 3."""
    shutil.copytree(COPYFIT, tmp_path / "copyfit")
    return tmp_path / "copyfit" / "spill.yaml"


def _copy_fit(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule == "copy-fit"]


def test_a_section_that_spills_a_few_lines_says_what_it_would_take(spill: Path) -> None:
    found = _copy_fit(check_issue(spill))
    spilt = [f for f in found if f.message.startswith("section `reseau`")]
    assert len(spilt) == 1, found
    finding = spilt[0]
    match = re.fullmatch(
        r"section `reseau` runs (\d+) lines? onto page 3: cut about (\d+) words, "
        r"or let the next section start on this page \(`new_page: false` on `next`\)",
        finding.message,
    )
    assert match, finding.message
    lines, words = int(match.group(1)), int(match.group(2))
    assert 1 <= lines <= 12
    # The fixture's lines hold about 18 words: cutting what the spilt lines hold fits it.
    assert lines * 10 <= words <= lines * 30
    assert finding.severity == "warning" and finding.page == 3
    assert (finding.field, finding.line, finding.col) == ("sections[0].id", 10, 9)
    assert "new_page: false" in finding.hint


def test_letting_the_next_section_follow_on_clears_the_spill(spill: Path) -> None:
    edit(spill, "  - id: next\n", "  - id: next\n    new_page: false\n")
    assert not [f for f in _copy_fit(check_issue(spill)) if f.message.startswith("section `reseau`")]


def test_the_last_section_on_a_nearly_empty_page_is_told_how_much_would_fill_it(spill: Path) -> None:
    found = [f for f in _copy_fit(check_issue(spill)) if f.message.startswith("section `next`")]
    assert len(found) == 1
    assert re.fullmatch(
        r"section `next` ends on page 4, \d+% full: add about \d+ words or a figure", found[0].message
    )


def test_check_json_gives_the_fullness_of_every_page(spill: Path) -> None:
    result = runner.invoke(cli.app, ["check", str(spill), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    pages = data["pages"]
    assert [p["page"] for p in pages] == [1, 2, 3, 4]
    assert all(0 <= p["full"] <= 1 for p in pages)
    assert pages[1]["full"] > 0.9 and pages[2]["full"] < 0.25
    assert pages[2]["sections"] == ["reseau"] and pages[3]["sections"] == ["next"]
    assert pages[0]["sections"] == []  # the cover is no section
    assert any(f["rule"] == "copy-fit" for f in data["findings"])


def test_no_fullness_when_an_error_stops_the_check_before_layout() -> None:
    findings, fills = checked_and_measured(FIXTURES / "check" / "placeholder.yaml", BuildOptions())
    assert fills is None and any(f.severity == "error" for f in findings)


def test_issue_10_fits_its_pages(issue10: BuiltPdf) -> None:
    assert not _copy_fit(issue10.result.findings)


# The advice alone, on measured pages


def _fill(page: int, full: float, *parts: tuple[str, int, int]) -> PageFill:
    return PageFill(page, full, tuple(SectionPart(name, lines, words, 17.0) for name, lines, words in parts))


AREA = 986.0  # px: an A4 page's content area in the project's layout


def test_advice_for_a_spill_a_half_empty_end_and_a_shared_page() -> None:
    fills = [
        _fill(1, 0.8),
        _fill(2, 0.97, ("a", 50, 900)),
        _fill(3, 0.15, ("a", 7, 126)),  # a spills 7 lines
        _fill(4, 0.4, ("b", 20, 300)),  # b ends 40 % down its only page
        _fill(5, 0.3, ("c", 10, 150), ("d", 5, 60)),  # d follows c on: d's end is judged, c's is not
    ]
    new_page = {"a": True, "b": True, "c": True, "d": False}
    advice = {a.section: a.message for a in advise(fills, new_page, AREA)}
    assert advice["a"] == (
        "section `a` runs 7 lines onto page 3: cut about 125 words, "
        "or let the next section start on this page (`new_page: false` on `b`)"
    )
    assert advice["b"].startswith("section `b` ends on page 4, 40% full: add about ")
    assert advice["b"].endswith(
        "words or a figure, or let the next section start on this page (`new_page: false` on `c`)"
    )
    assert "c" not in advice
    # d is the last section: nothing follows it to pull up.
    assert advice["d"].startswith("section `d` ends on page 5, 30% full: add about ")
    assert "next section" not in advice["d"]


def test_no_advice_for_pages_at_least_half_full() -> None:
    fills = [_fill(1, 0.8), _fill(2, 1.0, ("a", 50, 900)), _fill(3, HALF, ("a", 25, 450))]
    assert list(advise(fills, {"a": True}, AREA)) == []


# Pages under the layout's fullness (issue 26)


def test_issue_10_pages_under_seventy_percent_are_notices_naming_their_sections(issue10: BuiltPdf) -> None:
    notices = {f.page: f for f in issue10.result.findings if f.rule == "page-fill"}
    assert set(notices) == {2, 5, 10}
    assert {f.severity for f in notices.values()} == {"notice"}
    assert notices[5].message == "page 5 is 55% full, under the layout's 70%: section `interview`"
    assert notices[5].field == "sections[2].id"


def test_underfull_pages_name_every_section_and_leave_out_the_last_and_empty_ones() -> None:
    fills = [
        _fill(1, 0.5),  # the cover: no section
        _fill(2, 0.6, ("a", 20, 300), ("b", 5, 60)),
        _fill(3, 0.1, ("b", 2, 20)),  # under a fifth: the empty-page warning's
        _fill(4, 0.69, ("c", 30, 400)),
        _fill(5, 0.3, ("d", 10, 120)),  # the last page: the issue ends there
    ]
    said = {a.page: a.message for a in underfull(fills, 0.7)}
    assert said == {
        2: "page 2 is 60% full, under the layout's 70%: sections `a`, `b`",
        4: "page 4 is 69% full, under the layout's 70%: section `c`",
    }
    assert [a.page for a in underfull(fills, 0.65)] == [2]


def test_the_fullness_is_the_layouts(tmp_path: Path) -> None:
    assert bounds(DEFAULT_LAYOUT).fullness == 70
    layout = layout_copy(tmp_path)
    (layout.templates / "fit.yaml").write_text("fullness: 50\n", encoding="utf-8")
    assert bounds(layout).fullness == 50
