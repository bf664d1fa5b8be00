"""Page numbers set as ordinary text: no gap before them, the right number after every edit,
one layout pass when the numbers are known, and a warm rebuild equal to a cold build."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from conftest import ISSUE_10, ISSUE_10_FR, ROOT, BuiltPdf, check_fixtures, edit, layout_copy
from systools import TOOLS

from newsletter import Session
from newsletter.build import MAX_PASSES, BuildResult, build_issue

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
    assert first.result is not None and first.result.passes == 2  # a pass to learn the numbers
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
    # Only the edited part (one page) is laid out again: twice, as in every build, because it
    # prints a page number (first 0, then the number found). A cold build lays out every
    # part, those that print numbers twice.
    assert warm.result is not None and warm.result.laid_out == 2
    assert warm.changed == [2]
    cold_dir = tmp_path / "cold"
    cold = build_issue(minimal, cold_dir)
    assert cold.passes == 2 and cold.laid_out > cold.pages
    assert warm.result.pdf is not None and cold.pdf is not None
    assert warm.result.pdf.read_bytes() == cold.pdf.read_bytes()


def test_the_memo_beside_the_pdf_lays_out_each_page_once(minimal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cold = build_issue(minimal, out)
    assert cold.laid_out > cold.pages
    assert (out / ".issue-email.pages.json").is_file()
    before = (out / "issue-email.pdf").read_bytes()
    again = build_issue(minimal, out)
    assert again.laid_out == again.pages and again.pdf is not None and again.pdf.read_bytes() == before
    # A broken memo is a cache: ignored, and the build is the same.
    (out / ".issue-email.pages.json").write_text("{not json", encoding="utf-8")
    broken = build_issue(minimal, out)
    assert broken.laid_out == cold.laid_out and broken.pdf is not None and broken.pdf.read_bytes() == before
    # A memo that lies (edited by hand) is found out when its part is laid out: the same bytes.
    memo = json.loads((out / ".issue-email.pages.json").read_text(encoding="utf-8"))
    for part in memo["parts"].values():
        part["anchors"] = {name: page + 1 for name, page in part["anchors"].items()}
    (out / ".issue-email.pages.json").write_text(json.dumps(memo), encoding="utf-8")
    lied = build_issue(minimal, out)
    assert lied.pdf is not None and lied.pdf.read_bytes() == before


class _Page:
    def __init__(self, anchors: tuple[str, ...] = ()) -> None:
        self.anchors = dict.fromkeys(anchors, (0, 0))


class _Document:
    def __init__(self, pages: list[_Page]) -> None:
        self.pages = pages

    def copy(self, pages: list[_Page]) -> _Document:
        return _Document(pages)


class _ModelLayout:
    """A layout reduced to what settling the numbers depends on: part 1 (one page) prints
    the number of ``target``; part 2 (its content is ``extra``) puts ``target`` on the page
    ``where(printed, extra)`` by padding itself with pages before it."""

    def __init__(self, where: Any, extra: int = 0) -> None:
        self.where = where
        self.extra = extra
        self.laid_out: list[str] = []

    def prepare(self, stylesheets: Any, css: str) -> str:
        return "model"

    def lay_out(self, html: str, start: int = 1, part: bool = False) -> _Document:
        self.laid_out.append(html)
        if html.startswith("refers"):
            return _Document([_Page()])
        printed, extra = map(int, html.split()[-2:])
        page = self.where(printed, extra)
        return _Document([_Page() for _ in range(page - start)] + [_Page(("target",))])

    def render(self, pages: Any) -> Any:
        from newsletter.engine.render import Rendered

        printed = {"target": pages.get("target", 0)}
        parts = (
            f"refers to target on page {printed['target']}",
            f"target after {printed['target']} {self.extra}",
        )
        return Rendered("", (), "", printed, parts)


def test_a_number_that_moves_its_own_target_is_reported_not_looped_on() -> None:
    """Printing 5 moves the target to 6, printing 6 moves it back to 5: the passes stop
    when a state comes back, and what is printed is left for the page-reference rule."""
    from newsletter.engine.paginate import Memo, paginate

    model = _ModelLayout(lambda printed, extra: 6 if printed == 5 else 5)
    done = paginate(model.render, model, Memo(), MAX_PASSES)  # type: ignore[arg-type]
    assert done.passes <= MAX_PASSES
    assert done.rendered.printed["target"] != done.page_map["target"]


def test_where_two_numbers_are_stable_a_warm_and_a_cold_build_agree() -> None:
    """A number of two digits pushes its target a page on, one digit does not: 9 and 10
    are both stable. The rule (from 0, every time) picks the same one, whatever the memo
    holds, and lays out nothing it has seen."""
    from newsletter.engine.paginate import Memo, paginate

    def where(printed: int, extra: int) -> int:
        return max(9 + extra, 10 if printed >= 10 else 9)

    model = _ModelLayout(where)
    cold = paginate(model.render, model, Memo(), MAX_PASSES)  # type: ignore[arg-type]
    assert cold.page_map["target"] == cold.rendered.printed["target"] == 9
    # The memo of the build before an edit that took a page out: the target was on page 10.
    warm_memo = Memo()
    before = _ModelLayout(where, extra=1)
    assert paginate(before.render, before, warm_memo, MAX_PASSES).page_map["target"] == 10  # type: ignore[arg-type]
    warm = paginate(model.render, model, warm_memo, MAX_PASSES)  # type: ignore[arg-type]
    assert warm.page_map["target"] == warm.rendered.printed["target"] == 9
    again = _ModelLayout(where)
    memo = Memo()
    paginate(model.render, model, memo, MAX_PASSES)  # type: ignore[arg-type]
    paginate(again.render, again, memo, MAX_PASSES)  # type: ignore[arg-type]
    assert again.laid_out == []


def test_importing_the_package_stays_light() -> None:
    import subprocess
    import sys

    probe = "import sys, newsletter; print('weasyprint' in sys.modules, 'pikepdf' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"


def test_weasyprint_loads_its_libraries_without_the_slow_search() -> None:
    """cffi searches every library name that is not a file name with ``find_library``,
    which runs ldconfig, gcc and ld: ``newsletter.engine.weasy`` spares the ~70 subprocesses."""
    import subprocess
    import sys

    probe = (
        "import ctypes.util\n"
        "calls = []\n"
        "real = ctypes.util.find_library\n"
        "ctypes.util.find_library = lambda name: calls.append(name) or real(name)\n"
        "import newsletter.engine.typesetter\n"
        "from weasyprint.text import ffi\n"
        "print(len(calls), ffi.pango is not None, ffi.harfbuzz_subset is not None)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # HarfBuzz's subsetter is optional (fontTools subsets without it): found where installed.
    subsetter = str(TOOLS["harfbuzz-subset"].present())
    assert done.stdout.split() == ["0", "True", subsetter], done.stdout + done.stderr


@pytest.mark.tool("harfbuzz-subset")
def test_weasyprint_subsets_fonts_with_harfbuzz_where_installed() -> None:
    """Where ``libharfbuzz-subset0`` is installed WeasyPrint finds it (the faster subsetter)."""
    from weasyprint.text import ffi

    import newsletter.engine.typesetter  # noqa: F401  (WeasyPrint loaded as the package loads it)

    assert ffi.harfbuzz_subset is not None


@pytest.mark.parametrize("edition", ["email", "print", "archive", "fr-email"])
def test_the_parts_laid_out_alone_print_the_whole_documents_bytes(
    edition: str, editions: dict[str, BuildResult], issue10_fr: BuiltPdf, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each part knows only its first page and side, yet together they are, byte for byte,
    the document laid out whole (running footers, page sides, links, bookmarks, tags, CMYK)."""
    import calendar

    from newsletter.build import DEFAULT_LAYOUT
    from newsletter.editions import EDITIONS
    from newsletter.engine.typesetter import typeset
    from newsletter.press.finishing import finisher

    result = issue10_fr.result if edition == "fr-email" else editions[edition]
    chosen = EDITIONS[result.edition]
    source = ISSUE_10_FR if edition == "fr-email" else ISSUE_10
    layout = DEFAULT_LAYOUT
    whole = typeset(
        result.html,
        source.parent,
        [source.parent, layout.templates, layout.fonts],
        source,
        options=chosen.render_options,
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(calendar.timegm(result.issue.date.timetuple())))
    data = whole.write_pdf(finisher=finisher(chosen, result.issue), **chosen.write_options(result.issue))
    assert result.pdf is not None and data == result.pdf.read_bytes()
    assert result.laid_out >= result.pages == len(whole.pages)


