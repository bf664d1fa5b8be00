"""``newsletter preview``: PNGs of an edition's pages, its spreads and a contact sheet."""

from __future__ import annotations

from pathlib import Path

import typer

from ..editions import EDITION_NAMES
from ..errors import Finding
from .common import echo_findings, layout_for, progress, require


def run(issue: Path, edition: str, out: Path, dpi: float, time_limit: float, layout: Path | None) -> None:
    """Write the preview of ``edition`` of ``issue`` (``all``: every edition) under ``out``."""
    from ..build import BuildOptions
    from ..workbench.preview import make_preview

    require(issue)
    chosen = layout_for(layout)
    names = list(EDITION_NAMES) if edition == "all" else [edition]
    per_edition: dict[str, list[Finding]] = {}
    for name in names:
        step, end = progress(f"{name}: rendering pages")
        try:
            made = make_preview(issue, BuildOptions(name, chosen, time_limit=time_limit), out, dpi, step)
        finally:
            end()
        per_edition[name] = list(made.findings)
        fills = "  ".join(f"{fill.page}: {fill.full:.0%}" for fill in made.fills)
        typer.echo(f"how full each page is: {fills}")
        typer.echo(
            f"wrote {len(made.pages)} pages, {len(made.spreads)} spreads and {made.sheet.name} to {made.folder}/"
        )
    # Each finding once, after every edition (the same warning three times hid what differed).
    echo_findings(issue, per_edition)
