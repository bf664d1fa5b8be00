"""Render a PDF's pages and paste them side by side into one PNG, for looking at a layout.

Run: .venv/bin/python tools/contact_sheet.py out/issue-10.pdf out/preview/sheet.png [dpi]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image


def main(pdf: str, png: str, dpi: float = 50, columns: int = 4) -> None:
    doc = pdfium.PdfDocument(pdf)
    pages = [doc[i].render(scale=dpi / 72).to_pil() for i in range(len(doc))]
    w, h = pages[0].size
    rows = (len(pages) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (w + 8), rows * (h + 8)), (120, 120, 120))
    for i, page in enumerate(pages):
        sheet.paste(page, ((i % columns) * (w + 8), (i // columns) * (h + 8)))
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(png)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 50)
