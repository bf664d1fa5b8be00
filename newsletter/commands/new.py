"""``newsletter new``: the next issue beside the previous one (and each of its languages)."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import require


def run(previous: Path) -> None:
    """Write the next issue after ``previous`` and say what to do next."""
    from ..workbench.scaffold import start_next_issue

    require(previous)
    written = start_next_issue(previous)
    for path in written:
        typer.echo(f"wrote {path}")
    issues = [p for p in written if p.suffix == ".yaml"]
    typer.echo(
        f"next: write the TODOs that `newsletter check {issues[0]}` lists, and replace the stand-in images"
    )
