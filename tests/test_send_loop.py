"""The send loop and the ledger without a network: a scripted transport stands for the server.

What the loop must guarantee whatever the transport: an unknown outcome is never retried
within a run and sent once more in a later run; a post interrupted while waiting to retry is
simply to be sent; a run stops after N failures in a row; the ledger keeps every row through a
migration, is never rebuilt, and has one sender at a time; memory does not grow with the posts.
"""

# The edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import os
import re
import sqlite3
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from mailkit import _recipients

from newsletter.send import loop as mail
from newsletter.send.ledger import Ledger, LedgerError
from newsletter.send.lock import LedgerBusy, SendLock
from newsletter.send.loop import MailError, Retry, Run, Settings, report
from newsletter.send.plan import Plan, deliver, plan
from newsletter.send.recipients import load_recipients
from newsletter.send.transport import Refused, Unknown, Unreachable

FAST = Retry(attempts=4, first_delay=0.0, max_total=5)
NOWHERE = Settings("127.0.0.1", 1, "starttls")


class Scripted:
    """A transport whose answers are scripted per first recipient: one action per attempt, the
    last repeated. ``ok``; ``451`` and ``550`` replies; ``down`` (unreachable); ``lost`` (the body
    handed over, no reply); ``kill`` (the process dies while handing the body over)."""

    def __init__(
        self, script: dict[str, list[str]] | None = None, size: int = 0, default: str = "ok"
    ) -> None:
        self.script = script or {}
        self.size = size
        self.default = default
        self.delivered: list[str] = []
        self.closed = False

    def size_limit(self) -> int:
        return self.size

    def send(
        self, sender: str, recipients: list[str], data: bytes, handing_over: Callable[[], None]
    ) -> dict[str, str]:
        actions = self.script.get(recipients[0], [self.default])
        action = actions.pop(0) if len(actions) > 1 else actions[0]
        if action == "down":
            raise Unreachable("cannot reach the server: connection refused")
        if action in ("451", "550"):
            raise Refused(f"{action} scripted", action == "550")
        handing_over()
        if action == "kill":
            raise KeyboardInterrupt
        self.delivered.append(recipients[0])
        if action == "lost":
            raise Unknown("no reply within 1 s", timeout=True)
        return {}

    def close(self) -> None:
        self.closed = True


def _plan(tmp_path: Path, out: Path, mail_issue: Path, posts: int) -> Plan:
    return plan(mail_issue, load_recipients(_recipients(tmp_path, posts, 1, french_every=0)), out)


def _run(the_plan: Plan, ledger: Path, transport: Scripted, **options: object) -> Run:
    return deliver(the_plan, NOWHERE, ledger, retry=FAST, transport=transport, **options)  # type: ignore[arg-type]


def _states(ledger: Path, key: str = "test-series-7") -> dict[str, str]:
    with Ledger(ledger) as book:
        return {e.post: e.state for e in book.entries(key)}


def test_an_unknown_outcome_is_never_retried_in_its_run_and_sent_once_in_each_later_run(
    tmp_path: Path, out: Path, mail_issue: Path
) -> None:
    the_plan = _plan(tmp_path, out, mail_issue, 3)
    ledger = tmp_path / "ledger.sqlite"
    transport = Scripted({"post000@example.org": ["lost"]})
    for run_number in (1, 2, 3):
        run = _run(the_plan, ledger, transport)
        assert transport.delivered.count("post000@example.org") == run_number, "one copy per run"
        first = run.outcomes[0]
        assert first.state == "unknown" and first.attempts == 1
        assert first.resent_after_unknown == (run_number > 1)
        assert "outcome unknown: may arrive twice 1" in report(run)
    with Ledger(ledger) as book:
        entry = book.get("test-series-7", "post-000")
        assert entry is not None and entry.unknown_outcomes == 3 and entry.resends == 2
    assert transport.delivered.count("post001@example.org") == 1, "what was sent is never sent again"


