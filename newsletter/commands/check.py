"""``newsletter check``: every finding of the preflight of one edition or all, as text or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ..editions import EDITION_NAMES
from ..errors import Finding, format_findings, has_errors, merge_editions, summary
from .common import EXIT_CONTENT, Stop, layout_for, require


def run(
    issue: Path, edition: str, strict: bool, as_json: bool, time_limit: float, layout: Path | None, out: Path
) -> None:
    """Check ``edition`` of ``issue`` (``all``: every edition); ``Stop`` when an error remains."""
    from ..build import check_issue

    require(issue)
    chosen = layout_for(layout)
    names = list(EDITION_NAMES) if edition == "all" else [edition]
    per_edition: dict[str, list[Finding]] = {}
    # How full each page is (the first edition measured), for tools and previews: JSON only
    # (measured on the pages the checks lay out).
    fills: list[Any] | None = None
    for name in names:
        if as_json:
            from ..build import BuildOptions
            from ..workbench.proofs import checked_and_measured

            found, measured = checked_and_measured(
                issue, BuildOptions(name, chosen, None, False, time_limit, strict, memo_from=out)
            )
            fills = measured if fills is None else fills
        else:
            found = check_issue(
                issue, chosen, edition=name, time_limit=time_limit, strict=strict, memo_from=out
            )
        per_edition[name] = found
    # Each finding once, naming the editions it concerns when not all of them.
    findings = merge_editions(per_edition)
    if as_json:
        pages = [fill.as_dict() for fill in fills] if fills is not None else None
        report = {"findings": [f.as_dict() for f in findings], "summary": summary(findings), "pages": pages}
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo(format_findings(findings))
    if has_errors(findings):
        raise Stop(EXIT_CONTENT)
