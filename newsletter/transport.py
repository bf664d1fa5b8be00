"""How a message reaches a server: the ``Transport`` seam, and SMTP behind it.

The send loop (``mail.send``) decides what to send, when to retry and what to write in the
ledger; a transport only hands one message over and says what became of it, in one of four
ways:

- it returns: the server took the message (the recipients it refused, if any, listed);
- ``Refused``: the server answered no (4xx: later; 5xx: never); nothing was delivered;
- ``Unreachable``: no server to talk to (a refused connection, a timeout, a line dropped
  before the body was handed over); nothing was delivered;
- ``Unknown``: the body was handed over and the reply never came (a timeout, a dropped
  line); the message may have arrived.

``handing_over`` is called just before the body goes: from then on an interruption (a kill)
is an unknown outcome, and the loop records that first.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .defaults import DEFAULT_SMTP_TIMEOUT as DEFAULT_TIMEOUT
from .errors import EnvironmentFault


class MailError(EnvironmentFault):
    """Sending cannot start (no server, a certificate refused, a message over the SIZE limit)."""


class Refused(Exception):
    """The server answered no; nothing was delivered."""

    def __init__(self, reply: str, permanent: bool, refused: dict[str, str] | None = None) -> None:
        super().__init__(reply)
        self.reply = reply
        self.permanent = permanent
        #: Recipient -> the server's reply, for recipients refused one by one.
        self.refused = refused or {}


class Unreachable(Exception):
    """No server to talk to, or the line dropped before the body was handed over."""

    def __init__(self, reason: str, timeout: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timeout = timeout


class Unknown(Exception):
    """The body was handed over but no reply came: the message may have arrived."""

    def __init__(self, reason: str, timeout: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timeout = timeout


class Transport(Protocol):
    """Hands messages to a server, one at a time."""

    def size_limit(self) -> int:
        """The largest message the server takes, in bytes (0: it does not say)."""
        ...

    def send(
        self, sender: str, recipients: list[str], data: bytes, handing_over: Callable[[], None]
    ) -> dict[str, str]:
        """Hand ``data`` over for ``recipients``; return the recipients refused one by one.

        Raises ``Refused``, ``Unreachable`` or ``Unknown`` (see the module's docstring).
        """
        ...

    def close(self) -> None:
        """End the conversation politely, if there is one."""
        ...


@dataclass(frozen=True)
class Settings:
    """How to reach the server. Credentials come from the environment or the keyring."""

    host: str
    port: int
    security: str  # "starttls" or "ssl"
    ca_file: Path | None = None
    #: Seconds to wait for each reply (and each write): a hung server costs at most this per step.
    timeout: float = DEFAULT_TIMEOUT
    user: str | None = None
    password: str | None = None


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate verification always on; ``ca_file`` trusted besides the system's CAs.

    Raises ``MailError`` when the CA file cannot be read or holds no certificate.
    """
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except ssl.SSLError as exc:
        raise MailError(
            f"no CA certificate could be read from it ({exc.reason or exc})",
            ca_file,
            "give --ca-file a PEM file (-----BEGIN CERTIFICATE-----) of the CA that signed the server's certificate",
        ) from None
    except OSError as exc:
        raise MailError(f"cannot read the CA certificate file: {exc.strerror or exc}", ca_file) from None


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()


def _dot_stuffed(data: bytes) -> bytes:
    """The body as DATA sends it: CRLF line ends, a leading dot doubled, ended by CRLF.CRLF."""
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class SmtpTransport:
    """SMTP with STARTTLS or SSL, certificates verified, one connection reused.

    The first connection is made at once, and its failures are ``MailError`` (nothing can be
    sent: exit 4). Later reconnections, after a dropped line, fail as ``Unreachable``.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._context = tls_context(settings.ca_file)
        try:
            self._smtp: smtplib.SMTP | None = self._connect()
        except Unreachable as exc:
            raise MailError(exc.reason) from None
        self._size = int(self._smtp.esmtp_features.get("size", "0") or 0)

    def size_limit(self) -> int:
        """The SIZE the server announced in its EHLO reply (0: none)."""
        return self._size

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        where = f"{settings.host}:{settings.port}"
        smtp: smtplib.SMTP | None = None
        try:
            if settings.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout, context=self._context
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise MailError(f"{where} does not offer STARTTLS; refusing to send in clear")
                smtp.starttls(context=self._context)
            smtp.ehlo()
            if settings.user:
                if not settings.password:
                    raise MailError(
                        "NEWSLETTER_SMTP_USER is set but no password was found (environment or keyring)"
                    )
                smtp.login(settings.user, settings.password)
            return smtp
        except ssl.SSLCertVerificationError as exc:
            _close(smtp)
            raise MailError(
                f"the certificate of {where} was refused ({exc.verify_message}); "
                "give its CA with --ca-file if it is your own server"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            _close(smtp)
            raise MailError(f"{where} refused the login: {_reply(exc.smtp_code, exc.smtp_error)}") from None
        except MailError:
            _close(smtp)
            raise
        except (OSError, smtplib.SMTPException) as exc:
            _close(smtp)
            timeout = _timed_out(exc)
            reason = f"no reply within {settings.timeout:g} s" if timeout else str(exc) or type(exc).__name__
            raise Unreachable(f"cannot reach {where}: {reason}", timeout) from None

    def send(
        self, sender: str, recipients: list[str], data: bytes, handing_over: Callable[[], None]
    ) -> dict[str, str]:
        """MAIL, RCPT for each recipient, DATA; see ``Transport.send``."""
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except MailError as exc:  # a certificate or a login refused on reconnection
                raise Unreachable(exc.message) from None
        smtp = self._smtp
        handed_over = False
        try:
            code, text = smtp.mail(sender)
            if code != 250:
                self._reset()
                raise Refused(_reply(code, text), code >= 500)
            refused = {}
            for address in recipients:
                code, text = smtp.rcpt(address)
                if code not in (250, 251):
                    refused[address] = _reply(code, text)
            if len(refused) == len(recipients):
                self._reset()
                permanent = all(reply[:1] == "5" for reply in refused.values())
                raise Refused("; ".join(f"{a}: {r}" for a, r in refused.items()), permanent, refused)
            code, text = smtp.docmd("data")
            if code != 354:
                self._reset()
                raise Refused(_reply(code, text), code >= 500)
            try:
                handing_over()
            except BaseException:
                # The server waits for the body; it will never come: drop the line, no QUIT.
                self.close(polite=False)
                raise
            handed_over = True
            smtp.send(_dot_stuffed(data))
            code, text = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self.close(polite=False)
            timeout = _timed_out(exc)
            reason = (
                f"no reply within {self._settings.timeout:g} s"
                if timeout
                else f"connection lost: {exc or type(exc).__name__}"
            )
            if handed_over:
                raise Unknown(reason, timeout) from None
            raise Unreachable(reason, timeout) from None
        if code != 250:
            raise Refused(_reply(code, text), code >= 500)
        return refused

    def _reset(self) -> None:
        """RSET after a refusal, so the connection serves the next message; drop it if that fails."""
        try:
            assert self._smtp is not None
            self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close(polite=False)

    def close(self, polite: bool = True) -> None:
        """QUIT (when ``polite``) and close; the next ``send`` reconnects."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None and polite:
            try:
                smtp.quit()
                return
            except (OSError, smtplib.SMTPException):
                pass
        _close(smtp)


def _timed_out(exc: BaseException) -> bool:
    """Whether the server said nothing in time (smtplib wraps the timeout in
    ``SMTPServerDisconnected``; the timeout is then its context)."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        try:
            smtp.close()
        except OSError:
            pass
