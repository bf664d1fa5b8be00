"""The editors' command line: every command declared to typer (its arguments, options and
help), each calling its module in ``commands/`` once; how a command ends becomes the exit
code here (``_reported``).

Exit codes: 0 done; 1 the issue has errors (content, layout or output checks), or ``send``
could not send everything; 2 the command was used wrongly (unknown option, a folder where a
file is expected); 3 the tool itself failed (a bug: please report it), and nothing else;
4 the environment: an output folder that cannot be written or is full, a file named on the
command line that is missing or unreadable, a broken state file, a mail server that cannot
be reached.

This module imports only what parsing needs: each command's module is imported when the
command runs, and WeasyPrint and pikepdf load only in the commands that use them, so that
``newsletter --help`` answers at once and ``new``, ``status`` and ``schema`` never load them.
"""

from __future__ import annotations

import enum
import functools
import gc
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from . import __version__
from .commands.common import (
    EXIT_CONTENT,
    EXIT_ENVIRONMENT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    Stop,
    one_shot_collector,
)
from .defaults import DEFAULT_MAX_FAILURES, DEFAULT_SMTP_TIMEOUT, DEFAULT_TIME_LIMIT
from .editions import EDITION_NAMES, EDITIONS
from .errors import EnvironmentFault, IssueError, format_findings

