"""``newsletter translate export`` and ``import``: the translator's round trip."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import format_findings
from .common import EXIT_CONTENT, EXIT_USAGE, Stop, require


def export(issue: Path, language: str | None, form: str, everything: bool, out: Path | None) -> None:
    """Write the texts of ``issue`` to translate into ``language`` and say what was written."""
    from ..translate.export import export_texts

    require(issue)
    if out is not None and out.is_dir():
        typer.echo(f"error: {out} is a folder: name the file, e.g. {out / 'issue.fr.xlf'}", err=True)
        raise Stop(EXIT_USAGE)
    exported = export_texts(issue, language, "po" if form == "po" else "xliff", everything, out)
    typer.echo(exported.describe())


def import_(issue: Path, file: Path) -> None:
    """Write the translations of ``file`` into ``issue``; ``Stop`` when a unit was refused."""
    from ..translate.importer import import_texts

    require(issue)
    require(file, "translator's file (XLIFF or PO)")
    imported = import_texts(issue, file)
    typer.echo(imported.describe())
    if imported.refused:
        typer.echo(format_findings(imported.refused), err=True)
        typer.echo("the units above were refused; the others were written", err=True)
        raise Stop(EXIT_CONTENT)
