"""The outside judge: the editions that claim PDF/A-3u or PDF/UA-1 pass an independent
validator (page-validation), and a PDF that breaks one of the rules the build mends is
caught by the preflight with the validator's rule id."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from conftest import FIXTURES, ISSUE_10, ISSUE_10_FR, BuiltPdf, output_findings, spoil

from newsletter.build import BuildResult, build_all, build_issue, check_issue
from newsletter.check import conformance, registry
from newsletter.check.output import struct_elements
from newsletter.editions import EDITIONS
from newsletter.shipped import DEFAULT_LAYOUT

CLAIMED = {"email": ["ua1"], "archive": ["3u", "ua1"]}


def failed(pdf: Path, edition: str) -> dict[str, list[Any]] | str:
    """The validator's failed rules for each standard the edition claims."""
    return conformance.judge(pdf, CLAIMED[edition])


@pytest.fixture(scope="module")
def french(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuildResult]:
    results = build_all(ISSUE_10_FR, tmp_path_factory.mktemp("fr"), editions=("email", "archive"))
    assert all(isinstance(r, BuildResult) for r in results.values()), results
    return results  # type: ignore[return-value]


def test_the_editions_claim_what_they_claimed() -> None:
    assert EDITIONS["archive"].claims == ("PDF/A-3u", "PDF/UA-1")
    assert EDITIONS["email"].claims == ("PDF/UA-1",)
    assert EDITIONS["print"].claims == () and not EDITIONS["print"].pdf_tags


@pytest.mark.parametrize("edition", ["email", "archive"])
def test_issue_10_passes_in_english(editions: dict[str, BuildResult], edition: str) -> None:
    pdf = editions[edition].pdf
    assert pdf is not None
    assert failed(pdf, edition) == {profile: [] for profile in CLAIMED[edition]}


@pytest.mark.parametrize("edition", ["email", "archive"])
def test_issue_10_passes_in_french(french: dict[str, BuildResult], edition: str) -> None:
    pdf = french[edition].pdf
    assert pdf is not None
    assert failed(pdf, edition) == {profile: [] for profile in CLAIMED[edition]}


def test_the_minimal_fixture_passes(tmp_path: Path) -> None:
    folder = tmp_path / "minimal"
    shutil.copytree(FIXTURES / "minimal", folder)
    result = build_issue(folder / "issue.yaml", tmp_path / "out", edition="archive")
    assert result.pdf is not None
    assert failed(result.pdf, "archive") == {"3u": [], "ua1": []}


@pytest.mark.parametrize("name", ["issue-11.yaml", "issue-11.fr.yaml"])
def test_the_real_issue_11_passes(tmp_path: Path, name: str) -> None:
    """The issue written from public sources for issue 26's tests (its email edition is
    validated in test_issue11.py's builds: the rule runs in every build)."""
    result = build_issue(FIXTURES / "issue-11" / name, tmp_path, edition="archive")
    assert result.pdf is not None
    assert failed(result.pdf, "archive") == {"3u": [], "ua1": []}


def test_the_email_edition_is_tagged_with_every_link_in_a_link_element(
    editions: dict[str, BuildResult],
) -> None:
    assert editions["email"].pdf is not None
    with pikepdf.open(editions["email"].pdf) as pdf:
        root = pdf.Root
        assert bool(root.MarkInfo.Marked) and str(root.Lang) == "en"
        assert bool(root.ViewerPreferences.DisplayDocTitle)
        nums = root.StructTreeRoot.ParentTree.Nums
        holders = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        links = [a for page in pdf.pages for a in page.obj.get("/Annots", ()) if a.Subtype == "/Link"]
        assert len(links) >= 50  # issue 10 has 57: every one kept
        for annotation in links:
            assert str(holders[int(annotation.StructParent)].S) == "/Link"
            words = str(annotation.Contents)
            # Described by the link's words, never by a bare target.
            assert words.strip() and not words.startswith(("#", "mailto:", "http")), words
        xmp = root.Metadata.read_bytes()
        assert b"<pdfuaid:part>1</pdfuaid:part>" in xmp or b'pdfuaid:part="1"' in xmp
        assert "/Filter" not in root.Metadata  # readable by any tool, as PDF/A asks of the archive


def test_the_email_edition_stays_within_its_budget(editions: dict[str, BuildResult]) -> None:
    pdf = editions["email"].pdf
    assert pdf is not None
    assert pdf.stat().st_size < 250_000  # 185 KB untagged, 205 KB tagged; the budget is 1.5 MB


