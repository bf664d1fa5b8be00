"""Ink on the plates: the print edition rendered to separations by Ghostscript, one plate per
ink, and the total area coverage (TAC) read from them.

Input: a written PDF. Output: for each page, its plates (``Cyan``, ``Magenta``, ``Yellow``,
``Black`` and any spot colour, as grey images where 0 is full ink) and the maximum coverage
inside the bleed box, with where it is. Ghostscript's ``tiffsep`` device is a real renderer
of separations: ``inkcov`` only gives each page's average, which says nothing of the darkest
spot. The PDF's output intent is both the source profile of ``DeviceCMYK`` and the output
profile, so Ghostscript puts on the plates the very numbers the PDF holds: images tagged
with that profile are not converted either.

``python -m newsletter.press.inks out/issue-10-print.pdf`` prints the coverage of every page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from PIL import Image, ImageMath

from ..errors import EnvironmentFault

#: The plates of four-colour printing, in the order they are named.
PROCESS_INKS = ("Cyan", "Magenta", "Yellow", "Black")
#: Seconds Ghostscript may take for a whole edition.
GS_TIMEOUT = 120


class RenderError(Exception):
    """Ghostscript could not render the PDF, or reported errors while it did."""


@dataclass(frozen=True)
class Coverage:
    """The most ink on one page, inside its bleed box."""

    page: int
    #: Total area coverage at its darkest, in per cent of one ink (0 to 400, more with spots).
    max_percent: float
    #: Where the darkest point is: millimetres from the trim's left and top edges (negative
    #: in the bleed); the topmost, then leftmost, of the darkest points.
    x_mm: float
    y_mm: float
    #: How much of the page (mm²) carries more ink than the limit it was measured against.
    over_mm2: float

    def where(self) -> str:
        """``at 12 x 40 mm from the trim's top left``."""
        return f"at {self.x_mm:.0f} x {self.y_mm:.0f} mm from the trim's top left"


@dataclass(frozen=True)
class Page:
    """One page's separations: each plate by ink name, and the page's boxes in pixels."""

    number: int
    plates: dict[str, Image.Image]
    dpi: int
    #: BleedBox and TrimBox as (left, top, right, bottom) pixels of the plates.
    bleed: tuple[int, int, int, int]
    trim: tuple[int, int, int, int]

    @property
    def spots(self) -> list[str]:
        """The plates that are not process inks."""
        return [name for name in self.plates if name not in PROCESS_INKS]

    def ink(self) -> Image.Image:
        """Total ink inside the bleed box, per pixel (mode ``I``, 255 for each full ink).

        The box is taken a pixel in from each edge: the crop marks start on the bleed's edge,
        and a pixel straddling it is theirs."""
        left, top, right, bottom = self.bleed
        plates = [plate.crop((left + 1, top + 1, right - 1, bottom - 1)) for plate in self.plates.values()]
        names = {f"p{i}": plate for i, plate in enumerate(plates)}
        # 0 is full ink on a separation: the ink is what is missing from white.
        ink = ImageMath.lambda_eval(lambda a: 255 * len(names) - sum(a[n] for n in names), **names)
        assert isinstance(ink, Image.Image)
        return ink

    def coverage(self, limit: float = 400.0) -> Coverage:
        """The maximum total area coverage inside the bleed box, where it is, and how much of
        the page goes over ``limit`` per cent."""
        ink = self.ink()
        extrema = ink.getextrema()
        assert isinstance(extrema, tuple) and isinstance(extrema[1], (int, float))
        top = int(extrema[1])
        darkest = ImageMath.lambda_eval(lambda a: (a["t"] == top) * 255, t=ink)
        over = ImageMath.lambda_eval(lambda a: (a["t"] > round(limit * 2.55)) * 255, t=ink)
        assert isinstance(darkest, Image.Image) and isinstance(over, Image.Image)
        mask = darkest.convert("L")
        row = (mask.getbbox() or (0, 0, 0, 0))[1]
        column = (mask.crop((0, row, mask.width, row + 1)).getbbox() or (0, 0, 0, 0))[0]
        px = 25.4 / self.dpi
        # From the crop's corner (a pixel into the bleed box) to the trim's.
        left = self.trim[0] - self.bleed[0] - 1
        upper = self.trim[1] - self.bleed[1] - 1
        over_pixels = over.convert("L").histogram()[255]
        return Coverage(
            self.number, top / 2.55, (column - left) * px, (row - upper) * px, over_pixels * px * px
        )


