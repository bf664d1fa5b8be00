"""``newsletter build``: one edition of an issue, or all of them in parallel, into ``out/``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import EnvironmentFault, Finding, IssueError
from .common import EXIT_CONTENT, Stop, echo_findings, layout_for, require

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
    per_edition: dict[str, list[Finding]] = {}
    failed = []
    for name, result in results.items():
        if isinstance(result, EnvironmentFault):
            raise result
        if isinstance(result, IssueError):
            failed.append(name)
        per_edition[name] = result.findings
    # Each finding once, naming the editions it concerns when not all of them; the errors of
    # a failed edition with everything it found.
    echo_findings(issue, per_edition, notices=bool(failed))
    for name in failed:
        typer.echo(f"{name}: the issue has errors; nothing was written", err=True)
    built = [r for r in results.values() if isinstance(r, BuildResult)]
    for result in built:
        typer.echo(_wrote(result))
    one_by_one = sum(sum(r.timings.values()) for r in built)
    typer.echo(
        f"{len(built)} editions in {elapsed:.1f} s in parallel; their stages took {one_by_one:.1f} s in all "
        f"({one_by_one - elapsed:+.1f} s saved)"
    )
    if failed:
        raise Stop(EXIT_CONTENT)


def report(issue: Path, result: BuildResult) -> None:
    """The warnings of a build and the count of every severity (the notices are counted, not
    listed: `check` lists them), then what it wrote."""
    echo_findings(issue, {result.edition: result.findings})
    typer.echo(_wrote(result))


def _wrote(result: BuildResult) -> str:
    total = sum(result.timings.values())
    return f"wrote {result.pdf} ({result.pages} pages, {result.size / 1024:.0f} KB) in {total:.1f} s"
