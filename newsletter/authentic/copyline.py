"""The copy line: one line of text -> drawn at the foot of every page of a finished PDF.

Input: a PDF open for an incremental update (pyHanko's ``IncrementalPdfFileWriter``), the
line, its language and a bundled font. Output: the same writer, each page with one more
content stream, which draws the line centred 6 mm above the page's bottom edge, below the
footer, in 6.5 pt grey.

The line is not laid out again with the page: it is an overlay. So that it keeps the
edition's standards (the archive's PDF/A-3u and PDF/UA-1):

- it is marked as a pagination artifact (``/Artifact <</Type /Pagination /Subtype /Footer>>
  BDC``): screen readers skip it, and the structure tree is not touched;
- its font is embedded (a subset of a font the project ships, Type 0 with Identity-H, its
  widths as in the font, a ToUnicode map), so the text is searchable and copyable;
- the page's own content is wrapped in ``q``/``Q``, so whatever state it leaves (WeasyPrint
  flips the y axis) does not move the line.

Subsetting a font costs about 0.1 s: the font is subset once per repertoire (Latin-1 first,
then the wider Latin of Central Europe), never per copy, so every copy whose line fits one
repertoire embeds the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from fontTools import subset, ttLib
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter

#: What a copy line may hold, widest last: the first repertoire that holds a line is embedded.
_PUNCTUATION = [0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x20AC, 0x2116]
REPERTOIRES: tuple[tuple[int, ...], ...] = (
    (*range(0x20, 0x7F), *range(0xA0, 0x100), *_PUNCTUATION),
    (*range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x1E00, 0x1F00), *range(0x2000, 0x2070), *_PUNCTUATION),
)
#: Size and place of the line, in points: under the footer (the page's bottom margin is 19 mm).
FONT_SIZE = 6.5
BASELINE_FROM_BOTTOM = 6 * 72 / 25.4
#: A grey that reads on white without drawing the eye (4.5:1 contrast at 6.5 pt is not sought:
#: the line is an artifact, not content).
GREY = (0.42, 0.42, 0.42)
#: The font's name in the pages' resources.
RESOURCE = "/NLCopyLine"


class CopyLineError(ValueError):
    """A copy line that the font cannot draw: the characters it lacks."""


@dataclass(frozen=True)
class _Subset:
    """A subset of the font: its program, its PostScript name and its metrics."""

    program: bytes
    name: str
    units_per_em: int
    glyphs: dict[int, int]  # code point -> glyph id (ids kept from the full font)
    advances: dict[int, int]  # glyph id -> advance width in font units
    ascent: int
    descent: int
    bbox: tuple[int, int, int, int]
    cap_height: int
    weight: int


@dataclass
class CopyLineFont:
    """A TrueType font of the project (``fonts/``), subset on first use per repertoire."""

    path: Path
    _subsets: dict[int, _Subset] = field(default_factory=dict)

    def subset_for(self, text: str) -> _Subset:
        """The subset that holds every character of ``text``; ``CopyLineError`` naming those
        no repertoire holds."""
        wanted = {ord(ch) for ch in text}
        for index, repertoire in enumerate(REPERTOIRES):
            if wanted <= set(repertoire):
                if index not in self._subsets:
                    self._subsets[index] = self._make(repertoire)
                found = self._subsets[index]
                missing = wanted - found.glyphs.keys()
                if missing:
                    break
                return found
        else:
            missing = wanted - set(REPERTOIRES[-1])
        shown = ", ".join(f"{chr(c)!r} (U+{c:04X})" for c in sorted(missing))
        raise CopyLineError(f"the copy line's font ({self.path.name}) cannot draw {shown}")

    def _make(self, repertoire: tuple[int, ...]) -> _Subset:
        data = self.path.read_bytes()
        font = ttLib.TTFont(io.BytesIO(data))
        options = subset.Options()
        options.retain_gids = True  # glyph ids stay those of the full font: CID = GID
        options.drop_tables += ["GPOS", "GSUB", "GDEF", "kern", "DSIG"]
        options.layout_features = []
        options.hinting = False
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=repertoire)
        # fontTools logs a warning for every old 'created' date of a font: not ours to fix.
        quiet = logging.getLogger("fontTools")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            subsetter.subset(font)
            out = io.BytesIO()
            font.save(out)
        finally:
            quiet.setLevel(level)
        cmap = font.getBestCmap()
        order = {name: gid for gid, name in enumerate(font.getGlyphOrder())}
        glyphs = {code: order[name] for code, name in cmap.items() if code in set(repertoire)}
        hmtx = font["hmtx"]
        names = font.getGlyphOrder()
        advances = {gid: hmtx[names[gid]][0] for gid in set(glyphs.values())}
        head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
        ps_name = str(font["name"].getDebugName(6) or self.path.stem).replace(" ", "")
        # A subset's name starts with six capitals that tell subsets apart (ISO 32000 9.6.4).
        tag = "".join(chr(ord("A") + b % 26) for b in hashlib.sha256(repr(repertoire).encode()).digest()[:6])
        return _Subset(
            program=out.getvalue(),
            name=f"{tag}+{ps_name}",
            units_per_em=head.unitsPerEm,
            glyphs=glyphs,
            advances=advances,
            ascent=hhea.ascent,
            descent=hhea.descent,
            bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
            cap_height=int(getattr(os2, "sCapHeight", 0) or hhea.ascent),
            weight=os2.usWeightClass,
        )


def draw_copy_line(writer: BasePdfFileWriter, text: str, font: CopyLineFont) -> None:
    """Draw ``text`` at the foot of every page of ``writer``'s document, as an artifact, in
    ``font`` embedded with it. Raises ``CopyLineError`` when the font lacks a character."""
    face = font.subset_for(text)
    gids = [face.glyphs[ord(ch)] for ch in text]
    font_ref = _embed(writer, face, text, gids)
    width = sum(face.advances[g] for g in gids) * FONT_SIZE / face.units_per_em
    hex_text = "".join(f"{g:04X}" for g in gids)
    opening = writer.add_object(generic.StreamObject(stream_data=b"q\n"))
    streams: dict[tuple[float, float, float, float], generic.IndirectObject] = {}
    for index in range(writer.root["/Pages"]["/Count"]):
        page_ref, res_ref = writer.find_page_for_modification(index)
        x0, y0, x1, y1 = (float(v) for v in page_ref.get_object()["/MediaBox"])
        box = (x0, y0, x1, y1)
        if box not in streams:
            x = (x0 + x1 - width) / 2
            y = y0 + BASELINE_FROM_BOTTOM
            ops = (
                "Q\nq\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n"
                f"{GREY[0]} {GREY[1]} {GREY[2]} rg\nBT\n{RESOURCE} {FONT_SIZE} Tf\n"
                f"1 0 0 1 {x:.2f} {y:.2f} Tm\n<{hex_text}> Tj\nET\nEMC\nQ\n"
            )
            stream = generic.StreamObject(stream_data=ops.encode("ascii"))
            stream.compress()
            streams[box] = writer.add_object(stream)
        # Pages often share one resource dictionary: the font is added to it once.
        held = res_ref.get_object() if isinstance(res_ref, generic.IndirectObject) else res_ref
        fonts = held["/Font"] if held is not None and "/Font" in held else generic.DictionaryObject()
        resources = (
            None
            if RESOURCE in fonts
            else generic.DictionaryObject(
                {pdf_name("/Font"): generic.DictionaryObject({pdf_name(RESOURCE): font_ref})}
            )
        )
        writer.add_stream_to_page(index, opening, prepend=True)
        writer.add_stream_to_page(index, streams[box], resources=resources)


def _embed(writer: BasePdfFileWriter, face: _Subset, text: str, gids: list[int]) -> generic.IndirectObject:
    """The Type 0 font of the copy line in ``writer``: its program, widths and ToUnicode."""
    scale = 1000 / face.units_per_em
    program = generic.StreamObject(
        {pdf_name("/Length1"): generic.NumberObject(len(face.program))}, stream_data=face.program
    )
    program.compress()
    descriptor = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/FontDescriptor"),
            pdf_name("/FontName"): pdf_name("/" + face.name),
            pdf_name("/Flags"): generic.NumberObject(32),  # nonsymbolic
            pdf_name("/FontBBox"): generic.ArrayObject(
                [generic.NumberObject(round(v * scale)) for v in face.bbox]
            ),
            pdf_name("/ItalicAngle"): generic.NumberObject(0),
            pdf_name("/Ascent"): generic.NumberObject(round(face.ascent * scale)),
            pdf_name("/Descent"): generic.NumberObject(round(face.descent * scale)),
            pdf_name("/CapHeight"): generic.NumberObject(round(face.cap_height * scale)),
            pdf_name("/StemV"): generic.NumberObject(int(10 + 220 * (face.weight - 50) / 900)),
            pdf_name("/FontFile2"): writer.add_object(program),
        }
    )
    used = sorted(set(gids))
    widths = generic.ArrayObject()
    for gid in used:
        widths.append(generic.NumberObject(gid))
        widths.append(generic.ArrayObject([generic.NumberObject(round(face.advances[gid] * scale))]))
    cid_font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
            pdf_name("/BaseFont"): pdf_name("/" + face.name),
            pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                {
                    pdf_name("/Registry"): generic.TextStringObject("Adobe"),
                    pdf_name("/Ordering"): generic.TextStringObject("Identity"),
                    pdf_name("/Supplement"): generic.NumberObject(0),
                }
            ),
            pdf_name("/FontDescriptor"): writer.add_object(descriptor),
            pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
            pdf_name("/DW"): generic.NumberObject(1000),
            pdf_name("/W"): widths,
        }
    )
    unicode_of = {face.glyphs[ord(ch)]: ch for ch in text}
    to_unicode = generic.StreamObject(stream_data=_to_unicode(unicode_of))
    to_unicode.compress()
    type0 = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type0"),
            pdf_name("/BaseFont"): pdf_name("/" + face.name),
            pdf_name("/Encoding"): pdf_name("/Identity-H"),
            pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid_font)]),
            pdf_name("/ToUnicode"): writer.add_object(to_unicode),
        }
    )
    return writer.add_object(type0)


def _to_unicode(unicode_of: dict[int, str]) -> bytes:
    """A ToUnicode CMap: each glyph id of the line -> its character (UTF-16BE)."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    pairs = sorted(unicode_of.items())
    for start in range(0, len(pairs), 100):  # at most 100 entries per block
        chunk = pairs[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{gid:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for gid, ch in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")
