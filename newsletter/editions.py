"""The editions made from one issue, each with its options and its own rules: the one list
that the command line, the builds, the checks and the benchmarks all walk.

- ``email``: attached to mails to the posts. Images downsampled to screen resolution and
  recompressed (WeasyPrint only does that when the options reach ``render()``), fonts
  subset, links and bookmarks, metadata; tagged PDF/UA-1 (the posts read it, with screen
  readers too); a 1.5 MB budget.
- ``print``: for the print shop. A4 trim with 3 mm bleed, a slug beyond it with crop marks
  in registration colour and a slug line; colours as ``device-cmyk()`` and images converted
  to CMYK against the FOGRA39 profile made with a 300 % ink limit, which is also the output
  intent; declared PDF/X-4; no annotations; images at full resolution (``Press``). Not
  tagged: it goes to the press only, and its finishing rewrites the page content (marks,
  overprint) where the marked content of tags would have to be kept in step.
- ``archive``: for the archive and the website. PDF/A-3u and tagged, with the PDF/UA-1
  identification added to its XMP (WeasyPrint declares one PDF variant at a time).

This module is plain data, light to import: the command line reads the editions' names
from it without loading WeasyPrint. The work an edition needs (CMYK images, the XMP
finisher) is in ``press/finishing.py``; its rules are in ``check/editions.py``.

Every edition is reproducible: its dates come from the issue and its identifiers from the
issue and the edition's name, so the same input gives the same bytes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .issue.model import Issue


@dataclass(frozen=True)
class Press:
    """What the print shop's press asks of an edition: the profile, the ink limit, the marks.

    The profile is made for the ink limit (``colprof -l300``, see ``layouts/icc/README.md``):
    change one, remake the other. The ``ink-coverage`` rule measures against ``ink_limit``.
    """

    #: The CMYK output profile in the layout folder: images are converted with it, and it is
    #: the output intent (``print.css`` names the same file; ``print-intent`` checks both agree).
    profile: str = "icc/FOGRA39L-coated-300.icc"
    #: Total area coverage allowed anywhere on a page, in per cent of one ink (C+M+Y+K).
    ink_limit: float = 300.0
    #: The slug: how far beyond the bleed the media box reaches (mm), for marks and the slug line.
    slug_mm: float = 10.0
    #: Print a CMYK colour bar in the slug (solids, tints and overprints) for the press operator.
    colour_bar: bool = False
    #: Resolution (dpi) at which Ghostscript renders the separations to measure the coverage.
    coverage_dpi: int = 72


@dataclass(frozen=True)
class Edition:
    """How one edition differs from the others."""

    name: str
    #: What the edition is for, in the command line's help.
    purpose: str
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
    #: The standards the edition claims that an outside validator checks in every build
    #: (``check/conformance.py``): each failed rule is an error.
    claims: tuple[str, ...] = ()
    #: The edition's own rules (``check/editions.py``), besides the rules of every edition.
    rules: frozenset[str] = frozenset()
    #: For the press: marks and slug, ink limit, no annotations (``press/marks.py``); None for screens.
    press: Press | None = None

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

    def size_budget(self, issue: Issue) -> float:
        """The size budget in MB: the issue's ``size_budget_mb:``, else the edition's."""
        return issue.size_budget_mb or self.size_budget_mb


EDITIONS: dict[str, Edition] = {
    "email": Edition(
        "email",
        purpose="small, for the posts",
        stylesheet=None,
        render_options={"optimize_images": True, "jpeg_quality": 80, "dpi": 150},
        # Tagged PDF/UA-1: the edition the posts read, with screen readers too.
        pdf_variant="pdf/ua-1",
        pdf_tags=True,
        size_budget_mb=1.5,
        claims=("PDF/UA-1",),
        rules=frozenset({"bookmarks", "archive-tags", "conformance", "conformance-unchecked"}),
    ),
    "print": Edition(
        "print",
        purpose="CMYK PDF/X-4 with bleed and crop marks, for the print shop",
        stylesheet="print.css",
        pdf_variant="pdf/x-4",
        size_budget_mb=100.0,
        cmyk_images=True,
        rules=frozenset(
            {
                "image-resolution",
                "image-resolution-low",
                "hairline",
                "small-text-inks",
                "text-inks",
                "print-boxes",
                "print-cmyk",
                "print-intent",
                "print-fonts",
                "print-annotations",
                "print-marks",
                "ink-coverage",
                "ink-unmeasured",
                "interpolate",
            }
        ),
        press=Press(),
    ),
    "archive": Edition(
        "archive",
        purpose="PDF/A-3u, tagged for accessibility",
        stylesheet=None,
        pdf_variant="pdf/a-3u",
        pdf_tags=True,
        size_budget_mb=7.0,
        declare_pdfua=True,
        claims=("PDF/A-3u", "PDF/UA-1"),
        rules=frozenset(
            {
                "archive-ids",
                "archive-tags",
                "interpolate",
                "bookmarks",
                "conformance",
                "conformance-unchecked",
            }
        ),
    ),
}

#: The editions' names, in the order they are built and listed.
EDITION_NAMES: tuple[str, ...] = tuple(EDITIONS)


def stable_id(issue: Issue, edition: str) -> uuid.UUID:
    """The same identifier for every build of one edition of one issue."""
    return uuid.uuid5(
        uuid.NAMESPACE_URL, f"newsletter:{issue.series}:{issue.number}:{issue.language}:{edition}"
    )


def output_path(source: Path, out_dir: Path, edition: str) -> Path:
    """``out/<issue name>-<edition>.pdf``."""
    return out_dir / f"{source.stem}-{edition}.pdf"
