"""The editors' command line: a thin layer that parses arguments, calls a stage, maps errors
to exit codes.

Exit codes: 0 done; 1 the issue has errors (content, layout or output checks), or ``send``
could not send everything; 2 the command was used wrongly (unknown option, a folder where a
file is expected); 3 the tool itself failed (a bug: please report it), and nothing else;
4 the environment: an output folder that cannot be written or is full, a file named on the
command line that is missing or unreadable, a broken state file, a mail server that cannot
be reached.

This module imports only what parsing needs: WeasyPrint and pikepdf load in the commands
that use them, so that ``newsletter --help`` answers at once.
"""

from __future__ import annotations

import enum
import functools
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from . import __version__
from .defaults import DEFAULT_MAX_FAILURES, DEFAULT_SMTP_TIMEOUT, DEFAULT_TIME_LIMIT
from .editions import EDITION_NAMES, EDITIONS
from .errors import EnvironmentFault, Finding, IssueError, format_findings, has_errors, summary

if TYPE_CHECKING:
    from .build import BuildResult

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_INTERNAL, EXIT_ENVIRONMENT = 0, 1, 2, 3, 4
REPORT_TO = "the newsletter maintainers (open an issue in the project's tracker)"

app = typer.Typer(
    help="Typeset a newsletter issue written in YAML into a print-ready PDF.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich's panels show "<bool>" after every flag, as if it took a value, and
    # importing rich costs a tenth of a second on every command.
    rich_markup_mode=None,
)

