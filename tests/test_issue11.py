"""Issue 11 (tests/fixtures/issue-11/), a real issue in English and French, built once per
language per session and read back from its PDF: the typography a typesetter would not let
pass (issue 26) is looked for in the text the PDF holds.

- display text (titles, kickers, key figures, pull quotes, box titles, captions) is never
  hyphenated, and a title never breaks at a word's own hyphen ("Sud-|Est");
- no paragraph ends on a fragment of a hyphenated word or a few letters (``last-line``);
- French ordinals are raised, ranges typed with a hyphen print an en dash, identifiers stay;
- every word the layout prints is the edition's language's;
- pages under the layout's fullness are notices (``page-fill``).
"""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from conftest import FIXTURES, BuiltPdf, layout_copy

from newsletter.build import build_issue, check_issue
from newsletter.engine.render import labels_for
from newsletter.issue.load import load_issue
from newsletter.press.marks import slug_line
from newsletter.shipped import DEFAULT_LAYOUT

ISSUE_11 = FIXTURES / "issue-11" / "issue-11.yaml"
ISSUE_11_FR = FIXTURES / "issue-11" / "issue-11.fr.yaml"

#: WeasyPrint's hyphen at a line end, and a line break as pdfium gives it.
_BROKEN = re.compile(r"(\w+)\u2010\r\n(\w+)")


@pytest.fixture(scope="session")
def issue11(tmp_path_factory: pytest.TempPathFactory) -> BuiltPdf:
    """The English edition of issue 11, built once per session."""
    return _built(ISSUE_11, tmp_path_factory.mktemp("issue11-out"))


@pytest.fixture(scope="session")
def issue11_fr(tmp_path_factory: pytest.TempPathFactory) -> BuiltPdf:
    """The French edition of issue 11, built once per session."""
    return _built(ISSUE_11_FR, tmp_path_factory.mktemp("issue11-fr-out"))


def _built(source: Path, out: Path) -> BuiltPdf:
    import pikepdf

    result = build_issue(source, out)
    assert result.pdf is not None
    return BuiltPdf(result, pikepdf.open(result.pdf), pdfium.PdfDocument(str(result.pdf)))


def _text(built: BuiltPdf) -> str:
    return "\n".join(built.page_text(i) for i in range(len(built.pike.pages)))


BOTH = pytest.mark.parametrize("edition", ["issue11", "issue11_fr"])


@BOTH
def test_builds_eight_pages_without_error_or_warning(edition: str, request: pytest.FixtureRequest) -> None:
    built: BuiltPdf = request.getfixturevalue(edition)
    assert built.result.pages == 8
    serious = [f for f in built.result.findings if f.severity != "notice"]
    assert not serious, "\n".join(map(str, serious))
    # The last-line rule ran and found nothing: no paragraph ends on a fragment.
    assert not [f for f in built.result.findings if f.rule == "last-line"]


def _font(page: object, index: int) -> tuple[str, float]:
    """The font name and size (PDF units) of the character at ``index`` of a pdfium text page."""
    handle = page.raw  # type: ignore[attr-defined]
    size = pdfium_c.FPDFText_GetFontInfo(handle, index, None, 0, None)
    name = ctypes.create_string_buffer(size)
    pdfium_c.FPDFText_GetFontInfo(handle, index, name, size, None)
    return name.value.decode(), pdfium_c.FPDFText_GetFontSize(handle, index)


def _display_font(name: str, size: float) -> bool:
    """Display text as the stylesheet sets it: every use of Lato (titles, kickers, key
    figures, captions, questions, box titles, the quote's attribution) and the pull quote's
    large serif italic (11pt); running text is Noto Serif of 10.4pt at most."""
    return "Lato" in name or ("Italic" in name and size > 10.5 / 0.75)


@BOTH
def test_display_text_is_never_hyphenated(edition: str, request: pytest.FixtureRequest) -> None:
    """Every word broken at a line end is in running text, by the font it is set in."""
    built: BuiltPdf = request.getfixturevalue(edition)
    seen, display = 0, []
    for index in range(len(built.pike.pages)):
        page = built.pdfium[index].get_textpage()
        for match in _BROKEN.finditer(page.get_text_range()):
            seen += 1
            if _display_font(*_font(page, match.start(1))):
                display.append(f"page {index + 1}: {match.group(1)}-{match.group(2)}")
    assert seen, "the running text is hyphenated (the test can see a break)"
    assert not display, f"display text hyphenated: {display}"


