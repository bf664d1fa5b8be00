"""``newsletter status``: where each post stands for an issue, read from the send ledger
(never written)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from .common import printable, require


def run(issue: Path, ledger: Path | None, out: Path) -> None:
    """Print the test sends, every post's state by revision, and the counts."""
    from ..issue.load import load_issue
    from ..send.compose import issue_key
    from ..send.ledger import SCHEMA_VERSION, Ledger, default_ledger
    from ..send.loop import UNKNOWN_WORDS

    require(issue)
    the_issue = load_issue(issue).issue
    key = issue_key(the_issue)
    if the_issue.embargo is not None:
        typer.echo(f"embargo: not to be published before {the_issue.embargo.isoformat()}")
    if the_issue.release is not None:
        now = dt.datetime.now(dt.UTC)
        state = "still to come: send holds it" if the_issue.release > now else "passed: it may be sent"
        typer.echo(f"release: {the_issue.release.isoformat()} ({state})")
    path = ledger or default_ledger(out)
    if not path.exists():
        typer.echo(f"nothing sent yet for {key} (no ledger at {path})")
        return
    with Ledger(path, create=False, read_only=True) as book:  # status never writes
        entries = book.entries(key)
        copies = {revision: book.copies(key, revision) for revision in {e.revision for e in entries}}
        tests = book.tests(key)
        schema = book.schema
    if schema < SCHEMA_VERSION:
        typer.echo(
            f"(a ledger of an older version, schema {schema}: read as it is; the next send migrates it)"
        )
    for test in tests:
        when = _when(test.sent)
        which = f" revision {test.revision}" if test.revision > 1 else ""
        typer.echo(printable(f"test send{which} ({test.language}) to {test.address}, {when}: {test.reply}"))
    if not entries:
        typer.echo(f"nothing sent yet for {key}")
        return
    revisions = sorted({e.revision for e in entries})
    for revision in revisions:
        rows = [e for e in entries if e.revision == revision]
        if len(revisions) > 1 or revision > 1:
            typer.echo(f"revision {revision}" + (" (a correction)" if revision > 1 else ""))
        typer.echo(f"{'post':<40} {'state':<9} {'tries':>5}  {'language':<8} reply")
        for e in rows:
            state = "unknown" if e.outcome_unknown else e.state
            typer.echo(
                f"{printable(e.name)[:40]:<40} {state:<9} {e.attempts:>5}  {e.language:<8} {printable(e.reply)}"
            )
            notes = []
            if e.outcome_unknown:
                notes.append(UNKNOWN_WORDS)
            elif e.resends:
                notes.append(
                    f"sent again after an unknown outcome ({e.resends} times): may have arrived twice"
                )
            if e.refused:
                notes.append(f"refused: {e.refused}")
            if e.state == "failed":
                notes.append("refused for good: `send` tries it again only with --retry-refused")
            copy = copies[revision].get(e.post)
            if copy is not None and copy.sha256:
                # The hash of the signed copy last made for the post: a leaked copy is matched to it.
                notes.append(f"signed copy N° {copy.number:04d} of {copy.made}, SHA-256 {copy.sha256}")
            for note in notes:
                typer.echo(f"{'':<40} {'':<9} {'':>5}  {'':<8} ({printable(note)})")
        count = {s: sum(e.state == s for e in rows) for s in ("sent", "deferred", "failed", "pending")}
        unknown = sum(e.outcome_unknown for e in rows)
        resent = sum(e.resends > 0 and e.state == "sent" for e in rows)
        tag = f" revision {revision}" if revision > 1 else ""
        typer.echo(
            f"{key}{tag}: sent {count['sent']}, deferred {count['deferred']}, failed {count['failed']}, "
            f"not tried {count['pending']}, {UNKNOWN_WORDS} {unknown}"
            + (f" (and {resent} of the sent were sent again after an unknown outcome)" if resent else "")
        )


def _when(timestamp: float) -> str:
    """A time of the ledger, in local time to the second."""
    return dt.datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")