IssueArg = Annotated[
    Path,
    typer.Argument(help="The issue file, e.g. issues/issue-10.yaml.", show_default=False, metavar="ISSUE"),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors (for CI).")]
LayoutOpt = Annotated[
    Path | None,
    typer.Option(
        "--layout",
        metavar="FOLDER",
        show_default=False,
        help="A layout folder (templates, newsletter.css, labels.yaml) in place of the project's layouts/.",
    ),
]


def _layout(folder: Path | None) -> Any:
    """The layout to use: the project's, or ``folder`` with the project's fonts."""
    from .render import DEFAULT_LAYOUT, Layout

    layout = DEFAULT_LAYOUT if folder is None else Layout(templates=folder, fonts=DEFAULT_LAYOUT.fonts)
    layout.require()
    return layout


def _positive(value: float) -> float:
    if value <= 0:
        raise typer.BadParameter("give a number of seconds greater than 0")
    return value


TimeLimitOpt = Annotated[
    float,
    typer.Option(
        "--time-limit",
        metavar="SECONDS",
        callback=_positive,
        help="Stop a build whose layout takes longer than this many seconds.",
    ),
]


#: Which PDF to make: one edition of ``editions.EDITIONS``, or all of them.
EditionChoice = enum.Enum("EditionChoice", {name: name for name in (*EDITION_NAMES, "all")}, type=str)  # type: ignore[misc]


class Format(str, enum.Enum):
    """How ``check`` prints its findings."""

    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"newsletter {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Typeset a newsletter issue written in YAML into a print-ready PDF.

    Write the issue in issues/<name>.yaml (see docs/issue-format.md), check it with `newsletter check issues/<name>.yaml`, then run `newsletter build issues/<name>.yaml`. Exit codes: 0 done, 1 the issue has errors, 2 wrong use of the command, 3 the tool failed (please report it), 4 the environment (a folder that cannot be written, a missing file).
    """


F = TypeVar("F", bound=Callable[..., Any])


def _reported(command: F) -> F:
    """Map the one vocabulary of failures to exit codes, printed the same way by every command."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except IssueError as failed:
            typer.echo(format_findings(failed.findings), err=True)
            typer.echo(f"the issue has errors; {_nothing(command.__name__)}", err=True)
            raise typer.Exit(EXIT_CONTENT) from None
        except EnvironmentFault as fault:
            typer.echo(f"error: {fault}", err=True)
            if fault.hint:
                typer.echo(f"      fix: {fault.hint}", err=True)
            typer.echo(_nothing(command.__name__), err=True)
            raise typer.Exit(EXIT_ENVIRONMENT) from None

    return run  # type: ignore[return-value]


def _nothing(command: str) -> str:
    return {
        "send": "nothing was sent",
        "check": "the check could not finish",
        "status": "no status to show",
    }.get(command, "nothing was written")


def _require(path: Path, what: str = "issue file") -> None:
    """A file named on the command line: a folder is a wrong use (2), a missing file the
    environment's (4)."""
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.yaml"))[:5]
        example = f": name one of its files, e.g. {path / found[0]}" if found else ""
        typer.echo(f"error: {path} is a folder, not an {what}{example}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if not path.exists():
        typer.echo(f"error: no such {what}: {path}", err=True)
        raise typer.Exit(EXIT_ENVIRONMENT)
    if not path.is_file():
        typer.echo(f"error: {path} is not a regular file (an {what} is a YAML text file)", err=True)
        raise typer.Exit(EXIT_USAGE)


EditionOpt = Annotated[
    EditionChoice,
    typer.Option(
        "--variant",
        help="; ".join(f"{v.name}: {v.purpose}" for v in EDITIONS.values())
        + "; all: every edition, in parallel.",
    ),
]


@app.command()
@_reported
def build(
    issue: IssueArg,
    edition: EditionOpt = EditionChoice["email"],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder the PDF is written to.", metavar="FOLDER")
    ] = Path("out"),
    html: Annotated[
        bool, typer.Option("--html", help="Also write the HTML each PDF is made from, for debugging.")
    ] = False,
    strict: StrictOpt = False,
    time_limit: TimeLimitOpt = DEFAULT_TIME_LIMIT,
    layout: LayoutOpt = None,
    colour_bar: Annotated[
        bool,
        typer.Option(
            "--colour-bar",
            help="Print a CMYK colour bar (solids, tints, overprints) in the print edition's top slug, for the press operator.",
        ),
    ] = False,
) -> None:
    """Build an edition of an issue: out/<name>-email.pdf, -print.pdf or -archive.pdf.

    Runs every check of `newsletter check` first; on any error nothing is written and the previous PDF stays as it was. Every "page N" in the text is computed from the layout and checked against the page where its target really is.
    """
    from .build import build_issue
    from .safeio import check_folder

    _require(issue)
    check_folder(out)
    chosen = _layout(layout)
    if edition is EditionChoice["all"]:
        _build_all(issue, out, strict, time_limit, html, chosen, colour_bar)
        return
    result = build_issue(
        issue,
        out,
        chosen,
        edition=edition.value,
        write_html=html,
        time_limit=time_limit,
        strict=strict,
        colour_bar=colour_bar,
    )
    _report(issue, result)


def _build_all(
    issue: Path, out: Path, strict: bool, time_limit: float, html: bool, layout: Any, colour_bar: bool
) -> None:
    import time

    from .build import BuildResult, build_all

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
            _report(issue, result, notices=False)
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
        raise typer.Exit(EXIT_CONTENT)


def _report(issue: Path, result: BuildResult, notices: bool = True) -> None:
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


CheckEditionOpt = Annotated[
    EditionChoice,
    typer.Option(
        "--variant", help=f"The edition to check: {', '.join(EDITION_NAMES)} (all checks every edition)."
    ),
]


@app.command()
@_reported
def check(
    issue: IssueArg,
    edition: CheckEditionOpt = EditionChoice["email"],
    strict: StrictOpt = False,
    format: Annotated[
        Format, typer.Option("--format", help="text for people, json for tools.")
    ] = Format.text,
    time_limit: TimeLimitOpt = DEFAULT_TIME_LIMIT,
    layout: LayoutOpt = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="The folder of the last build: what it remembers of the layout is read (never written), so that each page is laid out once.",
            metavar="FOLDER",
        ),
    ] = Path("out"),
) -> None:
    """Check an issue as an editor or a printer would, without writing anything.

    Prints every finding grouped by severity (error, warning, notice) with the file:line:col of the field (and the page, for what the layout shows), and how to fix it. Exits 1 when an error remains (with --strict, a warning too).
    """
    from .build import check_issue

    _require(issue)
    chosen = _layout(layout)
    names = list(EDITION_NAMES) if edition is EditionChoice["all"] else [edition.value]
    findings: list[Finding] = []
    # How full each page is (the first edition measured), for tools and previews: JSON only
    # (measured on the pages the checks lay out).
    fills: list[Any] | None = None
    for name in names:
        if format is Format.json:
            from .build import BuildOptions
            from .proofs import checked_and_measured

            found, measured = checked_and_measured(
                issue, BuildOptions(name, chosen, None, False, time_limit, strict, memo_from=out)
            )
            fills = measured if fills is None else fills
        else:
            found = check_issue(
                issue, chosen, edition=name, time_limit=time_limit, strict=strict, memo_from=out
            )
        findings += [f for f in found if f not in findings]
    if format is Format.json:
        pages = [fill.as_dict() for fill in fills] if fills is not None else None
        report = {"findings": [f.as_dict() for f in findings], "summary": summary(findings), "pages": pages}
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo(format_findings(findings))
    if has_errors(findings):
        raise typer.Exit(EXIT_CONTENT)


