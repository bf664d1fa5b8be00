"""Pages of a PDF drawn as images (pypdfium2): the one place that rasterises, for ``diff``
(pages compared pixel by pixel), ``preview`` (PNGs, spreads, a contact sheet) and ``serve``
(the pages the browser shows).

pypdfium2 is imported when a PDF is opened, not with this module: the command line parses
its arguments without loading it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image


@contextmanager
def opened(pdf: Path | bytes) -> Iterator[Any]:
    """The PDF at ``pdf`` (or its bytes) opened with pypdfium2 (a ``PdfDocument``), closed after."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    try:
        yield document
    finally:
        document.close()


def page_image(page: Any, dpi: float) -> Image.Image:
    """One page of an opened document (``document[index]``) as an RGB image at ``dpi``."""
    image: Image.Image = page.render(scale=dpi / 72).to_pil().convert("RGB")
    return image


def png(image: Image.Image) -> bytes:
    """``image`` as PNG bytes, compressed fast: the image crosses the loopback, where size
    hardly matters and time does."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def page_pngs(pdf: Path | bytes, numbers: Sequence[int], dpi: float) -> dict[int, bytes]:
    """PNG images of the pages ``numbers`` (1-based) of ``pdf`` (a file, or its bytes)."""
    with opened(pdf) as document:
        return {number: png(page_image(document[number - 1], dpi)) for number in numbers}
