"""Draw a corner of page 1 of a print PDF to PNG, at the same place and scale for any PDF.

The square runs from 13 mm outside the trim's corner (the 3 mm bleed and the 10 mm slug) to
27 mm inside it; what lies outside the PDF's media box is drawn grey (not on the sheet).

Run: .venv/bin/python docs/print/corners.py FILE.pdf NAME   -> docs/print/NAME-top-left.png, NAME-bottom-left.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
from PIL import Image

HERE = Path(__file__).resolve().parent
DPI = 200
OUTSIDE_MM, INSIDE_MM = 13.0, 27.0


def _px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


def corners(pdf_path: Path, name: str) -> list[Path]:
    """Write the top left and bottom left corners of page 1; the files written."""
    with pikepdf.open(pdf_path) as pdf:
        media = [float(v) for v in pdf.pages[0].mediabox]
        trim = [float(v) for v in pdf.pages[0].obj.get("/TrimBox", pdf.pages[0].mediabox)]
    document = pdfium.PdfDocument(str(pdf_path))
    try:
        page = document[0].render(scale=DPI / 72).to_pil().convert("RGB")
    finally:
        document.close()
    # The trim's left edge, top and bottom in pixels of the rendering (its top left is the media box's).
    left = round((trim[0] - media[0]) / 72 * DPI)
    top = round((media[3] - trim[3]) / 72 * DPI)
    bottom = round((media[3] - trim[1]) / 72 * DPI)
    size = _px(OUTSIDE_MM + INSIDE_MM)
    written = []
    for corner, (x, y) in (
        ("top-left", (left - _px(OUTSIDE_MM), top - _px(OUTSIDE_MM))),
        ("bottom-left", (left - _px(OUTSIDE_MM), bottom - _px(INSIDE_MM))),
    ):
        square = Image.new("RGB", (size, size), (200, 200, 200))
        square.paste(page.crop((x, y, x + size, y + size)), (0, 0))
        # pdfium fills beyond the page with black when cropping out of bounds: grey it.
        for sx in range(size):
            for sy in range(size):
                if not (0 <= x + sx < page.width and 0 <= y + sy < page.height):
                    square.putpixel((sx, sy), (200, 200, 200))
        out = HERE / f"{name}-{corner}.png"
        square.save(out, optimize=True)
        written.append(out)
    return written


if __name__ == "__main__":
    for path in corners(Path(sys.argv[1]), sys.argv[2]):
        print(path)
