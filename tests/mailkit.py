"""The mail tests' kit, a pytest plugin (``conftest.pytest_plugins``): a real SMTP server on
127.0.0.1 (aiosmtpd) with TLS and faults to inject, a test CA, the mail issue and its email
editions built once per session, and the helpers the send tests share.

Its fixtures are found by every test module without an import: imported into each module, a
session fixture was one fixture per module (the editions were kept in a module global so as
to be built once)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from conftest import FIXTURES, ROOT
from typer.testing import CliRunner, Result

from newsletter import cli
from newsletter.send.loop import Retry, Settings

FAST = Retry(attempts=4, first_delay=0.01, max_total=5)


@dataclass
class Faults:
    """What the test server does wrong."""

    reject: set[str] = field(default_factory=set)  # 550 at RCPT
    defer: set[str] = field(default_factory=set)  # 452 at RCPT, always
    fail_once: set[str] = field(default_factory=set)  # 451 at DATA, once per Message-ID
    drop_once: set[str] = field(default_factory=set)  # keep the message, drop the line before replying
    drop_always: bool = False  # keep every message, never reply: drop the line
    hang: float = 0.0  # keep the message, then say nothing for this long
    gate: threading.Event | None = None  # keep the message, reply once the gate opens
    delay: float = 0.0
    drip: float = 0.0  # keep the message, then a byte of its reply every `drip` s, the line never ended


class Handler:
    """Records what arrives; misbehaves as told."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.received: list[email.message.EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.faults.reject:
            return "550 5.1.1 No such mailbox"
        if address in self.faults.defer:
            return "452 4.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        msg_id = message["Message-ID"]
        if self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        with self.lock:
            if msg_id in self.faults.fail_once:
                self.faults.fail_once.discard(msg_id)
                return "451 4.3.0 Try again later"
            self.received.append(message)  # type: ignore[arg-type]
            self.envelopes.append(list(envelope.rcpt_tos))
            if msg_id in self.faults.drop_once or self.faults.drop_always:
                self.faults.drop_once.discard(msg_id)
                server.transport.close()  # the message is kept, the reply is lost
                return "250 OK"
        while self.faults.gate is not None and not self.faults.gate.is_set():
            await asyncio.sleep(0.01)
        if self.faults.hang:
            await asyncio.sleep(self.faults.hang)  # the message is kept; the client times out first
        started = time.monotonic()
        while self.faults.drip and time.monotonic() - started < 30:
            if server.transport is None or server.transport.is_closing():
                break  # the client went
            server.transport.write(b"2")
            await asyncio.sleep(self.faults.drip)
        return "250 OK"

    def ids(self) -> Counter[str]:
        return Counter(m["Message-ID"] for m in self.received)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[tuple[Handler, int, Faults]]:
    faults = Faults()
    handler = Handler(faults)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    port = _free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    yield handler, port, faults
    controller.stop()


@pytest.fixture(scope="session")
def mail_issue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mail-issue")
    shutil.copytree(FIXTURES / "mail", folder, dirs_exist_ok=True)
    return folder / "issue.yaml"


@pytest.fixture(scope="session")
def built_out(mail_issue: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mail issue's English and French email editions, built once per session.

    Their stamps do not depend on the issue's folder: any copy of the issue reuses them.
    """
    from newsletter.send.edition import email_edition

    out = tmp_path_factory.mktemp("mail-out")
    for source in (mail_issue, mail_issue.with_name("issue.fr.yaml")):
        email_edition(source, out)
    return out


@pytest.fixture
def out(built_out: Path, tmp_path: Path) -> Path:
    """An output folder holding the session's editions and their stamps: sends reuse them."""
    folder = tmp_path / "out"
    shutil.copytree(built_out, folder)
    return folder


def _recipients(tmp_path: Path, count: int, port: int, french_every: int = 10, extra: str = "") -> Path:
    lines = [
        "sender: newsletter@example.org",
        f"server: {{host: 127.0.0.1, port: {port}, security: starttls}}",
        extra,
        "posts:",
    ]
    for i in range(count):
        lines += [f"  - name: Post {i:03d}", f"    addresses: [post{i:03d}@example.org]"]
        if french_every and i % french_every == 0:
            lines.append("    language: fr")
        if i % 2:
            lines.append("    groups: [South-East Europe]")
    path = tmp_path / "recipients.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def issue(mail_issue: Path, tmp_path: Path) -> Path:
    """A writable copy of the mail issue (English only)."""
    folder = tmp_path / "issue"
    folder.mkdir()
    shutil.copy(mail_issue, folder / "issue.yaml")
    shutil.copy(mail_issue.parent / "photo.png", folder / "photo.png")
    return folder / "issue.yaml"


def run_cli(*args: object, input: str | None = None) -> Result:
    """``newsletter ARGS`` through typer's runner, each argument as text."""
    return CliRunner().invoke(cli.app, [str(a) for a in args], input=input)


def send_args(issue: Path, recipients: Path, out: Path, ca_file: Path) -> list[str]:
    """The arguments of a confirmed ``newsletter send`` to the test server (its CA trusted)."""
    return [
        "send",
        str(issue),
        "--to",
        str(recipients),
        "--out",
        str(out),
        "--ca-file",
        str(ca_file),
        "--yes",
    ]


def _settings(port: int, ca_file: Path | None) -> Settings:
    return Settings("127.0.0.1", port, "starttls", ca_file, timeout=10)


def _pdf_of(message: email.message.EmailMessage) -> bytes:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    return part.get_content()  # type: ignore[no-any-return]


def send_killed_after(command: list[str], handler: Handler, count: int) -> None:
    """Run ``newsletter COMMAND`` in a process of its own and kill it (SIGKILL, no chance to
    tidy up) once the test server has received ``count`` messages, or it ended, or 60 s."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", *command],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(handler.received) < count and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
