"""Sending, against a real SMTP server on 127.0.0.1 (aiosmtpd) with TLS, faults injected
(the server, the CA, the mail issue and the helpers: ``mailkit.py``)."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import sqlite3
import ssl
import threading
import time
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from conftest import FIXTURES
from mailkit import (
    FAST,
    Faults,
    Handler,
    _free_port,
    _pdf_of,
    _recipients,
    _settings,
    send_args,
    send_killed_after,
)
from typer.testing import CliRunner

from newsletter import cli
from newsletter.send.ledger import Ledger
from newsletter.send.loop import MailError
from newsletter.send.plan import deliver, plan
from newsletter.send.recipients import load_recipients


def test_200_posts_each_get_exactly_one_message_in_their_language(
    server: tuple[Handler, int, Faults], mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, _ = server
    recipients = load_recipients(_recipients(tmp_path, 200, port))
    the_plan = plan(mail_issue, recipients, out)
    outcomes = deliver(the_plan, _settings(port, ca_file), out / "ledger.sqlite", retry=FAST).outcomes
    assert [o.state for o in outcomes] == ["sent"] * 200
    assert len(handler.received) == 200 and set(handler.ids().values()) == {1}
    pdfs = {lang: edition.pdf.read_bytes() for lang, edition in the_plan.languages.items()}
    assert set(pdfs) == {"en", "fr"}
    for message, rcpts in zip(handler.received, handler.envelopes):
        (address,) = rcpts
        number = int(address[4:7])
        language = "fr" if number % 10 == 0 else "en"
        assert message["Content-Language"] == language
        assert _pdf_of(message) == pdfs[language], f"{address} got the wrong or a damaged PDF"
        assert "(page\u00a02)" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # Message-IDs are fixed per (issue, post).
    assert handler.received[0]["Message-ID"] == "<newsletter.test-series-7.post-000@example.org>"


def test_groups_and_language_fallback(
    server: tuple[Handler, int, Faults], mail_issue: Path, tmp_path: Path, ca_file: Path
) -> None:
    handler, port, _ = server
    path = _recipients(tmp_path, 6, port, french_every=0)
    text = path.read_text(encoding="utf-8").replace(
        "  - name: Post 001\n", "  - name: Post 001\n    language: fr\n"
    )
    path.write_text(text, encoding="utf-8")
    only_en = tmp_path / "en"
    only_en.mkdir()
    shutil.copy(mail_issue, only_en / "issue.yaml")
    shutil.copy(mail_issue.parent / "photo.png", only_en / "photo.png")
    recipients = load_recipients(path)
    the_plan = plan(only_en / "issue.yaml", recipients, tmp_path / "out", group="South-East Europe")
    assert [o.post.name for o in the_plan.outgoing] == ["Post 001", "Post 003", "Post 005"]
    outcomes = deliver(the_plan, _settings(port, ca_file), tmp_path / "ledger.sqlite", retry=FAST).outcomes
    assert outcomes[0].fallback_language and outcomes[0].state == "sent"
    assert handler.received[0]["Content-Language"] == "en"


def test_faults_nothing_lost_duplicates_only_where_unknown(
    server: tuple[Handler, int, Faults], mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, faults = server
    recipients = load_recipients(_recipients(tmp_path, 8, port, french_every=0))
    the_plan = plan(mail_issue, recipients, out)
    ids = {o.post.key: o.message_id for o in the_plan.outgoing}
    faults.fail_once.add(ids["post-001"])  # 451 then success
    faults.defer.add("post002@example.org")  # 452 always
    faults.reject.add("post003@example.org")  # 550
    faults.drop_once.add(ids["post-004"])  # dropped after DATA, the message kept
    ledger = tmp_path / "ledger.sqlite"
    outcomes = {o.post: o for o in deliver(the_plan, _settings(port, ca_file), ledger, retry=FAST).outcomes}
    assert outcomes["post-001"].state == "sent" and outcomes["post-001"].attempts == 2
    assert outcomes["post-002"].state == "deferred" and outcomes["post-002"].attempts == FAST.attempts
    assert "452" in outcomes["post-002"].refused["post002@example.org"]
    assert outcomes["post-003"].state == "failed" and outcomes["post-003"].attempts == 1  # 5xx: never retried
    assert "550" in outcomes["post-003"].refused["post003@example.org"]
    # The reply was lost after the body was handed over: an unknown outcome, never retried in the run.
    assert outcomes["post-004"].state == "unknown" and outcomes["post-004"].attempts == 1
    counts = handler.ids()
    assert counts[ids["post-004"]] == 1
    assert set(counts.values()) == {1}, "no duplicate within a run"
    received = {m["Message-ID"] for m in handler.received}
    for key in ("post-000", "post-001", "post-004", "post-005", "post-006", "post-007"):
        assert ids[key] in received

    # A second run sends only what is not confirmed sent: the deferred, the failed (told to
    # retry the refused), and the unknown once more (which may so arrive twice, and is reported so).
    faults.defer.clear()
    faults.reject.clear()
    before = len(handler.received)
    again = {
        o.post: o
        for o in deliver(the_plan, _settings(port, ca_file), ledger, retry=FAST, retry_refused=True).outcomes
    }
    assert {k for k, o in again.items() if not o.skipped} == {"post-002", "post-003", "post-004"}
    assert again["post-004"].state == "sent" and again["post-004"].resent_after_unknown
    assert len(handler.received) == before + 3
    assert {pid for pid, n in handler.ids().items() if n > 1} == {ids["post-004"]}, (
        "only the unknown one twice"
    )
    with Ledger(ledger) as book:
        assert {e.state for e in book.entries(the_plan.key)} == {"sent"}


def test_killed_half_way_resumes_without_loss(
    server: tuple[Handler, int, Faults], mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, faults = server
    faults.delay = 0.05
    recipients_file = _recipients(tmp_path, 30, port, french_every=0)
    plan(mail_issue, load_recipients(recipients_file), out)  # build the edition once
    ledger = out / "mail" / "ledger.sqlite"
    command = send_args(mail_issue, recipients_file, out, ca_file)
    send_killed_after(command, handler, 10)
    killed_at = len(handler.received)
    assert 10 <= killed_at < 30, "the run was not killed half way"
    with sqlite3.connect(ledger) as db:
        unknown = {
            row[0]
            for row in db.execute("SELECT message_id FROM messages WHERE state IN ('sending', 'unknown')")
        }
        sent_before = db.execute("SELECT count(*) FROM messages WHERE state = 'sent'").fetchone()[0]
    assert sent_before <= killed_at

    faults.delay = 0.0
    result = CliRunner().invoke(cli.app, command)
    assert result.exit_code == 0, result.output
    counts = handler.ids()
    assert len(counts) == 30, "every post received its message"
    duplicated = {mid for mid, n in counts.items() if n > 1}
    assert duplicated <= unknown, "only a message whose outcome was unknown may arrive twice"
    assert all(n <= 2 for n in counts.values())
    status = CliRunner().invoke(cli.app, ["status", str(mail_issue), "--ledger", str(ledger)])
    assert "sent 30, deferred 0, failed 0" in status.output


def test_self_signed_server_refused_without_its_ca(
    server: tuple[Handler, int, Faults], mail_issue: Path, tmp_path: Path, out: Path
) -> None:
    handler, port, _ = server
    recipients = load_recipients(_recipients(tmp_path, 2, port))
    the_plan = plan(mail_issue, recipients, out)
    with pytest.raises(MailError, match="certificate of 127.0.0.1:.* was refused"):
        deliver(the_plan, _settings(port, None), tmp_path / "ledger.sqlite", retry=FAST)
    assert handler.received == []


def test_size_limit_refuses_before_sending_anything(
    mail_issue: Path, tmp_path: Path, out: Path, ca: trustme.CA, ca_file: Path
) -> None:
    handler = Handler(Faults())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    port = _free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        data_size_limit=20_000,
    )
    controller.start()
    try:
        recipients = load_recipients(_recipients(tmp_path, 3, port))
        the_plan = plan(mail_issue, recipients, out)
        ledger = tmp_path / "ledger.sqlite"
        with pytest.raises(
            MailError, match=r"larger than the server's limit of 20000 bytes.*nothing was sent"
        ):
            deliver(the_plan, _settings(port, ca_file), ledger, retry=FAST)
        assert handler.received == []
        with Ledger(ledger) as book:
            assert book.entries(the_plan.key) == []
    finally:
        controller.stop()


def test_dry_run_writes_eml_and_touches_nothing_else(mail_issue: Path, tmp_path: Path, out: Path) -> None:
    port = _free_port()  # nothing listens here: a connection attempt would fail the command
    recipients_file = _recipients(tmp_path, 5, port)
    result = CliRunner().invoke(
        cli.app, ["send", str(mail_issue), "--to", str(recipients_file), "--out", str(out), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    files = sorted((out / "mail" / "test-series-7").glob("*.eml"))
    assert len(files) == 5
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Message-ID"].startswith("<newsletter.test-series-7.post-")
        assert _pdf_of(message).startswith(b"%PDF-")  # type: ignore[arg-type]
    assert not (out / "mail" / "ledger.sqlite").exists()
    assert not list(out.rglob("*.sqlite*"))


def test_recipients_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "recipients.yaml"
    path.write_text(
        "sender: not-an-address\nposts:\n  - name: A post\n    addresses: [ok@example.org, broken]\n    colour: red\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli.app, ["send", str(FIXTURES / "mail" / "issue.yaml"), "--to", str(path), "--dry-run"]
    )
    assert result.exit_code == cli.EXIT_CONTENT
    assert (
        f"{path}:1:9: sender: expected an email address such as name@example.org (found 'not-an-address')"
        in result.output
    )
    assert f"{path}:4:33: posts[0].addresses[1]: expected an email address" in result.output
    assert f"{path}:5:5: posts[0].colour: unknown field" in result.output
    assert "nothing was sent" in result.output


def test_a_failing_edition_is_not_sent(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(FIXTURES / "mail", folder)
    issue = folder / "issue.yaml"
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("A caption.", "Lorem ipsum."), encoding="utf-8"
    )
    recipients_file = _recipients(tmp_path, 2, _free_port())
    result = CliRunner().invoke(
        cli.app,
        ["send", str(issue), "--to", str(recipients_file), "--out", str(tmp_path / "out"), "--dry-run"],
    )
    assert result.exit_code == cli.EXIT_CONTENT
    assert "[placeholder]" in result.output and "nothing was sent" in result.output


def test_edition_is_reused_when_up_to_date(mail_issue: Path, tmp_path: Path, out: Path) -> None:
    from newsletter.send.edition import email_edition

    first = email_edition(mail_issue, out)
    stamp_time = first.pdf.stat().st_mtime_ns
    again = email_edition(mail_issue, out)
    assert again.pdf.stat().st_mtime_ns == stamp_time, "rebuilt although nothing changed"
    assert again.teaser_pages == first.teaser_pages == {"first": 2}
    first.pdf.write_bytes(first.pdf.read_bytes() + b"%tampered\n")
    rebuilt = email_edition(mail_issue, out)
    assert not rebuilt.pdf.read_bytes().endswith(b"%tampered\n")


def test_rate_limit_spaces_messages(
    server: tuple[Handler, int, Faults], mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, _ = server
    recipients = load_recipients(_recipients(tmp_path, 3, port, extra="rate_per_minute: 240"))
    the_plan = plan(mail_issue, recipients, out)
    started = time.monotonic()
    deliver(the_plan, _settings(port, ca_file), tmp_path / "ledger.sqlite", retry=FAST)
    assert time.monotonic() - started >= 2 * 60 / 240 - 0.05  # three messages, two gaps of 0.25 s
    assert len(handler.received) == 3


def test_dry_run_does_not_reach_the_server(mail_issue: Path, tmp_path: Path, out: Path) -> None:
    """A listening socket at the recipients file's server counts every connection: a dry run
    through the command line makes none (not even one that would stop before DATA)."""
    accepted: list[tuple[str, int]] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    connection, peer = listener.accept()
                except TimeoutError:
                    continue
                accepted.append(peer)
                connection.close()

        watcher = threading.Thread(target=accept, daemon=True)
        watcher.start()
        try:
            result = CliRunner().invoke(
                cli.app,
                [
                    "send",
                    str(mail_issue),
                    "--to",
                    str(_recipients(tmp_path, 3, port)),
                    "--out",
                    str(out),
                    "--dry-run",
                ],
            )
            # The same listener is reached by a real send: the count would show it.
            assert result.exit_code == 0, result.output
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
            deadline = time.monotonic() + 5
            while not accepted and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            watcher.join(timeout=5)
    assert len(accepted) == 1, "only the test's own probe connected: the dry run made no connection"
