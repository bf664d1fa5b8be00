"""Printed dates (issue 26): a date carries its year when it is not the issue's year, and a
quotation may be dated with the days of a meeting, printed as a range with an en dash in
both languages. Table tests of ``format_span``, then a built PDF read back."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from conftest import FIXTURES

from newsletter.build import build_issue, check_issue
from newsletter.issue.typography import format_span

NB, DASH = "\u00a0", "\u2013"
D = dt.date

SPANS = [
    # start, end, language, issue's year, printed
    (D(2025, 7, 15), None, "en", 2025, f"15{NB}July"),
    (D(2026, 7, 15), None, "en", 2025, f"15{NB}July 2026"),  # next year: with its year
    (D(2026, 7, 15), None, "fr", 2025, f"15{NB}juillet 2026"),
    (D(2026, 7, 1), None, "fr", 2026, f"1er{NB}juillet"),
    (D(2025, 3, 27), D(2025, 3, 28), "en", 2025, f"27{DASH}28{NB}March"),
    (D(2025, 3, 27), D(2025, 3, 28), "fr", 2025, f"27{DASH}28{NB}mars"),
    (D(2026, 3, 27), D(2026, 3, 28), "fr", 2025, f"27{DASH}28{NB}mars 2026"),
    (D(2025, 5, 31), D(2025, 6, 1), "en", 2025, f"31{NB}May{NB}{DASH} 1{NB}June"),
    (D(2025, 5, 31), D(2025, 6, 1), "fr", 2024, f"31{NB}mai{NB}{DASH} 1er{NB}juin 2025"),
    (D(2025, 12, 30), D(2026, 1, 2), "en", 2025, f"30{NB}December 2025{NB}{DASH} 2{NB}January 2026"),
    (D(2025, 12, 30), D(2026, 1, 2), "fr", 2026, f"30{NB}décembre 2025{NB}{DASH} 2{NB}janvier 2026"),
    # A quotation: with its year always.
    (D(2018, 1, 30), None, "en", None, f"30{NB}January 2018"),
    (D(2018, 5, 14), D(2018, 5, 15), "en", None, f"14{DASH}15{NB}May 2018"),
    (D(2018, 5, 14), D(2018, 5, 15), "fr", None, f"14{DASH}15{NB}mai 2018"),
    (D(2018, 5, 14), D(2018, 5, 14), "fr", None, f"14{NB}mai 2018"),
]


@pytest.mark.parametrize(("start", "end", "language", "year", "printed"), SPANS)
def test_format_span(start: D, end: D | None, language: str, year: int | None, printed: str) -> None:
    assert format_span(start, end, language, year) == printed


def test_format_span_refuses_a_range_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends"):
        format_span(D(2025, 3, 28), D(2025, 3, 27), "en")


BLOCKS = """\
      - type: quote
        speaker: Someone
        role: a delegate
        occasion: speaking at a meeting of two days
        date: 2019-12-05
        end: 2019-12-06
        text: Words said over two days.
      - type: agenda
        when: upcoming
        entries:
          - start: 2020-02-10
            place: Vienna
            text: a meeting of this year.
          - start: 2021-07-15
            place: Paris
            text: a deadline of the next year.
"""


@pytest.mark.parametrize(
    ("language", "printed"),
    [
        ("en", ["5–6 December 2019", "10 February", "15 July 2021"]),
        ("fr", ["5–6 décembre 2019", "10 février", "15 juillet 2021"]),
    ],
)
def test_printed_dates_carry_their_year(tmp_path: Path, language: str, printed: list[str]) -> None:
    folder = tmp_path / "issue"
    shutil.copytree(FIXTURES / "minimal", folder)
    issue = folder / "issue.yaml"
    text = issue.read_text(encoding="utf-8").replace(
        "      - Back to the first", BLOCKS + "      - Back to the first"
    )
    issue.write_text(text.replace("date: 2020-01-01", f"date: 2020-01-01\nlanguage: {language}"), "utf-8")
    result = build_issue(issue, tmp_path / "out")
    assert result.pdf is not None
    document = pdfium.PdfDocument(result.pdf)
    words = (
        " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
        .replace(NB, " ")
        .replace("\r\n", " ")
    )
    for date in printed:
        assert date in words, (date, words)
    # Before: the entry of 2021 printed "15 July", as if it were past.
    assert "10 February 2020" not in words and "10 février 2020" not in words


def test_a_quotation_ending_before_it_starts_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "issue"
    shutil.copytree(FIXTURES / "minimal", folder)
    issue = folder / "issue.yaml"
    blocks = BLOCKS.replace("end: 2019-12-06", "end: 2019-12-04")
    issue.write_text(
        issue.read_text(encoding="utf-8").replace(
            "      - Back to the first", blocks + "      - Back to the first"
        ),
        "utf-8",
    )
    errors = [f for f in check_issue(issue) if f.severity == "error"]
    assert [(f.rule, f.field, f.line) for f in errors] == [("date-order", "sections[1].blocks[0].end", 30)]