def test_the_print_edition_stays_pdfx_and_untagged(editions: dict[str, BuildResult]) -> None:
    assert editions["print"].pdf is not None
    with pikepdf.open(editions["print"].pdf) as pdf:
        assert "/StructTreeRoot" not in pdf.Root
        assert b"PDF/X-4" in pdf.Root.Metadata.read_bytes()


# ---------- a PDF that breaks a mended rule is caught, with the validator's rule id


def _spoiled(editions: dict[str, BuildResult], tmp_path: Path, change: Any) -> list[str]:
    source = editions["email"].pdf
    assert source is not None
    pdf = tmp_path / "email.pdf"
    shutil.copy(source, pdf)
    spoil(pdf, change)
    return [
        f"{f.severity}: {f.message}"
        for f in output_findings(pdf, ISSUE_10, "email")
        if f.rule == "conformance"
    ]


def test_a_list_item_outside_its_list_is_caught(editions: dict[str, BuildResult], tmp_path: Path) -> None:
    def take_item_out(doc: pikepdf.Pdf) -> None:
        lists = [e for e in struct_elements(doc.Root.StructTreeRoot) if str(e.S) == "/L"]
        item = lists[0].K[0]
        del lists[0].K[0]
        holder = lists[0].P
        holder.K.append(item)
        item.P = holder

    found = _spoiled(editions, tmp_path, take_item_out)
    assert any("PDFUA1-LI-PARENT-001" in f and f.startswith("error: not PDF/UA-1") for f in found), found


def test_a_link_outside_its_link_element_is_caught(editions: dict[str, BuildResult], tmp_path: Path) -> None:
    def unlink(doc: pikepdf.Pdf) -> None:
        link = next(e for e in struct_elements(doc.Root.StructTreeRoot) if str(e.S) == "/Link")
        link.S = pikepdf.Name.Span

    found = _spoiled(editions, tmp_path, unlink)
    assert any("PDFUA1-LINK-LINK-TAG-001" in f for f in found), found


def test_an_untagged_email_edition_is_caught(editions: dict[str, BuildResult], tmp_path: Path) -> None:
    def untag(doc: pikepdf.Pdf) -> None:
        del doc.Root.StructTreeRoot
        del doc.Root.MarkInfo

    found = _spoiled(editions, tmp_path, untag)
    assert any("PDFUA1-STRUCT-TREE-ROOT-001" in f for f in found), found
    assert any("PDFUA1-TAGGED-DOCUMENT-001" in f for f in found), found