__all__ = ["EXIT_CONTENT", "EXIT_ENVIRONMENT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "app", "main"]
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
    """Map how a command ends to its exit code: ``Stop`` (the command said why) to its code,
    and the one vocabulary of failures, printed the same way by every command."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except Stop as stopped:
            raise typer.Exit(stopped.code) from None
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
    sign: Annotated[
        Path | None,
        typer.Option(
            "--sign",
            help="Sign the email and archive editions (PAdES) with this PKCS#12 file, its passphrase from NEWSLETTER_SIGN_PASSPHRASE or asked for; the print edition is never signed.",
            metavar="CERT.p12",
        ),
    ] = None,
) -> None:
    """Build an edition of an issue: out/<name>-email.pdf, -print.pdf or -archive.pdf.

    Runs every check of `newsletter check` first; on any error nothing is written and the previous PDF stays as it was. Every "page N" in the text is computed from the layout and checked against the page where its target really is.
    """
    from .commands import build

    with one_shot_collector():
        build.run(issue, edition.value, out, html, strict, time_limit, layout, colour_bar, sign)


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
    from .commands import check

    with one_shot_collector():
        check.run(issue, edition.value, strict, format is Format.json, time_limit, layout, out)


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
    sign: Annotated[
        Path | None,
        typer.Option(
            "--sign",
            help="Sign each post's copy (PAdES) with this PKCS#12 file (.p12), its passphrase from NEWSLETTER_SIGN_PASSPHRASE or asked for; the recipients file's signing.certificate when not given.",
            metavar="CERT.p12",
        ),
    ] = None,
    tsa: Annotated[
        str | None,
        typer.Option(
            "--tsa",
            help="Time-stamp each signature at this time-stamping authority (an RFC 3161 URL): PAdES B-T.",
            metavar="URL",
        ),
    ] = None,
    copy_line: Annotated[
        bool,
        typer.Option(
            "--copy-line/--no-copy-line",
            help="Stamp each post's signed copy with a line naming the post, the day and its N° (on by default).",
        ),
    ] = True,
) -> None:
    """Send the email edition of an issue to the diplomatic posts, one message each.

    Builds the email edition (or reuses it when up to date) and refuses to send one that fails its checks. Prints what it will send (posts by language and group, editions and their sizes, notices) and asks before sending; without a terminal, --yes is needed. Try it first with --test ADDRESS. Every message is recorded in a ledger before and after it is handed to the server: run the same command again to resume, and only what is not confirmed sent goes out. One send at a time per ledger. Credentials come from NEWSLETTER_SMTP_USER and NEWSLETTER_SMTP_PASSWORD, or the system keyring.
    """
    from .commands import send

    send.run(
        issue,
        to,
        group,
        dry_run,
        test,
        yes,
        revision,
        out,
        ledger,
        rate,
        timeout,
        max_failures,
        host,
        port,
        ssl_mode,
        ca_file,
        retry_refused,
        sign,
        tsa,
        copy_line,
    )


@app.command()
@_reported
def verify(
    pdf: Annotated[
        Path,
        typer.Argument(
            help="The PDF to check, e.g. a copy a post received.", show_default=False, metavar="FILE.pdf"
        ),
    ],
    trust: Annotated[
        list[Path] | None,
        typer.Option(
            "--trust",
            help="A certificate (PEM or DER) the signer must chain to: the ministry's CA. May be given more than once.",
            metavar="CA.pem",
        ),
    ] = None,
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="A recipients file whose signing.trust names the certificates to trust.",
            metavar="FILE",
        ),
    ] = None,
) -> None:
    """Say whether FILE.pdf is an authentic edition: signed by a trusted certificate, unchanged since, and for which issue, edition, language and post it was made, and when.

    Exit 0 when it is authentic, 1 when it is not (changed, unsigned, signed by someone else), with the reason.
    """
    from .commands import verify

    verify.run(pdf, trust or [], to)


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
    from .commands import status

    status.run(issue, ledger, out)


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
    from .commands import new

    new.run(previous)


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
    from .commands import preview

    preview.run(issue, edition.value, out, dpi, time_limit, layout)


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
    from .commands import diff

    diff.run(old, new, edition.value, out, format is DiffFormat.json, time_limit, layout)


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
    from .commands import schema

    schema.run(out)


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
    from .commands import serve

    serve.run(issue, port, edition.value, time_limit, layout)


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
    from .commands import fit

    fit.run(issue, write, edition.value, layout)


# ---------------------------------------------------------------------------------------
# The translator's round trip.

translate_app = typer.Typer(
    help="The translator's round trip: the texts of one edition out as XLIFF or PO, the translations back into the other.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(translate_app, name="translate")


class TranslationFormat(str, enum.Enum):
    """The translator's file: XLIFF 1.2 or PO (gettext)."""

    xliff = "xliff"
    po = "po"


@translate_app.command("export")
@_reported
def translate_export(
    issue: IssueArg,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="The language to translate into: en or fr (the issue's other language by default).",
            metavar="LANG",
        ),
    ] = None,
    form: Annotated[
        TranslationFormat, typer.Option("--format", help="xliff (XLIFF 1.2) or po (gettext).")
    ] = TranslationFormat.xliff,
    everything: Annotated[bool, typer.Option("--all", help="Every text, the ones up to date too.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="The file to write; out/translate/<issue>.<lang>.xlf (or .po) by default.",
            metavar="FILE",
        ),
    ] = None,
) -> None:
    """Write the texts of ISSUE that its edition in another language lacks or that changed since they were translated, for a translator's tool.

    Each text is a unit keyed by its field (section and block ids, field), with the source, the current translation when there is one, a note (the field, its kind and length) and its state: new, changed since translated (XLIFF needs-review-translation, PO fuzzy), or up to date (only with --all). Emphasis, links and page references travel as codes the translator moves but cannot break (XLIFF <g>/<x/>, PO <1>...</1>, <2/>).
    """
    from .commands import translate

    if to is not None and to not in ("en", "fr"):
        raise typer.BadParameter("give en or fr", param_hint="--to")
    translate.export(issue, to, form.value, everything, out)


@translate_app.command("import")
@_reported
def translate_import(
    issue: Annotated[
        Path,
        typer.Argument(
            help="The edition to write into, e.g. issues/issue-11.fr.yaml.",
            show_default=False,
            metavar="ISSUE",
        ),
    ],
    file: Annotated[
        Path,
        typer.Argument(
            help="The translator's file: .xlf (XLIFF 1.2) or .po.", show_default=False, metavar="FILE"
        ),
    ],
) -> None:
    """Write the translations of FILE into ISSUE, its comments and layout kept, and record what source each was translated from.

    A unit is refused (exit 1, each located in FILE) when its codes were broken, when its text is gone from the source edition, or when ISSUE has no block for it; the other units are written. A unit still marked for translation or review whose text is unchanged is left as it is. `newsletter check` then reports every text whose source changed since it was translated.
    """
    from .commands import translate

    translate.import_(issue, file)


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
    finally:
        # The command is over: what it built (a laid-out document is a few hundred thousand
        # objects) is left for the system to take back with the process, instead of a last
        # collection of them all at exit (0.12 s of a 3 s build). Exit handlers and the
        # flushing of output still run; files are closed by the commands' own ``with``.
        gc.freeze()
