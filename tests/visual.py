"""Page renders for visual comparison: the same renderer and resolution for goldens and tests."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageChops, ImageStat

GOLDEN = Path(__file__).resolve().parent / "golden"
#: Low enough to keep goldens small, high enough to see a moved block or a lost line.
DPI = 40


def render_pages(pdf: Path) -> list[Image.Image]:
    """Every page as an RGB image."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        return [document[i].render(scale=DPI / 72).to_pil().convert("RGB") for i in range(len(document))]
    finally:
        document.close()


def difference(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    """(mean absolute difference 0-255, share of pixels differing by more than 64)."""
    if a.size != b.size:
        return 255.0, 1.0
    diff = ImageChops.difference(a, b).convert("L")
    mean = ImageStat.Stat(diff).mean[0]
    histogram = diff.histogram()
    changed = sum(histogram[65:]) / (a.size[0] * a.size[1])
    return mean, changed
