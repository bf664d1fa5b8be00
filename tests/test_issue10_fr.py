"""The French edition of issue 10, built for real and read back: its page plan, its
references, its language, its text, and French typography as the glyphs show it."""

from __future__ import annotations

import re
import unicodedata

import pytest
import yaml
from conftest import ISSUE_10, ISSUE_10_FR, ROOT, BuiltPdf
from test_issue10 import PLANNED_PAGES, _dest_pages, _internal_links

from newsletter.build import DEFAULT_LAYOUT
from newsletter.engine.laidout import pages
from newsletter.engine.typesetter import typeset
from newsletter.issue.load import load_issue

#: The French edition keeps the English page plan: each section on its English page
#: (the translation was fitted to it: see the closing note of the French edition's issue).
PLANNED_PAGES_FR = dict(PLANNED_PAGES)


def _plain(text: str) -> str:
    """Text compared across typography: one kind of space, apostrophe and quote."""
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("«", '"').replace("»", '"')
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).replace(' "', '"').replace('" ', '"').strip()


def _all_text(built: BuiltPdf) -> str:
    return "\n".join(built.page_text(i) for i in range(len(built.pike.pages)))


def test_twelve_pages_sections_on_the_english_plan(issue10_fr: BuiltPdf) -> None:
    assert len(issue10_fr.pike.pages) == 12
    pages = _dest_pages(issue10_fr.pike)
    assert {section: pages.get(section) for section in PLANNED_PAGES_FR} == PLANNED_PAGES_FR
    assert pages["contact"] in (11, 12)


def test_every_reference_prints_its_target_page(issue10_fr: BuiltPdf) -> None:
    pages = _dest_pages(issue10_fr.pike)
    refs = [(p, d, t) for p, d, t in _internal_links(issue10_fr) if re.fullmatch(r"(page\s*)?\d+", t)]
    for page, dest, printed in refs:
        number = int(re.search(r"\d+$", printed).group())  # type: ignore[union-attr]
        assert number == pages[dest], f"page {page}: #{dest} prints {printed!r}, is on {pages[dest]}"
    assert len({(p, d) for p, d, _ in refs if p != 12}) == 11
    assert all(ref.ok for ref in issue10_fr.result.references)


def test_language_is_french(issue10_fr: BuiltPdf) -> None:
    assert str(issue10_fr.pike.Root.Lang) == "fr"
    assert str(issue10_fr.pike.docinfo.Title).startswith("L’engagement multilatéral de la France")


def _paragraphs(value: object) -> list[str]:
    """Every paragraph written in the issue file (a bare string in blocks, or a ``text``)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("text", "blocks", "answer") and isinstance(item, str):
                found.append(item)
            else:
                found += _paragraphs(item)
    elif isinstance(value, list):
        for item in value:
            found += [item] if isinstance(item, str) and len(item) > 80 else _paragraphs(item)
    return found


def test_sample_of_sentences_present(issue10_fr: BuiltPdf) -> None:
    """Every fifth paragraph of the French file, as typed, is on the page (typography aside)."""
    paragraphs = _paragraphs(yaml.safe_load(ISSUE_10_FR.read_text(encoding="utf-8")))
    sample = paragraphs[::5]
    assert len(sample) >= 8
    # Words hyphenated at a line end come back as "cybercrimi‐" + line break (U+2010).
    text = _plain(re.sub(r"[\u2010\ufffe-]\r?\n", "", _all_text(issue10_fr)))
    for paragraph in sample:
        words = _plain(re.sub(r"\[([^\]]*)\]\([^)]*\)|\*", lambda m: m.group(1) or "", paragraph))
        start = words[:60]
        assert start in text, start


@pytest.fixture(scope="module")
def laid_out_text(issue10_fr: BuiltPdf) -> list[str]:
    """The text of each laid-out page, character by character as the layout set it.

    The PDF cannot tell every no-break space: Lato draws U+00A0 with its space glyph, which
    the PDF's text map reads back as U+0020. The layout's own boxes hold the characters.
    """
    html = issue10_fr.result.pdf.with_suffix(".html").read_text(encoding="utf-8")
    folder = ROOT / "issues"
    document = typeset(html, folder, [folder, DEFAULT_LAYOUT.templates, DEFAULT_LAYOUT.fonts], ISSUE_10_FR)
    return ["".join(box.text for box in page.whole.walk()) for page in pages(document)]


def test_no_straight_apostrophe_and_no_break_before_a_colon(
    laid_out_text: list[str], issue10_fr: BuiltPdf
) -> None:
    for index, text in enumerate(laid_out_text):
        assert "'" not in text, f"page {index + 1}: a straight apostrophe"
        assert "'" not in issue10_fr.page_text(index), f"page {index + 1}: a straight apostrophe in the PDF"
        bad = [m.start() for m in re.finditer(r"[ \u2009]:", text)]
        assert not bad, f"page {index + 1}: a breakable space before ':': {text[bad[0] - 30 : bad[0] + 5]!r}"
        assert not re.search(r"«(?!\u202f)|(?<!\u202f)»", text), f"page {index + 1}: « or » without its space"
        assert not re.search(r"[ \u2009][;!?]", text), f"page {index + 1}: a breakable space before ; ! or ?"


def test_french_dates_and_separators(laid_out_text: list[str]) -> None:
    page_11 = laid_out_text[10]
    assert "31\u00a0mai\u00a0– 1er\u00a0juin" in page_11
    assert "Roumanie\u00a0:" in page_11


def test_no_hyphen_inside_an_address(issue10_fr: BuiltPdf) -> None:
    """An address written as text is on the page whole, wherever its line broke."""
    joined = re.sub(r"[\r\n]+", "", _all_text(issue10_fr)).replace("\u2010", "-")
    for address in ("caroline-marie.charpentier@diplomatie.gouv.fr",):
        assert address in joined


def test_no_english_words_in_the_french_images() -> None:
    """The chart and the stand-ins print words: the French edition names images of its own,
    made in French (tools/make_figures.py), marked `translated: true` on both sides."""
    from newsletter.issue.model import figures

    french = {path: f for path, f in figures(load_issue(ISSUE_10_FR).issue)}
    english = {path: f for path, f in figures(load_issue(ISSUE_10).issue)}
    worded = {path for path, f in english.items() if f.stand_in or "chart" in f.image}
    assert len(worded) == 6
    for path in worded:
        assert english[path].translated and french[path].translated, path
        stem, _, suffix = english[path].image.rpartition(".")
        assert french[path].image == f"{stem}.fr.{suffix}"
