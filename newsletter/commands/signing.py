"""What ``send --sign`` and ``build --sign`` share: the signing key, opened with its
passphrase from ``NEWSLETTER_SIGN_PASSPHRASE`` or asked for on the terminal, never read from a
file of the repository."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .common import EXIT_USAGE, Stop, require

if TYPE_CHECKING:
    from ..authentic.sign import SigningKey

PASSPHRASE_VARIABLE = "NEWSLETTER_SIGN_PASSPHRASE"


def open_key(certificate: Path, tsa_url: str | None) -> SigningKey:
    """The signing key in the PKCS#12 file ``certificate``; ``Stop`` (2) with the reason when
    it cannot be opened, or when its passphrase can be neither read nor asked for."""
    from ..authentic.sign import SigningError, load_signing_key

    require(certificate, "signing certificate (.p12)")
    passphrase = os.environ.get(PASSPHRASE_VARIABLE)
    if passphrase is None:
        if not sys.stdin.isatty():
            typer.echo(
                f"error: the passphrase of {certificate} is needed: set {PASSPHRASE_VARIABLE}, "
                "or run from a terminal to be asked for it",
                err=True,
            )
            raise Stop(EXIT_USAGE)
        passphrase = typer.prompt(f"Passphrase of {certificate.name}", hide_input=True, default="")
    if tsa_url is not None and not tsa_url.startswith(("http://", "https://")):
        typer.echo(f"error: the time-stamping authority must be an http(s) URL, not {tsa_url!r}", err=True)
        raise Stop(EXIT_USAGE)
    try:
        return load_signing_key(certificate, passphrase, tsa_url)
    except SigningError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise Stop(EXIT_USAGE) from None
