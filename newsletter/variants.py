"""The three editions made from one issue, and what sets them apart.

- ``email``: attached to mails to the posts. Images downsampled to screen resolution and
  recompressed (WeasyPrint only does that when the options reach ``render()``), fonts
  subset, links and bookmarks, metadata; a 1.5 MB budget.
- ``print``: for the print shop. A4 trim with 3 mm bleed and crop marks, colours as
  ``device-cmyk()`` and images converted to CMYK against the FOGRA39 profile, which is also
  the output intent; declared PDF/X-4; images at full resolution.
- ``archive``: for the archive and the website. PDF/A-3u and tagged, with the PDF/UA-1
  identification added to its XMP (WeasyPrint declares one variant at a time).

Every edition is reproducible: its dates come from the issue and its identifiers from the
issue and the edition's name, so the same input gives the same bytes.
"""

from __future__ import annotations

import base64
import io
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms

from .load import walk
from .model import Figure, Issue

#: The print edition's output profile (see layouts/icc/README.md).
CMYK_PROFILE = "icc/FOGRA39L-coated.icc"


@dataclass(frozen=True)
class Variant:
    """How one edition differs from the others."""

    name: str
    #: Extra stylesheet in the layout folder, applied after newsletter.css.
    stylesheet: str | None
    #: Options WeasyPrint only honours when given to ``render()``.
    render_options: dict[str, Any] = field(default_factory=dict)
    #: Options given to ``write_pdf()``.
    pdf_variant: str | None = None
    pdf_tags: bool = False
    #: Size budget in MB when the issue sets none.
    size_budget_mb: float = 7.0
    #: Convert images to the CMYK output profile before layout.
    cmyk_images: bool = False
    #: Add the PDF/UA-1 identification to the XMP metadata.
    declare_pdfua: bool = False

    def write_options(self, issue: Issue) -> dict[str, Any]:
        """Options for ``Document.write_pdf`` of this edition of ``issue``."""
        options: dict[str, Any] = {
            # First half of /ID: stable per issue and edition; WeasyPrint adds the content hash.
            "pdf_identifier": stable_id(issue, self.name).hex.encode(),
            "pdf_tags": self.pdf_tags,
            **self.render_options,
        }
        if self.pdf_variant:
            options["pdf_variant"] = self.pdf_variant
        return options


VARIANTS: dict[str, Variant] = {
    "email": Variant(
        "email",
        stylesheet=None,
        render_options={"optimize_images": True, "jpeg_quality": 80, "dpi": 150},
        size_budget_mb=1.5,
    ),
    "print": Variant(
        "print",
        stylesheet="print.css",
        pdf_variant="pdf/x-4",
        size_budget_mb=100.0,
        cmyk_images=True,
    ),
    "archive": Variant(
        "archive",
        stylesheet=None,
        pdf_variant="pdf/a-3u",
        pdf_tags=True,
        size_budget_mb=7.0,
        declare_pdfua=True,
    ),
}


def stable_id(issue: Issue, edition: str) -> uuid.UUID:
    """The same identifier for every build of one edition of one issue."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"newsletter:{issue.series}:{issue.number}:{issue.language}:{edition}")


def finisher(variant: Variant, issue: Issue) -> Any:
    """A ``write_pdf`` finisher that makes the XMP metadata reproducible and complete.

    WeasyPrint writes a random ``xmpMM:DocumentID`` for PDF/X-4 and declares one variant
    only; this rewrites the first and adds the PDF/UA-1 identification for the archive.
    """
    did = f"xmp.did:{stable_id(issue, variant.name)}"

    def finish(document: Any, pdf: Any) -> None:
        for obj in pdf.objects:
            extra = getattr(obj, "extra", None)
            if not isinstance(extra, dict) or extra.get("Type") != "/Metadata":
                continue
            xmp = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in obj.stream)
            xmp = re.sub(rb"xmp\.did:[0-9a-f-]{36}", did.encode(), xmp)
            if variant.declare_pdfua:
                declaration = (
                    b'<rdf:Description xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" '
                    b'rdf:about=""><pdfuaid:part>1</pdfuaid:part></rdf:Description>'
                )
                xmp = xmp.replace(b"</rdf:RDF>", declaration + b"</rdf:RDF>", 1)
            obj.stream = [xmp]

    return finish


def cmyk_images(issue: Issue, image_base: Path, layout_dir: Path) -> dict[str, str]:
    """Convert every figure image to a CMYK JPEG for the output profile; name -> data: URL.

    Colour management is done here, with the same profile as the output intent, rather than
    left to the print shop's RIP: the PDF/X-4 then holds no RGB at all. The result is a
    ``data:`` URL because WeasyPrint names an image by the MD5 of its URL: a file in a
    temporary folder would make every build's bytes different.
    """
    srgb = ImageCms.createProfile("sRGB")
    cmyk = ImageCms.getOpenProfile(str(layout_dir / CMYK_PROFILE))
    transform = ImageCms.buildTransform(srgb, cmyk, "RGB", "CMYK", renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    converted: dict[str, str] = {}
    for figure in _figures(issue):
        if figure.image in converted:
            continue
        with Image.open(image_base / figure.image) as img:
            rgb = img.convert("RGB")
        cmyk_image = ImageCms.applyTransform(rgb, transform)
        assert cmyk_image is not None  # None only when converting in place
        buffer = io.BytesIO()
        cmyk_image.save(buffer, "JPEG", quality=92)
        converted[figure.image] = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return converted


def _figures(issue: Issue) -> list[Figure]:
    return [value for _, value in walk(issue) if isinstance(value, Figure)]
