"""Preflight: what an editor or a printer would send back, as findings with where to fix them.

Each rule is one small function registered with ``@rule``; it yields ``Hit``s and the
registry turns them into ``Finding``s with a severity, the ``file:line:col`` of the field
(or the page number) and a one-line fix hint. Rules run in three stages:

- ``content``: on the validated issue, before layout;
- ``layout``: on the laid-out WeasyPrint document, before anything is written;
- ``output``: on the written PDF, before it replaces the previous edition.

Severities: an *error* stops the build; a *warning* is printed (and stops it under
``--strict``); a *notice* is something to act on before the final edition, never blocking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pikepdf
import weasyprint
from markupsafe import Markup
from pydantic import BaseModel

from .errors import Finding, Severity, did_you_mean, format_findings, has_errors, summary
from .fonts import is_bundled
from .images import check_image
from .laidout import Box as LaidBox
from .laidout import Page, pages
from .load import Loaded, format_path, parse_path, walk
from .markup import Inline
from .model import Agenda, AgendaEntry, Box, Figure, Issue, Teaser
from .typeset import describe, page_references
from .yamlsafe import FieldPath

Stage = Literal["content", "layout", "output"]

#: File size budget when neither issue nor layout sets one: fits a 10 MB mail server after base64.
DEFAULT_SIZE_BUDGET_MB = 7.0


@dataclass(frozen=True)
class Hit:
    """What a rule found: a message and the field path or page it is about."""

    message: str
    path: FieldPath | None = None
    page: int | None = None
    #: Text written inside the field that the finding is about (a link): located exactly.
    needle: str = ""


@dataclass
class Context:
    """What the rules may look at. Later stages fill in more."""

    loaded: Loaded
    printable: frozenset[int]
    families: frozenset[str] = frozenset()
    printable_by_family: dict[str, frozenset[int]] = field(default_factory=dict)
    document: weasyprint.Document | None = None
    pdf: Path | None = None
    size_budget_mb: float = DEFAULT_SIZE_BUDGET_MB
    #: The edition being built: ``email``, ``print`` or ``archive``.
    variant: str = "email"
    _opened: pikepdf.Pdf | None = None

    def opened(self) -> pikepdf.Pdf:
        """The written PDF, opened once for all the output rules."""
        if self._opened is None:
            assert self.pdf is not None
            self._opened = pikepdf.open(self.pdf)
        return self._opened

    def close(self) -> None:
        """Close the written PDF if a rule opened it."""
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    @property
    def issue(self) -> Issue:
        """The validated issue."""
        return self.loaded.issue


@dataclass(frozen=True)
class Rule:
    """A registered check."""

    name: str
    stage: Stage
    severity: Severity
    hint: str
    run: Callable[[Context], Iterator[Hit]]
    #: The editions the rule applies to; None for all.
    variants: frozenset[str] | None = None


RULES: dict[str, Rule] = {}
Checker = Callable[[Context], Iterator[Hit]]


def rule(
    name: str, stage: Stage, severity: Severity, hint: str, variants: tuple[str, ...] | None = None
) -> Callable[[Checker], Checker]:
    """Register a check; its function yields ``Hit``s. ``variants`` limits it to some editions."""

    def register(func: Checker) -> Checker:
        RULES[name] = Rule(name, stage, severity, hint, func, frozenset(variants) if variants else None)
        return func

    return register


def run_checks(stage: Stage, context: Context, strict: bool = False) -> list[Finding]:
    """Every finding of the rules of ``stage``; with ``strict``, warnings become errors."""
    findings = []
    try:
        for checker in RULES.values():
            if checker.stage != stage or (checker.variants is not None and context.variant not in checker.variants):
                continue
            for hit in checker.run(context):
                severity: Severity = "error" if strict and checker.severity == "warning" else checker.severity
                line, col = context.loaded.where(hit.path, hit.needle) if hit.path is not None else (None, None)
                findings.append(
                    Finding(
                        checker.name, severity, hit.message, checker.hint, context.loaded.path,
                        line, col, format_path(hit.path) if hit.path else "", hit.page,
                    )
                )
    finally:
        context.close()  # the output rules share one opened PDF; the file may change after
    return findings


# ---------------------------------------------------------------------------------------
# Content rules


def _texts(issue: Issue) -> Iterator[tuple[FieldPath, str]]:
    for path, value in walk(issue):
        if isinstance(value, str):
            yield path, value


_PLACEHOLDERS = re.compile(
    r"Légende accompagnant l.illustration|Lorem ipsum|\bTODO\b|\bXXX\b|\[caption\]|\bTBD\b|\bFIXME\b",
    re.IGNORECASE,
)


@rule("placeholder", "content", "error", "write the real text in place of the placeholder")
def _placeholder(ctx: Context) -> Iterator[Hit]:
    for path, text in _texts(ctx.issue):
        match = _PLACEHOLDERS.search(text)
        if match:
            yield Hit(f"placeholder text {match.group(0)!r} in {text[:60]!r}", path)


_STOPWORDS = {
    "en": {"the", "of", "and", "to", "in", "on", "for", "with", "is", "are", "was", "by", "at", "from", "this", "that", "as", "an", "its", "their", "which", "be"},
    "fr": {"le", "la", "les", "des", "du", "de", "et", "est", "un", "une", "au", "aux", "pour", "avec", "sur", "dans", "par", "qui", "que", "ce", "cette", "son", "sa", "ses", "l", "d"},
}
#: Fields where a label or caption is expected: they must be in the edition's language.
_LABEL_FIELDS = {"caption", "alt", "title", "kicker", "subtitle", "running_title", "sponsor"}


def guess_language(text: str) -> str | None:
    """The edition language (``en`` or ``fr``) ``text`` reads as, or None when unsure."""
    words = re.findall(r"[a-zà-ÿ]+", text.lower().replace("’", "'").replace("'", " "))
    scores = {lang: sum(word in stops for word in words) for lang, stops in _STOPWORDS.items()}
    scores["fr"] += sum(1 for ch in text.lower() if ch in "éèêàçùâîôû")
    best = max(scores, key=lambda lang: scores[lang])
    other = min(scores.values())
    # Names in the other language ("Les amis du bus des femmes") are common in captions:
    # only a clear majority counts.
    return best if scores[best] >= 2 * other + 1 else None


@rule("language", "content", "warning", "translate it, or move words of another language into the text")
def _language(ctx: Context) -> Iterator[Hit]:
    for path, text in _texts(ctx.issue):
        if path and path[-1] in _LABEL_FIELDS:
            found = guess_language(text)
            if found is not None and found != ctx.issue.language:
                yield Hit(f"{text[:60]!r} reads as {found!r}, the edition is {ctx.issue.language!r}", path)


def _figures(issue: Issue) -> Iterator[tuple[FieldPath, Figure]]:
    for path, value in walk(issue):
        if isinstance(value, Figure):
            yield path, value


@rule("figure-alt", "content", "error", "add `alt:` saying what the image shows, for readers who cannot see it")
def _figure_alt(ctx: Context) -> Iterator[Hit]:
    for path, figure in _figures(ctx.issue):
        if not figure.alt:
            yield Hit(f"image {figure.image!r} has no alt text", path)


@rule("stand-in", "content", "notice", "replace the stand-in with the real image and remove `stand_in: true`")
def _stand_in(ctx: Context) -> Iterator[Hit]:
    for path, figure in _figures(ctx.issue):
        if figure.stand_in:
            yield Hit(f"image {figure.image!r} is a stand-in", (*path, "image"))


@rule("image-file", "content", "error", "put a PNG or JPEG inside the issue's folder and name it relative to the issue file")
def _image_file(ctx: Context) -> Iterator[Hit]:
    for path, figure in _figures(ctx.issue):
        message = check_image(ctx.loaded.path.parent, figure.image)
        if message:
            yield Hit(message, (*path, "image"))


def anchors(issue: Issue) -> dict[str, list[FieldPath]]:
    """Every id written in the issue and where."""
    found: dict[str, list[FieldPath]] = {}
    for path, value in walk(issue):
        anchor = getattr(value, "id", None)
        if isinstance(anchor, str) and isinstance(value, BaseModel):
            found.setdefault(anchor, []).append((*path, "id"))
    return found


@rule("duplicate-id", "content", "error", "give each block its own id")
def _duplicate_id(ctx: Context) -> Iterator[Hit]:
    for anchor, paths in anchors(ctx.issue).items():
        for path in paths[1:]:
            first = ctx.loaded.where(paths[0])[0]
            yield Hit(f"duplicate id {anchor!r} (first used at line {first})", path)


@rule("unknown-reference", "content", "error", "point the reference at an id that exists (see `id:` of sections and blocks)")
def _unknown_reference(ctx: Context) -> Iterator[Hit]:
    ids = anchors(ctx.issue)
    inline = Inline(page_label="page")
    for path, value in walk(ctx.issue):
        if isinstance(value, Teaser) and value.target not in ids:
            yield Hit(f"teaser points at unknown id {value.target!r}{did_you_mean(value.target, ids)}", (*path, "target"))
        elif isinstance(value, str):
            for link in inline.links(value):
                target = link.internal_target
                if target is not None and inline.is_safe(link.href) and target not in ids:
                    yield Hit(f"page reference to unknown id {target!r}{did_you_mean(target, ids)}", path, needle=link.href)


@rule("link-scheme", "content", "error", "links may be https://, http://, mailto: or #id")
def _link_scheme(ctx: Context) -> Iterator[Hit]:
    inline = Inline(page_label="page")
    for path, text in _texts(ctx.issue):
        for link in inline.links(text):
            if not inline.is_safe(link.href):
                yield Hit(f"link {link.href!r} is not allowed: use https://, http://, mailto: or #id", path, needle=link.href)


@rule("unprintable", "content", "error", "replace the characters with ones the bundled fonts have, or remove them")
def _unprintable(ctx: Context) -> Iterator[Hit]:
    for path, text in _texts(ctx.issue):
        missing = sorted({c for c in text if ord(c) not in ctx.printable})
        if missing:
            shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing[:5])
            yield Hit(f"the bundled fonts cannot print {shown}; replace or remove them", path)


@rule("empty-block", "content", "warning", "write the block's text or remove the block")
def _empty_block(ctx: Context) -> Iterator[Hit]:
    inline = Inline(page_label="")
    for path, value in walk(ctx.issue):
        if isinstance(value, str) and path and path[-1] in {"text", "caption", "question", "lead"}:
            visible = Markup(inline.render(value)).striptags().strip()
            if not visible and "pageref" not in inline.render(value):
                yield Hit("this text prints nothing", path)
        elif isinstance(value, Box) and not value.title and not value.blocks:
            yield Hit("this box is empty", path)  # pragma: no cover - the schema requires blocks


@rule("date-order", "content", "error", "check the start and end dates")
def _date_order(ctx: Context) -> Iterator[Hit]:
    for path, value in walk(ctx.issue):
        if isinstance(value, AgendaEntry) and value.end is not None and value.end < value.start:
            yield Hit(f"the end date {value.end} is before the start date {value.start}", (*path, "end"))


@rule("agenda-dates", "content", "warning", "move the entry to the other agenda, or correct its date or the issue's date")
def _agenda_dates(ctx: Context) -> Iterator[Hit]:
    issued = ctx.issue.date
    for path, value in walk(ctx.issue):
        if not isinstance(value, Agenda):
            continue
        for i, entry in enumerate(value.entries):
            end = entry.end or entry.start
            if value.when == "upcoming" and entry.start < issued:
                yield Hit(f"an upcoming event on {entry.start} is before the issue's date {issued}", (*path, "entries", i, "start"))
            elif value.when == "past" and end > issued:
                yield Hit(f"a past event ending {end} is after the issue's date {issued}", (*path, "entries", i, "start"))


# ---------------------------------------------------------------------------------------
# Layout rules: on the laid-out boxes, in CSS pixels (1px = 0.75pt)

_TOLERANCE = 1.0  # px: rounding in the layout


def _pages(ctx: Context) -> list[Page]:
    assert ctx.document is not None
    return pages(ctx.document)


def _at(box: LaidBox, message: str, page: Page) -> Hit:
    """A layout finding at the issue field the box was made from, and its page."""
    return Hit(message, parse_path(box.src) if box.src else None, page=page.number)


@rule("page-reference", "layout", "error", "report it: the layout printed a wrong page number (a WeasyPrint defect)")
def _page_reference(ctx: Context) -> Iterator[Hit]:
    assert ctx.document is not None
    for ref in page_references(ctx.document):
        if not ref.ok:
            yield Hit(describe(ref), page=ref.page)


@rule("overflow", "layout", "error", "shorten the text or split the block: it does not fit its page or frame")
def _overflow(ctx: Context) -> Iterator[Hit]:
    for page in _pages(ctx):
        reported: set[int] = set()
        for box in page.flow.walk():
            if not box.has_geometry or box.tag in (None, "html", "body"):
                continue
            bottom = box.bottom
            if bottom > page.area.bottom + _TOLERANCE and box.element_key not in reported:
                reported.add(box.element_key)
                yield _at(box, f"{box.label()} runs {bottom - page.area.bottom:.0f}px past the bottom of the page", page)
            if box.fixed_height:
                for inner in box.walk():
                    if inner is not box and inner.has_geometry and inner.bottom > bottom + _TOLERANCE:
                        yield _at(box, f"the content of {box.label()} overflows its fixed-height frame", page)
                        break


@rule("text-outside", "layout", "error", "shorten the word or line: text is drawn outside the page's printable area")
def _text_outside(ctx: Context) -> Iterator[Hit]:
    for page in _pages(ctx):
        area = page.area
        for box in page.flow.walk():
            if box.kind != "text" or not box.text.strip():
                continue
            right = box.left + box.width
            if box.left < area.left - _TOLERANCE or right > area.right + _TOLERANCE or box.top < area.top - _TOLERANCE:
                yield _at(box, f"text {box.text.strip()[:40]!r} is drawn outside the page's printable area", page)


def _overfull(page: Page) -> Iterator[tuple[LaidBox, float]]:
    """Each block with a line wider than its column, and by how much (px)."""
    for block in page.flow.walk():
        if not block.has_content_box or not block.has_geometry:
            continue
        limit = block.content_right
        for line in block.children():
            if line.kind != "line":
                continue
            ends = [c.margin_right for c in line.in_line() if c.kind == "text" and c.text.strip()]
            if ends and max(ends) > limit + _TOLERANCE:
                yield block, max(ends) - limit


@rule("overfull-line", "layout", "warning", "allow a break in the long word or URL, or shorten it")
def _overfull_line(ctx: Context) -> Iterator[Hit]:
    for page in _pages(ctx):
        for block, excess in _overfull(page):
            if not block.framed:
                yield _at(block, f"a line of {block.label()} is {excess:.0f}px wider than its column", page)


@rule("frame-overflow", "layout", "error", "shorten it (e.g. '€1.8 million' for '€1,830,000'): it does not fit its cell")
def _frame_overflow(ctx: Context) -> Iterator[Hit]:
    for page in _pages(ctx):
        for block, excess in _overfull(page):
            if block.framed:
                yield _at(block, f"{block.label()} is {excess:.0f}px wider than its cell and would print over the next one", page)


def _content_bottom(page: Page) -> float:
    bottoms = [box.bottom for box in page.flow.walk() if box.kind in ("text", "image")]
    return max(bottoms, default=page.area.top)


@rule("empty-page", "layout", "warning", "move content up, or remove the forced page break before the next section")
def _empty_page(ctx: Context) -> Iterator[Hit]:
    for page in _pages(ctx):
        area = page.area
        filled = (_content_bottom(page) - area.top) / (area.bottom - area.top)
        if filled < 0.2:
            yield Hit(f"page {page.number} is only {filled:.0%} full", page=page.number)


_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


@rule("heading-alone", "layout", "warning", "keep the heading with its text: shorten what comes before or move the heading")
def _heading_alone(ctx: Context) -> Iterator[Hit]:
    for page in _pages(ctx)[:-1]:
        last: LaidBox | None = None
        for box in page.flow.walk():
            if (box.kind == "line" or (box.kind == "image" and box.block_level)) and (last is None or box.top >= last.top):
                last = box
        if last is not None and last.tag in _HEADINGS:
            yield _at(last, f"heading {last.label()} is alone at the bottom of the page", page)


@rule("page-count", "layout", "warning", "saddle-stitched print needs a multiple of 4 pages: add or remove pages")
def _page_count(ctx: Context) -> Iterator[Hit]:
    count = len(_pages(ctx))
    if count % 4:
        yield Hit(f"{count} pages is not a multiple of 4")


@rule("glyphs", "layout", "error", "use characters the bundled fonts have (the layout's own words included)")
def _glyphs(ctx: Context) -> Iterator[Hit]:
    for page in _pages(ctx):
        missing: dict[str, set[str]] = {}
        where: dict[str, LaidBox] = {}
        for box in page.whole.walk():
            if box.kind != "text":
                continue
            family = box.family
            covered = ctx.printable_by_family.get(family)
            if covered is None:
                missing.setdefault(family, set())
                where.setdefault(family, box)
                continue
            lacking = {ch for ch in box.text if ord(ch) not in covered}
            if lacking:
                missing.setdefault(family, set()).update(lacking)
                where.setdefault(family, box)
        for family, lacking in sorted(missing.items()):
            if family not in ctx.printable_by_family:
                yield _at(where[family], f"text set in {family!r}, a font family that is not bundled", page)
            else:
                shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in sorted(lacking)[:5])
                yield _at(where[family], f"{family} cannot print {shown}: another font would stand in", page)


# ---------------------------------------------------------------------------------------
# Output rules: on the written PDF


def _fonts(pdf: pikepdf.Pdf) -> Iterator[tuple[int, Any]]:
    """Each font dictionary once, with the first page that uses it."""
    seen = set()
    for number, page in enumerate(pdf.pages, start=1):
        resources: Any = page.obj.get("/Resources", {})
        for font in resources.get("/Font", {}).values():
            if font.objgen not in seen:
                seen.add(font.objgen)
                yield number, font


@rule("fonts-bundled", "output", "error", "use only the fonts in fonts/ (a generic family or a missing glyph brought in a system font)")
def _fonts_bundled(ctx: Context) -> Iterator[Hit]:
    seen = set()
    for number, font in _fonts(ctx.opened()):
        name = str(font.get("/BaseFont", ""))
        if name not in seen and not is_bundled(name, ctx.families):
            seen.add(name)
            yield Hit(f"font {name.lstrip('/')} is not bundled in fonts/", page=number)


@rule("fonts-embedded", "output", "error", "fonts must be embedded and subset so the PDF prints the same everywhere")
def _fonts_embedded(ctx: Context) -> Iterator[Hit]:
    for number, font in _fonts(ctx.opened()):
        name = str(font.get("/BaseFont", "")).lstrip("/")
        descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        descriptor = descendant.get("/FontDescriptor") or {}
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            yield Hit(f"font {name} is not embedded", page=number)
        elif not re.match(r"^[A-Z]{6}\+", name):
            yield Hit(f"font {name} is embedded whole, not subset", page=number)


@rule("metadata", "output", "error", "set `title:`, `author:` and `language:` in the issue")
def _metadata(ctx: Context) -> Iterator[Hit]:
    pdf = ctx.opened()
    info: Any = pdf.docinfo
    for key, name in (("/Title", "title"), ("/Author", "author")):
        if not str(info.get(key, "") or "").strip():
            yield Hit(f"the PDF has no {name} in its metadata")
    catalog: Any = pdf.Root
    if not str(catalog.get("/Lang", "") or "").strip():
        yield Hit("the PDF does not say its language")


@rule("link-uri", "output", "error", "report it: a link in the PDF leads nowhere")
def _link_uri(ctx: Context) -> Iterator[Hit]:
    for number, page in enumerate(ctx.opened().pages, start=1):
        annots: Any = page.obj.get("/Annots", [])
        for annot in annots:
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A") or {}
            if "/Dest" not in annot and not str(action.get("/URI", "") or "").strip():
                yield Hit("a link annotation has no address", page=number)


@rule("size-budget", "output", "error", "make images smaller (pixels or JPEG quality), or raise `size_budget_mb:`")
def _size_budget(ctx: Context) -> Iterator[Hit]:
    assert ctx.pdf is not None
    size = ctx.pdf.stat().st_size
    budget = ctx.size_budget_mb * 1_000_000
    if size > budget:
        yield Hit(f"the PDF is {size / 1e6:.2f} MB, over the budget of {ctx.size_budget_mb:g} MB")


# ---------------------------------------------------------------------------------------
# Edition rules: what the print shop and the archive ask of their PDFs


@rule("image-resolution", "layout", "warning", "supply the image at 300 dpi or more for its printed size", variants=("print",))
def _image_resolution(ctx: Context) -> Iterator[Hit]:
    for page in _pages(ctx):
        for box in page.flow.walk():
            pixels = box.image_pixels
            if pixels is None or not box.width:
                continue
            dpi = pixels / (box.width / 96)
            if dpi < 300:
                source = box.attribute("data-source") or "?"
                yield _at(box, f"image {source} prints at {dpi:.0f} dpi ({pixels} px over {box.width / 96 * 25.4:.0f} mm)", page)


def _unique_images(pdf: pikepdf.Pdf) -> Iterator[tuple[int, str, Any]]:
    """Each image once, with the first page that uses it (pages may share resources)."""
    seen = set()
    for number, page in enumerate(pdf.pages, start=1):
        for name, image in page.get_images().items():
            if image.objgen not in seen:
                seen.add(image.objgen)
                yield number, name, image


def _xmp(pdf: pikepdf.Pdf) -> str:
    meta = pdf.Root.get("/Metadata")
    return meta.read_bytes().decode("utf-8", "replace") if meta is not None else ""


@rule("print-boxes", "output", "error", "report it: every page of the print edition needs a TrimBox and a BleedBox", variants=("print",))
def _print_boxes(ctx: Context) -> Iterator[Hit]:
    pdf = ctx.opened()
    for number, page in enumerate(pdf.pages, start=1):
        trim, bleed = page.obj.get("/TrimBox"), page.obj.get("/BleedBox")
        if trim is None or bleed is None:
            yield Hit("the page has no TrimBox or no BleedBox", page=number)
        elif not (float(bleed[0]) < float(trim[0]) and float(bleed[2]) > float(trim[2])):
            yield Hit("the BleedBox does not extend beyond the TrimBox", page=number)


_RGB_OPERATORS = {"rg", "RG"}


@rule("print-cmyk", "output", "error", "set every colour with device-cmyk() in print.css, and images in CMYK", variants=("print",))
def _print_cmyk(ctx: Context) -> Iterator[Hit]:
    pdf = ctx.opened()
    for number, page in enumerate(pdf.pages, start=1):
        rgb = set()
        for instruction in pikepdf.parse_content_stream(page):
            if not isinstance(instruction, pikepdf.ContentStreamInstruction):
                continue  # an inline image: checked with the images
            name, operands = str(instruction.operator), instruction.operands
            if name in _RGB_OPERATORS:
                rgb.add(name)
            elif name in ("cs", "CS") and str(operands[0]) in ("/DeviceRGB", "/CalRGB"):
                rgb.add(f"{operands[0]} {name}")
        if rgb:
            yield Hit(f"RGB colour in the page content ({', '.join(sorted(rgb))})", page=number)
    for number, name, image in _unique_images(pdf):
        if str(image.get("/ColorSpace")) in ("/DeviceRGB", "/CalRGB"):
            yield Hit(f"image {name} is RGB", page=number)


@rule("print-intent", "output", "error", "report it: the print edition must be PDF/X-4 with a CMYK output intent", variants=("print",))
def _print_intent(ctx: Context) -> Iterator[Hit]:
    pdf = ctx.opened()
    intents: Any = pdf.Root.get("/OutputIntents") or []
    if not any(str(i.get("/S")) == "/GTS_PDFX" and "/DestOutputProfile" in i for i in intents):
        yield Hit("no PDF/X output intent with its ICC profile")
    elif intents[0].DestOutputProfile.get("/N") != 4:
        yield Hit("the output intent's profile is not CMYK")
    if "PDF/X-4" not in _xmp(pdf):
        yield Hit("the XMP metadata does not declare PDF/X-4")


@rule("archive-ids", "output", "error", "report it: the archive edition must declare PDF/A-3u and PDF/UA-1", variants=("archive",))
def _archive_ids(ctx: Context) -> Iterator[Hit]:
    pdf = ctx.opened()
    xmp = _xmp(pdf)
    if not re.search(r"pdfaid:part(>|=\")3", xmp) or not re.search(r"pdfaid:conformance(>|=\")U", xmp):
        yield Hit("the XMP metadata does not declare PDF/A-3u")
    if not re.search(r"pdfuaid:part>1<", xmp):
        yield Hit("the XMP metadata does not declare PDF/UA-1")
    intents: Any = pdf.Root.get("/OutputIntents") or []
    if not any(str(i.get("/S")) == "/GTS_PDFA1" for i in intents):
        yield Hit("no PDF/A output intent")


#: Roles every issue's structure has: the document, its title, section headings, paragraphs.
_EXPECTED_ROLES = {"/Document", "/H1", "/H2", "/P", "/Sect"}


def _struct_elements(root: pikepdf.Dictionary) -> Iterator[pikepdf.Dictionary]:
    """Every structure element below ``root``, depth first."""
    stack = [root]
    while stack:
        kids = stack.pop().get("/K")
        for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                yield kid
                stack.append(kid)


@rule("archive-tags", "output", "error", "report it: the archive edition must be a tagged PDF", variants=("archive",))
def _archive_tags(ctx: Context) -> Iterator[Hit]:
    pdf = ctx.opened()
    root: Any = pdf.Root
    if not bool(root.get("/MarkInfo", {}).get("/Marked", False)):
        yield Hit("the PDF is not marked as tagged (/MarkInfo)")
    tree = root.get("/StructTreeRoot")
    if tree is None:
        yield Hit("the PDF has no structure tree")
        return
    if not str(root.get("/Lang", "")).strip():
        yield Hit("the PDF does not say its language (/Lang)")
    if not bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)):
        yield Hit("viewers are not told to show the title (/DisplayDocTitle)")
    elements = list(_struct_elements(tree))
    roles = {str(e.S) for e in elements}
    expected = _EXPECTED_ROLES | ({"/Figure"} if any(True for _ in _figures(ctx.issue)) else set())
    missing = expected - roles
    if missing:
        yield Hit(f"the structure tree lacks the roles {', '.join(sorted(missing))}")
    for element in elements:
        if str(element.S) == "/Figure" and not str(element.get("/Alt", "")).strip():
            yield Hit("a figure has no alternative text (/Alt)")
    levels = [int(str(e.S)[2:]) for e in elements if re.fullmatch(r"/H[1-6]", str(e.S))]
    if levels and min(levels) != 1:
        yield Hit("the headings do not start at level 1")


@rule("interpolate", "output", "error", "give images `image-rendering: crisp-edges` (PDF/A forbids /Interpolate true)", variants=("archive", "print"))
def _interpolate(ctx: Context) -> Iterator[Hit]:
    pdf = ctx.opened()
    for number, name, image in _unique_images(pdf):
        if bool(image.get("/Interpolate", False)):
            yield Hit(f"image {name} asks viewers to interpolate it", page=number)


@rule("bookmarks", "output", "warning", "give every section a title or a running_title: bookmarks are made from them", variants=("email", "archive"))
def _bookmarks(ctx: Context) -> Iterator[Hit]:
    pdf = ctx.opened()
    with pdf.open_outline() as outline:
        titles = [item.title for item in outline.root]
    wanted = [s.running_title or s.title or s.id for s in ctx.issue.sections]
    if len(titles) < len(wanted) + 1:
        yield Hit(f"the PDF has {len(titles)} bookmarks for the cover and {len(wanted)} sections")


__all__ = ["RULES", "Context", "Finding", "Hit", "format_findings", "has_errors", "rule", "run_checks", "summary"]