def test_a_post_interrupted_while_waiting_to_retry_is_simply_to_be_sent(
    tmp_path: Path, out: Path, mail_issue: Path
) -> None:
    the_plan = _plan(tmp_path, out, mail_issue, 2)
    ledger = tmp_path / "ledger.sqlite"

    def killed(_seconds: float) -> None:
        raise KeyboardInterrupt  # the editor's Ctrl-C, or a kill, during the backoff

    with Ledger(ledger) as book, pytest.raises(KeyboardInterrupt):
        mail.send(
            the_plan.outgoing,
            the_plan.composer,
            book,
            Scripted({"post000@example.org": ["451"]}),
            retry=Retry(attempts=4, first_delay=5),
            sleep=killed,
        )
    assert _states(ledger)["post-000"] == "deferred", "never handed over: not an unknown outcome"
    run = _run(the_plan, ledger, Scripted())
    assert [o.state for o in run.outcomes] == ["sent", "sent"]
    assert not any(o.resent_after_unknown for o in run.outcomes)


def test_a_post_killed_while_handed_over_is_an_unknown_outcome_sent_once_more(
    tmp_path: Path, out: Path, mail_issue: Path
) -> None:
    the_plan = _plan(tmp_path, out, mail_issue, 2)
    ledger = tmp_path / "ledger.sqlite"
    with pytest.raises(KeyboardInterrupt):
        _run(the_plan, ledger, Scripted({"post000@example.org": ["kill"]}))
    assert _states(ledger) == {"post-000": "sending", "post-001": "pending"}
    run = _run(the_plan, ledger, Scripted())
    assert run.outcomes[0].resent_after_unknown and run.complete


def test_a_run_stops_after_failures_in_a_row_and_leaves_the_rest_pending(
    tmp_path: Path, out: Path, mail_issue: Path
) -> None:
    the_plan = _plan(tmp_path, out, mail_issue, 6)
    ledger = tmp_path / "ledger.sqlite"
    run = _run(the_plan, ledger, Scripted(default="down"), max_failures=3)
    assert run.stopped is not None and run.stopped.startswith("3 timeouts or connection failures in a row")
    assert run.outcomes[0].attempts == 3 and all(o.not_tried for o in run.outcomes[1:])
    text = report(run, resume="newsletter send x.yaml --to posts.yaml")
    assert "the run stopped: 3 timeouts or connection failures in a row" in text
    assert "to resume: newsletter send x.yaml --to posts.yaml" in text
    with Ledger(ledger) as book:
        rest = book.entries("test-series-7")[1:]
        assert {e.state for e in rest} == {"pending"}
        assert all(e.reply.startswith("not tried: 3 timeouts") for e in rest)
    # A 4xx reply is the server answering: it never counts towards a stop; a success ends a streak.
    # (The post the first run deferred is tried once in this one: its script is one answer.)
    script = {f"post00{i}@example.org": ["down", "ok"] if i else ["ok"] for i in range(6)}
    again = _run(the_plan, ledger, Scripted(script), max_failures=2)
    assert again.stopped is None and again.complete


def test_a_message_over_the_servers_size_is_refused_before_anything(
    tmp_path: Path, out: Path, mail_issue: Path
) -> None:
    the_plan = _plan(tmp_path, out, mail_issue, 2)
    ledger = tmp_path / "ledger.sqlite"
    transport = Scripted(size=1000)
    with pytest.raises(MailError, match="larger than the server's limit of 1000 bytes"):
        _run(the_plan, ledger, transport)
    assert transport.delivered == [] and transport.closed
    assert _states(ledger) == {}


