"""Output rules: on the written PDF, before it replaces the previous edition."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pikepdf

from ..issue.fonts import is_bundled
from .registry import Hit, OutputContext, rule


def _fonts(pdf: pikepdf.Pdf) -> Iterator[tuple[int, Any]]:
    """Each font dictionary once, with the first page that uses it."""
    seen = set()
    for number, page in enumerate(pdf.pages, start=1):
        resources: Any = page.obj.get("/Resources", {})
        for font in resources.get("/Font", {}).values():
            if font.objgen not in seen:
                seen.add(font.objgen)
                yield number, font


def unique_images(pdf: pikepdf.Pdf) -> Iterator[tuple[int, str, Any]]:
    """Each image once, with the first page that uses it (pages may share resources)."""
    seen = set()
    for number, page in enumerate(pdf.pages, start=1):
        for name, image in page.get_images().items():
            if image.objgen not in seen:
                seen.add(image.objgen)
                yield number, name, image


def struct_elements(root: pikepdf.Dictionary) -> Iterator[pikepdf.Dictionary]:
    """Every structure element below ``root``, depth first."""
    stack = [root]
    while stack:
        kids = stack.pop().get("/K")
        for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                yield kid
                stack.append(kid)


def xmp(pdf: pikepdf.Pdf) -> str:
    """The PDF's XMP metadata as text ("" when it has none)."""
    meta = pdf.Root.get("/Metadata")
    return meta.read_bytes().decode("utf-8", "replace") if meta is not None else ""


@rule(
    "fonts-bundled",
    "output",
    "error",
    "use only the fonts in fonts/ (a generic family or a missing glyph brought in a system font)",
)
def _fonts_bundled(ctx: OutputContext) -> Iterator[Hit]:
    seen = set()
    for number, font in _fonts(ctx.pdf):
        name = str(font.get("/BaseFont", ""))
        if name not in seen and not is_bundled(name, ctx.fonts.families):
            seen.add(name)
            yield Hit(f"font {name.lstrip('/')} is not bundled in fonts/", page=number)


@rule(
    "fonts-embedded",
    "output",
    "error",
    "fonts must be embedded and subset so the PDF prints the same everywhere",
)
def _fonts_embedded(ctx: OutputContext) -> Iterator[Hit]:
    for number, font in _fonts(ctx.pdf):
        name = str(font.get("/BaseFont", "")).lstrip("/")
        descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        descriptor = descendant.get("/FontDescriptor") or {}
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            yield Hit(f"font {name} is not embedded", page=number)
        elif not re.match(r"^[A-Z]{6}\+", name):
            yield Hit(f"font {name} is embedded whole, not subset", page=number)


@rule("metadata", "output", "error", "set `title:`, `author:` and `language:` in the issue")
def _metadata(ctx: OutputContext) -> Iterator[Hit]:
    pdf = ctx.pdf
    info: Any = pdf.docinfo
    for key, name in (("/Title", "title"), ("/Author", "author")):
        if not str(info.get(key, "") or "").strip():
            yield Hit(f"the PDF has no {name} in its metadata")
    catalog: Any = pdf.Root
    if not str(catalog.get("/Lang", "") or "").strip():
        yield Hit("the PDF does not say its language")


@rule("link-uri", "output", "error", "report it: a link in the PDF leads nowhere")
def _link_uri(ctx: OutputContext) -> Iterator[Hit]:
    for number, page in enumerate(ctx.pdf.pages, start=1):
        annots: Any = page.obj.get("/Annots", [])
        for annot in annots:
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A") or {}
            if "/Dest" not in annot and not str(action.get("/URI", "") or "").strip():
                yield Hit("a link annotation has no address", page=number)


@rule(
    "size-budget",
    "output",
    "error",
    "make images smaller (pixels or JPEG quality), or raise `size_budget_mb:`",
)
def _size_budget(ctx: OutputContext) -> Iterator[Hit]:
    size = ctx.pdf_path.stat().st_size
    budget_mb = ctx.edition.size_budget(ctx.issue)
    if size > budget_mb * 1_000_000:
        yield Hit(f"the PDF is {size / 1e6:.2f} MB, over the budget of {budget_mb:g} MB")
