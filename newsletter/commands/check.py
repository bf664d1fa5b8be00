"""``newsletter check``: every finding of the preflight of one edition or all, as text or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ..editions import EDITION_NAMES
from ..errors import Finding, format_findings, has_errors, merge_editions, summary
from .common import EXIT_CONTENT, Stop, after_imports, layout_for, require


def run(
    issue: Path, edition: str, strict: bool, as_json: bool, time_limit: float, layout: Path | None, out: Path
) -> None:
    """Check ``edition`` of ``issue`` (``all``: every edition); ``Stop`` when an error remains.

    An edition whose last build into ``out`` had the same inputs (``verdicts.py``) is answered
    with that build's findings, without laying it out again."""
    from ..verdicts import Inputs, recorded_check

    require(issue)
    chosen = layout_for(layout)
    names = list(EDITION_NAMES) if edition == "all" else [edition]
    per_edition: dict[str, list[Finding]] = {}
    # How full each page is (the first edition measured), for tools and previews: JSON only
    # (measured on the pages the checks lay out).
    fills: list[dict[str, Any]] | None = None
    for name in names:
        measured: list[dict[str, Any]] | None = None
        recorded = recorded_check(
            Inputs(issue, chosen.templates, chosen.fonts, name, strict, time_limit), out
        )
        if recorded is not None:
            found, measured = recorded.findings, recorded.fills
        elif as_json:
            from ..build import BuildOptions
            from ..workbench.proofs import checked_and_measured

            after_imports()

            found, pages = checked_and_measured(
                issue, BuildOptions(name, chosen, None, False, time_limit, strict, memo_from=out)
            )
            measured = [fill.as_dict() for fill in pages] if pages is not None else None
        else:
            from ..build import check_issue

            after_imports()

            found = check_issue(
                issue, chosen, edition=name, time_limit=time_limit, strict=strict, memo_from=out
            )
            measured = None
        fills = measured if fills is None else fills
        per_edition[name] = found
    # Each finding once, naming the editions it concerns when not all of them.
    findings = merge_editions(per_edition)
    if as_json:
        report = {"findings": [f.as_dict() for f in findings], "summary": summary(findings), "pages": fills}
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo(format_findings(findings))
    if has_errors(findings):
        raise Stop(EXIT_CONTENT)