def test_a_warm_rebuild_of_issue_10_lays_out_the_edited_part_alone(issue_copy: Path, tmp_path: Path) -> None:
    """An edit of the interview: its two pages are laid out again, the other parts are kept
    (their images too: written a second time, they give the same bytes), and the PDF is the
    cold build's."""
    session = Session(issue_copy, out_dir=tmp_path / "warm")
    assert session.rebuild().result is not None
    edit(issue_copy, "I personally welcome these efforts", "I personally and warmly welcome these efforts")
    warm = session.rebuild()
    assert warm.result is not None and warm.result.pdf is not None
    assert warm.result.laid_out == 2 and set(warm.changed) <= {4, 5}
    cold = build_issue(issue_copy, tmp_path / "cold")
    assert cold.laid_out > cold.pages and cold.pdf is not None
    assert warm.result.pdf.read_bytes() == cold.pdf.read_bytes()
    # What the layout rules found on the kept pages was kept: the same findings as cold.
    assert [str(f) for f in warm.findings] == [str(f) for f in cold.findings]


def test_a_session_finds_a_layout_error_again_on_a_kept_page(tmp_path: Path) -> None:
    """What the page rules found is kept with a page: an error on a page whose part did not
    change is still reported when another part is edited, and goes with its fix."""
    source = check_fixtures(tmp_path) / "frame-overflow.yaml"
    broken = source.read_text(encoding="utf-8") + (
        "  - id: second\n    title: Second section\n    blocks:\n      - A paragraph.\n"
    )
    source.write_text(broken, encoding="utf-8")
    session = Session(source, out_dir=tmp_path / "out")
    first = session.rebuild().findings
    assert [f.page for f in first if f.rule == "frame-overflow"] == [2]
    source.write_text(broken.replace("A paragraph.", "An edited paragraph."), encoding="utf-8")
    again = session.rebuild().findings
    assert [str(f) for f in again if f.rule == "frame-overflow"] == [
        str(f) for f in first if f.rule == "frame-overflow"
    ]
    source.write_text(broken.replace("€1,830,000,000,000,000", "€1.8 m"), encoding="utf-8")
    fixed = session.rebuild()
    assert fixed.result is not None and not any(f.rule == "frame-overflow" for f in fixed.findings)


