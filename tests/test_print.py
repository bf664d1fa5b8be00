"""The print edition as a print shop receives it: marks and slug where printers expect them,
ink read back from Ghostscript's separations, the print rules each shown to fire.

Issue 10's editions are built once per session (``editions`` in conftest.py); the spoiled PDFs
are its print edition cut to two pages, so that Ghostscript renders them in a fraction of a
second. Separations are read at 20 dpi: enough to find every plate and every mark.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pytest
from conftest import CLEAN_PRINT, ISSUE_10, edit, layout_copy, output_findings, spoil
from PIL import Image

from newsletter.build import BuildResult, build_issue, check_issue
from newsletter.editions import EDITIONS
from newsletter.errors import EnvironmentFault
from newsletter.press import inks

MM = 72 / 25.4
DPI = 20


def _print_pdf(editions: dict[str, BuildResult]) -> Path:
    path = editions["print"].pdf
    assert path is not None
    return path


def _box(page: pikepdf.Page, key: str) -> list[float]:
    x0, y0, x1, y1 = (float(v) for v in page.obj[key])
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def _segments(page: pikepdf.Page) -> list[tuple[float, float, float, float]]:
    """The stroked segments drawn in the registration colour space (``m`` ``l`` ``S``)."""
    found, start, current, registration = [], (0.0, 0.0), (0.0, 0.0), False
    spaces = page.Resources.ColorSpace
    for instruction in pikepdf.parse_content_stream(page):
        operator, operands = str(instruction.operator), instruction.operands
        if operator == "CS":
            space = spaces.get(str(operands[0]))
            registration = (
                isinstance(space, pikepdf.Array)
                and str(space[0]) == "/Separation"
                and str(space[1]) == "/All"
            )
        elif operator == "m":
            start = (float(operands[0]), float(operands[1]))
        elif operator == "l":
            current = (float(operands[0]), float(operands[1]))
        elif operator == "S" and registration:
            found.append((*start, *current))
    return found


# ---------- marks and slug


def test_crop_marks_lie_outside_the_bleed_in_registration_colour(editions: dict[str, BuildResult]) -> None:
    with pikepdf.open(_print_pdf(editions)) as pdf:
        for page in pdf.pages:
            trim, bleed, media = _box(page, "/TrimBox"), _box(page, "/BleedBox"), _box(page, "/MediaBox")
            segments = _segments(page)
            assert len(segments) == 8, segments
            for x0, y0, x1, y1 in segments:
                horizontal = y0 == y1
                # On the extension of a trim edge...
                on, edges_across = (y0, (trim[1], trim[3])) if horizontal else (x0, (trim[0], trim[2]))
                assert min(abs(on - e) for e in edges_across) < 0.01
                # ...starting the bleed away from the trim (3 mm), never inside the bleed box...
                near = x0 if horizontal else y0
                edges = (trim[0], trim[2]) if horizontal else (trim[1], trim[3])
                assert min(abs(near - e) for e in edges) == pytest.approx(3 * MM, abs=0.01)
                for x, y in ((x0, y0), (x1, y1)):
                    outside = (
                        x <= bleed[0] + 0.01
                        or x >= bleed[2] - 0.01
                        or y <= bleed[1] + 0.01
                        or y >= bleed[3] - 0.01
                    )
                    assert outside and media[0] < x < media[2] and media[1] < y < media[3]
            registration = page.Resources.ColorSpace.Registration
            assert [str(v) for v in registration[:3]] == ["/Separation", "/All", "/DeviceCMYK"]
            assert [float(v) for v in registration[3].C1] == [1, 1, 1, 1]


def test_the_slug_names_the_job_edition_page_and_issue_date(editions: dict[str, BuildResult]) -> None:
    document = pdfium.PdfDocument(str(_print_pdf(editions)))
    try:
        for index in (0, 5, 11):
            text = document[index].get_textpage().get_text_range()
            assert (
                f"Fight against human trafficking in South-East Europe, issue 10 — print edition — "
                f"page {index + 1} of 12 — 2018-09-01" in text
            )
    finally:
        document.close()
    with pikepdf.open(_print_pdf(editions)) as pdf:
        fonts = [f for f in pdf.pages[0].Resources.Font.values() if str(f.BaseFont).endswith("+Lato-Regular")]
        slug = [f for f in fonts if "/FontFile2" in f.FontDescriptor and str(f.Subtype) == "/TrueType"]
        assert slug, "the slug font is a subset of the bundled Lato, embedded"


def test_no_annotations_and_black_text_overprints(editions: dict[str, BuildResult]) -> None:
    with pikepdf.open(_print_pdf(editions)) as pdf:
        assert all("/Annots" not in page.obj for page in pdf.pages)
        assert "/AcroForm" not in pdf.Root
        page = pdf.pages[2]
        state = page.Resources.ExtGState
        assert bool(state.OPblack.OP) and bool(state.OPblack.op) and int(state.OPblack.OPM) == 1
        fill: list[float] = []
        overprint = ended_overprinting = False
        black_runs = coloured_runs = 0
        for instruction in pikepdf.parse_content_stream(page):
            operator, operands = str(instruction.operator), instruction.operands
            if ended_overprinting:
                assert (operator, str(operands[0])) == ("gs", "/OPoff"), (
                    "overprint is set back after the text"
                )
                ended_overprinting = False
            if operator == "scn":
                fill = [float(v) for v in operands]
            elif operator == "gs" and str(operands[0]) in ("/OPblack", "/OPoff"):
                overprint = str(operands[0]) == "/OPblack"
            elif operator in ("TJ", "Tj"):
                black = len(fill) == 4 and not any(fill[:3]) and fill[3] > 0
                assert overprint == black, (fill, overprint)
                black_runs += black
                coloured_runs += not black
            elif operator == "ET":
                ended_overprinting = overprint
        assert black_runs > 10 and coloured_runs > 0


@pytest.mark.tool("ghostscript")
def test_colour_bar_behind_a_flag(minimal: Path, tmp_path: Path) -> None:
    """With ``--colour-bar`` the top slug carries solid, tint and overprint patches; without,
    nothing."""
    from typer.testing import CliRunner

    from newsletter import cli
    from newsletter.build import BuildResult

    plain = build_issue(minimal, tmp_path / "plain", edition="print")
    done = CliRunner().invoke(
        cli.app,
        ["build", str(minimal), "--variant", "print", "--colour-bar", "--out", str(tmp_path / "barred")],
    )
    assert done.exit_code == 0, done.output
    barred = BuildResult(plain.issue, "print", tmp_path / "barred" / "issue-print.pdf", 0, 0)
    for result, wanted in ((plain, False), (barred, True)):
        assert result.pdf is not None
        with inks.separations(result.pdf, 72) as pages:
            page = pages[0]
            left, _, right, _ = page.bleed
            # A strip through the middle of the top slug, between the crop marks.
            strip = (left + 30, 7, right - 30, 9)
            ink = {name: 255 - plate.crop(strip).getextrema()[0] for name, plate in page.plates.items()}  # type: ignore[operator]
            assert all(v > 200 for v in ink.values()) is wanted, ink
            if wanted:
                # The first patch (cyan alone) is 30 mm left of the trim's middle, 5 mm wide.
                x = round((page.trim[0] + page.trim[2]) / 2 - 27.5 * 72 / 25.4)
                there = {name: 255 - plate.getpixel((x, 8)) for name, plate in page.plates.items()}  # type: ignore[operator]
                assert there["Cyan"] > 250 and there["Magenta"] == there["Black"] == 0, there


# ---------- the outside check: Ghostscript reads the edition and its plates


@pytest.mark.tool("ghostscript")
def test_issue_10_separates_into_four_plates_within_the_ink_limit(editions: dict[str, BuildResult]) -> None:
    press = EDITIONS["print"].press
    assert press is not None
    with inks.separations(_print_pdf(editions), DPI) as pages:
        assert len(pages) == 12
        for page in pages:
            assert sorted(page.plates) == sorted(inks.PROCESS_INKS), page.plates.keys()
            assert not page.spots
            # The top left crop mark, on every plate (registration colour: all four inks).
            x = page.trim[0] - round(5 * MM * DPI / 72)
            y = page.trim[1]
            for name, plate in page.plates.items():
                assert (
                    min(plate.getpixel((x + dx, y + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)) < 200
                ), name  # type: ignore[operator]
            found = page.coverage(press.ink_limit)
            assert 100 < found.max_percent <= press.ink_limit + 0.5, found
            assert found.over_mm2 == 0


def test_ghostscript_missing_leaves_the_ink_unmeasured_with_a_notice(
    editions: dict[str, BuildResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inks.shutil, "which", lambda name: None)
    found = output_findings(_print_pdf(editions), ISSUE_10, "print")
    assert [f.rule for f in found if f.rule.startswith("ink")] == ["ink-unmeasured"]
    # Measuring asked for directly (python -m newsletter.press.inks) is the machine's fault.
    with pytest.raises(EnvironmentFault, match="Ghostscript"):
        inks.ghostscript()


# ---------- the print rules, each shown to fire on a spoiled PDF that Ghostscript still reads


def _add_content(doc: pikepdf.Pdf, page: int, data: bytes, resources: dict[str, Any] | None = None) -> None:
    target = doc.pages[page]
    target.contents_add(doc.make_stream(data), prepend=False)
    for kind, entries in (resources or {}).items():
        holder = target.Resources.get(kind)
        if holder is None:
            target.Resources[kind] = holder = pikepdf.Dictionary()
        for key, value in entries.items():
            holder[key] = value


def _rgb(doc: pikepdf.Pdf) -> None:
    _add_content(doc, 1, b"q 1 0 0 rg 100 100 20 20 re f Q")


def _lab(doc: pikepdf.Pdf) -> None:
    lab = pikepdf.Array([pikepdf.Name("/Lab"), pikepdf.Dictionary(WhitePoint=[0.9643, 1, 0.8251])])
    doc.pages[1].Resources.ColorSpace["/lab-d50"] = lab


def _annotation(doc: pikepdf.Pdf) -> None:
    link = pikepdf.Dictionary(
        Type=pikepdf.Name("/Annot"),
        Subtype=pikepdf.Name("/Link"),
        Rect=[0, 0, 50, 50],
        A=pikepdf.Dictionary(S=pikepdf.Name("/URI"), URI=pikepdf.String("https://example.org")),
    )
    doc.pages[0].obj["/Annots"] = doc.make_indirect(pikepdf.Array([doc.make_indirect(link)]))


def _trim(doc: pikepdf.Pdf) -> None:
    doc.pages[1].obj["/TrimBox"] = pikepdf.Array([0, 0, 595.2756, 830])


def _no_slug(doc: pikepdf.Pdf) -> None:
    doc.pages[0].obj["/MediaBox"] = doc.pages[0].obj["/BleedBox"]


def _no_marks(doc: pikepdf.Pdf) -> None:
    contents = doc.pages[0].obj.Contents
    opening = contents[0].read_bytes()
    contents[0].write(opening[opening.rindex(b"\nq ") + 1 :])  # the clip stays, the marks go


def _unembedded(doc: pikepdf.Pdf) -> None:
    for font in doc.pages[0].Resources.Font.values():
        if str(font.get("/Subtype")) == "/TrueType":
            del font.FontDescriptor["/FontFile2"]


def _other_profile(doc: pikepdf.Pdf) -> None:
    intent = doc.Root.OutputIntents[0]
    profile = bytearray(intent.DestOutputProfile.read_bytes())
    profile[64:68] = (0).to_bytes(4, "big")  # perceptual, not relative: another profile, still valid
    intent.DestOutputProfile = doc.make_stream(bytes(profile), N=4)


def _too_much_ink(doc: pikepdf.Pdf) -> None:
    _add_content(doc, 1, b"q /DeviceCMYK cs 1 1 1 1 scn 100 100 60 40 re f Q")


def _spot(doc: pikepdf.Pdf) -> None:
    tint = pikepdf.Dictionary(FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0], C1=[0, 0.8, 0.9, 0], N=1)
    space = pikepdf.Array(
        [
            pikepdf.Name("/Separation"),
            pikepdf.Name("/PANTONE 185 C"),
            pikepdf.Name("/DeviceCMYK"),
            doc.make_indirect(tint),
        ]
    )
    _add_content(doc, 1, b"q /Spot cs 1 scn 100 100 20 20 re f Q", {"/ColorSpace": {"/Spot": space}})


#: Each spoil and the finding it must raise, as ``rule: message`` (the start of the message).
SPOILS: dict[str, tuple[Callable[[pikepdf.Pdf], None], str]] = {
    "rgb": (_rgb, "print-cmyk: RGB or Lab colour in the page content (rg)"),
    "lab": (_lab, "print-cmyk: colour space /lab-d50 is Lab (declared, used or not)"),
    "annotation": (_annotation, "print-annotations: 1 annotations (Link)"),
    "trim": (_trim, "print-boxes: the TrimBox (210.0 x 292.8 mm) is not the first page's"),
    "slug": (
        _no_slug,
        "print-boxes: the media box reaches 0.0 mm beyond the bleed: marks need a slug of 5 mm",
    ),
    "marks": (
        _no_marks,
        "print-marks: the page has 0 crop marks in registration colour (/Separation /All), not 8",
    ),
    "font": (_unembedded, "print-fonts: font "),
    "profile": (_other_profile, "print-intent: image "),
    "ink": (
        _too_much_ink,
        "ink-coverage: 400 % of ink at 35 x 248 mm from the trim's top left, over the limit of 300 %",
    ),
    "spot": (_spot, "ink-coverage: the page prints on a plate of its own, 'PANTONE 185 C'"),
}


@pytest.mark.tool("ghostscript")
@pytest.mark.parametrize("spoiled", sorted(SPOILS))
def test_print_rule_fires_and_ghostscript_reads_the_spoiled_pdf(
    spoiled: str, editions: dict[str, BuildResult], tmp_path: Path
) -> None:
    change, wanted = SPOILS[spoiled]
    pdf_path = tmp_path / "print.pdf"
    shutil.copy(_print_pdf(editions), pdf_path)

    def cut_and_spoil(doc: pikepdf.Pdf) -> None:
        del doc.pages[2:]
        change(doc)

    spoil(pdf_path, cut_and_spoil)
    findings = [f"{f.rule}: {f.message}" for f in output_findings(pdf_path, ISSUE_10, "print")]
    assert any(f.startswith(wanted) for f in findings), findings
    if spoiled == "font":
        assert any(
            f.startswith("print-fonts: font ") and f.endswith("+Lato-Regular is not embedded")
            for f in findings
        )
    if spoiled == "profile":
        assert any(
            f.endswith("was converted with another profile than the output intent's") for f in findings
        )
    # The outside check: Ghostscript's interpreter reads it without error, four plates per
    # page and no spot colour (but the one spoiled in).
    with inks.separations(pdf_path, DPI) as pages:
        assert len(pages) == 2
        for page in pages:
            assert set(inks.PROCESS_INKS) <= set(page.plates)
            assert page.spots == (["PANTONE 185 C"] if spoiled == "spot" and page.number == 2 else [])


def test_clean_print_edition_passes_every_print_rule(
    editions: dict[str, BuildResult], tmp_path: Path
) -> None:
    pdf_path = tmp_path / "print.pdf"
    shutil.copy(_print_pdf(editions), pdf_path)
    assert [f"{f.rule}: {f.message}" for f in output_findings(pdf_path, ISSUE_10, "print")] == CLEAN_PRINT


# ---------- layout rules: hairlines, small text in several inks, image resolution


def test_layout_print_rules_point_at_the_field(minimal: Path, tmp_path: Path) -> None:
    """One build with a hairline, small text in several inks and a photo between 150 and 300
    dpi: each finding at the field the box was made from."""
    css = (
        '[data-src="sections.0.blocks.0"] { font-size: 5pt; color: device-cmyk(0.6 0.5 0 1); }\n'
        '[data-src="sections.1.blocks.0"] { font-size: 8pt; color: device-cmyk(0.7 0 0.3 0.4);'
        " border-top: 0.1pt solid device-cmyk(0 0 0 1); }\n"
    )
    layout = layout_copy(tmp_path, css_after=css)
    Image.effect_noise((1700, 1000), 60).convert("RGB").save(minimal.parent / "photo.png")
    edit(minimal, "stand_in: true", "stand_in: false")
    found = {
        f"{f.rule}: {f.severity} at {f.field}" for f in check_issue(minimal, layout=layout, edition="print")
    }
    assert "small-text-inks: error at sections[0].blocks[0]" in found
    assert "text-inks: notice at sections[1].blocks[0]" in found
    assert "hairline: warning at sections[1].blocks[0]" in found
    assert "image-resolution: warning at sections[0].blocks[1].image" in found
    messages = {f"{f.rule}: {f.message}" for f in check_issue(minimal, layout=layout, edition="print")}
    small = "small-text-inks: 5.0 pt text 'A paragraph that refers to the' in rich black (C 60 % + M 50 % + K 100 %)"
    assert small in messages, messages
    assert "hairline: the top of p 'Back to the first section, page 2 .' is 0.10 pt wide" in messages, (
        messages
    )
    assert any(m.startswith("image-resolution: image photo.png prints at 24") for m in messages), messages


# ---------- the finishing step's parts


def test_black_text_overprints_within_one_text_object() -> None:
    """WeasyPrint changes colour inside a text object when runs follow each other: overprint
    goes on with black, off with colour, off at the end; inline images keep their space."""
    from newsletter.press.finish import _overprint_black_text

    data = (
        b"q BI /W 1 /H 1 /CS /Gray /BPC 8 ID \x80 EI Q\n"
        b"/DeviceCMYK cs 0 0 0 0.92 scn BT /F1 9 Tf (black) Tj"
        b" 0.75 0 0.31 0.43 scn (teal) Tj 0 0 0 1 scn (black again) Tj ET"
    )
    scratch = pikepdf.new()
    out, names, changed = _overprint_black_text(data, scratch)
    assert changed and names == {"DeviceCMYK", "Gray"}
    shown = []
    for instruction in pikepdf.parse_content_stream(pikepdf.Stream(scratch, out)):
        if isinstance(instruction, pikepdf.ContentStreamInstruction):
            operator = str(instruction.operator)
            if operator in ("BT", "ET", "Tj"):
                shown.append(operator)
            elif operator == "gs":
                shown.append(str(instruction.operands[0]))
    assert shown == ["BT", "/OPblack", "Tj", "/OPoff", "Tj", "/OPblack", "Tj", "ET", "/OPoff"]
    assert _overprint_black_text(b"0 0 1 rg BT (blue) Tj ET", scratch)[2] is False


def test_a_jpeg_gives_up_its_profile() -> None:
    from io import BytesIO

    from newsletter.press.finish import split_jpeg_icc

    profile = (
        Path(__file__).resolve().parent.parent / "layouts" / "icc" / "FOGRA39L-coated-300.icc"
    ).read_bytes()
    buffer = BytesIO()
    Image.new("CMYK", (8, 8), (10, 20, 30, 40)).save(buffer, "JPEG", icc_profile=profile)
    found, jpeg = split_jpeg_icc(buffer.getvalue())
    assert found == profile and len(jpeg) < len(buffer.getvalue()) - len(profile)
    with Image.open(BytesIO(jpeg)) as image:
        assert image.mode == "CMYK" and "icc_profile" not in image.info
    assert split_jpeg_icc(jpeg) == (None, jpeg)
    assert split_jpeg_icc(b"not a jpeg") == (None, b"not a jpeg")


def test_without_ghostscript_the_print_edition_builds_and_says_the_ink_was_not_measured(
    minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh machine without Ghostscript still builds every edition (make issue10 needs
    only Python); the print edition's ink is then not measured, and a notice says so."""
    import newsletter.check.printshop

    monkeypatch.setattr(newsletter.check.printshop, "has_ghostscript", lambda: False)
    result = build_issue(minimal, tmp_path / "out", edition="print")
    notices = [f for f in result.findings if f.rule == "ink-unmeasured"]
    assert notices and notices[0].severity == "notice"
    assert not [f for f in result.findings if f.rule == "ink-coverage"]


def test_images_are_converted_with_the_profile_of_the_edition(
    minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edition for another press (its own output profile, in print.css and in its
    ``Press``) gets its photos converted with that profile: the output intent's."""
    import dataclasses

    layout = layout_copy(tmp_path)
    original = (layout.templates / "icc" / "FOGRA39L-coated-300.icc").read_bytes()
    # Another profile: the same tables under another description (a press of its own).
    other = original.replace(b"FOGRA39", b"FOGRA3X")
    assert other != original
    (layout.templates / "icc" / "other-press.icc").write_bytes(other)
    edit(
        layout.templates / "print.css",
        'src: url("icc/FOGRA39L-coated-300.icc");',
        'src: url("icc/other-press.icc");',
    )
    press = EDITIONS["print"].press
    assert press is not None
    monkeypatch.setitem(
        EDITIONS,
        "print",
        dataclasses.replace(
            EDITIONS["print"], press=dataclasses.replace(press, profile="icc/other-press.icc")
        ),
    )
    result = build_issue(minimal, tmp_path / "out", layout, edition="print")
    assert result.pdf is not None
    assert not [f for f in result.findings if f.rule == "print-intent"]
