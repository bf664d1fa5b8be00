"""``newsletter schema``: the JSON Schema of the issue format, to standard output or a file."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import EnvironmentFault
from .common import EXIT_USAGE, Stop


def run(out: Path | None) -> None:
    """Print the schema, or write it to ``out`` whole."""
    from ..issue.schema import schema_text

    text = schema_text()
    if out is None:
        typer.echo(text, nl=False)
        return
    from ..safeio import atomic_write, prepare_folder

    if out.is_dir():
        typer.echo(
            f"error: {out} is a folder: name the schema file, e.g. {out / 'issue.schema.json'}", err=True
        )
        raise Stop(EXIT_USAGE)
    prepare_folder(out.parent)
    try:
        atomic_write(out, text.encode("utf-8"))
    except OSError as exc:
        raise EnvironmentFault(
            f"cannot write: {exc.strerror or exc}", out, "choose another file with --out"
        ) from None
    typer.echo(f"wrote {out}")
