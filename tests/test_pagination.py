"""Page numbers set as ordinary text: no gap before them, the right number after every edit,
one layout pass when the numbers are known, and a warm rebuild equal to a cold build."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from conftest import BuiltPdf, edit

import newsletter.build
from newsletter import Session
from newsletter.build import MAX_PASSES, BuildOptions, build_issue, run
from newsletter.errors import IssueError
from newsletter.typeset import PageRef

#: A reference as the pages print it: the word, a no-break space, the number.
REFERENCE = re.compile(r"(pages?)(\u00a0)([0-9]+)")


def _reference_gaps(pdf: Path) -> list[tuple[int, str, float, float]]:
    """For each reference: its page, its text, the advance of the space between word and
    number, and the median advance of the other spaces of its line (read from the glyphs)."""
    found = []
    document = pdfium.PdfDocument(str(pdf))
    for index in range(len(document)):
        textpage = document[index].get_textpage()
        count = textpage.count_chars()
        chars = [textpage.get_text_range(i, 1) for i in range(count)]
        boxes = [textpage.get_charbox(i, loose=True) for i in range(count)]
        text = "".join(chars)

        advances = [float(boxes[i + 1][0] - boxes[i][0]) for i in range(count - 1)]
        for match in REFERENCE.finditer(text):
            space = match.start(2)
            base = boxes[space][1]
            others = [
                advances[i]
                for i in range(count - 1)
                if chars[i] == " " and abs(boxes[i][1] - base) < 0.5 and abs(boxes[i + 1][1] - base) < 0.5
            ]
            if others:
                found.append((index + 1, match.group(0), advances[space], statistics.median(others)))
    return found


def test_no_reference_prints_a_gap(issue10: BuiltPdf, issue10_fr: BuiltPdf) -> None:
    """The space between "page" and its number is the line's word space, within 0.3 pt
    (justified lines stretch it like the others)."""
    for built in (issue10, issue10_fr):
        gaps = _reference_gaps(built.path)
        assert len(gaps) >= 8, gaps
        for page, text, gap, usual in gaps:
            assert abs(gap - usual) <= 0.3, (
                f"page {page}: {text!r} is spaced {gap:.2f} pt, its line {usual:.2f} pt"
            )


def test_no_reference_prints_a_gap_in_every_edition(editions: dict[str, Any]) -> None:
    for name, result in editions.items():
        for page, text, gap, usual in _reference_gaps(result.pdf):
            assert abs(gap - usual) <= 0.3, f"{name}, page {page}: {text!r} {gap:.2f} pt, line {usual:.2f} pt"


def test_two_targets_print_pages_and_both_numbers(issue10: BuiltPdf, issue10_fr: BuiltPdf) -> None:
    assert "(pages\u00a06 and\u00a07)" in issue10.page_text(7).replace("\r\n", " ")
    assert "(pages\u00a06 et\u00a07)" in issue10_fr.page_text(7).replace("\r\n", " ")


def test_two_targets_on_one_page_print_one_number(minimal: Path, tmp_path: Path) -> None:
    edit(minimal, "[page](#second)", "[pages](#second,#second-more)")
    edit(
        minimal,
        "      - Back to the first section, [page](#first).",
        "      - Back to the first section, [page](#first).\n      - type: paragraph\n        id: second-more\n"
        "        text: More of the second section.",
    )
    result = build_issue(minimal, tmp_path / "out")
    text = pdfium.PdfDocument(str(result.pdf))[1].get_textpage().get_text_range()
    assert "page\u00a03" in text and "pages" not in text.replace("pages\u00a0", "")


def test_references_follow_in_a_first_build_and_a_warm_rebuild(issue_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    session = Session(issue_copy, out_dir=out)
    first = session.rebuild()
    assert first.result is not None and first.result.passes == 2  # no map yet: a pass to learn the numbers
    refs = {ref.target: ref for ref in first.result.references}
    assert refs["expert-meetings"].printed_number == 9
    filler = "".join(
        f"      - >-\n        {'A paragraph that pushes the section down. ' * 30}\n" for _ in range(5)
    )
    edit(
        issue_copy,
        "      - type: paragraph\n        id: expert-meetings\n",
        filler + "      - type: paragraph\n        id: expert-meetings\n",
    )
    told: list[list[int]] = []
    second = session.rebuild(on_changed=told.append)
    assert second.result is not None
    refs = {ref.target: ref for ref in second.result.references}
    assert refs["expert-meetings"].target_page == 10 and refs["expert-meetings"].printed_number == 10
    assert all(ref.ok for ref in second.result.references)
    # The cover's teasers changed with their targets, and the pages from the edit on.
    assert 1 in second.changed and 9 in second.changed and told == [second.changed]


def test_a_warm_rebuild_gives_the_bytes_of_a_cold_build(minimal: Path, tmp_path: Path) -> None:
    session = Session(minimal, out_dir=tmp_path / "warm")
    session.rebuild()
    edit(minimal, "A paragraph that refers", "An edited paragraph that refers")
    warm = session.rebuild()
    assert warm.result is not None and warm.result.passes == 1
    assert warm.changed == [2]
    cold_dir = tmp_path / "cold"
    cold = build_issue(minimal, cold_dir)
    assert cold.passes == 2
    assert warm.result.pdf is not None and cold.pdf is not None
    assert warm.result.pdf.read_bytes() == cold.pdf.read_bytes()


def test_the_page_map_beside_the_pdf_makes_the_next_build_one_pass(minimal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_issue(minimal, out).passes == 2
    assert (out / ".issue-email.pages.json").is_file()
    assert build_issue(minimal, out).passes == 1
    # A broken map is a cache: ignored, and the build is the same.
    (out / ".issue-email.pages.json").write_text("{not json", encoding="utf-8")
    before = (out / "issue-email.pdf").read_bytes()
    again = build_issue(minimal, out)
    assert again.passes == 2 and again.pdf is not None and again.pdf.read_bytes() == before


def test_a_number_that_moves_its_own_target_is_reported_not_looped_on(
    minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layout where printing a number moves its target (and back) forever: the passes stop
    when a state comes back, and the reference is reported."""
    calls: list[int] = []
    real = newsletter.build.page_references

    def flipping(document: Any) -> list[PageRef]:
        calls.append(1)
        refs = real(document)
        # Every other pass, the target "moves" to the page after the one printed.
        return [PageRef(r.page, r.target, r.printed, (r.printed_number or 0) + 1) for r in refs]

    monkeypatch.setattr(newsletter.build, "page_references", flipping)
    monkeypatch.setattr(newsletter.build, "anchor_pages", lambda document: {"first": 5, "second": 6})
    with pytest.raises(IssueError) as info:
        run(minimal, BuildOptions(out_dir=tmp_path / "out"))
    assert len(calls) <= MAX_PASSES
    assert any(f.rule == "page-reference" for f in info.value.findings)
    assert not (tmp_path / "out" / "issue-email.pdf").exists()


def test_importing_the_package_stays_light() -> None:
    import subprocess
    import sys

    probe = "import sys, newsletter; print('weasyprint' in sys.modules, 'pikepdf' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"


def test_weasyprint_loads_its_libraries_without_the_slow_search() -> None:
    """cffi searches every library name that is not a file name with ``find_library``,
    which runs ldconfig, gcc and ld: ``newsletter.weasy`` spares the ~70 subprocesses."""
    import subprocess
    import sys

    probe = (
        "import ctypes.util\n"
        "calls = []\n"
        "real = ctypes.util.find_library\n"
        "ctypes.util.find_library = lambda name: calls.append(name) or real(name)\n"
        "import newsletter.typeset\n"
        "from weasyprint.text import ffi\n"
        "print(len(calls), ffi.pango is not None, ffi.harfbuzz_subset is not None)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "True", "True"], done.stdout + done.stderr
