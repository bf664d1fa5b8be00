"""How a message reaches a server: the ``Transport`` seam, and SMTP behind it.

The send loop (``loop.send``) decides what to send, when to retry and what to write in the
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

Time is bounded whatever the server does: each reply (the greeting, each command's, DATA's
answer) must arrive whole within the timeout, however slowly its bytes come, and each message
(its connection, if one is made, and every step) within ``POST_BUDGET`` times the timeout.
smtplib alone bounds each read, not each reply: a server sending a byte a second held a send
for minutes at the greeting, and for ever with no end of line.
"""

from __future__ import annotations

import math
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..defaults import DEFAULT_SMTP_TIMEOUT as DEFAULT_TIMEOUT
from ..errors import EnvironmentFault

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

#: A message (with its connection, when one is made) may take at most this many timeouts.
POST_BUDGET = 5


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
    #: Seconds each reply may take, whole (and each write); a message at most ``POST_BUDGET``
    #: times this: a hung or dripping server costs at most that per message.
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


class _Clock:
    """How long the conversation may still take: each step (a reply, a write, connecting) at
    most ``timeout`` seconds, and every step of one message (or of the first connection, or the
    goodbye) together at most ``POST_BUDGET`` times that."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._end = math.inf

    def start(self) -> None:
        """A message (or a connection, or the goodbye) begins: its time starts now."""
        self._end = time.monotonic() + POST_BUDGET * self.timeout

    @property
    def over(self) -> bool:
        """Whether the message's time is up."""
        return time.monotonic() >= self._end

    def left(self, deadline: float = math.inf) -> float:
        """Seconds a step ending by ``deadline`` may still wait; ``TimeoutError`` when none."""
        now = time.monotonic()
        left = min(self.timeout, deadline - now, self._end - now)
        if left <= 0:
            raise TimeoutError("timed out")
        return left

    def next_step(self) -> float:
        """The wait of a step that cannot be told it is over (a positive socket timeout:
        with no time left it times out at once)."""
        return max(0.001, min(self.timeout, self._end - time.monotonic()))


class _Replies:
    """What smtplib reads the server's replies from, in place of ``socket.makefile``: lines,
    each ``recv`` waiting only the time its reply has left, so that a reply is whole by its
    deadline however slowly it is sent. Works on any socket, plain or TLS."""

    def __init__(self, sock: socket.socket, clock: _Clock) -> None:
        self._sock = sock
        self._clock = clock
        self._buffer = bytearray()
        #: When the reply being read must be whole (``time.monotonic``).
        self.deadline = math.inf

    def readline(self, limit: int = -1) -> bytes:
        """One line (at most ``limit`` bytes), or what came before the server closed."""
        while (end := self._buffer.find(b"\n")) < 0 and not 0 <= limit <= len(self._buffer):
            self._sock.settimeout(self._clock.left(self.deadline))
            chunk = self._sock.recv(8192)
            if not chunk:
                break
            self._buffer += chunk
        cut = end + 1 if end >= 0 else len(self._buffer)
        if 0 <= limit < cut:
            cut = limit
        line = bytes(self._buffer[:cut])
        del self._buffer[:cut]
        # What smtplib does next without us (the TLS handshake after STARTTLS) waits no longer.
        self._sock.settimeout(self._clock.next_step())
        return line

    def close(self) -> None:
        """Nothing to close: the socket is smtplib's."""
        self._buffer.clear()


class _Smtp(smtplib.SMTP):
    """smtplib's SMTP with every step bounded by a ``_Clock``: connecting, each write, each
    reply read whole, the TLS handshakes (STARTTLS, or SMTPS in ``_SmtpSsl``)."""

    def __init__(self, host: str, port: int, clock: _Clock) -> None:
        self._clock = clock  # before connecting: the greeting is read with it
        super().__init__(host, port, timeout=clock.timeout)

    def _get_socket(self, host: str, port: int, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((host, port), self._clock.left(), self.source_address)
        if not isinstance(self, smtplib.SMTP_SSL):
            return sock
        try:
            sock.settimeout(self._clock.left())
            return self.context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise

    def send(self, s: ReadableBuffer | str) -> None:
        """Write a command or the body, within the time left (``sendall`` is bounded as a whole)."""
        if self.sock is not None:
            self.sock.settimeout(self._clock.left())
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        """A reply, whole within the timeout (and the message's time)."""
        if self.file is None and self.sock is not None:  # a new connection, or TLS after STARTTLS
            self.file = _Replies(self.sock, self._clock)
        if isinstance(self.file, _Replies):
            self.file.deadline = time.monotonic() + self._clock.timeout
        return super().getreply()


class _SmtpSsl(_Smtp, smtplib.SMTP_SSL):
    """``_Smtp`` over TLS from the first byte (SMTPS)."""

    def __init__(self, host: str, port: int, clock: _Clock, context: ssl.SSLContext) -> None:
        self._clock = clock
        smtplib.SMTP_SSL.__init__(self, host, port, timeout=clock.timeout, context=context)


class SmtpTransport:
    """SMTP with STARTTLS or SSL, certificates verified, one connection reused.

    The first connection is made at once, and its failures are ``MailError`` (nothing can be
    sent: exit 4). Later reconnections, after a dropped line, fail as ``Unreachable``.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._context = tls_context(settings.ca_file)
        self._clock = _Clock(settings.timeout)
        self._clock.start()
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
                smtp = _SmtpSsl(settings.host, settings.port, self._clock, self._context)
            else:
                smtp = _Smtp(settings.host, settings.port, self._clock)
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
            reason = self._silence() if timeout else str(exc) or type(exc).__name__
            raise Unreachable(f"cannot reach {where}: {reason}", timeout) from None

    def _silence(self) -> str:
        """What a timeout was: one step too slow, or the whole message."""
        if self._clock.over:
            return f"no reply within the {POST_BUDGET * self._settings.timeout:g} s a message may take"
        return f"no reply within {self._settings.timeout:g} s"

    def send(
        self, sender: str, recipients: list[str], data: bytes, handing_over: Callable[[], None]
    ) -> dict[str, str]:
        """MAIL, RCPT for each recipient, DATA; see ``Transport.send``."""
        self._clock.start()
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
            reason = self._silence() if timeout else f"connection lost: {exc or type(exc).__name__}"
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
            self._clock.start()  # the goodbye has its own time, not what the last message left
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