@BOTH
def test_a_title_never_breaks_at_a_words_own_hyphen(edition: str, request: pytest.FixtureRequest) -> None:
    built: BuiltPdf = request.getfixturevalue(edition)
    text = _text(built)
    compound = "Sud-Est" if edition.endswith("fr") else "South-East"
    title = "Les tendances en Europe du Sud-Est" if edition.endswith("fr") else "Trends in South-East Europe"
    assert title in text  # the box title, on one line
    # pdfium gives a hyphen that ends a line as U+FFFE (or the hyphen and a line break).
    assert not re.search(rf"{compound.split('-')[0]}(?:\ufffe|-\r\n)", text), f"{compound} broken"


def test_a_narrow_title_moves_the_hyphenated_word_whole(tmp_path: Path) -> None:
    """In a box 55 mm wide, "Sud-Est" would break at its hyphen; the layout keeps it whole."""
    folder = tmp_path / "issue"
    folder.mkdir()
    source = folder / "issue.yaml"
    source.write_text(
        "series: Essai\nnumber: 1\ndate: 2020-01-01\nlanguage: fr\ntitle: Un essai\nauthor: Test\n"
        "cover:\n  lead: Un chapeau.\nsections:\n  - id: premier\n    title: Premier\n    blocks:\n"
        "      - type: box\n        title: Les tendances en Europe du Sud-Est\n        blocks: [Un paragraphe.]\n",
        encoding="utf-8",
    )

    def box_title(css: str, name: str) -> str:
        built = build_issue(source, tmp_path / name, layout=layout_copy(tmp_path / name, css))
        assert built.pdf is not None
        document = pdfium.PdfDocument(str(built.pdf))
        text = "".join(document[i].get_textpage().get_text_range() for i in range(built.pages))
        return text.split("tendances", 1)[1].split("Un paragraphe", 1)[0]

    narrow = ".box { width: 55mm; }"
    assert "Sud\ufffeEst" in box_title(narrow + " .whole { white-space: normal; }", "unmended")
    assert box_title(narrow, "mended") == " en Europe du \r\nSud-Est\r\n"


@BOTH
def test_no_paragraph_ends_on_a_fragment(edition: str, request: pytest.FixtureRequest) -> None:
    """A line after a hyphen break is never a short fragment ending a sentence ("ing cases.")."""
    built: BuiltPdf = request.getfixturevalue(edition)
    for a, b in _BROKEN.findall(_text(built)):
        after = _text(built).split(f"{a}\u2010\r\n{b}", 1)[1].split("\r\n", 1)[0]
        line = b + after
        assert not (len(re.findall(r"\w", line)) < 12 and line.rstrip().endswith((".", "»", "”"))), line


def test_the_last_line_rule_finds_a_fragment_and_the_layout_mends_it(tmp_path: Path) -> None:
    """Unmended (the end of a paragraph hyphenated like the rest), a narrow paragraph ends on
    "gations."; the layout's own setting keeps the last words whole, and the rule is quiet."""
    folder = tmp_path / "issue"
    folder.mkdir()
    source = folder / "issue.yaml"
    source.write_text(
        "series: Test series\nnumber: 1\ndate: 2020-01-01\ntitle: A test\nauthor: Test editors\n"
        "cover:\n  lead: A lead.\nsections:\n  - id: first\n    title: First\n    blocks:\n"
        "      - Shelters offered assistance to the victims identified during investigations.\n",
        encoding="utf-8",
    )
    narrow = ".section p { width: 52mm; }"
    unmended = check_issue(source, layout_copy(tmp_path / "a", narrow + " .tail { hyphens: auto; }"))
    assert [f.message for f in unmended if f.rule == "last-line"] == [
        "the last line of p 'Shelters offered assistance to the victi' is the end of a hyphenated word: 'gations.'"
    ]
    mended = check_issue(source, layout_copy(tmp_path / "b", narrow))
    assert not [f for f in mended if f.rule == "last-line"]


def test_french_ordinals_are_raised(issue11_fr: BuiltPdf) -> None:
    """``13e``, ``XXIe``, ``1er``, ``33e``: the letters sit higher and smaller than the digits,
    and the text still reads "13e"."""
    seen = set()
    for index in range(len(issue11_fr.pike.pages)):
        page = issue11_fr.pdfium[index].get_textpage()
        text = page.get_text_range()
        for match in re.finditer(r"(?<!\w)(13|33|XXI|1)(er|e)(?!\w)", text):
            last_digit = page.get_charbox(match.start(2) - 1)
            letter = page.get_charbox(match.start(2))
            assert letter[1] > last_digit[1] + 1, match.group(0)  # the bottom raised
            assert letter[3] - letter[1] < last_digit[3] - last_digit[1]  # smaller
            seen.add(match.group(0))
    assert {"13e", "33e", "XXIe", "1er"} <= seen


