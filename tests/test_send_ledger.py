"""The ledger is one, ours and sound: one sender per ledger however it is reached (a symlink,
a hard link), another program's database refused untouched, a row in a state we never write
an error naming it, and ``status`` writing nothing, not even to a ledger that needs migrating."""

# The server and edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT
from mailkit import Faults, Handler, _recipients, run_cli, send_args
from test_send_loop import _V0_SCHEMA

from newsletter import cli
from newsletter.send.ledger import APPLICATION_ID, Ledger
from newsletter.send.lock import LedgerBusy, SendLock

Server = tuple[Handler, int, Faults]


def _link(kind: str, ledger: Path, folder: Path) -> Path:
    """Another name of ``ledger``, in another folder: a symlink or a hard link."""
    folder.mkdir(parents=True, exist_ok=True)
    name = folder / "same-ledger.sqlite"
    if kind == "symlink":
        name.symlink_to(ledger)
    else:
        os.link(ledger, name)
    return name


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of ``folder``: its bytes and modification time."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("kind", ["symlink", "hard link"])
def test_every_name_of_a_ledger_meets_the_same_lock(tmp_path: Path, kind: str) -> None:
    ledger = tmp_path / "out" / "mail" / "ledger.sqlite"
    with SendLock(ledger, "issue-10"):  # made by the lock when missing, to be locked by its inode
        other = _link(kind, ledger, tmp_path / "elsewhere")
    for first, second in ((ledger, other), (other, ledger)):
        with SendLock(first, "issue-10"), pytest.raises(LedgerBusy) as info, SendLock(second, "issue-10"):
            pass
        assert f"another send is running on this ledger: pid {os.getpid()}, since " in str(info.value)
        assert f"sending issue-10 (ledger {first})" in str(info.value)
    with SendLock(other, "issue-10"):
        pass  # released when its holder ends
    assert sorted(p.name for p in ledger.parent.iterdir()) == ["ledger.sqlite"], "no lock file beside it"