@app.command()
@_reported
def send(
    issue: IssueArg,
    to: Annotated[
        Path,
        typer.Option(
            "--to",
            help="The recipients file (see docs/recipients-format.md).",
            show_default=False,
            metavar="FILE",
        ),
    ],
    group: Annotated[
        str | None, typer.Option("--group", help="Send only to the posts of this group.", metavar="NAME")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Write every message as .eml under out/mail/<issue>/ and send nothing."
        ),
    ] = False,
    test: Annotated[
        str | None,
        typer.Option(
            "--test",
            help="Send one message per language to this address only, marked as a test; no post gets anything.",
            metavar="ADDRESS",
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Send without asking for confirmation (needed when not run from a terminal)."
        ),
    ] = False,
    revision: Annotated[
        int,
        typer.Option(
            "--revision",
            help="Send revision N (a correction) to the posts that had revision N-1: a new Message-ID that refers to theirs, a subject that says it is a correction.",
            metavar="N",
            min=1,
        ),
    ] = 1,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Folder of the email edition and of the .eml files.", metavar="FOLDER"
        ),
    ] = Path("out"),
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger", help="The send ledger (SQLite); <out>/mail/ledger.sqlite by default.", metavar="FILE"
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            help="At most this many messages a minute (overrides the recipients file).",
            metavar="N",
            min=0.001,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Wait at most this many seconds for each whole reply of the server, and five times this for each message.",
            metavar="SECONDS",
            callback=_positive,
        ),
    ] = DEFAULT_SMTP_TIMEOUT,
    max_failures: Annotated[
        int,
        typer.Option(
            "--max-failures",
            help="Stop the run after this many timeouts or connection failures in a row; the rest stays pending.",
            metavar="N",
            min=1,
        ),
    ] = DEFAULT_MAX_FAILURES,
    host: Annotated[
        str | None,
        typer.Option("--host", help="SMTP server (overrides the recipients file).", metavar="HOST"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", help="SMTP port (overrides the recipients file).", metavar="PORT", min=1, max=65535
        ),
    ] = None,
    ssl_mode: Annotated[
        str | None,
        typer.Option("--security", help="starttls or ssl (overrides the recipients file).", metavar="MODE"),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file", help="Trust this CA certificate, e.g. for your own mail server.", metavar="FILE"
        ),
    ] = None,
    retry_refused: Annotated[
        bool,
        typer.Option(
            "--retry-refused",
            help="Send again to the posts whose server refused the message for good (a 5xx reply) in an earlier run; without it they are skipped.",
        ),
    ] = False,
) -> None:
    """Send the email edition of an issue to the diplomatic posts, one message each.

    Builds the email edition (or reuses it when up to date) and refuses to send one that fails its checks. Prints what it will send (posts by language and group, editions and their sizes, notices) and asks before sending; without a terminal, --yes is needed. Try it first with --test ADDRESS. Every message is recorded in a ledger before and after it is handed to the server: run the same command again to resume, and only what is not confirmed sent goes out. One send at a time per ledger. Credentials come from NEWSLETTER_SMTP_USER and NEWSLETTER_SMTP_PASSWORD, or the system keyring.
    """
    from .distribute import UsageError, default_ledger, deliver, plan, send_test_messages
    from .distribute import dry_run as write_dry_run
    from .headers import address_problem
    from .ledger import Ledger, SendLock
    from .mail import Settings, credentials, report
    from .recipients import load_recipients
    from .safeio import check_output_folder
    from .transport import tls_context

    _require(issue)
    _require(to, "recipients file")
    if ca_file is not None:
        _require(ca_file, "CA certificate file")
    if ssl_mode not in (None, "starttls", "ssl"):
        _usage(f"--security must be starttls or ssl, not {ssl_mode!r}")
    if test is not None and address_problem(test):
        _usage(f"--test needs an email address such as you@example.org, not {test!r}")
    if test is not None and dry_run:
        _usage("--test sends one real message per language; --dry-run sends nothing: give one of them")
    book = ledger or default_ledger(out)
    recipients = load_recipients(to)
    if recipients.warnings:
        typer.echo(format_findings(list(recipients.warnings)), err=True)
    server = recipients.recipients.server
    user, password = credentials(host or server.host)
    settings = Settings(
        host or server.host,
        port or server.port,
        ssl_mode or server.security,
        ca_file,
        timeout,
        user,
        password,
    )
    if not dry_run:
        tls_context(ca_file)  # a CA file that holds no certificate stops us before anything is built
    try:
        if dry_run or test is not None:
            the_plan = plan(issue, recipients, out, group, revision=revision, ledger_path=book)
            if dry_run:
                typer.echo(_printable(the_plan.summary()))
                written = write_dry_run(the_plan, out)
                typer.echo(
                    f"dry run: wrote {len(written)} messages to {written[0].parent if written else out}; nothing was sent"
                )
                return
            assert test is not None
            outcomes = send_test_messages(the_plan, settings, book, test)
            for o in outcomes:
                typer.echo(_printable(f"{o.name}: {o.state} ({o.reply})"))
            if any(o.state != "sent" for o in outcomes):
                raise typer.Exit(EXIT_CONTENT)
            typer.echo("no post was sent anything; check the test messages, then send without --test")
            return
        check_output_folder(out)
        with SendLock(book, f"{issue.name} to {to.name}"):
            with Ledger(book):
                pass  # a ledger that cannot be read stops the send before anything is built
            the_plan = plan(issue, recipients, out, group, revision=revision, ledger_path=book)
            with Ledger(book) as open_book:
                typer.echo(_printable(the_plan.summary(open_book, retry_refused)))
                sent, refused = the_plan.settled(open_book, retry_refused)
            waiting = sum(o.post.key not in sent | refused for o in the_plan.outgoing)
            if not waiting and refused:
                typer.echo(
                    f"nothing to send: the {len(refused)} posts that do not have it refused it for good "
                    "(a 5xx reply); add --retry-refused to send to them again"
                )
                raise typer.Exit(EXIT_CONTENT)
            if not waiting:
                typer.echo("every post of this send has it already; nothing to send")
                return
            if not yes:
                if not _on_terminal():
                    _usage(
                        "not on a terminal, so nothing can confirm this send: add --yes to send without asking"
                    )
                if not typer.confirm(f"Send to {waiting} posts?", default=False):
                    typer.echo("nothing was sent", err=True)
                    raise typer.Exit(EXIT_CONTENT)
            with typer.progressbar(length=len(the_plan.outgoing), label="sending", file=sys.stderr) as bar:
                run = deliver(
                    the_plan,
                    settings,
                    book,
                    rate,
                    progress=lambda _o: bar.update(1),
                    max_failures=max_failures,
                    lock=False,
                    retry_refused=retry_refused,
                )
    except UsageError as exc:
        _usage(str(exc))
    resume = _resume_command(
        issue, to, group, revision, out, ledger, rate, host, port, ssl_mode, ca_file, retry_refused
    )
    typer.echo(_printable(report(run, resume)))
    if run.fault is not None:
        typer.echo(f"error: {run.fault}", err=True)
        if run.fault.hint:
            typer.echo(f"      fix: {run.fault.hint}", err=True)
        raise typer.Exit(EXIT_ENVIRONMENT)
    if not run.complete:
        raise typer.Exit(EXIT_CONTENT)


