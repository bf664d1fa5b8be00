"""Edition rules: what the archive and the email edition ask of their PDFs. Each runs only for
the editions that list it in their ``rules`` (``editions.py``). The print shop's rules are in
``printshop.py``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..issue.model import figures
from .output import struct_elements, unique_images, xmp
from .registry import Hit, OutputContext, rule


@rule(
    "archive-ids",
    "output",
    "error",
    "report it: the archive edition must declare PDF/A-3u and PDF/UA-1",
    edition_only=True,
)
def _archive_ids(ctx: OutputContext) -> Iterator[Hit]:
    pdf = ctx.pdf
    metadata = xmp(pdf)
    if not re.search(r"pdfaid:part(>|=\")3", metadata) or not re.search(
        r"pdfaid:conformance(>|=\")U", metadata
    ):
        yield Hit("the XMP metadata does not declare PDF/A-3u")
    if not re.search(r"pdfuaid:part>1<", metadata):
        yield Hit("the XMP metadata does not declare PDF/UA-1")
    intents: Any = pdf.Root.get("/OutputIntents") or []
    if not any(str(i.get("/S")) == "/GTS_PDFA1" for i in intents):
        yield Hit("no PDF/A output intent")


#: Roles every issue's structure has: the document, its title, section headings, paragraphs.
_EXPECTED_ROLES = {"/Document", "/H1", "/H2", "/P", "/Sect"}


@rule(
    "archive-tags",
    "output",
    "error",
    "report it: the archive and email editions must be tagged PDFs",
    edition_only=True,
)
def _archive_tags(ctx: OutputContext) -> Iterator[Hit]:
    pdf = ctx.pdf
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
    elements = list(struct_elements(tree))
    roles = {str(e.S) for e in elements}
    expected = _EXPECTED_ROLES | ({"/Figure"} if any(True for _ in figures(ctx.issue)) else set())
    missing = expected - roles
    if missing:
        yield Hit(f"the structure tree lacks the roles {', '.join(sorted(missing))}")
    for element in elements:
        if str(element.S) == "/Figure" and not str(element.get("/Alt", "")).strip():
            yield Hit("a figure has no alternative text (/Alt)")
    levels = [int(str(e.S)[2:]) for e in elements if re.fullmatch(r"/H[1-6]", str(e.S))]
    if levels and min(levels) != 1:
        yield Hit("the headings do not start at level 1")


@rule(
    "interpolate",
    "output",
    "error",
    "give images `image-rendering: crisp-edges` (PDF/A forbids /Interpolate true)",
    edition_only=True,
)
def _interpolate(ctx: OutputContext) -> Iterator[Hit]:
    pdf = ctx.pdf
    for number, name, image in unique_images(pdf):
        if bool(image.get("/Interpolate", False)):
            yield Hit(f"image {name} asks viewers to interpolate it", page=number)


@rule(
    "bookmarks",
    "output",
    "warning",
    "give every section a title or a running_title: bookmarks are made from them",
    edition_only=True,
)
def _bookmarks(ctx: OutputContext) -> Iterator[Hit]:
    pdf = ctx.pdf
    with pdf.open_outline() as outline:
        titles = [item.title for item in outline.root]
    wanted = [s.running_title or s.title or s.id for s in ctx.issue.sections]
    if len(titles) < len(wanted) + 1:
        yield Hit(f"the PDF has {len(titles)} bookmarks for the cover and {len(wanted)} sections")
