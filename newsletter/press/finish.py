"""The finishing step of the print edition: what WeasyPrint writes, made into what a print
shop's preflight passes. It runs as part of the edition's ``write_pdf`` finisher
(``finishing.finisher``), on the PDF's objects before they are serialised, so the PDF is
written once and a rebuild gives the same bytes.

Input: the ``pydyf.PDF`` WeasyPrint has made, the issue, the edition's name and its ``Press``
settings. Output: the same PDF, with

- the media box grown by the slug, crop marks in registration colour (``/Separation /All``)
  outside the bleed, the slug line and, when asked, a colour bar (``marks.py``); the page's
  own content clipped to the bleed box, as it was when the bleed box was the media box;
- black text overprinting: text filled with black ink only sets ``/OP /op`` true with
  ``/OPM 1`` (the other plates keep what lies under it, so small black type needs no
  registration); the state is set back after each run of such text;
- every CMYK image tagged with the profile it was converted with (``finishing.cmyk_images``
  embeds it in the JPEG; here it is moved out of the JPEG into an ``/ICCBased`` colour space,
  the output intent's own stream when they are the same): the ``print-intent`` rule can then
  check that images and output intent agree;
- no annotations (links mean nothing on paper; preflights reject them inside the bleed box);
- no colour space declared and unused (WeasyPrint declares ``/lab-d50`` and ``/lab-d65`` on
  every page).

``pydyf`` is WeasyPrint's PDF writer: objects in a list, references as ``b"12 0 R"``. Content
streams are read and rewritten with pikepdf's content-stream parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pikepdf
import pydyf

from ..editions import Press
from ..issue.model import Issue
from .marks import REGISTRATION, SLUG_FONT_KEY, Box, SlugFont, page_marks, slug_font, slug_line, winansi

#: ExtGState names for black text: overprint on, and back off.
OVERPRINT_ON = "OPblack"
OVERPRINT_OFF = "OPoff"

_REFERENCE = re.compile(rb"(\d+) 0 R")


def finish_for_press(pdf: Any, issue: Issue, edition: str, press: Press, slug: str = "") -> None:
    """Finish the ``pydyf.PDF`` of ``edition`` of ``issue`` for the press (see the module);
    ``slug`` is the slug line's words (``marks.slug_line``)."""
    pages = [pdf.objects[number] for number in pdf.pages["Kids"][::3]]
    _remove_annotations(pdf, pages)
    _tag_images(pdf)
    used_spaces: set[str] = {REGISTRATION}
    scratch = pikepdf.new()
    for stream, resources in _content_streams(pdf, pages):
        data, names, overprinted = _overprint_black_text(stream_bytes(stream), scratch)
        used_spaces |= names
        if overprinted and resources is not None:
            stream.stream = [data]
            _add_overprint_states(resources)
    _add_marks(pdf, pages, issue, edition, press, slug)
    _remove_unused_colour_spaces(pdf, pages, used_spaces)


def deref(pdf: Any, value: Any) -> Any:
    """The object a ``pydyf`` reference (``b"12 0 R"``) names, or the value itself (the
    finishers of ``press/`` share it)."""
    if isinstance(value, bytes):
        match = _REFERENCE.fullmatch(value)
        if match:
            return pdf.objects[int(match[1])]
    return value


def stream_bytes(stream: Any) -> bytes:
    """The content of a ``pydyf.Stream`` as it will be written, before compression."""
    parts = []
    for item in stream.stream:
        if isinstance(item, bytes):
            parts.append(item)
        elif isinstance(item, pydyf.Object):
            parts.append(item.data)
        else:
            parts.append(str(item).encode("latin-1"))
    return b"\n".join(parts)


def _content_streams(pdf: Any, pages: list[Any]) -> Iterator[tuple[Any, Any]]:
    """Every page's content stream and every form XObject, each with its resources."""
    for page in pages:
        contents = deref(pdf, page["Contents"])
        yield contents, deref(pdf, page["Resources"])
    for obj in pdf.objects:
        # Form XObjects (groups, SVG) and tiling patterns have content of their own.
        if isinstance(obj, pydyf.Stream) and (
            obj.extra.get("Subtype") == "/Form" or obj.extra.get("PatternType") == 1
        ):
            yield obj, deref(pdf, obj.extra.get("Resources"))


def _remove_annotations(pdf: Any, pages: list[Any]) -> None:
    """No annotations on paper. The annotation objects are emptied rather than dropped: pydyf
    numbers objects by their place in its list and cannot free one in a compressed PDF."""
    for page in pages:
        for reference in page.pop("Annots", None) or ():
            annotation = deref(pdf, reference)
            if isinstance(annotation, dict):
                annotation.clear()
    pdf.catalog.pop("AcroForm", None)


