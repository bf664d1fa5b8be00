"""Proofs: an edition built to be looked at, and its pages measured.

``prove`` builds one edition of an issue into a folder of its own (through ``build.run``,
so a proof passes every check a build does, and fails as a build fails); the build measures
how full each page is on the pages it laid out (``engine/pagefill.py``). ``preview`` and
``check --format json`` use it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from ..build import BuildOptions, BuildResult, run
from ..editions import output_path
from ..engine.pagefill import PageFill
from ..errors import Finding, IssueError


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
    result = run(source, replace(options, out_dir=folder))
    return Proof(result, output_path(source, folder, options.edition), result.fills)


def checked_and_measured(source: Path, options: BuildOptions) -> tuple[list[Finding], list[PageFill] | None]:
    """Every finding of the preflight of one edition, and how full its pages are (None when
    an error stopped it before its pages could be measured). Keeps nothing."""
    with tempfile.TemporaryDirectory(prefix="newsletter-check-") as work:
        try:
            proof = prove(source, options, Path(work))
        except IssueError as failed:
            return failed.findings, None
        return proof.result.findings, list(proof.fills)