def _boxes(pdf_path: Path, dpi: int) -> list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """Each page's BleedBox and TrimBox in pixels of its rendering (the MediaBox's top left at 0, 0)."""
    found = []
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            media = [float(v) for v in page.mediabox]
            found.append(
                tuple(
                    _pixels(page.obj.get(key) or page.mediabox, media, dpi)
                    for key in ("/BleedBox", "/TrimBox")
                )
            )
    return found  # type: ignore[return-value]


def _pixels(box: Any, media: list[float], dpi: int) -> tuple[int, int, int, int]:
    """A PDF box as (left, top, right, bottom) pixels of a rendering of the media box at ``dpi``."""
    scale = dpi / 72
    x0, y0, x1, y1 = (float(v) for v in box)
    return (
        round((min(x0, x1) - media[0]) * scale),
        round((media[3] - max(y0, y1)) * scale),
        round((max(x0, x1) - media[0]) * scale),
        round((media[3] - min(y0, y1)) * scale),
    )


def _output_profile(pdf_path: Path) -> bytes | None:
    with pikepdf.open(pdf_path) as pdf:
        intents: Any = pdf.Root.get("/OutputIntents") or []
        for intent in intents:
            profile = intent.get("/DestOutputProfile")
            if profile is not None and int(profile.get("/N", 0)) == 4:
                return bytes(profile.read_bytes())
    return None


def has_ghostscript() -> bool:
    """Whether Ghostscript is installed (the ink rules measure with it)."""
    return shutil.which("gs") is not None


def ghostscript() -> str:
    """The Ghostscript command; ``EnvironmentFault`` when it is not installed."""
    found = shutil.which("gs")
    if found is None:
        raise EnvironmentFault(
            "Ghostscript (gs) is not installed: the print edition's ink cannot be measured",
            None,
            "install it (Debian: apt-get install ghostscript)",
        )
    return found


_PLATE_NAME = re.compile(r"p(\d{4})\((.+)\)\.tif")
#: Lines of Ghostscript's output that say something went wrong in the PDF.
_GS_PROBLEM = re.compile(r"error|warning|unrecoverable|failed", re.IGNORECASE)


@contextmanager
def separations(pdf_path: Path, dpi: int = 72) -> Iterator[list[Page]]:
    """The PDF's pages as separations, rendered by Ghostscript at ``dpi``; ``RenderError``
    when Ghostscript fails or reports an error in the PDF. The plates live while the
    context is open."""
    gs = ghostscript()
    boxes = _boxes(pdf_path, dpi)
    profile = _output_profile(pdf_path)
    with tempfile.TemporaryDirectory(prefix="newsletter-plates-") as work:
        folder = Path(work)
        command = [gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiffsep", f"-r{dpi}"]
        if profile is not None:
            # The same profile in and out: Ghostscript converts nothing, the plates hold the PDF's numbers.
            (folder / "intent.icc").write_bytes(profile)
            command += [
                f"-sDefaultCMYKProfile={folder / 'intent.icc'}",
                f"-sOutputICCProfile={folder / 'intent.icc'}",
            ]
        command += [f"-sOutputFile={folder / 'p%04d.tif'}", str(pdf_path)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=GS_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(f"Ghostscript took more than {GS_TIMEOUT} s") from None
        said = [line.strip() for line in (done.stdout + done.stderr).splitlines() if _GS_PROBLEM.search(line)]
        if done.returncode != 0 or said:
            raise RenderError("; ".join(said[:3]) or f"Ghostscript failed (exit {done.returncode})")
        plates: dict[int, dict[str, Image.Image]] = {}
        for path in sorted(folder.glob("p*(*).tif")):
            match = _PLATE_NAME.fullmatch(path.name)
            if match:
                with Image.open(path) as image:
                    plates.setdefault(int(match[1]), {})[match[2]] = image.convert("L")
        if len(plates) != len(boxes):
            raise RenderError(f"Ghostscript rendered {len(plates)} pages of {len(boxes)}")
        yield [Page(number, plates[number], dpi, *boxes[number - 1]) for number in sorted(plates)]


def coverage(pdf_path: Path, dpi: int = 72, limit: float = 400.0) -> list[Coverage]:
    """The maximum total area coverage of every page, inside its bleed box."""
    with separations(pdf_path, dpi) as pages:
        return [page.coverage(limit) for page in pages]


def main(argv: list[str]) -> int:
    """Print each page's maximum coverage: ``python -m newsletter.press.inks FILE.pdf [DPI]``."""
    if not argv:
        print("usage: python -m newsletter.press.inks FILE.pdf [DPI]", file=sys.stderr)
        return 2
    dpi = int(argv[1]) if len(argv) > 1 else 72
    for found in coverage(Path(argv[0]), dpi):
        print(f"page {found.page}: {found.max_percent:.1f} % {found.where()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
