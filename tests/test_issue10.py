"""Issue 10 built for real and read back from the PDF."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pikepdf
from conftest import DATA, ROOT, BuiltPdf
from fontTools.ttLib import TTFont

#: Where each section must start: the original's page plan (seed README).
PLANNED_PAGES = {
    "perspectives": 3,
    "interview": 4,
    "ccpcj": 6,
    "parallel-events": 7,
    "htmss": 8,
    "since-2010": 9,
    "working-groups": 10,
    "missions": 11,
}

#: The 12 distinct addresses of the original, 13 occurrences in all.
URLS = {
    "https://cn.ambafrance.org/Politique-etrangere-Discours-de-M-Jean-Yves-Le-Drian",
    "https://www.youtube.com/watch?v=ZqNXBZtBoEE",
    "https://onu.delegfrance.org/Le-siege-de-membre-permanent-est-une-responsabilite-et-non-un-privilege",
    "http://undocs.org/E/CN.15/2018/L.2/Rev.1",
    "http://undocs.org/E/CN.15/2018/L.3/REV.1",
    "http://undocs.org/E/CN.15/2018/L.8/REV.1",
    "http://icat.network/",
    "http://www.globalmigrationgroup.org/",
    "https://www.unodc.org/documents/human-trafficking/2017/Case_Digest_Evidential_Issues_in_Trafficking.pdf",
    "https://www.unodc.org/cld/en/v3/htms/index.html",
    (
        "https://www.unodc.org/documents/human-trafficking/Migrant-Smuggling/Issue-Papers/"
        "UNODC_Issue_Paper_The_Profit_Element_in_the_Smuggling_of_Migrants_Protocol.pdf"
    ),
    "https://www.unodc.org/cld/en/v3/som/",
}

#: Words of the extracted original that the issue deliberately does not carry, and why.
NOT_CARRIED = {
    "ré": "a word cut by the extraction before “En bref”",
    "légende": "the original's placeholder caption, given a true caption in issue 10",
    "accompagnant": "the original's placeholder caption",
    "illustration": "the original's placeholder caption",
    "columbian": "misspelling of “Colombian” in the original, corrected",
    "bref": "the heading “En bref” is the edition's label “In brief”",
    "venir": "the heading “À venir” is the edition's label “Upcoming”",
    "à": "the heading “À venir” is the edition's label “Upcoming”",
    "m": "“M.” before Yuri Fedotov is written “Mr” in English",
}


def _dest_pages(pdf: pikepdf.Pdf) -> dict[str, int]:
    """Named destinations (the HTML ids) -> 1-based page numbers."""
    page_numbers = {page.objgen: i for i, page in enumerate(pdf.pages, start=1)}
    out: dict[str, int] = {}
    names = pdf.Root.Names.Dests
    for name, dest in pikepdf.NameTree(names).items():
        out[str(name)] = page_numbers[dest[0].objgen]
    return out


def _internal_links(built: BuiltPdf) -> list[tuple[int, str, str]]:
    """(page, destination, printed text) for every internal link annotation."""
    links = []
    for index, page in enumerate(built.pike.pages):
        textpage = built.pdfium[index].get_textpage()
        for annot in page.get("/Annots", []):
            if "/Dest" not in annot:
                continue
            x0, y0, x1, y1 = (float(v) for v in annot.Rect)
            text = textpage.get_text_bounded(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            links.append((index + 1, str(annot.Dest), text.strip()))
    return links


def test_twelve_pages(issue10: BuiltPdf) -> None:
    assert len(issue10.pike.pages) == 12
    assert issue10.result.pages == 12


def test_sections_start_on_planned_pages(issue10: BuiltPdf) -> None:
    pages = _dest_pages(issue10.pike)
    actual = {section: pages.get(section) for section in PLANNED_PAGES}
    assert actual == PLANNED_PAGES
    assert pages["contact"] in (11, 12)


def test_section_headings_printed_on_their_pages(issue10: BuiltPdf) -> None:
    flat = [re.sub(r"[^A-Z0-9]", "", issue10.page_text(i).upper()) for i in range(12)]
    for heading, page in {
        "PERSPECTIVESONMULTILATERALISM": 3,
        "MRYURIFEDOTOV": 4,
        "THE27THCOMMISSIONONCRIMEPREVENTION": 6,
        "ANDPARALLELEVENTS": 7,
        "AFRENCHPRIORITY": 8,
        "CONTRIBUTINGTOTHEWORKBYHTMSSSINCE2010": 9,
        "PARTICIPATIONINWORKINGGROUPS": 10,
        "INBRIEF": 11,
    }.items():
        assert heading in flat[page - 1], f"{heading} not on page {page}"


def test_every_page_reference_prints_its_target_page(issue10: BuiltPdf) -> None:
    pages = _dest_pages(issue10.pike)
    refs = [
        (page, dest, printed)
        for page, dest, printed in _internal_links(issue10)
        if re.fullmatch(r"(page\s*)?\d+", printed)  # other internal links carry words, no number
    ]
    for page, dest, printed in refs:
        number = int(re.search(r"\d+$", printed).group())  # type: ignore[union-attr]
        assert number == pages[dest], f"page {page}: #{dest} prints {printed!r}, is on {pages[dest]}"
    # 11 references of the original (5 teasers, 6 in the text) + the back page's contents
    distinct = {(page, dest) for page, dest, _ in refs}
    assert len([1 for page, _ in distinct if page != 12]) == 11
    assert {dest for page, dest in distinct if page == 12} == {s.id for s in issue10.result.issue.sections}
    assert len(issue10.result.references) == len(distinct)


def test_cross_references_print_the_originals_numbers(issue10: BuiltPdf) -> None:
    printed = {(page, dest): text for page, dest, text in _internal_links(issue10)}
    expected = {
        (1, "perspectives"): "3",
        (1, "ccpcj"): "6",
        (1, "htmss"): "8",
        (1, "working-groups"): "10",
        (1, "missions"): "11",
        (7, "expert-meetings"): "9",
        (8, "ccpcj"): "6",
        (8, "parallel-events"): "7",
        (8, "working-groups"): "10",
        (9, "illicit-flows"): "7",
        (11, "sarajevo-seminar"): "9",
    }
    for key, number in expected.items():
        assert key in printed, f"no reference to #{key[1]} on page {key[0]}"
        assert printed[key].endswith(number), f"{key}: {printed[key]!r}"


def test_all_urls_are_link_annotations(issue10: BuiltPdf) -> None:
    uris = Counter()
    for page in issue10.pike.pages:
        for annot in page.get("/Annots", []):
            action = annot.get("/A")
            if action is not None and "/URI" in action:
                uris[str(action.URI)] += 1
    assert URLS <= set(uris), f"missing: {URLS - set(uris)}"
    issue_paper = next(u for u in URLS if "Issue_Paper" in u)
    assert uris[issue_paper] >= 2  # on "Issue Paper" and on its title, as in the original


def _bundled_font_names() -> set[str]:
    names = set()
    for path in (ROOT / "fonts").rglob("*.ttf"):
        font = TTFont(path, lazy=True)
        names.add(font["name"].getDebugName(6).replace(" ", "-"))
        names.add(font["name"].getDebugName(1).replace(" ", "-"))
    return names


def test_only_bundled_fonts_embedded_and_subset(issue10: BuiltPdf) -> None:
    bundled = _bundled_font_names()
    seen = set()
    for page in issue10.pike.pages:
        for font in page.Resources.get("/Font", {}).values():
            base = str(font.BaseFont).lstrip("/")
            prefix, _, name = base.partition("+")
            assert re.fullmatch(r"[A-Z]{6}", prefix), f"{base} is not subset"
            family = name.split("-")[0]
            assert any(n.startswith(family) for n in bundled), f"{base} is not a bundled font"
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = descendant.FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), (
                f"{base} not embedded"
            )
            seen.add(name)
    assert any(n.startswith("Lato") for n in seen) and any(n.startswith("Noto") for n in seen)
    assert not any("DejaVu" in n for n in seen)


def _words(text: str) -> list[str]:
    # Letter-spaced headings ("P E R S P E C T I V E S") become words again.
    text = re.sub(r"(?<![\w])((?:\w ){2,}\w)(?![\w])", lambda m: m.group(1).replace(" ", ""), text)
    return re.findall(r"[^\W_]+", text.lower())


def test_whole_seed_text_is_present(issue10: BuiltPdf) -> None:
    seed = (DATA / "seed-issue-10.txt").read_text(encoding="utf-8")
    seed = re.sub(r"https?://\S+", " ", seed)  # addresses are link targets, not printed text
    pdf_text = " ".join(issue10.page_text(i) for i in range(12))
    # Letters only: immune to hyphenation, letter spacing and line breaks in the PDF.
    stream = re.sub(r"[^\w]|_", "", pdf_text.lower())
    missing = sorted({w for w in _words(seed) if w not in stream and w not in NOT_CARRIED})
    assert not missing, f"words of the original missing from the PDF: {missing}"


def test_metadata_and_language(issue10: BuiltPdf) -> None:
    info = issue10.pike.docinfo
    assert str(info.Title) == "France’s multilateral commitment in the fight against human trafficking"
    assert "Regional expert" in str(info.Author)
    assert str(issue10.pike.Root.Lang) == "en"


def test_running_footer_names_the_section(issue10: BuiltPdf) -> None:
    text6 = issue10.page_text(5).upper()
    assert "MULTILATERALISM BY NEGOTIATION" in re.sub(
        r"(?<=\w) (?=\w)", "", text6
    ) or "MULTILATERALISMBYNEGOTIATION" in re.sub(r"\s", "", text6)
    assert re.search(r"page\s*6", issue10.page_text(5))
    assert not re.search(r"page 1(?!\d)", issue10.page_text(0))  # no footer on the cover


def test_stand_ins_are_marked(issue10: BuiltPdf) -> None:
    stand_ins = [b for s in issue10.result.issue.sections for b in s.blocks if getattr(b, "stand_in", False)]
    assert stand_ins, "the CCPCJ photos are stand-ins and must say so"
    assert "Stand-in image" in issue10.page_text(5)


def test_html_written_beside_pdf(issue10: BuiltPdf) -> None:
    html = Path(issue10.path).with_suffix(".html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert "target-counter" not in html  # numbers come from the stylesheet, not typed in
    assert "Légende accompagnant" not in html
