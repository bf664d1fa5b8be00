"""Replies bounded in time whatever the server does: ``--timeout`` bounds each whole reply
(the greeting, each command's, DATA's answer), however slowly its bytes come, and each message
at most five times the timeout, over STARTTLS and SMTPS; a server that drips forever is a
timeout like any other, and ``--max-failures`` stops the run."""

# The server and edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from mailkit import Faults, Handler, _recipients, send_args
from typer.testing import CliRunner

from newsletter import cli
from newsletter.send.loop import MailError, Settings
from newsletter.send.transport import POST_BUDGET, SmtpTransport, Unknown, Unreachable

#: What the tests measured, printed (``pytest -s`` shows them).
FIGURES: dict[str, str] = {}


def _figure(name: str, text: str) -> None:
    FIGURES[name] = text
    print(f"\n[figure] {name}: {text}")


class SlowServer:
    """An SMTP server on 127.0.0.1 speaking just enough of it, slowly as told: at ``drip``
    ("greeting" or "data", the reply to the message), a byte every ``step`` seconds with the
    line never ended, until the client goes; or every reply ``pause`` seconds late. TLS from
    the first byte (SMTPS) when given a ``context``."""

    def __init__(
        self, context: ssl.SSLContext | None, drip: str = "", step: float = 0.05, pause: float = 0.0
    ) -> None:
        self.context, self.drip, self.step, self.pause = context, drip, step, pause
        self.received = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = int(self.listener.getsockname()[1])
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection: socket.socket) -> None:
        try:
            if self.context is not None:
                connection = self.context.wrap_socket(connection, server_side=True)
            lines = connection.makefile("rb")
            if self.drip == "greeting":
                self._dribble(connection, b"220 ")
            connection.sendall(b"220 slow.example ESMTP\r\n")
            while line := lines.readline():
                verb = line[:4].upper()
                time.sleep(self.pause)
                if verb == b"EHLO":
                    connection.sendall(b"250-slow.example\r\n250 SIZE 10000000\r\n")
                elif verb == b"DATA":
                    connection.sendall(b"354 go ahead\r\n")
                    while lines.readline() not in (b".\r\n", b""):
                        pass
                    self.received += 1
                    if self.drip == "data":
                        self._dribble(connection, b"250 ")
                    connection.sendall(b"250 OK\r\n")
                elif verb == b"QUIT":
                    connection.sendall(b"221 bye\r\n")
                    break
                else:
                    connection.sendall(b"250 OK\r\n")
        except OSError:
            pass  # the client went
        finally:
            connection.close()

    def _dribble(self, connection: socket.socket, start: bytes) -> None:
        """A byte every ``step`` s, never a line's end, for as long as the client listens."""
        text = start + b"still thinking" * 1000
        for i in range(len(text)):
            if self.stop.is_set():
                raise OSError("server stopped")
            connection.sendall(text[i : i + 1])
            time.sleep(self.step)


@pytest.fixture
def tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def slow_servers() -> Iterator[list[SlowServer]]:
    servers: list[SlowServer] = []
    yield servers
    for each in servers:
        each.close()


def _slow(servers: list[SlowServer], *args: object, **kwargs: object) -> SlowServer:
    servers.append(SlowServer(*args, **kwargs))  # type: ignore[arg-type]
    return servers[-1]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_greeting_dripped_a_byte_at_a_time_costs_the_timeout_not_more(
    security: str, tls: ssl.SSLContext, ca_file: Path, slow_servers: list[SlowServer]
) -> None:
    # STARTTLS reads the greeting in clear; SMTPS reads it over TLS.
    slow = _slow(slow_servers, tls if security == "ssl" else None, drip="greeting")
    started = time.monotonic()
    with pytest.raises(MailError, match=r"cannot reach 127\.0\.0\.1:\d+: no reply within 1 s"):
        SmtpTransport(Settings("127.0.0.1", slow.port, security, ca_file, timeout=1.0))
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 1, f"{elapsed:.2f} s for a greeting with --timeout 1"
    _figure(
        f"greeting dripped ({security})", f"a byte every 0.05 s, --timeout 1: given up after {elapsed:.2f} s"
    )


