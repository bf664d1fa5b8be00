"""Sending safely, against the real aiosmtpd server on 127.0.0.1 (STARTTLS, a test CA):
two sends at once, a server that loses every reply, one that hangs at DATA, the test send,
the confirmation before a real send, and an erratum."""

# The server and edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import email
import email.policy
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT
from mailkit import Faults, Handler, _pdf_of, _recipients, run_cli, send_args
from typer.testing import Result

from newsletter import cli
from newsletter.send.ledger import Ledger

Server = tuple[Handler, int, Faults]
#: Each figure asked for by issue 13 is printed by its test (``pytest -s`` shows them).
FIGURES: dict[str, str] = {}


def _send(
    issue: Path, recipients: Path, out: Path, ca_file: Path, *extra: object, input: str | None = None
) -> Result:
    return run_cli("send", issue, "--to", recipients, "--out", out, "--ca-file", ca_file, *extra, input=input)


def _status(issue: Path, out: Path) -> str:
    result = run_cli("status", issue, "--out", out)
    assert result.exit_code == 0, result.output
    return result.output


def _figure(name: str, text: str) -> None:
    FIGURES[name] = text
    print(f"\n[figure] {name}: {text}")


def test_two_sends_at_once_on_one_ledger_send_each_post_once(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, faults = server
    faults.gate = threading.Event()  # the first send waits on its first reply until the second has run
    posts = 30
    recipients = _recipients(tmp_path, posts, port, french_every=0)
    command = [sys.executable, "-m", "newsletter", *send_args(mail_issue, recipients, out, ca_file)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    first = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not handler.received and time.monotonic() < deadline:
        time.sleep(0.01)
    second = subprocess.run(
        command, check=False, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    faults.gate.set()
    first.communicate(timeout=60)
    assert first.returncode == 0
    assert second.returncode == cli.EXIT_ENVIRONMENT, second.stderr
    assert f"another send is running on this ledger: pid {first.pid}, since " in second.stderr
    assert "nothing was sent" in second.stderr
    counts = handler.ids()
    assert len(counts) == posts and set(counts.values()) == {1}, "each post once"
    _figure(
        "concurrent sends",
        f"{posts} posts, two sends at once: {sum(counts.values())} messages, "
        f"{sum(n > 1 for n in counts.values())} sent twice; the second refused (exit 4)",
    )


def test_a_killed_sender_leaves_no_lock(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, _ = server
    ledger = out / "mail" / "ledger.sqlite"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import time; from pathlib import Path; from newsletter.send.lock import SendLock\n"
                f"with SendLock(Path({str(ledger)!r}), 'x'):\n    print('held', flush=True); time.sleep(60)"
            ),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    recipients = _recipients(tmp_path, 2, port, french_every=0)
    busy = _send(mail_issue, recipients, out, ca_file, "--yes")
    assert busy.exit_code == cli.EXIT_ENVIRONMENT and f"pid {holder.pid}" in busy.output
    holder.kill()
    holder.wait()
    result = _send(mail_issue, recipients, out, ca_file, "--yes")
    assert result.exit_code == 0, result.output
    assert len(handler.received) == 2


def test_a_server_that_loses_every_reply_gets_at_most_two_copies_in_two_runs(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, faults = server
    faults.drop_always = True
    posts = 5
    recipients = _recipients(tmp_path, posts, port, french_every=0)
    runs = []
    for _ in range(2):
        result = _send(mail_issue, recipients, out, ca_file, "--yes", "--timeout", 5, "--max-failures", 10)
        assert result.exit_code == cli.EXIT_CONTENT, result.output
        assert f"outcome unknown: may arrive twice {posts}" in result.output
        runs.append(sum(handler.ids().values()))
    counts = handler.ids()
    assert len(counts) == posts and max(counts.values()) == 2, counts
    assert "sent again after an unknown outcome 5" in result.output
    assert f"outcome unknown: may arrive twice {posts}" in _status(mail_issue, out)
    _figure(
        "lost replies",
        f"{posts} posts, every reply lost: {runs[0]} messages after one run, {runs[1]} after two; "
        f"at most {max(counts.values())} copies of a message",
    )


def test_a_server_hanging_at_data_stops_the_run_in_bounded_time(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, faults = server
    faults.hang = 30.0
    posts = 20
    recipients = _recipients(tmp_path, posts, port, french_every=0)
    started = time.monotonic()
    result = _send(mail_issue, recipients, out, ca_file, "--yes", "--timeout", 0.5, "--max-failures", 3)
    elapsed = time.monotonic() - started
    assert result.exit_code == cli.EXIT_CONTENT, result.output
    assert elapsed < 10, f"the run took {elapsed:.1f} s"
    assert (
        "the run stopped: 3 timeouts or connection failures in a row (the last: no reply within 0.5 s)"
        in result.output
    ), result.output
    assert f"the {posts - 3} posts not tried are pending" in result.output
    assert (
        f"to resume: newsletter send {mail_issue} --to {recipients} --out {out} --ca-file {ca_file}"
        in result.output
    )
    assert len(handler.received) == 3, "a message whose outcome is unknown is not retried in the run"
    status = _status(mail_issue, out)
    assert f"not tried {posts - 3}, outcome unknown: may arrive twice 3" in status
    assert "not tried: 3 timeouts or connection failures in a row" in status
    _figure(
        "hanging server",
        f"{posts} posts, a server silent after DATA, --timeout 0.5 --max-failures 3: "
        f"stopped after {elapsed:.1f} s, 3 messages handed over, {posts - 3} left pending "
        f"(defaults --timeout 60 --max-failures 3: at most about 3 minutes)",
    )


def test_test_send_one_message_per_language_outside_the_posts(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, _ = server
    recipients = _recipients(tmp_path, 10, port)
    result = _send(mail_issue, recipients, out, ca_file, "--test", "editor@example.org")
    assert result.exit_code == 0, result.output
    assert handler.envelopes == [["editor@example.org"], ["editor@example.org"]]
    subjects = {m["Content-Language"]: m["Subject"] for m in handler.received}
    assert subjects["en"].startswith("[TEST] Issue 7") and subjects["fr"].startswith("[ESSAI] Numéro 7")
    assert all(".test-" in m["Message-ID"] for m in handler.received), "a Message-ID no post's message has"
    with Ledger(out / "mail" / "ledger.sqlite") as ledger:
        assert ledger.entries("test-series-7") == []
        assert [(t.language, t.address) for t in ledger.tests("test-series-7")] == [
            ("en", "editor@example.org"),
            ("fr", "editor@example.org"),
        ]
    status = _status(mail_issue, out)
    assert "nothing sent yet for test-series-7" in status and "test send (fr) to editor@example.org" in status
    summary = _send(mail_issue, recipients, out, ca_file)  # no terminal: shows the summary, refuses
    assert "test sent to editor@example.org" in summary.output
    assert _send(mail_issue, recipients, out, ca_file, "--test", "not an address").exit_code == cli.EXIT_USAGE


def test_a_real_send_shows_what_it_will_do_and_asks_first(
    server: Server,
    mail_issue: Path,
    tmp_path: Path,
    out: Path,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, port, _ = server
    recipients = _recipients(tmp_path, 5, port, french_every=3)
    refused = _send(mail_issue, recipients, out, ca_file)
    assert refused.exit_code == cli.EXIT_USAGE, refused.output
    assert "not on a terminal, so nothing can confirm this send: add --yes" in refused.output
    for line in (
        "test-series-7: 5 posts, 5 to send now",
        "by language: en 3, fr 2",
        "by group: (no group) 3, South-East Europe 2",
        "edition en: issue-email.pdf, 2 pages",
        "edition fr: issue.fr-email.pdf",
        "no test send yet (--test ADDRESS)",
    ):
        assert line in refused.output
    assert handler.received == []

    from newsletter.commands import send as send_command

    monkeypatch.setattr(send_command, "_on_terminal", lambda: True)
    declined = _send(mail_issue, recipients, out, ca_file, input="n\n")
    assert declined.exit_code == cli.EXIT_CONTENT and "Send to 5 posts? [y/N]" in declined.output
    assert handler.received == []
    accepted = _send(mail_issue, recipients, out, ca_file, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert len(handler.received) == 5
    again = _send(mail_issue, recipients, out, ca_file, "--yes")
    assert again.exit_code == 0 and "every post of this send has it already" in again.output
    assert len(handler.received) == 5


def test_an_erratum_goes_to_the_posts_that_had_the_issue(
    server: Server, mail_issue: Path, tmp_path: Path, ca_file: Path
) -> None:
    handler, port, faults = server
    folder = tmp_path / "issue"
    shutil.copytree(mail_issue.parent, folder)
    issue = folder / "issue.yaml"
    out = tmp_path / "out"
    recipients = _recipients(tmp_path, 5, port, french_every=5)  # post 0 French, 1-4 English
    faults.reject.add("post003@example.org")  # post 3 never has revision 1
    first = _send(issue, recipients, out, ca_file, "--yes")
    assert first.exit_code == cli.EXIT_CONTENT and len(handler.received) == 4
    faults.reject.clear()
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("A paragraph.", "A corrected paragraph."), encoding="utf-8"
    )

    handler.received.clear()
    handler.envelopes.clear()
    erratum = _send(issue, recipients, out, ca_file, "--revision", 2, "--yes")
    assert erratum.exit_code == 0, erratum.output
    assert "correction (revision 2)" in erratum.output
    assert "1 posts have not had revision 1 and get no correction" in erratum.output
    assert "1 posts get the fr edition, unchanged since revision 1: no correction for them" in erratum.output
    assert sorted(e[0] for e in handler.envelopes) == [
        "post001@example.org",
        "post002@example.org",
        "post004@example.org",
    ]
    corrected = (out / "issue-email.pdf").read_bytes()
    for message in handler.received:
        post = message["To"].split("@")[0].replace("post", "post-")
        assert message["Message-ID"] == f"<newsletter.test-series-7.r2.{post}@example.org>"
        assert message["References"] == f"<newsletter.test-series-7.{post}@example.org>"
        assert message["Subject"].startswith("Correction: Issue 7")
        assert _pdf_of(message) == corrected
    with Ledger(out / "mail" / "ledger.sqlite") as ledger:
        assert len(ledger.entries("test-series-7", 1)) == 5, "the first revision's entries are kept"
        assert {e.post for e in ledger.entries("test-series-7", 2) if e.state == "sent"} == {
            "post-001",
            "post-002",
            "post-004",
        }
    status = _status(issue, out)
    assert "revision 2 (a correction)" in status and "test-series-7 revision 2: sent 3" in status

    unchanged = _send(issue, recipients, out, ca_file, "--revision", 3, "--yes")
    assert (
        unchanged.exit_code == cli.EXIT_USAGE
        and "their editions are unchanged: edit the issue first" in unchanged.output
    )
    too_far = _send(issue, recipients, out, ca_file, "--revision", 5, "--yes")
    assert too_far.exit_code == cli.EXIT_USAGE and "no post has had revision 4" in too_far.output


def test_a_message_parses_as_the_edition_and_headers_stay_whole(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    """Messages composed one at a time from the edition's body: every header and the PDF whole."""
    handler, port, _ = server
    path = _recipients(
        tmp_path, 2, port, french_every=0, extra="sender_name: Rédaction « Traite » – Europe\u202fdu Sud-Est"
    )
    result = _send(mail_issue, path, out, ca_file, "--yes")
    assert result.exit_code == 0, result.output
    for raw in handler.received:
        again = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
        assert again["From"].addresses[0].display_name == "Rédaction « Traite » – Europe\u202fdu Sud-Est"
        assert _pdf_of(again) == (out / "issue-email.pdf").read_bytes()  # type: ignore[arg-type]
