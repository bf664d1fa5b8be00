"""The editors' command line: a thin layer that parses arguments, calls a stage, maps errors
to exit codes.

Exit codes: 0 success; 1 the issue has errors (content or layout); 2 the command was used
wrongly (unknown option, missing file argument); 3 the tool itself failed (a bug: please
report it).
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from .build import DEFAULT_TIME_LIMIT, build_issue
from .errors import ContentError, LayoutError
from .typeset import BuildTimeout

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
REPORT_TO = "the newsletter maintainers (open an issue in the project's tracker)"

app = typer.Typer(
    help="Typeset a newsletter issue written in YAML into a print-ready PDF.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main() -> None:
    """Typeset a newsletter issue written in YAML into a print-ready PDF.

    Write the issue in issues/<name>.yaml (see docs/issue-format.md), then run `newsletter build issues/<name>.yaml`. Exit codes: 0 done, 1 the issue has errors, 2 wrong use of the command, 3 the tool failed (please report it).
    """


@app.command()
def build(
    issue: Annotated[Path, typer.Argument(help="The issue file, e.g. issues/issue-10.yaml.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder the PDF is written to.")] = Path("out"),
    html: Annotated[bool, typer.Option("--html", help="Also write the HTML the PDF is made from, for debugging.")] = False,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Stop a build whose layout takes longer than this many seconds.")
    ] = DEFAULT_TIME_LIMIT,
) -> None:
    """Build the PDF of an issue: out/<name>.pdf.

    Every "page N" in the text is computed from the layout and checked against the page where its target really is. On any error nothing is written and the previous PDF stays as it was.
    """
    if not issue.is_file():
        typer.echo(f"error: no such issue file: {issue}", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        result = build_issue(issue, out, write_html=html, time_limit=time_limit)
    except ContentError as exc:
        _report("the issue has errors; nothing was written", [str(p) for p in exc.problems])
        raise typer.Exit(EXIT_CONTENT) from None
    except LayoutError as exc:
        _report(f"{issue}: the layout has errors; nothing was written", exc.messages)
        raise typer.Exit(EXIT_CONTENT) from None
    except BuildTimeout as exc:
        _report(f"{issue}: the build was stopped; nothing was written", [f"{issue}: {exc}; look for a very long text or table"])
        raise typer.Exit(EXIT_CONTENT) from None
    total = sum(result.timings.values())
    typer.echo(f"wrote {result.pdf} ({result.pages} pages, {result.size / 1024:.0f} KB) in {total:.1f} s")


def _report(summary: str, lines: list[str]) -> None:
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    typer.echo(f"{summary} ({len(lines)} error{'s' if len(lines) != 1 else ''})", err=True)


def main() -> None:
    """Entry point: run the app; an unexpected exception is an internal failure (exit 3).

    Typer's standalone mode already exits 2 on usage errors and passes ``typer.Exit`` codes
    through; anything else escaping a command is a bug of ours.
    """
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        typer.echo("internal error: the newsletter tool failed; this is a bug, not your issue file.", err=True)
        typer.echo(f"Please report it to {REPORT_TO}, with this text:", err=True)
        typer.echo("".join(traceback.format_exception(exc)), err=True)
        sys.exit(EXIT_INTERNAL)
