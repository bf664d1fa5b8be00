"""``newsletter verify``: whether a PDF is an authentic edition, and for whom it was made."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from .common import EXIT_CONTENT, EXIT_USAGE, Stop, printable, require


def run(pdf: Path, trust: list[Path], to: Path | None) -> None:
    """Print the verdict on ``pdf``; ``Stop`` with 1 when it is not authentic, 2 when no
    certificate to trust was given."""
    from ..authentic.verify import load_trust, verify_file
    from ..send.recipients import load_recipients

    require(pdf, "PDF file")
    anchors = list(trust)
    if to is not None:
        require(to, "recipients file")
        recipients = load_recipients(to)
        settings = recipients.recipients.signing
        anchors += [to.parent / name for name in (settings.trust if settings else [])]
    if not anchors:
        typer.echo(
            "error: name the certificate the signer must chain to: --trust CA.pem "
            "(or a recipients file whose signing.trust names it: --to FILE)",
            err=True,
        )
        raise Stop(EXIT_USAGE)
    for anchor in anchors:
        require(anchor, "certificate file")
    try:
        certificates = load_trust(anchors)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise Stop(EXIT_USAGE) from None
    # pyHanko logs a whole traceback for a signer it cannot trust: the verdict says it in words.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    verdict = verify_file(pdf, certificates)
    record = verdict.record
    if verdict.authentic:
        typer.echo(printable(f"authentic: {pdf}"))
    else:
        typer.echo(printable(f"NOT authentic: {pdf}"))
        for reason in verdict.reasons:
            typer.echo(printable(f"  - {reason}"))
    if record is not None:
        claims = "" if verdict.authentic else "it claims to be "
        typer.echo(printable(f"  {claims}{record.title}, {record.edition} edition, in {record.language}"))
        if record.post:
            typer.echo(printable(f"  copy N° {record.number:04d} for {record.post}, made {record.made}"))
        else:
            typer.echo("  the edition for every reader (no post's copy line)")
    if verdict.signer:
        when = verdict.signed_at.isoformat(timespec="seconds") if verdict.signed_at else "an unknown time"
        source = "time-stamped by an authority" if verdict.timestamped else "by the signer's clock"
        typer.echo(printable(f"  signed by {verdict.signer} at {when} ({source})"))
    if not verdict.authentic:
        raise Stop(EXIT_CONTENT)