def test_a_ledger_failing_mid_run_stops_it_and_says_what_may_have_arrived(
    tmp_path: Path, out: Path, mail_issue: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    the_plan = _plan(tmp_path, out, mail_issue, 4)
    ledger = tmp_path / "ledger.sqlite"
    real_mark = Ledger.mark
    calls = []

    def full(self: Ledger, *args: object, **kwargs: object) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise LedgerError("cannot write the ledger: database or disk is full", ledger)
        real_mark(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "mark", full)
    run = _run(the_plan, ledger, Scripted())
    assert run.fault is not None and "disk is full" in str(run.fault)
    assert [o.state for o in run.outcomes[:2]] == ["sent", "unknown"]
    assert all(o.not_tried for o in run.outcomes[2:])
    monkeypatch.setattr(Ledger, "mark", real_mark)
    assert _states(ledger)["post-001"] == "sending", (
        "handed over, not recorded: the next run sends it once more"
    )
    transport = Scripted()
    assert _run(the_plan, ledger, transport).complete
    assert transport.delivered == ["post001@example.org", "post002@example.org", "post003@example.org"]


_V0_SCHEMA = """
CREATE TABLE messages (
    issue TEXT NOT NULL, post TEXT NOT NULL, name TEXT NOT NULL, message_id TEXT NOT NULL,
    language TEXT NOT NULL, addresses TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, unknown_outcomes INTEGER NOT NULL DEFAULT 0,
    reply TEXT NOT NULL DEFAULT '', refused TEXT NOT NULL DEFAULT '', updated REAL NOT NULL,
    PRIMARY KEY (issue, post)
)
"""


def test_a_first_version_ledger_is_migrated_without_losing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    rows = [
        ("series-9", "rome", "Rome", "<a@x>", "en", "rome@x.org", "sent", 1, 0, "250 accepted", "", 1.0),
        (
            "series-9",
            "oslo",
            "Oslo",
            "<b@x>",
            "en",
            "oslo@x.org",
            "sending",
            2,
            1,
            "connection lost",
            "",
            2.0,
        ),
        (
            "series-10",
            "rome",
            "Rome",
            "<c@x>",
            "fr",
            "rome@x.org",
            "failed",
            1,
            0,
            "550 no",
            "rome@x.org: 550",
            3.0,
        ),
    ]
    with sqlite3.connect(path) as db:
        db.execute(_V0_SCHEMA)
        db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()
    with Ledger(path) as ledger:
        kept = ledger.entries("series-9") + ledger.entries("series-10")
    assert [
        (
            e.issue,
            e.post,
            e.name,
            e.message_id,
            e.language,
            e.addresses,
            e.state,
            e.attempts,
            e.unknown_outcomes,
            e.reply,
            e.refused,
            e.updated,
        )
        for e in kept
    ] == [rows[1], rows[0], rows[2]]  # by issue, then post
    assert {e.revision for e in kept} == {1}
    assert kept[0].outcome_unknown
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a database at all, " * 100, "not a SQLite database"),
        (b"", "the ledger is empty (0 bytes)"),
        (None, "not a file (a folder?)"),
    ],
)
def test_an_unreadable_ledger_is_never_rebuilt(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "ledger.sqlite"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(LedgerError, match=re.escape(message)) as info:
        Ledger(path)
    assert info.value.path == path and "never rebuilt" in info.value.hint
    if content is not None:
        assert path.read_bytes() == content, "left as it was"


def test_a_ledger_from_a_newer_tool_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path):
        pass
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(LedgerError, match="written by a newer version"):
        Ledger(path)


def test_one_sender_at_a_time(tmp_path: Path) -> None:
    ledger = tmp_path / "mail" / "ledger.sqlite"
    with SendLock(ledger, "issue-10"), pytest.raises(LedgerBusy) as info, SendLock(ledger, "issue-10"):
        pass
    assert f"another send is running on this ledger: pid {os.getpid()}, since " in str(info.value)
    assert "sending issue-10" in str(info.value)
    with SendLock(ledger, "issue-10"):
        pass  # released when its holder ends


def test_memory_does_not_grow_with_the_posts(tmp_path: Path, out: Path, mail_issue: Path) -> None:
    """Messages are composed one at a time: the peak for 150 posts is that of a few messages."""
    the_plan = _plan(tmp_path, out, mail_issue, 150)
    message = the_plan.composer.size(the_plan.outgoing[0])
    tracemalloc.start()
    try:
        run = _run(the_plan, tmp_path / "ledger.sqlite", Scripted())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.complete and len(run.outcomes) == 150
    assert peak < 20 * message, f"peak {peak} bytes for messages of {message} bytes"
