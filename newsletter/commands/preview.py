"""``newsletter preview``: PNGs of an edition's pages, its spreads and a contact sheet."""

from __future__ import annotations

from pathlib import Path

import typer

from ..editions import EDITION_NAMES
from ..errors import format_findings
from .common import layout_for, progress, require


def run(issue: Path, edition: str, out: Path, dpi: float, time_limit: float, layout: Path | None) -> None:
    """Write the preview of ``edition`` of ``issue`` (``all``: every edition) under ``out``."""
    from ..build import BuildOptions
    from ..workbench.preview import make_preview

    require(issue)
    chosen = layout_for(layout)
    names = list(EDITION_NAMES) if edition == "all" else [edition]
    for name in names:
        step, end = progress(f"{name}: rendering pages")
        try:
            made = make_preview(issue, BuildOptions(name, chosen, time_limit=time_limit), out, dpi, step)
        finally:
            end()
        warnings = [f for f in made.findings if f.severity != "notice"]
        if warnings:
            typer.echo(format_findings(warnings), err=True)
        fills = "  ".join(f"{fill.page}: {fill.full:.0%}" for fill in made.fills)
        typer.echo(f"how full each page is: {fills}")
        typer.echo(
            f"wrote {len(made.pages)} pages, {len(made.spreads)} spreads and {made.sheet.name} to {made.folder}/"
        )
