"""``newsletter build``: one edition of an issue, or all of them in parallel, into ``out/``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import EnvironmentFault, IssueError, format_findings
from .common import EXIT_CONTENT, Stop, layout_for, require

if TYPE_CHECKING:
    from ..build import BuildResult
    from ..engine.render import Layout


def run(
    issue: Path,
    edition: str,
    out: Path,
    html: bool,
    strict: bool,
    time_limit: float,
    layout: Path | None,
    colour_bar: bool,
) -> None:
    """Build ``edition`` of ``issue`` (``all``: every edition) and say what was written."""
    from ..build import build_issue
    from ..safeio import check_folder

    require(issue)
    check_folder(out)
    chosen = layout_for(layout)
    if edition == "all":
        _build_all(issue, out, strict, time_limit, html, chosen, colour_bar)
        return
    result = build_issue(
        issue,
        out,
        chosen,
        edition=edition,
        write_html=html,
        time_limit=time_limit,
        strict=strict,
        colour_bar=colour_bar,
    )
    report(issue, result)


def _build_all(
    issue: Path, out: Path, strict: bool, time_limit: float, html: bool, layout: Layout, colour_bar: bool
) -> None:
    from ..build import BuildResult, build_all

    started = time.perf_counter()
    results = build_all(
        issue, out, layout, time_limit=time_limit, strict=strict, write_html=html, colour_bar=colour_bar
    )
    elapsed = time.perf_counter() - started
    failed = False
    for name, result in results.items():
        if isinstance(result, IssueError):
            failed = True
            typer.echo(format_findings(result.findings), err=True)
            typer.echo(f"{name}: the issue has errors; nothing was written", err=True)
        elif isinstance(result, EnvironmentFault):
            raise result
        else:
            report(issue, result, notices=False)
    built = [r for r in results.values() if isinstance(r, BuildResult)]
    notices = {f for r in built for f in r.findings if f.severity == "notice"}
    if notices:
        typer.echo(
            f"{len(notices)} notice{'s' if len(notices) != 1 else ''}: `newsletter check {issue}` lists them",
            err=True,
        )
    one_by_one = sum(sum(r.timings.values()) for r in built)
    typer.echo(
        f"{len(built)} editions in {elapsed:.1f} s in parallel; their stages took {one_by_one:.1f} s in all "
        f"({one_by_one - elapsed:+.1f} s saved)"
    )
    if failed:
        raise Stop(EXIT_CONTENT)


def report(issue: Path, result: BuildResult, notices: bool = True) -> None:
    """The warnings of a build, how many notices it had, and what it wrote."""
    warnings = [f for f in result.findings if f.severity != "notice"]
    if warnings:
        typer.echo(format_findings(warnings), err=True)
    count = len(result.findings) - len(warnings)
    if notices and count:
        typer.echo(
            f"{count} notice{'s' if count != 1 else ''}: `newsletter check {issue}` lists them", err=True
        )
    total = sum(result.timings.values())
    typer.echo(f"wrote {result.pdf} ({result.pages} pages, {result.size / 1024:.0f} KB) in {total:.1f} s")
