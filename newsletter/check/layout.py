"""Layout rules: on the laid-out pages, before anything is written. Positions are CSS
pixels (1px = 0.75pt); each finding names its page and, through the ``data-src`` of the box,
the issue field to change."""

from __future__ import annotations

from collections.abc import Iterator

from ..engine.laidout import Box as LaidBox
from ..engine.laidout import Page
from ..engine.typesetter import describe
from ..issue.load import parse_path
from .registry import Hit, LayoutContext, page_rule, rule

_TOLERANCE = 1.0  # px: rounding in the layout


def at(box: LaidBox, message: str, page: Page) -> Hit:
    """A layout finding at the issue field the box was made from, and its page."""
    return Hit(message, parse_path(box.src) if box.src else None, page=page.number)


@rule(
    "page-reference",
    "layout",
    "error",
    "report it: the layout printed a wrong page number (a WeasyPrint defect)",
)
def _page_reference(ctx: LayoutContext) -> Iterator[Hit]:
    for ref in ctx.references:
        if not ref.ok:
            yield Hit(describe(ref), page=ref.page)


@page_rule("overflow", "error", "shorten the text or split the block: it does not fit its page or frame")
def _overflow(ctx: LayoutContext, page: Page) -> Iterator[Hit]:
    reported: set[int] = set()
    for box in page.flow.walk():
        if not box.has_geometry or box.tag in (None, "html", "body"):
            continue
        bottom = box.bottom
        if bottom > page.area.bottom + _TOLERANCE and box.element_key not in reported:
            reported.add(box.element_key)
            yield at(
                box,
                f"{box.label()} runs {bottom - page.area.bottom:.0f}px past the bottom of the page",
                page,
            )
        if box.fixed_height:
            for inner in box.walk():
                if inner is not box and inner.has_geometry and inner.bottom > bottom + _TOLERANCE:
                    yield at(box, f"the content of {box.label()} overflows its fixed-height frame", page)
                    break


@page_rule(
    "text-outside", "error", "shorten the word or line: text is drawn outside the page's printable area"
)
def _text_outside(ctx: LayoutContext, page: Page) -> Iterator[Hit]:
    area = page.area
    for box in page.flow.walk():
        if box.kind != "text" or not box.text.strip():
            continue
        right = box.left + box.width
        if (
            box.left < area.left - _TOLERANCE
            or right > area.right + _TOLERANCE
            or box.top < area.top - _TOLERANCE
        ):
            yield at(box, f"text {box.text.strip()[:40]!r} is drawn outside the page's printable area", page)


def _overfull(page: Page) -> Iterator[tuple[LaidBox, float]]:
    """Each block with a line wider than its column, and by how much (px)."""
    for block in page.flow.walk():
        if not block.has_content_box or not block.has_geometry:
            continue
        limit = block.content_right
        for line in block.children():
            if line.kind != "line":
                continue
            ends = [c.margin_right for c in line.in_line() if c.kind == "text" and c.text.strip()]
            if ends and max(ends) > limit + _TOLERANCE:
                yield block, max(ends) - limit


@page_rule("overfull-line", "warning", "allow a break in the long word or URL, or shorten it")
def _overfull_line(ctx: LayoutContext, page: Page) -> Iterator[Hit]:
    for block, excess in _overfull(page):
        if not block.framed:
            yield at(block, f"a line of {block.label()} is {excess:.0f}px wider than its column", page)


@page_rule(
    "frame-overflow", "error", "shorten it (e.g. '€1.8 million' for '€1,830,000'): it does not fit its cell"
)
def _frame_overflow(ctx: LayoutContext, page: Page) -> Iterator[Hit]:
    for block, excess in _overfull(page):
        if block.framed:
            yield at(
                block,
                f"{block.label()} is {excess:.0f}px wider than its cell and would print over the next one",
                page,
            )


@rule(
    "empty-page",
    "layout",
    "warning",
    "move content up, or remove the forced page break before the next section",
)
def _empty_page(ctx: LayoutContext) -> Iterator[Hit]:
    # The fullness the copy-fit rule and the build's result use, measured once per layout.
    for fill in ctx.fills:
        if fill.full < 0.2:
            yield Hit(f"page {fill.page} is only {fill.full:.0%} full", page=fill.page)


_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


@rule(
    "heading-alone",
    "layout",
    "warning",
    "keep the heading with its text: shorten what comes before or move the heading",
)
def _heading_alone(ctx: LayoutContext) -> Iterator[Hit]:
    for page in ctx.pages[:-1]:
        yield from ctx.per_page("heading-alone", page, _heading_at_foot)


def _heading_at_foot(page: Page) -> tuple[Hit, ...]:
    last: LaidBox | None = None
    for box in page.flow.walk():
        if (box.kind == "line" or (box.kind == "image" and box.block_level)) and (
            last is None or box.top >= last.top
        ):
            last = box
    if last is not None and last.tag in _HEADINGS:
        return (at(last, f"heading {last.label()} is alone at the bottom of the page", page),)
    return ()


@rule(
    "page-count",
    "layout",
    "warning",
    "saddle-stitched print needs a multiple of 4 pages: add or remove pages",
)
def _page_count(ctx: LayoutContext) -> Iterator[Hit]:
    count = len(ctx.pages)
    if count % 4:
        yield Hit(f"{count} pages is not a multiple of 4")


