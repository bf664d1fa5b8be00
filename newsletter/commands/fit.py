"""``newsletter fit``: the sections that end badly fitted to their pages, shown or written."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import layout_for, require


def run(issue: Path, write: bool, edition: str, layout: Path | None) -> None:
    """Fit ``issue``'s sections (``write``: into the issue) and say what changed."""
    from ..workbench.fit import fit_issue

    require(issue)
    fitting = fit_issue(
        issue, layout_for(layout), edition, write, lambda step: typer.echo(f"trying {step}", err=True)
    )
    typer.echo(fitting.describe())
    if fitting.changed:
        typer.echo(
            f"wrote {issue}"
            if write
            else f"run `newsletter fit {issue} --write` to write these into the issue"
        )