def _usage(message: str) -> NoReturn:
    """A wrong use of ``send``: say so, exit 2."""
    typer.echo(f"error: {message}", err=True)
    typer.echo("nothing was sent", err=True)
    raise typer.Exit(EXIT_USAGE)


def _on_terminal() -> bool:
    """Whether someone can answer a question: standard input and output are a terminal."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _resume_command(
    issue: Path,
    to: Path,
    group: str | None,
    revision: int,
    out: Path,
    ledger: Path | None,
    rate: float | None,
    host: str | None,
    port: int | None,
    security: str | None,
    ca_file: Path | None,
    retry_refused: bool = False,
) -> str:
    """The command that resumes this send, with the options that make it the same send, and
    ``--yes``: it was confirmed when it started."""
    import shlex

    words = ["newsletter", "send", str(issue), "--to", str(to)]
    options: list[tuple[str, object]] = [
        ("--group", group),
        ("--revision", revision if revision > 1 else None),
        ("--out", out if out != Path("out") else None),
        ("--ledger", ledger),
        ("--rate", rate),
        ("--host", host),
        ("--port", port),
        ("--security", security),
        ("--ca-file", ca_file),
    ]
    words += [word for name, value in options if value is not None for word in (name, str(value))]
    words += ["--retry-refused"] * retry_refused + ["--yes"]
    return " ".join(shlex.quote(word) for word in words)


@app.command()
@_reported
def status(
    issue: IssueArg,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger", help="The send ledger (SQLite); <out>/mail/ledger.sqlite by default.", metavar="FILE"
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The folder given to send --out.", metavar="FOLDER")
    ] = Path("out"),
) -> None:
    """Show where each post stands for an issue: who has it, who does not, and why.

    Counts apart the messages whose outcome is unknown (handed to the server with no reply: they may arrive twice), and lists the test sends.
    """
    from .compose import issue_key
    from .distribute import default_ledger
    from .ledger import SCHEMA_VERSION, Ledger
    from .load import load_issue
    from .mail import UNKNOWN_WORDS

    _require(issue)
    key = issue_key(load_issue(issue).issue)
    path = ledger or default_ledger(out)
    if not path.exists():
        typer.echo(f"nothing sent yet for {key} (no ledger at {path})")
        return
    with Ledger(path, create=False, read_only=True) as book:  # status never writes
        entries = book.entries(key)
        tests = book.tests(key)
        schema = book.schema
    if schema < SCHEMA_VERSION:
        typer.echo(
            f"(a ledger of an older version, schema {schema}: read as it is; the next send migrates it)"
        )
    for test in tests:
        when = _when(test.sent)
        which = f" revision {test.revision}" if test.revision > 1 else ""
        typer.echo(_printable(f"test send{which} ({test.language}) to {test.address}, {when}: {test.reply}"))
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
                f"{_printable(e.name)[:40]:<40} {state:<9} {e.attempts:>5}  {e.language:<8} {_printable(e.reply)}"
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
            for note in notes:
                typer.echo(f"{'':<40} {'':<9} {'':>5}  {'':<8} ({_printable(note)})")
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
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def _printable(text: str) -> str:
    """Text from a ledger, a server or a file, with control, format and separator characters
    shown escaped (``\\x1b``), never sent raw to the terminal. Lines are kept."""
    import unicodedata

    hidden = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
    return "".join(
        ch if ch == "\n" or unicodedata.category(ch) not in hidden else ascii(ch)[1:-1] for ch in text
    )


# ---------------------------------------------------------------------------------------
# The editors' workbench: start an issue, look at its pages, compare proofs, the schema.


@app.command()
@_reported
def new(
    previous: Annotated[
        Path,
        typer.Argument(
            help="The previous issue, e.g. issues/issue-10.yaml.", show_default=False, metavar="PREVIOUS"
        ),
    ],
) -> None:
    """Start the next issue beside PREVIOUS: issue-10.yaml gives issue-11.yaml (and issue-11.fr.yaml from issue-10.fr.yaml).

    The number goes up by one, the date by three months, the season to the next; the series, the sections (ids, titles, running titles) and every block with its type stay, their text replaced by TODO placeholders that `newsletter check` reports, each image by a generated stand-in (stand_in: true). Never overwrites a file: when one exists, nothing is written (exit 4).
    """
    from .scaffold import start_next_issue

    _require(previous)
    written = start_next_issue(previous)
    for path in written:
        typer.echo(f"wrote {path}")
    issues = [p for p in written if p.suffix == ".yaml"]
    typer.echo(
        f"next: write the TODOs that `newsletter check {issues[0]}` lists, and replace the stand-in images"
    )


def _progress(label: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A progress bar on standard error, started when the total is first told; and its end."""
    bars: list[Any] = []

    def step(done: int, total: int) -> None:
        if not bars:
            bars.append(typer.progressbar(length=total, label=label, file=sys.stderr))
            bars[0].__enter__()
        bars[0].update(1)

    def end() -> None:
        if bars:
            bars[0].__exit__(None, None, None)

    return step, end


