"""Copy-fitting: the sections that end badly, and what it would take to fit them.

Editors of print newsletters fit the copy to the pages: a section whose last few lines spill
onto a page of their own, or whose last page is half empty, is cut, filled, or let run into
the next section. The ``copy-fit`` rule reads how full every page is (``engine/pagefill.py``,
measured once per layout by ``LayoutContext.fills``) and says what it would take, in lines
and words:

    section `reseau` runs 9 lines onto page 6: cut about 70 words, or let the next section
    start on this page
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..engine.pagefill import PageFill, SectionPart
from .registry import Hit, LayoutContext, rule

__all__ = ["HALF", "Advice", "PageFill", "SectionPart", "advise", "underfull"]

#: Under this fullness, the last page of a section is worth a warning.
HALF = 0.5


def _about(words: float) -> int:
    """A word count as an editor would say it: to the nearest 5, at least 5."""
    return max(5, int(5 * round(words / 5)))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Advice:
    """A section that ends badly, and what it would take to fit it."""

    section: str
    page: int
    message: str


def advise(fills: Sequence[PageFill], new_page: dict[str, bool], area_height: float) -> Iterator[Advice]:
    """The sections whose last page is under half full or holds only a few spilt lines.

    ``new_page`` says, for each section id, whether it starts on a new page (a section that
    follows on shares its page, which is then the following section's to judge);
    ``area_height`` is the height of a page's content area (px).
    """
    order = list(new_page)
    last_page = {part.id: fill.page for fill in fills for part in fill.sections}
    first_page: dict[str, int] = {}
    for fill in fills:
        for part in fill.sections:
            first_page.setdefault(part.id, fill.page)
    for fill in fills:
        if not fill.sections or fill.full >= HALF:
            continue
        part = fill.sections[-1]
        if part.id not in new_page or last_page[part.id] != fill.page:
            continue
        following = order.index(part.id) + 1
        after = order[following] if following < len(order) else None
        # Letting the next section start here is a way out only when it is held back now.
        pull = (
            f", or let the next section start on this page (`new_page: false` on `{after}`)"
            if after and new_page[after]
            else ""
        )
        if len(fill.sections) == 1 and first_page[part.id] < fill.page:
            message = (
                f"section `{part.id}` runs {_plural(part.lines, 'line')} onto page {fill.page}: "
                f"cut about {_about(part.words)} words{pull}"
            )
        else:
            free_lines = (1 - fill.full) * area_height / part.line_height if part.line_height else 0
            per_line = part.words / part.lines if part.lines else 0
            room = (
                f"add about {_about(free_lines * per_line)} words or a figure"
                if per_line
                else "add a figure or text"
            )
            message = f"section `{part.id}` ends on page {fill.page}, {fill.full:.0%} full: {room}{pull}"
        yield Advice(part.id, fill.page, message)


def underfull(fills: Sequence[PageFill], fullness: float) -> Iterator[Advice]:
    """The pages less full than ``fullness`` (0 to 1), each said with its sections; the
    last page is left out (an issue ends where its words end) and so are pages under a
    fifth full (the ``empty-page`` warning says those)."""
    for fill in fills[:-1]:
        if not fill.sections or not 0.2 <= fill.full < fullness:
            continue
        names = ", ".join(f"`{part.id}`" for part in fill.sections)
        yield Advice(
            fill.sections[-1].id,
            fill.page,
            f"page {fill.page} is {fill.full:.0%} full, under the layout's {fullness:.0%}: "
            f"{'section' if len(fill.sections) == 1 else 'sections'} {names}",
        )


@rule(
    "page-fill",
    "layout",
    "notice",
    "add words or a figure to the page, or let `newsletter fit` try the layout's bounds on it",
)
def _page_fill(ctx: LayoutContext) -> Iterator[Hit]:
    index = {section.id: i for i, section in enumerate(ctx.issue.sections)}
    for advice in underfull(list(ctx.fills), ctx.fullness):
        if advice.section in index:
            yield Hit(advice.message, ("sections", index[advice.section], "id"), page=advice.page)


@rule(
    "copy-fit",
    "layout",
    "warning",
    "cut or add the words the finding says, or set `new_page: false` on the next section so it starts on that page",
)
def _copy_fit(ctx: LayoutContext) -> Iterator[Hit]:
    if not ctx.pages:
        return
    area = ctx.pages[0].area
    sections = ctx.issue.sections
    index = {section.id: i for i, section in enumerate(sections)}
    new_page = {section.id: section.new_page for section in sections}
    for advice in advise(list(ctx.fills), new_page, area.bottom - area.top):
        yield Hit(advice.message, ("sections", index[advice.section], "id"), page=advice.page)
