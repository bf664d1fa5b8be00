"""The three editions of issue 10, built in parallel once per session and read back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from conftest import CLEAN_PRINT, ISSUE_10, edit, output_findings, spoil
from PIL import Image

from newsletter.build import BuildResult, build_all, build_issue

MM = 72 / 25.4


def _open(result: BuildResult) -> pikepdf.Pdf:
    assert result.pdf is not None
    return pikepdf.open(result.pdf)


def test_names_say_the_edition(editions: dict[str, BuildResult]) -> None:
    for name, result in editions.items():
        assert result.pdf is not None and result.pdf.name == f"issue-10-{name}.pdf"
        assert result.pages == 12


@pytest.mark.tool("qpdf")
def test_qpdf_check_is_clean(editions: dict[str, BuildResult]) -> None:
    qpdf = shutil.which("qpdf")
    assert qpdf is not None
    for result in editions.values():
        proc = subprocess.run([qpdf, "--check", str(result.pdf)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "No syntax or stream encoding errors" in proc.stdout


@pytest.mark.tool("poppler")
def test_a_second_reader_finds_every_font_embedded_and_the_text(editions: dict[str, BuildResult]) -> None:
    """Poppler, not the library the pipeline writes with, reads each edition: every font
    embedded and subset, and the cover's text in reading order."""
    for name, result in editions.items():
        fonts = subprocess.run(
            ["pdffonts", str(result.pdf)], capture_output=True, text=True, check=True, timeout=60
        ).stdout.splitlines()[2:]
        assert fonts, name
        for line in fonts:
            # name, type, encoding, emb, sub, uni, object, ID: "emb" and "sub" read yes.
            columns = line.split()
            assert columns[-5:-3] == ["yes", "yes"], (name, line)
            assert columns[0].split("+", 1)[-1].replace("-", "").startswith(("Lato", "NotoSerif")), (
                name,
                line,
            )
        cover = subprocess.run(
            ["pdftotext", "-f", "1", "-l", "1", "-layout", str(result.pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        assert "human trafficking" in " ".join(cover.split()).lower(), (name, cover[:400])


# ---------- email


def test_email_is_small_with_bookmarks_links_and_metadata(editions: dict[str, BuildResult]) -> None:
    result = editions["email"]
    assert result.size < 1_500_000
    with _open(result) as pdf:
        info = pdf.docinfo
        assert str(info.Title).startswith("France’s multilateral commitment")
        assert "Regional expert" in str(info.Author)
        assert "multilateral strategy" in str(info.Subject)
        assert "UNODC" in str(info.Keywords)
        assert str(pdf.Root.Lang) == "en"
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
        assert titles[0].startswith("France’s multilateral commitment")
        assert "Three questions to… Mr Yuri Fedotov" in titles
        assert "Return to… the 27th Commission on Crime Prevention and Criminal Justice (CCPCJ)" in titles
        assert len(titles) == 1 + len(result.issue.sections)
        internal = sum(1 for page in pdf.pages for a in page.get("/Annots", []) if "/Dest" in a)
        assert internal >= 11


def test_email_downsamples_a_5_mb_photo(minimal: Path, tmp_path: Path) -> None:
    photo = minimal.parent / "big.jpg"
    noise = Image.effect_noise((3000, 2000), 90).convert("RGB")
    noise.save(photo, quality=97)
    assert photo.stat().st_size > 5_000_000
    text = minimal.read_text(encoding="utf-8").replace("image: photo.png", "image: big.jpg")
    minimal.write_text(text, encoding="utf-8")
    result = build_issue(minimal, tmp_path / "out", edition="email")
    assert result.size < 1_500_000, result.size
    with _open(result) as pdf:
        images = [img for page in pdf.pages for img in page.get_images().values()]
        assert any(int(img.Width) < 3000 for img in images), "the photo is still there, smaller"


# ---------- print


def test_print_has_trim_bleed_and_slug_on_every_page(editions: dict[str, BuildResult]) -> None:
    with _open(editions["print"]) as pdf:
        for page in pdf.pages:
            trim = [float(v) for v in page.obj.TrimBox]
            bleed = [float(v) for v in page.obj.BleedBox]
            media = [float(v) for v in page.obj.MediaBox]
            assert trim[2] - trim[0] == pytest.approx(210 * MM, abs=0.1)
            assert trim[3] - trim[1] == pytest.approx(297 * MM, abs=0.1)
            for side in range(4):
                sign = -1 if side < 2 else 1
                assert sign * (bleed[side] - trim[side]) == pytest.approx(3 * MM, abs=0.01)
                # The slug: the media box 10 mm beyond the bleed (the marks need 5 at least).
                assert sign * (media[side] - bleed[side]) == pytest.approx(10 * MM, abs=0.01)


def test_print_is_cmyk_pdfx4_with_output_intent(editions: dict[str, BuildResult]) -> None:
    with _open(editions["print"]) as pdf:
        (intent,) = pdf.Root.OutputIntents
        assert str(intent.S) == "/GTS_PDFX" and int(intent.DestOutputProfile.N) == 4
        xmp = pdf.Root.Metadata.read_bytes().decode()
        assert "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp
        assert re.search(r"xmpMM:DocumentID>xmp\.did:[0-9a-f-]{36}<", xmp)
        cmyk_fills = 0
        intent_profile = intent.DestOutputProfile.read_bytes()
        for page in pdf.pages:
            for instruction in pikepdf.parse_content_stream(page):
                operator = str(getattr(instruction, "operator", ""))
                assert operator not in ("rg", "RG"), "RGB colour in the print edition"
                if operator in ("cs", "CS"):
                    assert str(instruction.operands[0]) != "/DeviceRGB"
                    cmyk_fills += str(instruction.operands[0]) == "/DeviceCMYK"
            for image in page.get_images().values():
                # CMYK, tagged with the profile it was converted with: the output intent's own stream.
                space = image.ColorSpace
                assert str(space[0]) == "/ICCBased" and space[1].objgen == intent.DestOutputProfile.objgen
                assert space[1].read_bytes() == intent_profile
            # WeasyPrint's unused Lab spaces are gone; only the registration colour is declared.
            assert set(page.Resources.ColorSpace.keys()) == {"/Registration"}
        assert cmyk_fills > 100


def test_print_keeps_full_resolution(editions: dict[str, BuildResult]) -> None:
    with _open(editions["print"]) as pdf:
        widths = {int(img.Width) for page in pdf.pages for img in page.get_images().values()}
    assert 2400 in widths  # the key-figures chart as made


# ---------- archive


def _struct(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    found = []

    def visit(node: pikepdf.Object) -> None:
        kids = node.get("/K")
        for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                found.append(kid)
                visit(kid)

    visit(pdf.Root.StructTreeRoot)
    return found


def test_archive_declares_pdfa_and_pdfua(editions: dict[str, BuildResult]) -> None:
    with _open(editions["archive"]) as pdf:
        xmp = pdf.Root.Metadata.read_bytes().decode()
        assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="U"' in xmp
        assert "<pdfuaid:part>1</pdfuaid:part>" in xmp
        assert str(pdf.Root.OutputIntents[0].S) == "/GTS_PDFA1"
        assert bool(pdf.Root.MarkInfo.Marked)
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle)
        assert str(pdf.Root.Lang) == "en" and str(pdf.docinfo.Title)


def test_archive_structure(editions: dict[str, BuildResult]) -> None:
    with _open(editions["archive"]) as pdf:
        elements = _struct(pdf)
        roles = [str(e.S) for e in elements]
        for role in (
            "/Document",
            "/H1",
            "/H2",
            "/H3",
            "/P",
            "/Figure",
            "/Caption",
            "/Sect",
            "/BlockQuote",
            "/L",
            "/LI",
            "/Link",
        ):
            assert role in roles, role
        figures = [e for e in elements if str(e.S) == "/Figure"]
        assert len(figures) == 6 and all(str(f.get("/Alt", "")).strip() for f in figures)
        # The interview: three sections whose heading is the question.
        qa = [
            e
            for e in elements
            if str(e.S) == "/Sect"
            and any(isinstance(k, pikepdf.Dictionary) and str(k.get("/S")) == "/H3" for k in e.K)
        ]
        assert len(qa) >= 3
        for image in (img for page in pdf.pages for img in page.get_images().values()):
            assert not bool(image.get("/Interpolate", False))


def test_archive_reading_order_follows_the_articles(editions: dict[str, BuildResult]) -> None:
    """The structure tree reads the issue in the order it was written, section by section."""
    with _open(editions["archive"]) as pdf:
        page_numbers = {page.obj.objgen: i for i, page in enumerate(pdf.pages, start=1)}
        in_order: list[tuple[str, int]] = []

        def walk(node: pikepdf.Object) -> None:
            kids = node.get("/K")
            for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    if "/Pg" in kid:
                        in_order.append((str(kid.S), page_numbers[kid.Pg.objgen]))
                    walk(kid)

        walk(pdf.Root.StructTreeRoot)
    headings = [(role, page) for role, page in in_order if role in ("/H1", "/H2")]
    # The cover's title and "In this issue", then each titled section where it starts.
    assert headings == [
        ("/H1", 1),
        ("/H2", 1),
        ("/H2", 2),
        ("/H2", 3),
        ("/H2", 4),
        ("/H2", 6),
        ("/H2", 7),
        ("/H2", 8),
        ("/H2", 9),
        ("/H2", 10),
    ]
    pages = [page for _, page in in_order]
    assert pages == sorted(pages), "the tree goes back to an earlier page"


# ---------- reproducible


def test_two_builds_are_byte_identical(editions: dict[str, BuildResult], tmp_path: Path) -> None:
    again = build_all(ISSUE_10, tmp_path / "again")
    for name, first in editions.items():
        second = again[name]
        assert isinstance(second, BuildResult) and first.pdf is not None and second.pdf is not None
        assert first.pdf.read_bytes() == second.pdf.read_bytes(), f"{name} differs between builds"


# ---------- the edition rules, each shown to fire on a spoiled PDF


@pytest.fixture
def spoilable(editions: dict[str, BuildResult], tmp_path: Path) -> object:
    def make(edition: str, change: object) -> list[str]:
        source = editions[edition].pdf
        assert source is not None
        pdf_path = tmp_path / f"{edition}.pdf"
        shutil.copy(source, pdf_path)
        spoil(pdf_path, change)  # type: ignore[arg-type]
        # The outside validator's findings are tested in test_conformance.py: here, our own rules.
        found = [
            f"{f.rule}: {f.message}"
            for f in output_findings(pdf_path, ISSUE_10, edition)
            if f.rule != "conformance"
        ]
        # Without Ghostscript every print edition also says its ink was not measured.
        if edition == "print":
            for said in CLEAN_PRINT:
                assert said in found, found
                found.remove(said)
        return found

    return make


def test_clean_editions_pass_their_rules(spoilable: object) -> None:
    for edition in ("email", "print", "archive"):
        assert spoilable(edition, lambda doc: None) == []  # type: ignore[operator]


def test_print_boxes_rule(spoilable: object) -> None:
    def drop(doc: pikepdf.Pdf) -> None:
        del doc.pages[3].obj["/TrimBox"]

    assert spoilable("print", drop) == ["print-boxes: the page has no TrimBox or no BleedBox"]  # type: ignore[operator]


def test_print_cmyk_rule(spoilable: object) -> None:
    def paint_rgb(doc: pikepdf.Pdf) -> None:
        doc.pages[1].contents_add(doc.make_stream(b"1 0 0 rg 0 0 10 10 re f"), prepend=False)

    found = spoilable("print", paint_rgb)  # type: ignore[operator]
    assert found == ["print-cmyk: RGB or Lab colour in the page content (rg)"]


def test_print_intent_rule(spoilable: object) -> None:
    def drop(doc: pikepdf.Pdf) -> None:
        del doc.Root["/OutputIntents"]

    assert spoilable("print", drop) == ["print-intent: no PDF/X output intent with its ICC profile"]  # type: ignore[operator]


def test_archive_ids_rule(spoilable: object) -> None:
    def undeclare(doc: pikepdf.Pdf) -> None:
        xmp = doc.Root.Metadata.read_bytes().replace(b"<pdfuaid:part>1</pdfuaid:part>", b"")
        doc.Root.Metadata.write(xmp)

    assert spoilable("archive", undeclare) == ["archive-ids: the XMP metadata does not declare PDF/UA-1"]  # type: ignore[operator]


def test_archive_tags_rule(spoilable: object) -> None:
    def untag(doc: pikepdf.Pdf) -> None:
        del doc.Root["/MarkInfo"]
        del doc.Root["/ViewerPreferences"]

    assert spoilable("archive", untag) == [  # type: ignore[operator]
        "archive-tags: the PDF is not marked as tagged (/MarkInfo)",
        "archive-tags: viewers are not told to show the title (/DisplayDocTitle)",
    ]


def test_interpolate_rule(spoilable: object) -> None:
    def interpolate(doc: pikepdf.Pdf) -> None:
        next(iter(doc.pages[1].get_images().values())).Interpolate = True

    found = spoilable("archive", interpolate)  # type: ignore[operator]
    assert len(found) == 1 and found[0].startswith("interpolate: image") and "interpolate it" in found[0]


def test_bookmarks_rule(spoilable: object) -> None:
    def drop(doc: pikepdf.Pdf) -> None:
        del doc.Root["/Outlines"]

    assert spoilable("email", drop) == ["bookmarks: the PDF has 0 bookmarks for the cover and 10 sections"]  # type: ignore[operator]


def test_image_resolution_rules(minimal: Path) -> None:
    """The fixture's 1000 px photo over the 178 mm text width prints at about 143 dpi: an
    error in print (under 150 dpi), at the figure's field, once it is no longer a stand-in;
    nothing in the email edition."""
    from newsletter.build import check_issue

    assert not [f for f in check_issue(minimal, edition="print") if f.rule.startswith("image-resolution")]
    edit(minimal, "stand_in: true", "stand_in: false")

    found = [f for f in check_issue(minimal, edition="print") if f.rule.startswith("image-resolution")]
    assert [f"{f.rule}: {f.severity} at {f.field} (page {f.page})" for f in found] == [
        "image-resolution-low: error at sections[0].blocks[1].image (page 2)"
    ]
    assert re.search(r"image photo\.png prints at 1\d\d dpi", found[0].message)
    assert not [f for f in check_issue(minimal, edition="email") if f.rule.startswith("image-resolution")]


def test_same_bytes_from_another_folder(minimal: Path, tmp_path: Path) -> None:
    """Nothing of the checkout's path reaches the PDF: a copy elsewhere builds the same bytes."""
    elsewhere = tmp_path / "somewhere" / "else"
    shutil.copytree(minimal.parent, elsewhere)
    for edition in ("email", "print", "archive"):
        first = build_issue(minimal, tmp_path / "a", edition=edition)
        second = build_issue(elsewhere / minimal.name, tmp_path / "b", edition=edition)
        assert first.pdf is not None and second.pdf is not None
        assert first.pdf.read_bytes() == second.pdf.read_bytes(), edition


def test_same_bytes_when_fonttools_subsets(
    minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without HarfBuzz's subsetter, WeasyPrint subsets with fontTools, which dates each
    subset font by the clock: builds a second apart must still match (the issue dates them)."""
    import time

    import weasyprint.pdf.fonts

    monkeypatch.setattr(weasyprint.pdf.fonts, "harfbuzz_subset", None)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = build_issue(minimal, tmp_path / "a")
    time.sleep(1.1)
    second = build_issue(minimal, tmp_path / "b")
    assert first.pdf is not None and second.pdf is not None
    assert first.pdf.read_bytes() == second.pdf.read_bytes()
    assert "SOURCE_DATE_EPOCH" not in os.environ
