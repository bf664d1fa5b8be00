"""Printer's marks for the print edition: the slug around the bleed, crop marks in registration
colour, the slug line naming the job, and an optional CMYK colour bar.

Input: each page's TrimBox and BleedBox (points), the issue, the edition and its ``Press``
settings. Output: the content stream that draws the marks of one page, the media box that
holds them, and the PDF objects they use (the registration colour space and the slug font),
for ``finish.py`` to add to the PDF WeasyPrint is writing.

Why not WeasyPrint's own ``marks: crop``: measured on issue 10 (``bench/bench_marks.py``), it
draws its marks in RGB black, 0.75 pt wide, at half the CSS bleed from the media box's edge,
so inside the bleed whenever the bleed is the media box; with a bleed wide enough for a slug
it sets the BleedBox at 10 pt rather than the 3 mm bleed; it has no slug line and no
registration colour. Drawing the marks here costs a few milliseconds per build.

Geometry, in points from the trim's lower left corner (PDF user space): each crop mark lies on
the extension of a trim edge, starting ``bleed`` away from the trim corner (so never inside
the bleed) and running ``CROP_LENGTH`` outwards; the media box is the bleed box grown by
the slug (``Press.slug_mm``, at least 5 mm). The slug line is set along the bottom slug in
the bundled Lato Regular, subset and embedded like every other font of the PDF.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from ..editions import Press
from ..issue.fonts import quiet_font_dates
from ..issue.model import Issue
from ..shipped import FONTS

MM = 72 / 25.4
#: Length of each crop mark (mm).
CROP_LENGTH = 5.0
#: Line width of the crop marks (pt): the usual 0.25 pt, a touch more so that no plate loses it.
CROP_WIDTH = 0.3
#: Size of the slug line (pt): readable with a loupe, small enough to stay in a 5 mm slug.
SLUG_SIZE = 6.0
#: Side of one patch of the colour bar (mm).
PATCH = 5.0
#: The slug font: the layout's sans-serif, Regular (``fonts/``).
SLUG_FONT = FONTS / "lato" / "Lato-Regular.ttf"
#: Smallest slug the marks fit in (mm beyond the bleed; ``Press.slug_mm`` is 10 by default);
#: the ``print-marks`` rule asks the print edition for it.
MIN_SLUG_MM = 5.0

#: Resource names the marks use in every page's resources.
REGISTRATION = "Registration"
SLUG_FONT_KEY = "Slug"

#: The colour bar: solids, 50 % tints, then the overprints of two and three inks (C, M, Y, K).
COLOUR_BAR: tuple[tuple[float, float, float, float], ...] = (
    (1, 0, 0, 0),
    (0, 1, 0, 0),
    (0, 0, 1, 0),
    (0, 0, 0, 1),
    (0.5, 0, 0, 0),
    (0, 0.5, 0, 0),
    (0, 0, 0.5, 0),
    (0, 0, 0, 0.5),
    (1, 1, 0, 0),
    (1, 0, 1, 0),
    (0, 1, 1, 0),
    (1, 1, 1, 0),
)


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF points: lower left and upper right corners."""

    left: float
    bottom: float
    right: float
    top: float

    @classmethod
    def of(cls, values: object) -> Box:
        """From a PDF box array ``[x0 y0 x1 y1]`` (any order of corners)."""
        x0, y0, x1, y1 = (float(v) for v in values)  # type: ignore[attr-defined]
        return cls(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def grown(self, by: float) -> Box:
        """This box with ``by`` points added on every side."""
        return Box(self.left - by, self.bottom - by, self.right + by, self.top + by)

    def as_list(self) -> list[float]:
        """``[left, bottom, right, top]``, rounded to what a PDF needs (and stably printed)."""
        return [round(v, 4) for v in (self.left, self.bottom, self.right, self.top)]


@dataclass(frozen=True)
class PageMarks:
    """The marks of one page: the media box to set and the content that draws them."""

    media: Box
    content: bytes


#: The slug line's words when the layout gives none (``print_slug`` in labels.yaml).
SLUG_WORDS = "{series}, issue {number} \u2014 {edition} edition \u2014 page {page} of {pages} \u2014 {date}"


def slug_line(issue: Issue, edition: str, page: int, pages: int, words: str = "") -> str:
    """What the slug says: the job (series and issue number), the edition, the page, and the
    issue's date, never the build's (a rebuild gives the same bytes); in ``words``, the
    edition language's (``{series}``, ``{number}``, ``{edition}``, ``{page}``, ``{pages}``,
    ``{date}`` are filled in)."""
    return (words or SLUG_WORDS).format(
        series=issue.series,
        number=issue.number,
        edition=edition,
        page=page,
        pages=pages,
        date=issue.date.isoformat(),
    )


def winansi(text: str) -> bytes:
    """``text`` in the slug font's encoding (WinAnsi, cp1252); what it cannot hold is spelt
    without accents, or as ``?``: the slug is for the print shop, not the readers."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore")
            out += folded or b"?"
    return bytes(out)


def _literal(data: bytes) -> bytes:
    """A PDF literal string holding ``data``."""
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _n(value: float) -> bytes:
    """A number as a content stream writes it: fixed decimals, so the bytes never vary."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return (text if text not in ("-0", "") else "0").encode("ascii")


def page_marks(trim: Box, bleed: Box, slug: bytes, press: Press, font: SlugFont) -> PageMarks:
    """The marks of a page with ``trim`` and ``bleed`` boxes and the slug line ``slug``
    (WinAnsi bytes), drawn in registration colour in default user space."""
    slug_width = max(press.slug_mm, MIN_SLUG_MM) * MM
    media = bleed.grown(slug_width)
    ops: list[bytes] = [b"q", b"/" + REGISTRATION.encode() + b" CS 1 SCN", _n(CROP_WIDTH) + b" w 0 J"]
    length = CROP_LENGTH * MM
    # Offsets from the trim corner: the bleed on each side (boxes may differ per side).
    off_left, off_right = trim.left - bleed.left, bleed.right - trim.right
    off_bottom, off_top = trim.bottom - bleed.bottom, bleed.top - trim.top
    for x, y, dx, dy, off_x, off_y in (
        (trim.left, trim.bottom, -1, -1, off_left, off_bottom),
        (trim.right, trim.bottom, 1, -1, off_right, off_bottom),
        (trim.left, trim.top, -1, 1, off_left, off_top),
        (trim.right, trim.top, 1, 1, off_right, off_top),
    ):
        # The horizontal mark on the extension of the horizontal trim edge, and the vertical one.
        ops.append(b" ".join((_n(x + dx * off_x), _n(y), b"m", _n(x + dx * (off_x + length)), _n(y), b"l S")))
        ops.append(b" ".join((_n(x), _n(y + dy * off_y), b"m", _n(x), _n(y + dy * (off_y + length)), b"l S")))
    # The slug line, along the bottom slug, clear of the vertical crop marks at the trim's
    # corners (5 mm in from each); a line too long for that is set smaller, never cut.
    room = trim.right - trim.left - 10 * MM
    size = min(SLUG_SIZE, SLUG_SIZE * room / max(font.width(slug, SLUG_SIZE), 1.0))
    baseline = bleed.bottom - (slug_width + size * 0.7) / 2
    ops.append(b"/" + REGISTRATION.encode() + b" cs 1 scn")
    ops.append(b"BT /" + SLUG_FONT_KEY.encode() + b" " + _n(size) + b" Tf")
    ops.append(_n(trim.left + 5 * MM) + b" " + _n(baseline) + b" Td " + _literal(slug) + b" Tj ET")
    if press.colour_bar:
        ops.extend(_colour_bar(trim, bleed, slug_width))
    ops.append(b"Q")
    return PageMarks(media, b"\n".join(ops))


def _colour_bar(trim: Box, bleed: Box, slug_width: float) -> list[bytes]:
    """Patches along the top slug, centred on the page: one ink each, then overprints."""
    side = min(PATCH * MM, slug_width - 2 * MM)
    width = side * len(COLOUR_BAR)
    left = (trim.left + trim.right - width) / 2
    bottom = bleed.top + (slug_width - side) / 2
    ops = [b"/DeviceCMYK cs"]
    for index, inks in enumerate(COLOUR_BAR):
        ops.append(b" ".join(_n(v) for v in inks) + b" scn")
        ops.append(b" ".join((_n(left + index * side), _n(bottom), _n(side), _n(side), b"re f")))
    return ops


@dataclass(frozen=True)
class SlugFont:
    """The slug font, subset to the slug lines' characters: what the PDF's font objects need."""

    #: ``ABCDEF+Lato-Regular``: a subset tag made from the characters, so rebuilds match.
    name: str
    #: The subset TrueType font file.
    data: bytes
    first_char: int
    last_char: int
    #: Advance widths of codes ``first_char`` to ``last_char``, per 1000 units of the em.
    widths: tuple[int, ...]
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float

    def width(self, text: bytes, size: float) -> float:
        """How wide ``text`` (WinAnsi) prints at ``size`` points."""
        return (
            sum(self.widths[c - self.first_char] for c in text if self.first_char <= c <= self.last_char)
            * size
            / 1000
        )


def slug_font(lines: list[bytes], path: Path = SLUG_FONT) -> SlugFont:
    """The slug font subset to the characters of ``lines`` (WinAnsi bytes)."""
    codes = sorted(set(b"".join(lines)) | {ord(" ")})
    chars = {bytes([c]).decode("cp1252", "replace") for c in codes}
    # recalcTimestamp off: the font keeps the date of its file, not the build's.
    quiet_font_dates()
    font = TTFont(path, recalcTimestamp=False)
    # A line of plain text: no ligatures, kerning or hinting to keep. Removing the layout
    # tables before subsetting, unread, also makes it twenty times faster (no rules to load).
    for tag in ("GSUB", "GPOS", "GDEF", "kern"):
        if tag in font:
            del font[tag]
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    scale = 1000 / font["head"].unitsPerEm
    cmap = font.getBestCmap() or {}
    metrics = font["hmtx"].metrics
    first, last = codes[0], codes[-1]
    widths = []
    for code in range(first, last + 1):
        glyph = cmap.get(ord(bytes([code]).decode("cp1252", "replace")))
        widths.append(round(metrics[glyph][0] * scale) if glyph in metrics else 0)
    head, os2 = font["head"], font["OS/2"]
    tag = "".join(chr(ord("A") + b % 26) for b in hashlib.sha256(bytes(codes)).digest()[:6])
    family = font["name"].getDebugName(6) or path.stem
    return SlugFont(
        name=f"{tag}+{family}",
        data=buffer.getvalue(),
        first_char=first,
        last_char=last,
        widths=tuple(widths),
        bbox=tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),
        ascent=round(font["hhea"].ascent * scale),
        descent=round(font["hhea"].descent * scale),
        cap_height=round(getattr(os2, "sCapHeight", font["hhea"].ascent * 0.7) * scale),
        italic_angle=float(font["post"].italicAngle),
    )