@app.command()
@_reported
def preview(
    issue: IssueArg,
    edition: EditionOpt = EditionChoice["email"],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder the preview goes under: <out>/preview/<issue>-<edition>/.",
            metavar="FOLDER",
        ),
    ] = Path("out"),
    dpi: Annotated[
        float, typer.Option("--dpi", help="Resolution of the page images.", metavar="DPI", min=10, max=600)
    ] = 96.0,
    time_limit: TimeLimitOpt = DEFAULT_TIME_LIMIT,
    layout: LayoutOpt = None,
) -> None:
    """Write PNG images of every page of an edition, of its facing-page spreads and one contact sheet.

    Under out/preview/<issue>-<edition>/: page-01.png..., spread-01.png (the cover), spread-02-03.png..., contact-sheet.png (every page, labelled with how full it is) and pages.json. The edition is built first, with every check of `newsletter build`: an issue with errors gives no preview, and the previous one stays.
    """
    from .build import BuildOptions
    from .preview import make_preview

    _require(issue)
    chosen = _layout(layout)
    names = list(EDITION_NAMES) if edition is EditionChoice["all"] else [edition.value]
    for name in names:
        step, end = _progress(f"{name}: rendering pages")
        try:
            made = make_preview(issue, BuildOptions(name, chosen, time_limit=time_limit), out, dpi, step)
        finally:
            end()
        warnings = [f for f in made.findings if f.severity != "notice"]
        if warnings:
            typer.echo(format_findings(warnings), err=True)
        fills = "  ".join(f"{fill.page}: {fill.full:.0%}" for fill in made.fills)
        typer.echo(f"how full each page is: {fills}")
        typer.echo(
            f"wrote {len(made.pages)} pages, {len(made.spreads)} spreads and {made.sheet.name} to {made.folder}/"
        )


