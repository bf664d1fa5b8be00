"""``newsletter build``: one edition of an issue, or all of them in parallel, into ``out/``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import EnvironmentFault, Finding, IssueError
from .common import EXIT_CONTENT, Stop, after_imports, echo_findings, layout_for, require

if TYPE_CHECKING:
    from ..authentic.sign import SigningKey
    from ..build import BuildResult
    from ..shipped import Layout


def run(
    issue: Path,
    edition: str,
    out: Path,
    html: bool,
    strict: bool,
    time_limit: float,
    layout: Path | None,
    colour_bar: bool,
    sign: Path | None = None,
) -> None:
    """Build ``edition`` of ``issue`` (``all``: every edition) and say what was written;
    with ``sign``, sign the email and archive editions written."""
    from ..build import build_issue
    from ..safeio import check_folder

    after_imports()

    require(issue)
    check_folder(out)
    chosen = layout_for(layout)
    key = None
    if sign is not None:
        from .signing import open_key

        key = open_key(sign, None)  # before the build: a wrong passphrase costs no layout
    if edition == "all":
        written = _build_all(issue, out, strict, time_limit, html, chosen, colour_bar)
        if key is not None:
            for name, built in written.items():
                _sign(built, name, key)
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
    if key is not None and result.pdf is not None:
        _sign(result, edition, key)


def _sign(result: BuildResult, edition: str, key: SigningKey) -> None:
    """Sign the edition ``result`` wrote, in place (written whole or not at all), for every reader:
    no copy line, no post. The print edition goes to the printer unsigned."""
    from ..authentic.sign import CopyRecord, SigningError, make_copy
    from ..safeio import atomic_write, writing

    if edition not in ("email", "archive"):
        return
    from ..send.compose import issue_key

    pdf = result.pdf
    assert pdf is not None
    issue = result.issue
    title = f"{issue.series} – {issue.number}"
    record = CopyRecord(issue_key(issue), title, edition, issue.language)
    try:
        signed = make_copy(pdf.read_bytes(), key, record)
    except SigningError as exc:
        typer.echo(f"error: {pdf}: {exc}", err=True)
        raise Stop(EXIT_CONTENT) from None
    with writing(pdf.parent):
        atomic_write(pdf, signed)
    typer.echo(f"signed {pdf} ({len(signed) / 1024:.0f} KB) by {key.subject}")


def _build_all(
    issue: Path, out: Path, strict: bool, time_limit: float, html: bool, layout: Layout, colour_bar: bool
) -> dict[str, BuildResult]:
    """Build every edition; what each wrote, by edition."""
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
    return {name: r for name, r in results.items() if isinstance(r, BuildResult)}


def report(issue: Path, result: BuildResult) -> None:
    """The warnings of a build and the count of every severity (the notices are counted, not
    listed: `check` lists them), then what it wrote."""
    echo_findings(issue, {result.edition: result.findings})
    typer.echo(_wrote(result))


def _wrote(result: BuildResult) -> str:
    total = sum(result.timings.values())
    return f"wrote {result.pdf} ({result.pages} pages, {result.size / 1024:.0f} KB) in {total:.1f} s"