def test_the_answer_to_a_message_dripped_over_smtps_is_bounded(
    tls: ssl.SSLContext, ca_file: Path, slow_servers: list[SlowServer]
) -> None:
    slow = _slow(slow_servers, tls, drip="data")
    transport = SmtpTransport(Settings("127.0.0.1", slow.port, "ssl", ca_file, timeout=1.0))
    handed: list[bool] = []
    started = time.monotonic()
    with pytest.raises(Unknown, match="no reply within 1 s") as info:
        transport.send(
            "a@example.org", ["b@example.org"], b"Subject: x\r\n\r\nbody\r\n", lambda: handed.append(True)
        )
    elapsed = time.monotonic() - started
    transport.close()
    assert info.value.timeout and handed == [True] and slow.received == 1
    assert elapsed < 1.0 + 1, f"{elapsed:.2f} s for a message with --timeout 1"
    _figure(
        "DATA's answer dripped (ssl)",
        f"a byte every 0.05 s, --timeout 1: outcome unknown after {elapsed:.2f} s",
    )


def test_a_message_takes_at_most_five_timeouts_however_many_replies(
    tls: ssl.SSLContext, ca_file: Path, slow_servers: list[SlowServer]
) -> None:
    """Every reply in time (0.3 s of 0.5), but 40 recipients: the message's own bound stops it,
    before its body was handed over."""
    slow = _slow(slow_servers, tls, pause=0.3)
    transport = SmtpTransport(Settings("127.0.0.1", slow.port, "ssl", ca_file, timeout=0.5))
    recipients = [f"r{i}@example.org" for i in range(40)]
    started = time.monotonic()
    with pytest.raises(Unreachable, match=r"no reply within the 2\.5 s a message may take"):
        transport.send("a@example.org", recipients, b"Subject: x\r\n\r\nbody\r\n", lambda: None)
    elapsed = time.monotonic() - started
    transport.close()
    assert slow.received == 0
    assert POST_BUDGET * 0.5 - 0.1 < elapsed < POST_BUDGET * 0.5 + 0.5, f"{elapsed:.2f} s"
    _figure(
        "slow replies (ssl)", f"40 recipients, each reply 0.3 s, --timeout 0.5: stopped after {elapsed:.2f} s"
    )


def test_a_server_dripping_its_answers_cannot_hold_a_run(
    server: tuple[Handler, int, Faults], mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    """Over STARTTLS (aiosmtpd): every message kept, its answer dripped forever; the timeouts
    count as failures in a row and ``--max-failures`` stops the run."""
    handler, port, faults = server
    faults.drip = 0.05
    posts = 6
    recipients = _recipients(tmp_path, posts, port, french_every=0)
    started = time.monotonic()
    result = CliRunner().invoke(
        cli.app,
        [*send_args(mail_issue, recipients, out, ca_file), "--timeout", "0.5", "--max-failures", "2"],
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == cli.EXIT_CONTENT, result.output
    assert (
        "the run stopped: 2 timeouts or connection failures in a row (the last: no reply within 0.5 s)"
        in result.output
    )
    assert "outcome unknown: may arrive twice 2" in result.output
    assert len(handler.received) == 2, "an unknown outcome is not retried in its run"
    # Two messages of at most 0.5 s + 1 each, and the command's own work (the edition is reused).
    assert elapsed < 2 * (0.5 + 1) + 3, f"the run took {elapsed:.1f} s"
    _figure(
        "DATA's answer dripped (starttls, command line)",
        f"{posts} posts, --timeout 0.5 --max-failures 2: stopped after {elapsed:.1f} s, 2 handed over, "
        f"{posts - 2} left pending",
    )
