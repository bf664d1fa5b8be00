"""``newsletter diff``: two proofs compared (PDFs, issue files, or an issue with its last build)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..errors import IssueError, format_findings
from .common import EXIT_CONTENT, EXIT_USAGE, Stop, layout_for


def run(
    old: Path,
    new: Path | None,
    edition: str,
    out: Path,
    as_json: bool,
    time_limit: float,
    layout: Path | None,
) -> None:
    """Compare ``old`` with ``new`` (or its last build); ``Stop`` with 1 when they differ, 2
    when they cannot be compared."""
    from ..build import BuildOptions
    from ..workbench.diff import UnreadableInput, compare_inputs
    from ..workbench.diffreport import describe

    if edition == "all":
        raise _diff_refused("compare one edition at a time: --variant email, print or archive")
    options = BuildOptions(edition, layout_for(layout), time_limit=time_limit)
    try:
        difference = compare_inputs(old, new, options, out)
    except UnreadableInput as exc:
        raise _diff_refused(str(exc))
    except IssueError as failed:
        typer.echo(format_findings(failed.findings), err=True)
        raise _diff_refused("the issue has errors, so it cannot be built to compare")
    if as_json:
        typer.echo(json.dumps(difference.as_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(describe(difference))
    if not difference.identical:
        raise Stop(EXIT_CONTENT)


def _diff_refused(message: str) -> Stop:
    """``diff`` could not compare: say why; the exit (2: 1 means "they differ") to raise."""
    typer.echo(f"error: {message}", err=True)
    typer.echo("nothing was compared", err=True)
    return Stop(EXIT_USAGE)