@page_rule("glyphs", "error", "use characters the bundled fonts have (the layout's own words included)")
def _glyphs(ctx: LayoutContext, page: Page) -> Iterator[Hit]:
    missing: dict[str, set[str]] = {}
    where: dict[str, LaidBox] = {}
    for box in page.whole.walk():
        if box.kind != "text":
            continue
        family = box.family
        covered = ctx.fonts.by_family.get(family)
        if covered is None:
            missing.setdefault(family, set())
            where.setdefault(family, box)
            continue
        lacking = {ch for ch in box.text if ord(ch) not in covered}
        if lacking:
            missing.setdefault(family, set()).update(lacking)
            where.setdefault(family, box)
    for family, lacking in sorted(missing.items()):
        if family not in ctx.fonts.by_family:
            yield at(where[family], f"text set in {family!r}, a font family that is not bundled", page)
        else:
            shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in sorted(lacking)[:5])
            yield at(where[family], f"{family} cannot print {shown}: another font would stand in", page)


def _section_of(src: str) -> int | None:
    """The index of the section a ``data-src`` path lies in (``sections.3.blocks.1`` -> 3)."""
    parts = src.split(".")
    return int(parts[1]) if len(parts) > 1 and parts[0] == "sections" and parts[1].isdigit() else None


@rule(
    "section-bleed",
    "layout",
    "error",
    "shorten the text before the figure, or make the figure smaller: it does not fit its page",
)
def _section_bleed(ctx: LayoutContext) -> Iterator[Hit]:
    """A float (a figure beside the text) that does not fit its page. Laid out whole,
    WeasyPrint carries its remaining lines over the page break, beside the next section's
    title; laid out in parts (each section that starts a new page on its own), the part has
    no next page and the rest of the float is lost: both are found."""
    starts_new_page = frozenset(i for i, section in enumerate(ctx.issue.sections) if section.new_page)
    ids = tuple(section.id for section in ctx.issue.sections)
    printed: dict[int, int] = {}
    last: dict[int, tuple[LaidBox, Page]] = {}
    for page in ctx.pages:
        bleeding, floats = ctx.per_page("section-bleed", page, lambda one: _bleed(one, starts_new_page, ids))
        yield from bleeding
        for key, letters, box in floats:
            printed[key] = printed.get(key, 0) + letters
            last[key] = (box, page)
    # Floats (and boxes placed out of the flow) whose fragments print fewer letters of their
    # element's text than it holds: the rest was cut (what CSS adds, such as a stand-in's
    # label, is not counted).
    for key, (box, page) in last.items():
        missing = _letters(box.source_text) - printed[key]
        if missing > 0:
            # Located at its last text printed (a caption, say), where the cut is.
            texts = [b for b in box.walk() if b.kind == "text" and b.src]
            where = texts[-1] if texts else box
            yield at(where, f"{box.label()} does not fit its page: {missing} letters of it are cut off", page)


def _bleed(
    page: Page, starts_new_page: frozenset[int], ids: tuple[str, ...]
) -> tuple[tuple[Hit, ...], tuple[tuple[int, int, LaidBox], ...]]:
    """On one page: the content of earlier sections where a later one starts on a new page,
    and the letters each float prints here."""
    hits: list[Hit] = []
    floats = tuple(
        (box.element_key, _letters(box.own_text()), box)
        for box in page.flow.walk()
        if box.floated and box.src
    )
    boxes = [box for box in page.flow.walk() if box.kind in ("text", "image") and box.src]
    starting = {
        index
        for box in boxes
        # The section's own heading (h2), not its title listed in a contents block.
        if (index := _section_of(box.src)) is not None
        and box.src == f"sections.{index}.title"
        and box.tag == "h2"
    } & starts_new_page
    if starting:
        first = min(starting)
        reported: set[int] = set()
        for box in boxes:
            index = _section_of(box.src)
            if index is not None and index < first and box.element_key not in reported:
                reported.add(box.element_key)
                hits.append(
                    at(
                        box,
                        f"{box.label()} of an earlier section prints on the page where section "
                        f"{ids[first]!r} starts",
                        page,
                    )
                )
    return tuple(hits), floats


def _letters(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


#: WeasyPrint's hyphenate-character (U+2010): a line ending in it was hyphenated.
_AUTO_HYPHEN = "\u2010"
#: A paragraph's last line that starts with the end of a hyphenated word and holds fewer
#: letters than this is a fragment alone ("ing cases."); one of fewer than
#: ``_FEW_LETTERS`` letters is a few letters alone ("it."), whatever comes before.
_FRAGMENT_LETTERS = 12
_FEW_LETTERS = 5
#: The elements of running text whose last line is judged (titles and labels are display
#: text, never hyphenated, and set line by line by the editor's words).
_RUNNING = frozenset({"p", "li", "dd"})


def _line_text(line: LaidBox) -> str:
    return "".join(box.text for box in line.in_line() if box.kind == "text")


@page_rule(
    "last-line",
    "warning",
    "reword the paragraph's last words (or run `newsletter fit`): its last line should hold more "
    "than the end of a word or a few letters",
)
def _last_line(ctx: LayoutContext, page: Page) -> Iterator[Hit]:
    for block in page.flow.walk():
        if block.tag not in _RUNNING or not block.has_geometry:
            continue
        lines = [child for child in block.children() if child.kind == "line"]
        if len(lines) < 2:
            continue
        last = " ".join(_line_text(lines[-1]).split())
        whole = " ".join(block.source_text.replace("\u00ad", "").split())
        if not last or not whole.endswith(last):
            continue  # the paragraph goes on in the next column or on the next page
        letters = sum(ch.isalnum() for ch in last)
        if _line_text(lines[-2]).rstrip().endswith(_AUTO_HYPHEN) and letters < _FRAGMENT_LETTERS:
            yield at(
                block, f"the last line of {block.label()} is the end of a hyphenated word: {last!r}", page
            )
        elif letters < _FEW_LETTERS:
            yield at(block, f"the last line of {block.label()} holds only {last!r}", page)