def _is_black(space: str, fill: tuple[float, ...]) -> bool:
    """Black ink only: CMYK with no cyan, magenta or yellow, and some black."""
    return space == "/DeviceCMYK" and len(fill) == 4 and not any(fill[:3]) and fill[3] > 0


def _overprint_black_text(data: bytes, scratch: pikepdf.Pdf) -> tuple[bytes, set[str], bool]:
    """``data`` with every run of black-only text overprinting; the colour spaces it names;
    whether it changed.

    WeasyPrint sets a text's colour just before ``BT`` or, when runs follow each other, inside
    one text object; the state goes on with the colour and off at the end of the text object.
    """
    instructions = pikepdf.parse_content_stream(pikepdf.Stream(scratch, data))
    on = pikepdf.ContentStreamInstruction([pikepdf.Name("/" + OVERPRINT_ON)], pikepdf.Operator("gs"))
    off = pikepdf.ContentStreamInstruction([pikepdf.Name("/" + OVERPRINT_OFF)], pikepdf.Operator("gs"))
    out: list[Any] = []
    names: set[str] = set()
    space: str = "/DeviceGray"
    fill: tuple[float, ...] = (0.0,)
    saved: list[tuple[str, tuple[float, ...]]] = []
    in_text = overprinting = changed = False
    for instruction in instructions:
        out.append(instruction)
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            # An inline image, which may name a colour space of the resources.
            image_space = instruction.iimage.obj.get("/ColorSpace")
            if isinstance(image_space, pikepdf.Name):
                names.add(str(image_space).lstrip("/"))
            continue
        operator, operands = str(instruction.operator), instruction.operands
        if operator == "q":
            saved.append((space, fill))
        elif operator == "Q" and saved:
            space, fill = saved.pop()
        elif operator in ("cs", "CS"):
            names.add(str(operands[0]).lstrip("/"))
            if operator == "cs":
                space, fill = str(operands[0]), ()
        elif operator in ("sc", "scn"):
            fill = tuple(float(v) for v in operands if not isinstance(v, pikepdf.Name))
        elif operator in ("k", "g", "rg"):
            space = {"k": "/DeviceCMYK", "g": "/DeviceGray", "rg": "/DeviceRGB"}[operator]
            fill = tuple(float(v) for v in operands)
        elif operator == "BT":
            in_text = True
        elif operator == "ET":
            in_text = False
            if overprinting:
                out.append(off)
                overprinting = False
            continue
        else:
            continue
        if in_text and _is_black(space, fill) != overprinting:
            overprinting = not overprinting
            out.append(on if overprinting else off)
            changed = True
    return (pikepdf.unparse_content_stream(out) if changed else data), names, changed


def _add_overprint_states(resources: Any) -> None:
    states = resources.get("ExtGState")
    if states is None:
        states = resources["ExtGState"] = pydyf.Dictionary()
    # OPM 1: a zero in a CMYK fill leaves that plate alone, so black text keeps what lies under it.
    states[OVERPRINT_ON] = pydyf.Dictionary({"Type": "/ExtGState", "OP": "true", "op": "true", "OPM": 1})
    states[OVERPRINT_OFF] = pydyf.Dictionary({"Type": "/ExtGState", "OP": "false", "op": "false"})


def split_jpeg_icc(data: bytes) -> tuple[bytes | None, bytes]:
    """The ICC profile embedded in a JPEG (its ``APP2 ICC_PROFILE`` segments, in order) and
    the JPEG without them; ``(None, data)`` when it has none or cannot be read."""
    if data[:2] != b"\xff\xd8":
        return None, data
    kept, chunks, pos = [data[:2]], {}, 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the image data follows, with no more headers
            kept.append(data[pos:])
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos : pos + 2 + length]
        if marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\0":
            chunks[segment[16]] = segment[18:]
        else:
            kept.append(segment)
        pos += 2 + length
    else:
        return None, data
    if not chunks:
        return None, data
    return b"".join(chunks[k] for k in sorted(chunks)), b"".join(kept)


