"""The editors' command line: a thin layer that parses arguments, calls a stage, maps errors
to exit codes.

Exit codes: 0 success; 1 the issue has errors (content, layout or output checks); 2 the
command was used wrongly (unknown option, missing file argument); 3 the tool itself failed
(a bug: please report it).
"""

from __future__ import annotations

import enum
import json
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from .build import DEFAULT_TIME_LIMIT, BuildResult, CheckFailed, build_all, build_issue, check_issue
from .check import format_findings, has_errors, summary
from .errors import ContentError

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
REPORT_TO = "the newsletter maintainers (open an issue in the project's tracker)"

app = typer.Typer(
    help="Typeset a newsletter issue written in YAML into a print-ready PDF.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

IssueArg = Annotated[Path, typer.Argument(help="The issue file, e.g. issues/issue-10.yaml.", show_default=False)]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors (for CI).")]
TimeLimitOpt = Annotated[
    float, typer.Option("--time-limit", help="Stop a build whose layout takes longer than this many seconds.")
]


class Edition(str, enum.Enum):
    """Which PDF to make."""

    email = "email"
    print = "print"
    archive = "archive"
    all = "all"


class Format(str, enum.Enum):
    """How ``check`` prints its findings."""

    text = "text"
    json = "json"


@app.callback()
def _main() -> None:
    """Typeset a newsletter issue written in YAML into a print-ready PDF.

    Write the issue in issues/<name>.yaml (see docs/issue-format.md), check it with `newsletter check issues/<name>.yaml`, then run `newsletter build issues/<name>.yaml`. Exit codes: 0 done, 1 the issue has errors, 2 wrong use of the command, 3 the tool failed (please report it).
    """


def _require(issue: Path) -> None:
    if not issue.is_file():
        typer.echo(f"error: no such issue file: {issue}", err=True)
        raise typer.Exit(EXIT_USAGE)


VariantOpt = Annotated[
    Edition,
    typer.Option(
        "--variant",
        help="email: small, for the posts; print: CMYK PDF/X-4 with bleed and crop marks, for the print shop; "
        "archive: PDF/A-3u, tagged for accessibility; all: the three, in parallel.",
    ),
]


@app.command()
def build(
    issue: IssueArg,
    variant: VariantOpt = Edition.email,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder the PDF is written to.")] = Path("out"),
    html: Annotated[bool, typer.Option("--html", help="Also write the HTML the PDF is made from, for debugging.")] = False,
    strict: StrictOpt = False,
    time_limit: TimeLimitOpt = DEFAULT_TIME_LIMIT,
) -> None:
    """Build an edition of an issue: out/<name>-email.pdf, -print.pdf or -archive.pdf.

    Runs every check of `newsletter check` first; on any error nothing is written and the previous PDF stays as it was. Every "page N" in the text is computed from the layout and checked against the page where its target really is.
    """
    _require(issue)
    if variant is Edition.all:
        _build_all(issue, out, strict, time_limit)
        return
    try:
        result = build_issue(issue, out, variant=variant.value, write_html=html, time_limit=time_limit, strict=strict)
    except CheckFailed as failed:
        typer.echo(format_findings(failed.findings), err=True)
        typer.echo("the issue has errors; nothing was written", err=True)
        raise typer.Exit(EXIT_CONTENT) from None
    _report(issue, result)


def _build_all(issue: Path, out: Path, strict: bool, time_limit: float) -> None:
    import time

    started = time.perf_counter()
    results = build_all(issue, out, time_limit=time_limit, strict=strict)
    elapsed = time.perf_counter() - started
    failed = False
    for name, result in results.items():
        if isinstance(result, CheckFailed):
            failed = True
            typer.echo(format_findings(result.findings), err=True)
            typer.echo(f"{name}: the issue has errors; nothing was written", err=True)
        else:
            _report(issue, result, notices=False)
    built = [r for r in results.values() if isinstance(r, BuildResult)]
    notices = {f for r in built for f in r.findings if f.severity == "notice"}
    if notices:
        typer.echo(f"{len(notices)} notice{'s' if len(notices) != 1 else ''}: `newsletter check {issue}` lists them", err=True)
    one_by_one = sum(sum(r.timings.values()) for r in built)
    typer.echo(
        f"{len(built)} editions in {elapsed:.1f} s in parallel; their stages took {one_by_one:.1f} s in all "
        f"({one_by_one - elapsed:+.1f} s saved)"
    )
    if failed:
        raise typer.Exit(EXIT_CONTENT)


def _report(issue: Path, result: BuildResult, notices: bool = True) -> None:
    warnings = [f for f in result.findings if f.severity != "notice"]
    if warnings:
        typer.echo(format_findings(warnings), err=True)
    count = len(result.findings) - len(warnings)
    if notices and count:
        typer.echo(f"{count} notice{'s' if count != 1 else ''}: `newsletter check {issue}` lists them", err=True)
    total = sum(result.timings.values())
    typer.echo(f"wrote {result.pdf} ({result.pages} pages, {result.size / 1024:.0f} KB) in {total:.1f} s")


CheckVariantOpt = Annotated[
    Edition, typer.Option("--variant", help="The edition to check: email, print or archive (all checks the three).")
]


@app.command()
def check(
    issue: IssueArg,
    variant: CheckVariantOpt = Edition.email,
    strict: StrictOpt = False,
    format: Annotated[Format, typer.Option("--format", help="text for people, json for tools.")] = Format.text,
    time_limit: TimeLimitOpt = DEFAULT_TIME_LIMIT,
) -> None:
    """Check an issue as an editor or a printer would, without writing anything.

    Prints every finding grouped by severity (error, warning, notice) with the file:line:col of the field or the page, and how to fix it. Exits 1 when an error remains (with --strict, a warning too).
    """
    _require(issue)
    names = [e.value for e in Edition if e is not Edition.all] if variant is Edition.all else [variant.value]
    findings = []
    for name in names:
        findings += [f for f in check_issue(issue, variant=name, time_limit=time_limit, strict=strict) if f not in findings]
    if format is Format.json:
        typer.echo(json.dumps({"findings": [f.as_dict() for f in findings], "summary": summary(findings)}, indent=2, ensure_ascii=False))
    else:
        typer.echo(format_findings(findings))
    if has_errors(findings):
        raise typer.Exit(EXIT_CONTENT)


DEFAULT_LEDGER = Path("out") / "mail" / "ledger.sqlite"


@app.command()
def send(
    issue: IssueArg,
    to: Annotated[Path, typer.Option("--to", help="The recipients file (see docs/recipients-format.md).", show_default=False)],
    group: Annotated[str | None, typer.Option("--group", help="Send only to the posts of this group.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write every message as .eml under out/mail/<issue>/ and send nothing.")] = False,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the email edition and of the .eml files.")] = Path("out"),
    ledger: Annotated[Path | None, typer.Option("--ledger", help="The send ledger (SQLite); out/mail/ledger.sqlite by default.")] = None,
    rate: Annotated[float | None, typer.Option("--rate", help="At most this many messages a minute (overrides the recipients file).")] = None,
    host: Annotated[str | None, typer.Option("--host", help="SMTP server (overrides the recipients file).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="SMTP port (overrides the recipients file).")] = None,
    ssl_mode: Annotated[str | None, typer.Option("--security", help="starttls or ssl (overrides the recipients file).")] = None,
    ca_file: Annotated[Path | None, typer.Option("--ca-file", help="Trust this CA certificate, e.g. for your own mail server.")] = None,
) -> None:
    """Send the email edition of an issue to the diplomatic posts, one message each.

    Builds the email edition (or reuses it when up to date) and refuses to send one that fails its checks. Every message is recorded in a ledger before and after it is handed to the server: run the same command again to resume, and only what is not confirmed sent goes out. Credentials come from NEWSLETTER_SMTP_USER and NEWSLETTER_SMTP_PASSWORD, or the system keyring.
    """
    from .distribute import deliver, plan
    from .distribute import dry_run as write_dry_run
    from .mail import MailError, Settings, credentials, report
    from .recipients import load_recipients

    _require(issue)
    if not to.is_file():
        typer.echo(f"error: no such recipients file: {to}", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        recipients = load_recipients(to)
        the_plan = plan(issue, recipients, out, group)
    except ContentError as exc:
        typer.echo("\n".join(f"error: {p}" for p in exc.problems), err=True)
        typer.echo("nothing was sent", err=True)
        raise typer.Exit(EXIT_CONTENT) from None
    except CheckFailed as failed:
        typer.echo(format_findings(failed.findings), err=True)
        typer.echo("the email edition fails its checks; nothing was sent", err=True)
        raise typer.Exit(EXIT_CONTENT) from None
    except MailError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_CONTENT) from None
    if dry_run:
        written = write_dry_run(the_plan, out)
        typer.echo(f"dry run: wrote {len(written)} messages to {written[0].parent if written else out}; nothing was sent")
        return
    if ssl_mode not in (None, "starttls", "ssl"):
        typer.echo(f"error: --security must be starttls or ssl, not {ssl_mode!r}", err=True)
        raise typer.Exit(EXIT_USAGE)
    server = recipients.recipients.server
    user, password = credentials(host or server.host)
    settings = Settings(host or server.host, port or server.port, ssl_mode or server.security, ca_file, user=user, password=password)
    with typer.progressbar(length=len(the_plan.outgoing), label="sending", file=sys.stderr) as bar:
        try:
            outcomes = deliver(
                the_plan, recipients, settings, ledger or out / "mail" / "ledger.sqlite", rate,
                progress=lambda _o: bar.update(1),
            )
        except MailError as exc:
            typer.echo(f"\nerror: {exc}", err=True)
            raise typer.Exit(EXIT_CONTENT) from None
    typer.echo(report(outcomes))
    if any(o.state != "sent" for o in outcomes):
        raise typer.Exit(EXIT_CONTENT)


@app.command()
def status(
    issue: IssueArg,
    ledger: Annotated[Path, typer.Option("--ledger", help="The send ledger (SQLite).")] = DEFAULT_LEDGER,
) -> None:
    """Show where each post stands for an issue: who has it, who does not, and why."""
    from .ledger import Ledger
    from .load import load_issue
    from .mail import issue_key

    _require(issue)
    try:
        key = issue_key(load_issue(issue).issue)
    except ContentError as exc:
        typer.echo("\n".join(f"error: {p}" for p in exc.problems), err=True)
        raise typer.Exit(EXIT_CONTENT) from None
    if not ledger.exists():
        typer.echo(f"nothing sent yet for {key} (no ledger at {ledger})")
        return
    with Ledger(ledger) as book:
        entries = book.entries(key)
    if not entries:
        typer.echo(f"nothing sent yet for {key}")
        return
    typer.echo(f"{'post':<40} {'state':<9} {'tries':>5}  {'language':<8} reply")
    for e in entries:
        state = "unknown" if e.state == "sending" else e.state
        typer.echo(f"{e.name[:40]:<40} {state:<9} {e.attempts:>5}  {e.language:<8} {e.reply}")
        if e.refused:
            typer.echo(f"{'':<40} {'':<9} {'':>5}  {'':<8} (refused: {e.refused})")
    counts = {s: sum(e.state == s for e in entries) for s in ("sent", "deferred", "failed", "pending", "sending")}
    typer.echo(
        f"{key}: sent {counts['sent']}, deferred {counts['deferred']}, failed {counts['failed']}, "
        f"not tried {counts['pending']}, outcome unknown {counts['sending']}"
    )


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
