"""How full every laid-out page is, and the sections on it: measured on the pages through
``laidout.py`` (never WeasyPrint's boxes), for the ``copy-fit`` rule, the build's result,
the proofs, the preview's contact sheet and the live preview.

A page's *fullness* is how far down its content area the lowest text or image reaches (0 to
1). Sections are the template's ``<section class="section" id=...>`` elements; the cover is
not one.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .laidout import Box, Page


@dataclass(frozen=True)
class SectionPart:
    """The part of one section laid out on one page."""

    id: str
    #: Lines of text (in every column, box and table cell).
    lines: int
    #: Words of its text on this page.
    words: int
    #: Median height of its lines (px), 0 when it has none.
    line_height: float


@dataclass(frozen=True)
class PageFill:
    """How full one page is, and the sections on it in reading order."""

    page: int
    #: How far down the content area the lowest text or image reaches, 0 to 1.
    full: float
    sections: tuple[SectionPart, ...]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form: ``{"page": 6, "full": 0.25, "sections": ["reseau"]}``."""
        return {
            "page": self.page,
            "full": round(self.full, 2),
            "sections": [part.id for part in self.sections],
        }


def fullness(page: Page) -> float:
    """How far down its content area the lowest text or image of ``page`` reaches, 0 to 1."""
    area = page.area
    bottoms = [box.bottom for box in page.flow.walk() if box.kind in ("text", "image") and box.has_geometry]
    bottom = max(bottoms, default=area.top)
    return min(1.0, max(0.0, (bottom - area.top) / (area.bottom - area.top)))


def _is_section(box: Box) -> bool:
    return box.tag == "section" and "section" in (box.attribute("class") or "").split()


def _part(section: Box) -> SectionPart:
    lines = [
        box for box in section.walk() if box.kind == "line" and box.has_geometry and box.all_text().strip()
    ]
    words = sum(len(box.text.split()) for box in section.walk() if box.kind == "text")
    heights = [line.bottom - line.top for line in lines]
    return SectionPart(
        section.attribute("id") or "", len(lines), words, statistics.median(heights) if heights else 0.0
    )


def _sections(page: Page) -> tuple[SectionPart, ...]:
    # A section split over pages has one box per page, so the walk finds each part once.
    return tuple(_part(box) for box in page.flow.walk() if _is_section(box))


def page_fill(pages: Sequence[Page]) -> list[PageFill]:
    """The fullness of every page and the sections on it."""
    return [PageFill(page.number, fullness(page), _sections(page)) for page in pages]