def _tag_images(pdf: Any) -> None:
    """Each CMYK JPEG that carries its profile: ``/ICCBased`` with that profile, shared with
    the output intent when they are the same bytes (the profile stays in the PDF once)."""
    intents = pdf.catalog.get("OutputIntents") or ()
    intent_ref = intents[0]["DestOutputProfile"] if intents else None
    intent = deref(pdf, intent_ref) if intent_ref is not None else None
    intent_bytes = stream_bytes(intent) if intent is not None else None
    others: dict[bytes, bytes] = {}
    for obj in list(pdf.objects):
        if not isinstance(obj, pydyf.Stream) or obj.extra.get("Subtype") != "/Image":
            continue
        if obj.extra.get("ColorSpace") != "/DeviceCMYK" or obj.extra.get("Filter") != "/DCTDecode":
            continue
        profile, jpeg = split_jpeg_icc(stream_bytes(obj))
        if profile is None:
            continue
        obj.stream = [jpeg]
        if profile == intent_bytes:
            reference = intent_ref
        else:
            if profile not in others:
                stream = pydyf.Stream([profile], pydyf.Dictionary({"N": 4}), compress=True)
                pdf.add_object(stream)
                others[profile] = stream.reference
            reference = others[profile]
        obj.extra["ColorSpace"] = pydyf.Array(("/ICCBased", reference))


def _add_marks(pdf: Any, pages: list[Any], issue: Issue, edition: str, press: Press, slug: str) -> None:
    """Grow each page's media box by the slug and draw its marks around the page's content."""
    lines = [winansi(slug_line(issue, edition, n, len(pages), slug)) for n in range(1, len(pages) + 1)]
    font = slug_font(lines)
    resources = {id(r): r for r in (deref(pdf, page["Resources"]) for page in pages)}
    font_ref = _add_font(pdf, font)
    function = pydyf.Dictionary(
        {
            "FunctionType": 2,
            "Domain": pydyf.Array((0, 1)),
            "C0": pydyf.Array((0, 0, 0, 0)),
            "C1": pydyf.Array((1, 1, 1, 1)),
            "N": 1,
        }
    )
    pdf.add_object(function)
    # All four plates: what is drawn in it shows on every plate, as registration marks must.
    registration = pydyf.Array(("/Separation", "/All", "/DeviceCMYK", function.reference))
    for resource in resources.values():
        deref(pdf, resource["Font"])[SLUG_FONT_KEY] = font_ref
        deref(pdf, resource["ColorSpace"])[REGISTRATION] = registration
    restore = pydyf.Stream([b"Q"], compress=True)
    pdf.add_object(restore)
    for page, line in zip(pages, lines, strict=True):
        trim, bleed = Box.of(page["TrimBox"]), Box.of(page["BleedBox"])
        marks = page_marks(trim, bleed, line, press, font)
        # The page's own content clipped to the bleed box, which was its media box: nothing
        # WeasyPrint drew beyond it appears in the slug now that the media box is larger.
        clip = " ".join(
            f"{v:.4f}" for v in (bleed.left, bleed.bottom, bleed.right - bleed.left, bleed.top - bleed.bottom)
        )
        opening = pydyf.Stream([marks.content, b"q " + clip.encode() + b" re W n"], compress=True)
        pdf.add_object(opening)
        page["Contents"] = pydyf.Array((opening.reference, page["Contents"], restore.reference))
        page["MediaBox"] = pydyf.Array(marks.media.as_list())


def _add_font(pdf: Any, font: SlugFont) -> bytes:
    """The slug font's objects (file, descriptor, font); the font's reference."""
    file = pydyf.Stream([font.data], pydyf.Dictionary({"Length1": len(font.data)}), compress=True)
    pdf.add_object(file)
    descriptor = pydyf.Dictionary(
        {
            "Type": "/FontDescriptor",
            "FontName": "/" + font.name,
            "Flags": 32,
            "FontBBox": pydyf.Array(font.bbox),
            "ItalicAngle": font.italic_angle,
            "Ascent": font.ascent,
            "Descent": font.descent,
            "CapHeight": font.cap_height,
            "StemV": 80,
            "FontFile2": file.reference,
        }
    )
    pdf.add_object(descriptor)
    dictionary = pydyf.Dictionary(
        {
            "Type": "/Font",
            "Subtype": "/TrueType",
            "BaseFont": "/" + font.name,
            "FirstChar": font.first_char,
            "LastChar": font.last_char,
            "Widths": pydyf.Array(font.widths),
            "Encoding": "/WinAnsiEncoding",
            "FontDescriptor": descriptor.reference,
        }
    )
    pdf.add_object(dictionary)
    reference: bytes = dictionary.reference
    return reference


def _remove_unused_colour_spaces(pdf: Any, pages: list[Any], used: set[str]) -> None:
    """Drop the named colour spaces no content stream sets (``/lab-d50``, ``/lab-d65``...)."""
    dictionaries = {}
    for _, resources in _content_streams(pdf, pages):
        if resources is not None and resources.get("ColorSpace") is not None:
            spaces = deref(pdf, resources["ColorSpace"])
            dictionaries[id(spaces)] = spaces
    for spaces in dictionaries.values():
        for name in [key for key in spaces if key not in used]:
            del spaces[name]