def _real_engine(tmp_path: Path) -> Any:
    from newsletter.build import DEFAULT_LAYOUT
    from newsletter.engine.typesetter import Typesetter

    return Typesetter(tmp_path, [tmp_path, DEFAULT_LAYOUT.fonts], tmp_path / "issue.yaml")


#: 200 px square pages without margins, lines of 20 px, one bundled font.
_SQUARE = """
@font-face { font-family: "Noto Serif"; src: url("%s/noto-serif/NotoSerif-Regular.ttf"); }
@page { size: 200px 200px; margin: 0 }
html { font: 12px/20px "Noto Serif"; }
body, p { margin: 0; }
"""


def _square_part(width: int, number: int, spacer: float = 0) -> str:
    return (
        f'<html><body><p style="width: {width}px">'
        + "A reference to the target, "
        + f'see <a class="pageref" href="#t">page\u00a0{number}</a></p>'
        + f'<div style="height: {spacer}px"></div><p id="t">Target</p></body></html>'
    )


def test_a_number_that_grows_a_digit_and_moves_its_target_settles_the_same_warm_and_cold(
    tmp_path: Path,
) -> None:
    """Real layouts: a reference on page 9 whose last line holds "page 9" but not "page 10",
    and its target at the foot of the page. Printed 9, the target stays on page 9; printed
    10, it goes to page 10: two stable states. A cold build settles on one (the passes
    start from 0), and a warm build whose memo saw the other agrees with it, byte for byte."""
    from newsletter.build import DEFAULT_LAYOUT
    from newsletter.engine.laidout import anchor_pages
    from newsletter.engine.laidout import pages as laid_out_pages
    from newsletter.engine.paginate import Memo, paginate
    from newsletter.engine.render import Rendered

    engine = _real_engine(tmp_path)
    css = _SQUARE % DEFAULT_LAYOUT.fonts.resolve().as_uri()
    engine.prepare((), css)

    def lines(html: str) -> int:
        document = engine.lay_out(html, 9, part=True)
        return sum(1 for page in laid_out_pages(document) for box in page.flow.walk() if box.kind == "line")

    # The paragraph width at which its last line takes "page 9" but not "page 10".
    words = next((w for w in range(100, 200) if lines(_square_part(w, 9)) < lines(_square_part(w, 10))), None)
    assert words is not None, "no width makes the number wrap: the fonts changed?"
    paragraph_lines = lines(_square_part(words, 9)) - 1  # the target's own line
    spacer = 200 - 20 * (paragraph_lines + 1) - 1  # the target fits at the foot, and no more
    blank = "<html><body>" + '<div style="break-after: page">x</div>' * 7 + "<div>x</div></body></html>"

    def render_with(extra: float) -> Any:
        def render(pages: Any) -> Rendered:
            number = pages.get("t", 0)
            return Rendered("", (), css, {"t": number}, (blank, _square_part(words, number, spacer + extra)))

        return render

    for number in (9, 10):
        forced = engine.lay_out(_square_part(words, number, spacer), 9, part=True)
        assert anchor_pages(forced)["t"] - 1 == number - 9, (
            f"printing {number} puts the target on page {number}"
        )
    cold = paginate(render_with(0), engine, Memo(), MAX_PASSES)
    settled = cold.rendered.printed["t"]
    assert settled == cold.page_map["t"] and settled in (9, 10)
    # The memo of a build before an edit, where the target lay on the other page.
    memo = Memo()
    before = paginate(render_with(-20 if settled == 10 else 20), engine, memo, MAX_PASSES)
    assert before.page_map["t"] == before.rendered.printed["t"] == 19 - settled
    warm = paginate(render_with(0), engine, memo, MAX_PASSES)
    assert warm.rendered.printed["t"] == warm.page_map["t"] == settled