def test_check_names_what_weasyprint_alone_would_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the structure mended, `check` fails the email edition with the validator's ids
    (WeasyPrint's tree: lists in lists, items in a Div, a link annotation in a Span)."""
    monkeypatch.setattr("newsletter.press.finishing.mend_structure", lambda document, pdf: None)
    found = {
        f.message.split(" failed:")[0]
        for f in check_issue(ISSUE_10, edition="email")
        if f.rule == "conformance"
    }
    assert {
        "not PDF/UA-1: rule PDFUA1-L-KIDS-001",
        "not PDF/UA-1: rule PDFUA1-LI-PARENT-001",
        "not PDF/UA-1: rule PDFUA1-LINK-LINK-TAG-001",
    } <= found, found


def test_a_missing_validator_is_a_notice_never_a_silent_pass(
    editions: dict[str, BuildResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conformance, "validator_installed", lambda: False)
    pdf = editions["archive"].pdf
    assert pdf is not None
    found = output_findings(pdf, ISSUE_10, "archive")
    notices = [(f.severity, f.message) for f in found if f.rule == "conformance-unchecked"]
    assert notices == [
        (
            "notice",
            "the archive edition was not validated as PDF/A-3u and PDF/UA-1: page-validation is not installed",
        )
    ]
    found = [(f.rule, f.severity, f.message) for f in found]
    assert not [f for f in found if f[0] == "conformance"]


def test_a_validator_that_fails_is_an_error(
    editions: dict[str, BuildResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conformance, "_JUDGE", "import sys; sys.exit('validator crashed')")
    pdf = editions["email"].pdf
    assert pdf is not None
    found = [(f.rule, f.severity, f.message) for f in output_findings(pdf, ISSUE_10, "email")]
    assert (
        "conformance",
        "error",
        "the email edition could not be validated: the validator failed (validator crashed)",
    ) in found


# ---------- the text reads as it prints


def test_a_no_break_space_set_in_lato_reads_back_as_one(issue10_fr: BuiltPdf) -> None:
    """Before a French colon, in Lato (headings, labels) as in Noto Serif (the text)."""
    text = "".join(issue10_fr.page_text(i) for i in range(len(issue10_fr.pdfium)))
    assert text.count("\u00a0:") >= 30
    # The one " :" left is pdfium's space between letter-spaced capitals, not ours.
    assert text.replace("\u00a0:", "").count(" :") <= 1
    with pikepdf.open(issue10_fr.path) as pdf:
        fonts = {str(f.BaseFont): f for page in pdf.pages for f in page.Resources.Font.values()}
        lato = next(f for name, f in fonts.items() if name.endswith("+Lato"))
        assert b"<00A0>" in lato.ToUnicode.read_bytes().upper()


def test_a_stream_ending_in_cr_is_the_validators_misreading_only(tmp_path: Path) -> None:
    """PDF/A 6.1.7.1: the /Length bytes, then an end-of-line, then `endstream`. Data that ends
    with CR meets it; page-validation 0.11 reads CR LF as the end-of-line and fails the
    stream, which the rule knows; a /Length that is really wrong is still a failure."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.pages[0].Contents = pdf.make_stream(b"q Q\r")
    path = tmp_path / "cr.pdf"
    pdf.save(path, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    verdicts = conformance.judge(path, ["3u"])
    assert not isinstance(verdicts, str)
    flagged = [oid for rule_id, _, oid in verdicts["3u"] if rule_id == "PDFA3U-STREAM-LENGTH-001"]
    assert flagged and conformance._data_ends_in_cr(path, *flagged[0])
    wrong = tmp_path / "wrong.pdf"
    wrong.write_bytes(path.read_bytes().replace(b"/Length 4", b"/Length 3"))
    assert not conformance._data_ends_in_cr(wrong, *flagged[0])


def test_the_no_break_space_glyph_is_added_only_where_it_is_missing() -> None:
    """Lato gets an empty glyph for U+00A0 with its space's advance, the same bytes every
    time; Noto Serif, which has one, is left as it is."""
    from fontTools.ttLib import TTFont

    from newsletter.engine.nbsp import distinct_nbsp

    fonts = DEFAULT_LAYOUT.fonts
    lato = (fonts / "lato" / "Lato-Regular.ttf").read_bytes()
    patched = distinct_nbsp.__wrapped__(lato)
    assert patched == distinct_nbsp.__wrapped__(lato) != lato
    font = TTFont(io.BytesIO(patched))
    cmap = font.getBestCmap()
    assert cmap[0xA0] != cmap[0x20]
    assert font["hmtx"][cmap[0xA0]] == font["hmtx"][cmap[0x20]]
    assert font["glyf"][cmap[0xA0]].numberOfContours == 0
    assert font["maxp"].numGlyphs == TTFont(io.BytesIO(lato))["maxp"].numGlyphs + 1
    noto = (fonts / "noto-serif" / "NotoSerif-Regular.ttf").read_bytes()
    assert distinct_nbsp.__wrapped__(noto) is noto


def test_a_question_sent_ahead_gets_the_same_answer(editions: dict[str, BuildResult], tmp_path: Path) -> None:
    """``Judge.ask`` sends the question while the build reads the PDF back: the answer is the
    one asked for; a verdict wanted of another file is asked of a new process."""
    pdf = editions["email"].pdf
    assert pdf is not None
    untagged = tmp_path / "untagged.pdf"
    shutil.copy(pdf, untagged)
    spoil(untagged, lambda doc: (doc.Root.__delattr__("StructTreeRoot"), doc.Root.__delattr__("MarkInfo")))
    expected = failed(untagged, "email")
    judge = conformance.Judge.started()
    judge.ask(untagged, ("PDF/UA-1",))
    assert judge.verdicts(untagged, CLAIMED["email"]) == expected and expected != {"ua1": []}
    other = conformance.Judge.started()
    other.ask(untagged, ("PDF/UA-1",))
    assert other.verdicts(pdf, CLAIMED["email"]) == {"ua1": []}


def test_a_rule_run_last_keeps_its_findings_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """The conformance rule runs after the other output rules (the validator works
    meanwhile); its findings are listed where they always were."""
    order: list[str] = []
    rules = [
        registry.Rule(
            name,
            "output",
            "error",
            "",
            lambda ctx, n=name: order.append(n) or iter([registry.Hit(n)]),
            last=last,
        )
        for name, last in (("first", False), ("waits", True), ("third", False))
    ]
    context = type(
        "Context", (), {"loaded": type("Loaded", (), {"path": Path("x"), "where": lambda *a: (None, None)})()}
    )()
    found = registry._findings(rules, context, strict=False)  # type: ignore[arg-type]
    assert order == ["first", "third", "waits"]
    assert [f.rule for f in found] == ["first", "waits", "third"]
