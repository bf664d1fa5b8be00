"""The send ledger: where every message of every issue stands, in SQLite.

A row is written before a message is handed to the server (``sending``) and again when the
server has answered (``sent``, ``deferred`` or ``failed``, with its reply). SQLite commits
each change durably (WAL, ``synchronous=FULL``), so a crash at any point leaves either the
state before the attempt or ``sending``: a message whose outcome is unknown, which the next
run sends again with the same Message-ID.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

State = Literal["pending", "sending", "sent", "deferred", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    issue TEXT NOT NULL,
    post TEXT NOT NULL,
    name TEXT NOT NULL,
    message_id TEXT NOT NULL,
    language TEXT NOT NULL,
    addresses TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    unknown_outcomes INTEGER NOT NULL DEFAULT 0,
    reply TEXT NOT NULL DEFAULT '',
    refused TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL,
    PRIMARY KEY (issue, post)
)
"""


@dataclass(frozen=True)
class Entry:
    """Where one post's message stands."""

    issue: str
    post: str
    name: str
    message_id: str
    language: str
    addresses: str
    state: State
    attempts: int
    unknown_outcomes: int
    reply: str
    refused: str
    updated: float


class Ledger:
    """An open ledger file. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def ensure(self, issue: str, post: str, name: str, message_id: str, language: str, addresses: str) -> Entry:
        """The post's entry, created ``pending`` on first sight."""
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO messages (issue, post, name, message_id, language, addresses, state, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (issue, post, name, message_id, language, addresses, time.time()),
            )
        entry = self.get(issue, post)
        assert entry is not None
        return entry

    def get(self, issue: str, post: str) -> Entry | None:
        """The post's entry, if any."""
        row = self._db.execute("SELECT * FROM messages WHERE issue = ? AND post = ?", (issue, post)).fetchone()
        return Entry(*row) if row else None

    def mark_sending(self, issue: str, post: str) -> Entry:
        """Before handing the message over: an interruption from here on is an unknown outcome."""
        with self._write() as db:
            db.execute(
                "UPDATE messages SET state = 'sending', attempts = attempts + 1, updated = ? WHERE issue = ? AND post = ?",
                (time.time(), issue, post),
            )
        entry = self.get(issue, post)
        assert entry is not None
        return entry

    def mark_unknown(self, issue: str, post: str, reply: str) -> None:
        """The connection dropped after the message was handed over: it may have arrived."""
        with self._write() as db:
            db.execute(
                "UPDATE messages SET unknown_outcomes = unknown_outcomes + 1, reply = ?, updated = ?"
                " WHERE issue = ? AND post = ?",
                (reply, time.time(), issue, post),
            )

    def mark(self, issue: str, post: str, state: State, reply: str, refused: str = "") -> None:
        """The server's answer."""
        with self._write() as db:
            db.execute(
                "UPDATE messages SET state = ?, reply = ?, refused = ?, updated = ? WHERE issue = ? AND post = ?",
                (state, reply, refused, time.time(), issue, post),
            )

    def entries(self, issue: str) -> list[Entry]:
        """Every entry of ``issue``, by post."""
        rows = self._db.execute("SELECT * FROM messages WHERE issue = ? ORDER BY post", (issue,)).fetchall()
        return [Entry(*row) for row in rows]