def test_a_session_checks_an_image_again_when_its_bytes_change(minimal: Path, tmp_path: Path) -> None:
    """A warm process decodes an image once, and again when the file changes."""
    session = Session(minimal, out_dir=tmp_path / "out")
    assert session.rebuild().result is not None
    photo = minimal.parent / "photo.png"
    whole = photo.read_bytes()
    photo.write_bytes(whole[: len(whole) // 2])
    assert any(f.rule == "image-file" and f.severity == "error" for f in session.rebuild().findings)
    photo.write_bytes(whole)
    assert session.rebuild().result is not None


def test_a_session_follows_a_font_replaced_in_the_layout(minimal: Path, tmp_path: Path) -> None:
    """A font file is read once per font configuration: replaced during a session, the
    parts are laid out again with the new one, as a cold build would."""
    import shutil
    from dataclasses import replace as replaced

    layout = replaced(layout_copy(tmp_path), fonts=tmp_path / "fonts")
    shutil.copytree(ROOT / "fonts", layout.fonts)
    session = Session(minimal, out_dir=tmp_path / "warm", layout=layout)
    before = session.rebuild()
    assert before.result is not None and before.result.pdf is not None
    old = before.result.pdf.read_bytes()
    regular = layout.fonts / "noto-serif" / "NotoSerif-Regular.ttf"
    regular.write_bytes((layout.fonts / "noto-serif" / "NotoSerif-Bold.ttf").read_bytes())
    warm = session.rebuild()
    assert warm.result is not None and warm.result.pdf is not None
    cold = build_issue(minimal, tmp_path / "cold", layout=layout)
    assert cold.pdf is not None and warm.result.pdf.read_bytes() == cold.pdf.read_bytes() != old


@pytest.mark.parametrize("edition", ["print", "archive"])
def test_a_warm_rebuild_of_the_other_editions_gives_the_bytes_of_a_cold_build(
    edition: str, minimal: Path, tmp_path: Path
) -> None:
    """Written again from kept parts: the same output intent (the ICC profile's bytes), the
    same CMYK photos, marks, tags and XMP as a cold build."""
    session = Session(minimal, edition=edition, out_dir=tmp_path / "warm")
    assert session.rebuild().result is not None
    edit(minimal, "A paragraph that refers", "An edited paragraph that refers")
    warm = session.rebuild()
    assert warm.result is not None and warm.result.pdf is not None, warm.findings
    cold = build_issue(minimal, tmp_path / "cold", edition=edition)
    assert cold.pdf is not None and warm.result.pdf.read_bytes() == cold.pdf.read_bytes()


def test_a_layout_without_parts_is_laid_out_whole_and_rebuilt_warm_the_same(
    minimal: Path, tmp_path: Path
) -> None:
    """A layout of one's own whose template marks no parts: one part, the whole document with
    its own stylesheets (and their colour profile): warm and cold give the same print PDF."""
    layout = layout_copy(tmp_path)
    template = layout.templates / "issue.html.j2"
    template.write_text(
        template.read_text(encoding="utf-8")
        .replace("<!--newsletter:part-->", "")
        .replace("<!--newsletter:/part-->", ""),
        encoding="utf-8",
    )
    session = Session(minimal, edition="print", out_dir=tmp_path / "warm", layout=layout)
    first = session.rebuild()
    assert first.result is not None and first.result.laid_out >= first.result.pages
    warm = session.rebuild()  # nothing changed: the kept document is written a second time
    assert warm.result is not None and warm.result.pdf is not None, warm.findings
    assert warm.result.laid_out == 0
    cold = build_issue(minimal, tmp_path / "cold", layout=layout, edition="print")
    assert cold.pdf is not None and warm.result.pdf.read_bytes() == cold.pdf.read_bytes()


def test_a_check_after_a_build_reads_its_memo_and_writes_nothing(minimal: Path, tmp_path: Path) -> None:
    """`check` is told the last build's folder: it lays out each page once and leaves the
    memo as it was; the findings are those of a check without it."""
    from newsletter.build import BuildOptions, check_issue, run

    out = tmp_path / "out"
    built = build_issue(minimal, out)
    memo = out / ".issue-email.pages.json"
    before = memo.read_bytes()
    checked = run(minimal, BuildOptions(memo_from=out))
    assert checked.laid_out == checked.pages == built.pages and checked.pdf is None
    assert memo.read_bytes() == before
    assert [str(f) for f in check_issue(minimal, memo_from=out)] == [str(f) for f in check_issue(minimal)]


def test_a_changed_page_written_alone_first_looks_as_in_the_pdf(issue_copy: Path, tmp_path: Path) -> None:
    """The preview shows a changed page before the PDF of every page is written: that page,
    written alone (``build.Proof``), looks as it does in the PDF (its fonts subset to fewer
    glyphs, so the edges of a few letters are smoothed a shade apart), and writing it first
    changes no byte of the PDF."""
    import io

    from PIL import Image, ImageChops

    from newsletter.workbench.pageimages import page_pngs

    session = Session(issue_copy, out_dir=tmp_path / "warm")
    session.rebuild()
    edit(issue_copy, "this abject crime", "this heinous crime")
    alone: dict[int, bytes] = {}

    def proofed(pages: list[int], proof: Any) -> None:
        alone[pages[0]] = proof([pages[0]])

    done = session.rebuild(on_proof=proofed)
    assert done.result is not None and done.result.pdf is not None
    [(number, pdf)] = alone.items()
    assert number == done.changed[0]
    first, written = (
        Image.open(io.BytesIO(png)).convert("L")
        for png in (page_pngs(pdf, [1], 60)[1], page_pngs(done.result.pdf, [number], 60)[number])
    )
    assert first.size == written.size
    apart = ImageChops.difference(first, written).histogram()
    assert sum(apart[96:]) < 50, "not the same page: a word alone differs in a few hundred pixels"
    cold = build_issue(issue_copy, tmp_path / "cold")
    assert cold.pdf is not None and cold.pdf.read_bytes() == done.result.pdf.read_bytes()


def test_the_print_edition_is_not_shown_before_its_finishing(issue_copy: Path, tmp_path: Path) -> None:
    """Its finishing draws marks and a slug: a page written alone would not look as printed."""
    session = Session(issue_copy, edition="print", out_dir=tmp_path / "warm")
    session.rebuild()
    edit(issue_copy, "this abject crime", "this heinous crime")
    told: list[list[int]] = []
    done = session.rebuild(on_changed=told.append, on_proof=lambda pages, proof: pytest.fail("proofed"))
    assert done.result is not None and told and told[0]
