"""Proofs: an edition built to be looked at, and its pages measured.

``prove`` builds one edition of an issue into a folder of its own (through ``build.run``,
so a proof passes every check a build does, and fails as a build fails), then lays out again
the very HTML that PDF was made from, to measure how full each page is
(``check/copyfit.py``). ``preview``, ``check --format json`` and ``diff`` use it.

The second layout costs about a second for issue 10; it goes once the build hands its
laid-out pages out (see ``page_fill``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from .build import BuildOptions, BuildResult, output_path, run
from .check.copyfit import PageFill, page_fill
from .editions import VARIANTS
from .errors import Finding, IssueError
from .laidout import pages
from .typeset import typeset


@dataclass(frozen=True)
class Proof:
    """A built edition: its PDF (in the proof's folder) and how full each of its pages is."""

    result: BuildResult
    pdf: Path
    fills: tuple[PageFill, ...]


def prove(source: Path, options: BuildOptions, folder: Path) -> Proof:
    """Build one edition of ``source`` into ``folder`` (which must exist) and measure its pages.

    Raises ``IssueError`` as a build does (nothing is measured then).
    """
    result = run(source, replace(options, out_dir=folder, write_html=True))
    pdf = output_path(source, folder, options.edition)
    html = pdf.with_suffix(".html").read_text(encoding="utf-8")
    return Proof(result, pdf, tuple(measure(html, source, options)))


def measure(html: str, source: Path, options: BuildOptions) -> list[PageFill]:
    """How full each page of ``html`` (an edition of ``source`` as built) is, laid out again."""
    layout = options.layout
    document = typeset(
        html,
        base_dir=source.parent,
        roots=[source.parent, layout.templates, layout.fonts],
        source=source,
        time_limit=options.time_limit,
        options=VARIANTS[options.edition].render_options,
    )
    return page_fill(pages(document))


def checked_and_measured(source: Path, options: BuildOptions) -> tuple[list[Finding], list[PageFill] | None]:
    """Every finding of the preflight of one edition, and how full its pages are (None when
    an error stopped it before its pages could be measured). Keeps nothing."""
    with tempfile.TemporaryDirectory(prefix="newsletter-check-") as work:
        try:
            proof = prove(source, options, Path(work))
        except IssueError as failed:
            return failed.findings, None
        return proof.result.findings, list(proof.fills)