@pytest.mark.parametrize("kind", ["symlink", "hard link"])
def test_two_sends_through_two_names_of_one_ledger_send_each_post_once(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path, kind: str
) -> None:
    handler, port, faults = server
    faults.gate = threading.Event()  # the first send waits on its first reply until the second has run
    posts = 20
    recipients = _recipients(tmp_path, posts, port, french_every=0)
    ledger = out / "mail" / "ledger.sqlite"
    with Ledger(ledger):
        pass
    other = _link(kind, ledger, tmp_path / "elsewhere")
    command = [sys.executable, "-m", "newsletter", *send_args(mail_issue, recipients, out, ca_file)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    first = subprocess.Popen(
        [*command, "--ledger", str(ledger)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not handler.received and time.monotonic() < deadline:
        time.sleep(0.01)
    # Should the second send not be refused, it waits on the gate too: open it at last, and let
    # the counts below say what was sent twice.
    opener = threading.Timer(20, faults.gate.set)
    opener.start()
    second = subprocess.run(
        [*command, "--ledger", str(other)],
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    faults.gate.set()
    opener.cancel()
    first.communicate(timeout=60)
    assert first.returncode == 0
    assert second.returncode == cli.EXIT_ENVIRONMENT, second.stderr
    assert f"error: {other}: another send is running on this ledger: pid {first.pid}, since " in second.stderr
    assert f"(ledger {ledger})" in second.stderr and "nothing was sent" in second.stderr
    counts = handler.ids()
    assert len(counts) == posts and set(counts.values()) == {1}, "each post once"
    status = run_cli("status", mail_issue, "--ledger", other)
    assert status.exit_code == 0 and f"test-series-7: sent {posts}, deferred 0" in status.output


def _foreign(path: Path, kind: str) -> None:
    with sqlite3.connect(path) as db:
        if kind == "a chat's messages":
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, author TEXT, body TEXT)")
            db.execute("CREATE TABLE contacts (name TEXT)")
            db.execute("INSERT INTO messages (author, body) VALUES ('ana', 'see you at 8')")
        elif kind == "another program's id":
            # Even with our very tables: the application id says whose it is.
            db.execute(_V0_SCHEMA)
            db.execute("PRAGMA application_id = 1234")
        else:  # "no tables"
            db.execute("CREATE TABLE scratch (x)")
            db.execute("DROP TABLE scratch")
    db.close()


@pytest.mark.parametrize("kind", ["a chat's messages", "another program's id", "no tables"])
def test_another_programs_database_is_refused_untouched(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path, kind: str
) -> None:
    handler, port, _ = server
    folder = tmp_path / "theirs"
    folder.mkdir()
    theirs = folder / "app.sqlite"
    _foreign(theirs, kind)
    before = _snapshot(folder)
    assert before[theirs.name][0].startswith(b"SQLite format 3\0")
    recipients = _recipients(tmp_path, 3, port, french_every=0)
    for command in (
        [*send_args(mail_issue, recipients, out, ca_file), "--ledger", theirs],
        ["status", mail_issue, "--ledger", theirs],
    ):
        result = run_cli(*command)
        assert result.exit_code == cli.EXIT_ENVIRONMENT, result.output
        assert f"error: {theirs}: this is not a send ledger" in result.output
        assert "this file was left untouched" in result.output and "Traceback" not in result.output
        assert _snapshot(folder) == before, "not a byte written, no file made beside it"
    assert handler.received == []


def test_a_row_in_a_state_we_never_write_stops_the_send_and_is_named(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path
) -> None:
    handler, port, _ = server
    recipients = _recipients(tmp_path, 4, port, french_every=0)
    assert run_cli(*send_args(mail_issue, recipients, out, ca_file)).exit_code == 0
    ledger = out / "mail" / "ledger.sqlite"
    with sqlite3.connect(ledger) as db:
        db.execute("UPDATE messages SET state = 'sent???'")
    db.close()
    before = _snapshot(ledger.parent)
    for command in (send_args(mail_issue, recipients, out, ca_file), ["status", mail_issue, "--out", out]):
        result = run_cli(*command)
        assert result.exit_code == cli.EXIT_ENVIRONMENT, result.output
        assert (
            f"error: {ledger}: the post 'post-000' of test-series-7 revision 1 is in the state 'sent???', "
            "which this tool never writes"
        ) in result.output
        assert "whether it has the message is unknown" in result.output
        assert _snapshot(ledger.parent) == before
    assert len(handler.received) == 4, "nothing sent again"


def test_status_writes_nothing_even_to_a_ledger_that_needs_migrating(
    mail_issue: Path, tmp_path: Path, out: Path
) -> None:
    ledger = out / "mail" / "ledger.sqlite"
    ledger.parent.mkdir(parents=True)
    with sqlite3.connect(ledger) as db:
        db.execute("PRAGMA journal_mode=WAL")  # as the first version made them
        db.execute(_V0_SCHEMA)
        db.execute(
            "INSERT INTO messages VALUES ('test-series-7', 'post-000', 'Post 000', '<a@x>', 'en', "
            "'post000@example.org', 'sent', 1, 0, '250 accepted', '', 1.0)"
        )
    db.close()
    before = _snapshot(ledger.parent)
    assert list(before) == ["ledger.sqlite"]
    result = run_cli("status", mail_issue, "--out", out)
    assert result.exit_code == 0, result.output
    assert (
        "(a ledger of an older version, schema 0: read as it is; the next send migrates it)" in result.output
    )
    assert "test-series-7: sent 1, deferred 0, failed 0" in result.output
    # A dry run reads it (the ids it holds) the same way.
    dry = run_cli(
        "send", mail_issue, "--to", _recipients(tmp_path, 2, 1, french_every=0), "--out", out, "--dry-run"
    )
    assert dry.exit_code == 0, dry.output
    assert _snapshot(ledger.parent) == before, "not a byte written, no -wal or -shm made"
    # The next send migrates it, and marks it as ours.
    with Ledger(ledger) as book:
        assert book.schema == 2 and [e.state for e in book.entries("test-series-7")] == ["sent"]
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    db.close()
