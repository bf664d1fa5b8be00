"""``newsletter send``: the email edition of an issue to the posts, with its plan, its
confirmation, its progress and the command that resumes it; or a dry run, or test messages.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from ..errors import format_findings
from .common import EXIT_CONTENT, EXIT_ENVIRONMENT, EXIT_USAGE, Stop, printable, require

if TYPE_CHECKING:
    from ..send.copies import Signing
    from ..send.recipients import RecipientList


def run(
    issue: Path,
    to: Path,
    group: str | None,
    dry_run: bool,
    test: str | None,
    yes: bool,
    revision: int,
    out: Path,
    ledger: Path | None,
    rate: float | None,
    timeout: float,
    max_failures: int,
    host: str | None,
    port: int | None,
    ssl_mode: str | None,
    ca_file: Path | None,
    retry_refused: bool,
    sign: Path | None = None,
    tsa: str | None = None,
    copy_line: bool = True,
) -> None:
    """Send ``issue`` to the posts of ``to`` (see ``newsletter send --help``); ``Stop`` with
    1 when not everything was sent, 2 for a wrong use, 4 when the server failed us."""
    from ..issue.headers import address_problem
    from ..safeio import check_output_folder
    from ..send.ledger import Ledger, default_ledger
    from ..send.lock import SendLock
    from ..send.loop import Settings, credentials, report
    from ..send.plan import UsageError, deliver, plan, send_test_messages
    from ..send.plan import dry_run as write_dry_run
    from ..send.recipients import load_recipients
    from ..send.transport import tls_context

    require(issue)
    require(to, "recipients file")
    if ca_file is not None:
        require(ca_file, "CA certificate file")
    if ssl_mode not in (None, "starttls", "ssl"):
        usage(f"--security must be starttls or ssl, not {ssl_mode!r}")
    if test is not None and address_problem(test):
        usage(f"--test needs an email address such as you@example.org, not {test!r}")
    if test is not None and dry_run:
        usage("--test sends one real message per language; --dry-run sends nothing: give one of them")
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
    if test is None and not dry_run:
        _hold_until_release(issue)
    signing = _signing(recipients, sign, tsa, copy_line)
    try:
        if dry_run or test is not None:
            the_plan = plan(
                issue, recipients, out, group, revision=revision, ledger_path=book, signing=signing
            )
            if dry_run:
                typer.echo(printable(the_plan.summary()))
                written = write_dry_run(the_plan, out, book)
                typer.echo(
                    f"dry run: wrote {len(written)} messages to {written[0].parent if written else out}; nothing was sent"
                )
                return
            assert test is not None
            outcomes = send_test_messages(the_plan, settings, book, test)
            for o in outcomes:
                typer.echo(printable(f"{o.name}: {o.state} ({o.reply})"))
            if any(o.state != "sent" for o in outcomes):
                raise Stop(EXIT_CONTENT)
            typer.echo("no post was sent anything; check the test messages, then send without --test")
            return
        check_output_folder(out)
        with SendLock(book, f"{issue.name} to {to.name}"):
            with Ledger(book):
                pass  # a ledger that cannot be read stops the send before anything is built
            the_plan = plan(
                issue, recipients, out, group, revision=revision, ledger_path=book, signing=signing
            )
            with Ledger(book) as open_book:
                typer.echo(printable(the_plan.summary(open_book, retry_refused)))
                sent, refused = the_plan.settled(open_book, retry_refused)
            waiting = sum(o.post.key not in sent | refused for o in the_plan.outgoing)
            if not waiting and refused:
                typer.echo(
                    f"nothing to send: the {len(refused)} posts that do not have it refused it for good "
                    "(a 5xx reply); add --retry-refused to send to them again"
                )
                raise Stop(EXIT_CONTENT)
            if not waiting:
                typer.echo("every post of this send has it already; nothing to send")
                return
            if not yes:
                if not _on_terminal():
                    usage(
                        "not on a terminal, so nothing can confirm this send: add --yes to send without asking"
                    )
                if not typer.confirm(f"Send to {waiting} posts?", default=False):
                    typer.echo("nothing was sent", err=True)
                    raise Stop(EXIT_CONTENT)
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
        usage(str(exc))
    resume = _resume_command(
        issue,
        to,
        group,
        revision,
        out,
        ledger,
        rate,
        host,
        port,
        ssl_mode,
        ca_file,
        retry_refused,
        (sign, tsa, copy_line),
    )
    typer.echo(printable(report(run, resume)))
    if run.fault is not None:
        typer.echo(f"error: {run.fault}", err=True)
        if run.fault.hint:
            typer.echo(f"      fix: {run.fault.hint}", err=True)
        raise Stop(EXIT_ENVIRONMENT)
    if not run.complete:
        raise Stop(EXIT_CONTENT)


def _hold_until_release(issue: Path) -> None:
    """``Stop`` (1) when the issue's ``release`` is still to come: nothing goes to the posts
    before it (``--test`` and ``--dry-run`` may)."""
    import datetime as dt

    from ..send.plan import held_until, language_sources

    now = dt.datetime.now(dt.UTC)
    held = held_until(language_sources(issue), now)
    if held is None:
        return
    release, path = held
    left = release - now
    hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
    typer.echo(
        printable(
            f"{path}: release: the issue is held until its release, {release.isoformat()} "
            f"(in {hours} h {minutes:02d} min); nothing was sent. `--test ADDRESS` and `--dry-run` "
            "may run before it; send again once it has come"
        ),
        err=True,
    )
    raise Stop(EXIT_CONTENT)


def _signing(
    recipients: RecipientList, sign: Path | None, tsa: str | None, copy_line: bool
) -> Signing | None:
    """The signing of this send: ``--sign``, else the recipients file's ``signing.certificate``
    (relative to it); None when neither names one."""
    from ..send.copies import Signing
    from .signing import open_key

    settings = recipients.recipients.signing
    if sign is None and settings is not None and settings.certificate:
        sign = recipients.path.parent / settings.certificate
    if sign is None:
        if not copy_line:
            usage("--no-copy-line turns off the copy line of signed copies: give --sign CERT.p12 too")
        return None
    url = tsa or (settings.tsa if settings is not None else None)
    return Signing(open_key(sign, url), copy_line)


def usage(message: str) -> NoReturn:
    """A wrong use of ``send``: say so, exit 2."""
    typer.echo(f"error: {message}", err=True)
    typer.echo("nothing was sent", err=True)
    raise Stop(EXIT_USAGE)


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
    signed: tuple[Path | None, str | None, bool] = (None, None, True),
) -> str:
    """The command that resumes this send, with the options that make it the same send (the
    same ``--sign``: the posts not yet sent get the same copies, signed again), and ``--yes``:
    it was confirmed when it started."""
    sign, tsa, copy_line = signed
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
        ("--sign", sign),
        ("--tsa", tsa),
    ]
    words += [word for name, value in options if value is not None for word in (name, str(value))]
    words += ["--no-copy-line"] * (not copy_line and sign is not None)
    words += ["--retry-refused"] * retry_refused + ["--yes"]
    return " ".join(shlex.quote(word) for word in words)
