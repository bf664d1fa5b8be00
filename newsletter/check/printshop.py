"""Print rules: what a print shop's preflight asks of the print edition, as findings. Each runs
only for the editions that list it in their ``rules`` (``editions.py``: the print edition).

Layout rules look at the laid-out boxes and are located at the issue field they come from:
effective image resolution, hairlines, small text in more than one ink. Output rules read the
written PDF: boxes and marks, colour spaces, the output intent against the images' profile,
fonts, annotations, and the ink on the plates as Ghostscript separates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pikepdf

from ..engine.laidout import Box as LaidBox
from ..engine.laidout import Colour
from ..engine.laidout import Page as LaidPage
from ..issue.load import parse_path
from ..issue.model import figures
from ..press.inks import PROCESS_INKS, RenderError, has_ghostscript, separations
from ..press.marks import MIN_SLUG_MM  # the slug the marks need beyond the bleed
from .layout import at
from .output import unique_images, xmp
from .registry import Hit, LayoutContext, OutputContext, page_rule, rule

MM = 72 / 25.4


# ---------- layout: images, lines, small text


def _dpi(box: LaidBox) -> float | None:
    """The effective resolution of a placed image: its pixels over its printed size, on the
    axis where it is the lowest (an image stretched one way loses detail that way)."""
    size = box.image_size
    if size is None or not box.width:
        return None
    dpi = size[0] / (box.width / 96)
    if box.height:
        dpi = min(dpi, size[1] / (box.height / 96))
    return dpi


def _images(ctx: LayoutContext) -> Iterator[tuple[Any, LaidBox, float]]:
    """Each placed image with its effective resolution, stand-ins left out: they hold the place
    of a photo to come (the ``stand-in`` notice says so), and only that photo will print."""
    stand_ins = [path for path, figure in figures(ctx.issue) if figure.stand_in]
    for page in ctx.pages:
        for box in page.flow.walk():
            dpi = _dpi(box)
            if dpi is None:
                continue
            path = parse_path(box.src) if box.src else ()
            if not any(path[: len(s)] == s for s in stand_ins):
                yield page, box, dpi


def _image_message(box: LaidBox, dpi: float) -> str:
    source = box.attribute("data-source") or "?"
    pixels = box.image_size or (0, 0)
    return f"image {source} prints at {dpi:.0f} dpi ({pixels[0]} px over {box.width / 96 * 25.4:.0f} mm)"


@rule(
    "image-resolution",
    "layout",
    "warning",
    "supply the image at 300 dpi or more for its printed size",
    edition_only=True,
)
def _image_resolution(ctx: LayoutContext) -> Iterator[Hit]:
    for page, box, dpi in _images(ctx):
        if 150 <= dpi < 300:
            yield at(box, _image_message(box, dpi), page)


@rule(
    "image-resolution-low",
    "layout",
    "error",
    "supply the image at 300 dpi for its printed size: under 150 dpi it prints blurred",
    edition_only=True,
)
def _image_resolution_low(ctx: LayoutContext) -> Iterator[Hit]:
    for page, box, dpi in _images(ctx):
        if dpi < 150:
            yield at(box, _image_message(box, dpi), page)


#: The thinnest line a press holds (pt).
HAIRLINE = 0.25


@page_rule(
    "hairline",
    "warning",
    f"make the line {HAIRLINE} pt wide or more in the stylesheet: thinner ones break up in print",
    edition_only=True,
)
def _hairline(ctx: LayoutContext, page: LaidPage) -> Iterator[Hit]:
    seen: set[tuple[int, str]] = set()
    for box in page.whole.walk():
        for stroke in box.strokes():
            key = (box.element_key, stroke.what)
            if stroke.width < HAIRLINE and key not in seen:
                seen.add(key)
                yield at(box, f"the {stroke.what} of {box.label()} is {stroke.width:.2f} pt wide", page)


#: Text under this size (pt) must print in one ink; up to ``TEXT_NOTICE`` it is noticed.
SMALL_TEXT = 6.0
TEXT_NOTICE = 12.0


def _describe_inks(colour: Colour) -> str | None:
    """Why a text colour needs good registration (several inks, rich black, not CMYK), or None."""
    inks = colour.inks()
    if inks is None:
        return f"in {colour.space} colour, which the press separates into several inks"
    if len(inks) < 2:
        return None
    tints = " + ".join(f"{ink} {value * 100:.0f} %" for ink, value in inks.items())
    kind = "rich black" if inks.get("K", 0) >= 0.8 else f"{len(inks)} inks"
    return f"in {kind} ({tints})"


def _multi_ink_text(
    ctx: LayoutContext, smallest: float, largest: float
) -> Iterator[tuple[Any, LaidBox, str]]:
    """Text from ``smallest`` to under ``largest`` pt printing in more than one ink: each
    element once per page, with its page and why."""
    for page in ctx.pages:
        seen: set[int] = set()
        for box in page.whole.walk():
            if box.kind != "text" or not box.text.strip("\u200b\u00ad \n") or box.element_key in seen:
                continue
            if not smallest <= box.font_size < largest or box.colour.alpha == 0:
                continue
            why = _describe_inks(box.colour)
            if why is not None:
                seen.add(box.element_key)
                yield page, box, why


@rule(
    "small-text-inks",
    "layout",
    "error",
    "set text under 6 pt in one ink (black, or one of C, M, Y) in print.css: several inks blur it at the "
    "slightest misregistration",
    edition_only=True,
)
def _small_text_inks(ctx: LayoutContext) -> Iterator[Hit]:
    for page, box, why in _multi_ink_text(ctx, 0.0, SMALL_TEXT):
        yield at(box, f"{box.font_size:.1f} pt text {box.text.strip()[:30]!r} {why}", page)


@rule(
    "text-inks",
    "layout",
    "notice",
    "text from 6 to 12 pt prints sharper in one ink: consider a one-ink colour for it in print.css",
    edition_only=True,
)
def _text_inks(ctx: LayoutContext) -> Iterator[Hit]:
    # A palette matter, fixed in print.css: one notice per colour, at its first use.
    uses: dict[str, list[tuple[Any, LaidBox]]] = {}
    for page, box, why in _multi_ink_text(ctx, SMALL_TEXT, TEXT_NOTICE):
        uses.setdefault(why, []).append((page, box))
    for why, found in uses.items():
        page, box = found[0]
        pages = sorted({p.number for p, _ in found})
        if len(pages) == 1:
            shown = f"page {pages[0]}"
        else:
            shown = "pages " + (
                ", ".join(map(str, pages)) if len(pages) < 6 else f"{pages[0]} to {pages[-1]}"
            )
        sizes = sorted({round(b.font_size, 1) for _, b in found})
        size = f"{sizes[0]:g} pt" if len(sizes) == 1 else f"{sizes[0]:g} to {sizes[-1]:g} pt"
        runs = "1 run" if len(found) == 1 else f"{len(found)} runs"
        yield at(box, f"text of {size} {why}: {runs} on {shown}, the first {box.text.strip()[:30]!r}", page)


# ---------- output: boxes and marks


def _box(page: pikepdf.Page, key: str) -> list[float] | None:
    value = page.obj.get(key)
    if value is None:
        return None
    x0, y0, x1, y1 = (float(v) for v in value)
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def _beyond(outer: list[float], inner: list[float]) -> float:
    """How far ``outer`` reaches beyond ``inner`` on its narrowest side (pt)."""
    return min(inner[0] - outer[0], inner[1] - outer[1], outer[2] - inner[2], outer[3] - inner[3])


@rule(
    "print-boxes",
    "output",
    "error",
    "report it: every page of the print edition needs the same TrimBox, a BleedBox "
    "beyond it and a media box with a slug beyond that",
    edition_only=True,
)
def _print_boxes(ctx: OutputContext) -> Iterator[Hit]:
    first: list[float] | None = None
    for number, page in enumerate(ctx.pdf.pages, start=1):
        trim, bleed, media = _box(page, "/TrimBox"), _box(page, "/BleedBox"), _box(page, "/MediaBox")
        if trim is None or bleed is None or media is None:
            yield Hit("the page has no TrimBox or no BleedBox", page=number)
            continue
        if _beyond(bleed, trim) <= 0:
            yield Hit("the BleedBox does not extend beyond the TrimBox", page=number)
        slug = _beyond(media, bleed) / MM
        if slug < MIN_SLUG_MM - 0.01:
            yield Hit(
                f"the media box reaches {slug:.1f} mm beyond the bleed: marks need a slug of {MIN_SLUG_MM:g} mm",
                page=number,
            )
        if first is None:
            first = trim
        elif any(abs(a - b) > 0.01 for a, b in zip(trim, first, strict=True)):
            size = f"{(trim[2] - trim[0]) / MM:.1f} x {(trim[3] - trim[1]) / MM:.1f} mm"
            yield Hit(f"the TrimBox ({size}) is not the first page's", page=number)


def _is_registration(space: Any) -> bool:
    """A ``/Separation /All`` colour space: registration colour, on every plate."""
    return (
        isinstance(space, pikepdf.Array)
        and len(space) >= 2
        and space[0] == "/Separation"
        and space[1] == "/All"
    )


def _instructions(stream: Any) -> Iterator[tuple[str, list[Any]]]:
    for instruction in pikepdf.parse_content_stream(stream):
        if isinstance(instruction, pikepdf.ContentStreamInstruction):
            yield str(instruction.operator), list(instruction.operands)
        else:
            yield "INLINE", [instruction.iimage]


@rule(
    "print-marks",
    "output",
    "error",
    "report it: the finisher draws the marks (newsletter/marks.py)",
    edition_only=True,
)
def _print_marks(ctx: OutputContext) -> Iterator[Hit]:
    for number, page in enumerate(ctx.pdf.pages, start=1):
        resources: Any = page.obj.get("/Resources", {})
        spaces: Any = resources.get("/ColorSpace", {})
        registration = {str(name) for name, space in spaces.items() if _is_registration(space)}
        strokes = 0
        in_registration = False
        for operator, operands in _instructions(page):
            if operator == "CS":
                in_registration = str(operands[0]) in registration
            elif operator == "S" and in_registration:
                strokes += 1
        if strokes < 8:
            yield Hit(
                f"the page has {strokes} crop marks in registration colour (/Separation /All), not 8",
                page=number,
            )


# ---------- output: colour


_RGB_OPERATORS = {"rg", "RG"}


def _space_problem(space: Any, depth: int = 0) -> str | None:
    """Why a colour space is not for the press (RGB, Lab, an ICC profile of 3 components),
    or None. Separation, DeviceN and Indexed spaces are judged by their base space."""
    if space is None or depth > 4:
        return None
    if isinstance(space, pikepdf.Name):
        name = str(space)
        return {"/DeviceRGB": "RGB", "/CalRGB": "RGB", "/Lab": "Lab"}.get(name)
    if isinstance(space, pikepdf.Array) and len(space) > 0:
        family = str(space[0])
        if family in ("/CalRGB",):
            return "RGB"
        if family == "/Lab":
            return "Lab"
        if family == "/ICCBased":
            components = int(space[1].get("/N", 0))
            return None if components in (1, 4) else f"ICC-based with {components} components (RGB or Lab)"
        if family == "/Indexed":
            return _space_problem(space[1], depth + 1)
        if family == "/Separation":
            return _space_problem(space[2], depth + 1)
        if family == "/DeviceN":
            return _space_problem(space[2], depth + 1)
    return None


def _walk_resources(pdf: pikepdf.Pdf) -> Iterator[tuple[int, str, Any, Any]]:
    """Every content stream of every page (the page, its form XObjects, tiling patterns),
    with its page, a name for messages, the stream and its resources, each stream once."""
    seen: set[tuple[int, int]] = set()
    for number, page in enumerate(pdf.pages, start=1):
        stack: list[tuple[str, Any, Any]] = [("the page content", page, page.obj.get("/Resources", {}))]
        while stack:
            name, stream, resources = stack.pop()
            yield number, name, stream, resources
            for kind in ("/XObject", "/Pattern"):
                for key, child in (resources.get(kind) or {}).items():
                    if not isinstance(child, pikepdf.Stream) or child.objgen in seen:
                        continue
                    seen.add(child.objgen)
                    if child.get("/Subtype") == "/Form" or kind == "/Pattern":
                        stack.append((f"{kind[1:].lower()} {key}", child, child.get("/Resources", {})))


@rule(
    "print-cmyk",
    "output",
    "error",
    "set every colour with device-cmyk() in print.css, and images in CMYK",
    edition_only=True,
)
def _print_cmyk(ctx: OutputContext) -> Iterator[Hit]:
    pdf = ctx.pdf
    reported_spaces: set[tuple[int, int] | str] = set()
    for number, where, stream, resources in _walk_resources(pdf):
        rgb: set[str] = set()
        for operator, operands in _instructions(stream):
            if operator in _RGB_OPERATORS:
                rgb.add(operator)
            elif operator in ("cs", "CS") and _space_problem(operands[0]) is not None:
                rgb.add(f"{operands[0]} {operator}")
            elif operator == "INLINE":
                image = operands[0]
                if _space_problem(image.obj.get("/ColorSpace") or image.obj.get("/CS")) is not None:
                    rgb.add("an inline image")
        if rgb:
            yield Hit(f"RGB or Lab colour in {where} ({', '.join(sorted(rgb))})", page=number)
        for key, space in (resources.get("/ColorSpace") or {}).items():
            problem = _space_problem(space)
            token = space.objgen if space.is_indirect else f"{number}:{key}"
            if problem is not None and token not in reported_spaces:
                reported_spaces.add(token)
                yield Hit(f"colour space {key} is {problem} (declared, used or not)", page=number)
        shadings = list((resources.get("/Shading") or {}).items())
        shadings += [
            (key, p.get("/Shading"))
            for key, p in (resources.get("/Pattern") or {}).items()
            if "/Shading" in p
        ]
        for key, shading in shadings:
            problem = _space_problem(shading.get("/ColorSpace"))
            if problem is not None:
                yield Hit(f"shading {key} is {problem}", page=number)
    for number, name, image in unique_images(pdf):
        problem = _space_problem(image.get("/ColorSpace"))
        if problem is not None:
            yield Hit(f"image {name} is {problem}", page=number)


@rule(
    "print-intent",
    "output",
    "error",
    "report it: the print edition must be PDF/X-4 with a CMYK output intent, "
    "the profile its images were converted with",
    edition_only=True,
)
def _print_intent(ctx: OutputContext) -> Iterator[Hit]:
    pdf = ctx.pdf
    intents: Any = pdf.Root.get("/OutputIntents") or []
    if not any(str(i.get("/S")) == "/GTS_PDFX" and "/DestOutputProfile" in i for i in intents):
        yield Hit("no PDF/X output intent with its ICC profile")
        return
    profile = intents[0].DestOutputProfile
    if profile.get("/N") != 4:
        yield Hit("the output intent's profile is not CMYK")
    if "PDF/X-4" not in xmp(pdf):
        yield Hit("the XMP metadata does not declare PDF/X-4")
    intent_bytes = profile.read_bytes()
    for number, name, image in unique_images(pdf):
        space = image.get("/ColorSpace")
        if isinstance(space, pikepdf.Array) and str(space[0]) == "/ICCBased":
            if int(space[1].get("/N", 0)) == 4 and space[1].read_bytes() != intent_bytes:
                yield Hit(
                    f"image {name} was converted with another profile than the output intent's", page=number
                )
        elif str(space) == "/DeviceCMYK":
            yield Hit(
                f"image {name} does not say which profile it was converted with (DeviceCMYK)", page=number
            )


# ---------- output: fonts and annotations


@rule(
    "print-fonts",
    "output",
    "error",
    "report it: every font must be embedded for the press",
    edition_only=True,
)
def _print_fonts(ctx: OutputContext) -> Iterator[Hit]:
    reported = set()
    for obj in ctx.pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font":
            continue
        subtype = str(obj.get("/Subtype", ""))
        if subtype in ("/Type3", "/Type0"):
            continue  # Type 3 glyphs are content; a Type 0 font is judged by its descendant
        descriptor: Any = obj.get("/FontDescriptor") or {}
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            name = str(obj.get("/BaseFont", "?")).lstrip("/")
            if name not in reported:
                reported.add(name)
                yield Hit(f"font {name} is not embedded")


@rule(
    "print-annotations",
    "output",
    "error",
    "report it: the print edition carries no links or other annotations",
    edition_only=True,
)
def _print_annotations(ctx: OutputContext) -> Iterator[Hit]:
    for number, page in enumerate(ctx.pdf.pages, start=1):
        annotations: Any = page.obj.get("/Annots") or []
        if len(annotations):
            kinds = sorted({str(a.get("/Subtype", "?")).lstrip("/") for a in annotations})
            yield Hit(f"{len(annotations)} annotations ({', '.join(kinds)})", page=number)
    if "/AcroForm" in ctx.pdf.Root:
        yield Hit("the PDF has a form (/AcroForm)")


# ---------- output: ink on the plates


@rule(
    "ink-unmeasured",
    "output",
    "notice",
    "install Ghostscript (Debian: apt-get install ghostscript) to measure the ink before sending to print",
    edition_only=True,
)
def _ink_unmeasured(ctx: OutputContext) -> Iterator[Hit]:
    """Without Ghostscript the print edition is still built (a proof, a look at the layout);
    the ink it would take is then not measured, and the editor is told."""
    if ctx.edition.press is not None and not has_ghostscript():
        yield Hit("the ink coverage was not measured: Ghostscript (gs) is not installed")


@rule(
    "ink-coverage",
    "output",
    "error",
    "darken with black rather than all four inks: in print.css, or in the image "
    "(converted with the print profile, which keeps to the limit)",
    edition_only=True,
)
def _ink_coverage(ctx: OutputContext) -> Iterator[Hit]:
    press = ctx.edition.press
    if press is None or not has_ghostscript():
        return  # not measured: the ink-unmeasured notice says so
    try:
        with separations(ctx.pdf_path, press.coverage_dpi) as pages:
            for page in pages:
                for spot in page.spots:
                    yield Hit(
                        f"the page prints on a plate of its own, {spot!r}, besides {', '.join(PROCESS_INKS)}",
                        page=page.number,
                    )
                found = page.coverage(press.ink_limit)
                # Half a per cent for the plates' 8-bit steps.
                if found.max_percent > press.ink_limit + 0.5:
                    yield Hit(
                        f"{found.max_percent:.0f} % of ink {found.where()}, over the limit of {press.ink_limit:.0f} % "
                        f"({found.over_mm2:.0f} mm² over it)",
                        page=page.number,
                    )
    except RenderError as failed:
        yield Hit(f"Ghostscript cannot render the PDF: {failed}")