class DiffFormat(str, enum.Enum):
    """How ``diff`` prints the difference."""

    text = "text"
    json = "json"


@app.command(name="diff")
@_reported
def diff_proofs(
    old: Annotated[
        Path, typer.Argument(help="A PDF, or an issue file (built first).", show_default=False, metavar="OLD")
    ],
    new: Annotated[
        Path | None,
        typer.Argument(
            help="A PDF, or an issue file; without it, OLD (an issue file) is compared with its last build.",
            show_default=False,
            metavar="NEW",
        ),
    ] = None,
    edition: Annotated[
        EditionChoice,
        typer.Option("--variant", help=f"The edition an issue file is built as: {', '.join(EDITION_NAMES)}."),
    ] = EditionChoice["email"],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder of the last builds; the difference images go to <out>/diff/<name>/.",
            metavar="FOLDER",
        ),
    ] = Path("out"),
    format: Annotated[
        DiffFormat, typer.Option("--format", help="text for people, json for tools.")
    ] = DiffFormat.text,
    time_limit: TimeLimitOpt = DEFAULT_TIME_LIMIT,
    layout: LayoutOpt = None,
) -> None:
    """Compare two proofs: two PDFs, two issue files, or an issue file with its last build.

    Prints which pages changed (with a PNG of each under out/diff/<name>/: old, new and the difference in red), the text added (+) and removed (-) on each, the pages added or removed, the pages only renumbered, and every page reference that prints another number. Exits 0 when they print the same, 1 when they differ, 2 for a wrong use or an input that cannot be read (a missing file, not a PDF, an issue with errors).
    """
    from .build import BuildOptions
    from .diff import UnreadableInput, compare_inputs, describe

    if edition is EditionChoice["all"]:
        raise _diff_refused("compare one edition at a time: --variant email, print or archive")
    options = BuildOptions(edition.value, _layout(layout), time_limit=time_limit)
    try:
        difference = compare_inputs(old, new, options, out)
    except UnreadableInput as exc:
        raise _diff_refused(str(exc))
    except IssueError as failed:
        typer.echo(format_findings(failed.findings), err=True)
        raise _diff_refused("the issue has errors, so it cannot be built to compare")
    if format is DiffFormat.json:
        typer.echo(json.dumps(difference.as_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(describe(difference))
    if not difference.identical:
        raise typer.Exit(EXIT_CONTENT)


def _diff_refused(message: str) -> typer.Exit:
    """``diff`` could not compare: say why; the exit (2: 1 means "they differ") to raise."""
    typer.echo(f"error: {message}", err=True)
    typer.echo("nothing was compared", err=True)
    return typer.Exit(EXIT_USAGE)


@app.command()
@_reported
def schema(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write it to this file instead of standard output.", metavar="FILE"),
    ] = None,
) -> None:
    """Write the JSON Schema of the issue format, from the models: every field with its description, every block type.

    Editors that speak the YAML language server (e.g. VS Code with the YAML extension) complete and validate an issue file whose first line is `# yaml-language-server: $schema=../docs/issue.schema.json`, as `newsletter new` writes it. The project ships it: `newsletter schema --out docs/issue.schema.json`.
    """
    from .schema import schema_text

    text = schema_text()
    if out is None:
        typer.echo(text, nl=False)
        return
    from .safeio import atomic_write, prepare_folder

    if out.is_dir():
        typer.echo(
            f"error: {out} is a folder: name the schema file, e.g. {out / 'issue.schema.json'}", err=True
        )
        raise typer.Exit(EXIT_USAGE)
    prepare_folder(out.parent)
    try:
        atomic_write(out, text.encode("utf-8"))
    except OSError as exc:
        raise EnvironmentFault(
            f"cannot write: {exc.strerror or exc}", out, "choose another file with --out"
        ) from None
    typer.echo(f"wrote {out}")


#: One edition (``serve`` and ``fit`` look at one edition at a time).
OneEdition = enum.Enum("OneEdition", {name: name for name in EDITION_NAMES}, type=str)  # type: ignore[misc]
OneEditionOpt = Annotated[
    OneEdition, typer.Option("--variant", help=f"The edition: {', '.join(EDITION_NAMES)}.")
]


@app.command()
@_reported
def serve(
    issue: IssueArg,
    port: Annotated[
        int,
        typer.Option("--port", help="Port on 127.0.0.1 (0: any free port).", metavar="N", min=0, max=65535),
    ] = 8000,
    edition: OneEditionOpt = OneEdition["email"],
    time_limit: TimeLimitOpt = DEFAULT_TIME_LIMIT,
    layout: LayoutOpt = None,
) -> None:
    """A live preview in the browser, on this machine only (http://127.0.0.1:8000/): the pages as facing pages, how full each is, the findings beside their page.

    Saving the issue, an image or a layout file updates the page by itself (only the pages that changed are fetched again); a save with errors shows them over the last good pages. The Mail button shows the message a post receives in each language; the Fit button runs `newsletter fit --write`. Ctrl-C stops it. A port already taken ends it with exit 4.
    """
    from .serve import ServeOptions
    from .serve import serve as run_server

    _require(issue)
    try:
        run_server(
            ServeOptions(issue, edition.value, _layout(layout), port, time_limit=time_limit), typer.echo
        )
    except KeyboardInterrupt:
        pass  # uvicorn has shut down cleanly and passes the Ctrl-C on
    typer.echo("stopped")


@app.command()
@_reported
def fit(
    issue: IssueArg,
    write: Annotated[
        bool,
        typer.Option("--write", help="Write the chosen settings into the issue (comments and layout kept)."),
    ] = False,
    edition: OneEditionOpt = OneEdition["email"],
    layout: LayoutOpt = None,
) -> None:
    """Fit the sections that end badly to their pages, as a typesetter would: shows what it would change.

    For each section the copy-fit check finds (a few lines spilt onto a page of their own, a last page under half full), tries within the bounds of the layout's fit.yaml, least intrusive first: tracking (±1 %), image sizes (±10 %), columns filled in turn instead of balanced, the next section starting on this one's last page. A try is kept when it fits the section without adding a page or an error, and with no more warnings than before. With --write the chosen settings go into the issue as `fit:` fields (and `new_page: false`), which every build applies as written.
    """
    from .fit import fit_issue

    _require(issue)
    fitting = fit_issue(
        issue, _layout(layout), edition.value, write, lambda step: typer.echo(f"trying {step}", err=True)
    )
    typer.echo(fitting.describe())
    if fitting.changed:
        typer.echo(
            f"wrote {issue}"
            if write
            else f"run `newsletter fit {issue} --write` to write these into the issue"
        )


def main() -> None:
    """Entry point: run the app; an unexpected exception is an internal failure (exit 3).

    Typer's standalone mode already exits 2 on usage errors and passes ``typer.Exit`` codes
    through; the commands map the issue's errors (1) and the environment's (4); anything
    else escaping a command is a bug of ours.
    """
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        typer.echo(
            "internal error: the newsletter tool failed; this is a bug, not your issue file.", err=True
        )
        typer.echo(f"Please report it to {REPORT_TO}, with this text:", err=True)
        typer.echo("".join(traceback.format_exception(exc)), err=True)
        sys.exit(EXIT_INTERNAL)
