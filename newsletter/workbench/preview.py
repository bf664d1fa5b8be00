"""Previews: an edition's pages as PNG images, its facing-page spreads and one contact sheet.

``make_preview`` builds the edition (every check of a build runs; an issue with errors gives
no preview), renders each page of the PDF with pypdfium2, pastes the spreads as a reader
sees them (the cover alone on the right, then 2-3, 4-5...) and a contact sheet of every
page, each labelled with its number and how full it is. Everything goes to
``out/preview/<issue>-<edition>/``: written into a temporary folder beside it, then moved
in place of the previous preview, so a folder never mixes two previews.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..build import BuildOptions
from ..engine.pagefill import PageFill
from ..errors import Finding
from ..safeio import check_folder, prepare_folder, staged_folder
from ..shipped import DEFAULT_LAYOUT
from .pageimages import opened, page_image
from .proofs import prove

if TYPE_CHECKING:
    from PIL import Image

#: Resolution of the page and spread images (96: a page at 100 % on most screens).
DEFAULT_DPI = 96.0
#: The contact sheet's pages are this much smaller than the page images.
SHEET_SCALE = 1 / 3
#: Pages of the contact sheet in a row: two spreads.
SHEET_COLUMNS = 4
_BACKGROUND = (128, 128, 128)
_GAP = 6

#: Told ``(done, total)`` as each page is rendered.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Preview:
    """What a preview wrote: its folder, an image per page and per spread, the contact sheet,
    and how full each page is."""

    folder: Path
    pages: tuple[Path, ...]
    spreads: tuple[Path, ...]
    sheet: Path
    fills: tuple[PageFill, ...]
    #: What the build's checks found (warnings and notices: an error gives no preview).
    findings: tuple[Finding, ...] = ()


def preview_folder(out: Path, source: Path, edition: str) -> Path:
    """``out/preview/issue-10-email``: one folder per issue and edition."""
    return out / "preview" / f"{source.stem}-{edition}"


def spreads(count: int) -> list[tuple[int | None, int | None]]:
    """The facing pages of a document of ``count`` pages, as (left, right) page numbers:
    the cover alone on the right, then 2-3, 4-5..., the last page alone on the left when the
    count is even."""
    pairs: list[tuple[int | None, int | None]] = [(None, 1)] if count else []
    for left in range(2, count + 1, 2):
        pairs.append((left, left + 1 if left + 1 <= count else None))
    return pairs


def make_preview(
    source: Path,
    options: BuildOptions,
    out: Path,
    dpi: float = DEFAULT_DPI,
    progress: Progress | None = None,
) -> Preview:
    """Build one edition of ``source`` and write its preview under ``out/preview/``.

    Raises ``IssueError`` when the issue has errors and ``EnvironmentFault`` when the folder
    cannot be written; the previous preview stays as it was then.
    """
    check_folder(out)
    final = preview_folder(out, source, options.edition)
    with tempfile.TemporaryDirectory(prefix="newsletter-preview-") as work:
        proof = prove(source, options, Path(work))
        prepare_folder(final.parent)
        with staged_folder(final) as staging:
            with opened(proof.pdf) as document:
                images = []
                for index in range(len(document)):
                    image = page_image(document[index], dpi)
                    image.save(staging / _page_name(index + 1))
                    images.append(image)
                    if progress is not None:
                        progress(index + 1, len(document))
            spread_names = []
            for left, right in spreads(len(images)):
                name = "spread-" + "-".join(f"{p:02d}" for p in (left, right) if p is not None) + ".png"
                _spread(images, left, right).save(staging / name)
                spread_names.append(name)
            _sheet(images, proof.fills).save(staging / "contact-sheet.png")
            fills = [fill.as_dict() for fill in proof.fills]
            (staging / "pages.json").write_text(
                json.dumps({"pages": fills}, indent=2) + "\n", encoding="utf-8"
            )
    return Preview(
        final,
        tuple(final / _page_name(i + 1) for i in range(len(images))),
        tuple(final / name for name in spread_names),
        final / "contact-sheet.png",
        proof.fills,
        tuple(proof.result.findings),
    )


def _page_name(number: int) -> str:
    return f"page-{number:02d}.png"


def _spread(images: list[Image.Image], left: int | None, right: int | None) -> Image.Image:
    """Two facing pages side by side; an empty side stays grey."""
    from PIL import Image

    width, height = images[0].size
    spread = Image.new("RGB", (2 * width, height), _BACKGROUND)
    for slot, number in enumerate((left, right)):
        if number is not None:
            spread.paste(images[number - 1], (slot * width, 0))
    return spread


def _sheet(images: list[Image.Image], fills: tuple[PageFill, ...]) -> Image.Image:
    """Every page, small, in spreads two to a row, each labelled "6 · 25 % full"."""
    from PIL import Image, ImageDraw, ImageFont

    small = [
        image.resize((max(1, round(image.width * SHEET_SCALE)), max(1, round(image.height * SHEET_SCALE))))
        for image in images
    ]
    width, height = small[0].size
    label_height = max(14, height // 14)
    font = ImageFont.truetype(
        str(DEFAULT_LAYOUT.fonts / "lato" / "Lato-Bold.ttf"), max(9, label_height * 2 // 3)
    )
    full = {fill.page: fill.full for fill in fills}
    # Slot 0 is left empty, so that the cover sits on the right like a right-hand page and
    # every later row holds two spreads.
    slots = len(small) + 1
    rows = (slots + SHEET_COLUMNS - 1) // SHEET_COLUMNS
    # Facing pages touch, as in the printed issue; spreads stand apart.
    spread_w, cell_h = 2 * width + 3 * _GAP, height + label_height + _GAP
    sheet = Image.new("RGB", (SHEET_COLUMNS // 2 * spread_w + _GAP, rows * cell_h + _GAP), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for number, image in enumerate(small, start=1):
        row, column = divmod(number, SHEET_COLUMNS)
        x = 2 * _GAP + column // 2 * spread_w + column % 2 * width
        y = _GAP + row * cell_h
        sheet.paste(image, (x, y))
        label = f"{number}" + (f"  ·  {full[number]:.0%} full" if number in full else "")
        draw.text((x + width / 2, y + height + label_height / 2), label, font=font, fill="white", anchor="mm")
    return sheet