@BOTH
def test_ranges_take_an_en_dash_and_identifiers_stay(edition: str, request: pytest.FixtureRequest) -> None:
    built: BuiltPdf = request.getfixturevalue(edition)
    text = re.sub(r"\s+", " ", _text(built))
    assert re.search(r"13–17[\u00a0 ](mai|May)", text)
    assert "2021–2025" in text and "12–13" in text
    assert not re.search(r"\b(13-17|2021-2025|12-13)\b", text)
    assert "2024/1712" in text and "A/RES/55/25" in text and "A/RES/64/293" in text
    assert ("2011/36/UE" if edition.endswith("fr") else "2011/36/EU") in text


def test_french_keeps_four_digits_whole_and_groups_five(issue11_fr: BuiltPdf) -> None:
    text = _text(issue11_fr)
    assert "10\u202f093 victimes" in text  # typed "10 093": five digits grouped
    assert "2024" in text and "2\u202f024" not in text


def test_the_layout_speaks_the_editions_language(issue11: BuiltPdf, issue11_fr: BuiltPdf) -> None:
    # Letter-spaced capitals come out as "S O M M A I R E": compared without spaces or case.
    fr, en = (re.sub(r"\s", "", _text(built)).upper() for built in (issue11_fr, issue11))
    assert "IMAGEPROVISOIRE" in fr and "STAND-IN" not in fr
    assert "STAND-INIMAGE" in en
    for word in ("Sommaire", "Chiffres clés", "En bref", "À venir", "Zoom sur", "Numéro 11"):
        assert word.replace(" ", "").upper() in fr
    for word in ("Contents", "Key figures", "In brief", "Upcoming", "Focus on", "Issue 11"):
        assert word.replace(" ", "").upper() not in fr
        assert word.replace(" ", "").upper() in en


def test_the_print_slug_is_in_the_editions_language() -> None:
    issue = load_issue(ISSUE_11_FR).issue
    words = labels_for(DEFAULT_LAYOUT, "fr")["print_slug"]
    line = slug_line(issue, "print", 1, 8, words)
    assert "numéro 11 — édition imprimée — page 1 sur 8 — 2025-03-01" in line
    assert "issue" not in line and " of " not in line
    english = slug_line(
        load_issue(ISSUE_11).issue, "print", 1, 8, labels_for(DEFAULT_LAYOUT, "en")["print_slug"]
    )
    assert "issue 11 — print edition — page 1 of 8" in english


def test_the_french_print_edition_prints_its_slug_in_french(tmp_path: Path) -> None:
    """Read back from the print edition itself: the slug line of every page, in French."""
    result = build_issue(ISSUE_11_FR, tmp_path, edition="print")
    assert result.pdf is not None
    document = pdfium.PdfDocument(str(result.pdf))
    for number, page in enumerate(document, start=1):
        text = " ".join(page.get_textpage().get_text_range().split())
        assert f"numéro 11 — édition imprimée — page {number} sur 8" in text, text[-200:]
        assert "print edition" not in text


@BOTH
def test_every_page_but_the_last_is_full_enough(edition: str, request: pytest.FixtureRequest) -> None:
    """No page-fill notice: each page with a section reaches the layout's 70 %."""
    built: BuiltPdf = request.getfixturevalue(edition)
    assert not [f for f in built.result.findings if f.rule == "page-fill"]
    fills = {fill.page: fill.full for fill in built.result.fills}
    assert all(fills[page] >= 0.7 for page in range(2, 8)), fills


@pytest.mark.parametrize("edition", ["issue10", "issue11", "issue11_fr"])
def test_no_line_holds_only_the_start_of_a_hyphenated_word(
    edition: str, request: pytest.FixtureRequest
) -> None:
    """WeasyPrint 70 set "rein-" alone on a line of issue 10 when the paragraph's unbroken end
    (the tail span) followed a text ending in a space; the tail now starts with that space."""
    built: BuiltPdf = request.getfixturevalue(edition)
    lone = [line for line in _text(built).split("\r\n") if re.fullmatch(r"\s*\S+\u2010\s*", line)]
    assert not lone
