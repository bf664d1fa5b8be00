"""The send ledger: where every message of every issue stands, in SQLite.

A row per (issue, revision, post) is registered ``pending`` when a run starts. It turns
``sending`` just before the message's body is handed to the server, and ``sent``,
``deferred``, ``failed`` or ``unknown`` when the server has answered (or not: ``unknown`` is a
body handed over whose reply never came). SQLite commits each change durably (WAL,
``synchronous=FULL``), so a kill at any point leaves either the state before the attempt or
``sending``: a message that may have arrived, which the next run sends once more with the
same Message-ID.

The ledger is never rebuilt: a ledger that cannot be read stops the send and names the file,
because an empty ledger would send to every post again. One send at a time may write it:
``SendLock`` holds an ``flock`` on ``<ledger>.lock`` for the whole run, which the kernel
releases when the process ends, however it ends.

Schema versions (``PRAGMA user_version``): 0 is the first ledger (one row per issue and post);
2 adds revisions (errata), re-send counts, the attached PDF's digest and the test sends.
A version-0 ledger is migrated in one transaction, every row kept as revision 1.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

from .errors import EnvironmentFault

State = Literal["pending", "sending", "sent", "deferred", "failed", "unknown"]
SCHEMA_VERSION = 2

_MESSAGES = """
CREATE TABLE messages (
    issue TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    post TEXT NOT NULL,
    name TEXT NOT NULL,
    message_id TEXT NOT NULL,
    language TEXT NOT NULL,
    addresses TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    unknown_outcomes INTEGER NOT NULL DEFAULT 0,
    resends INTEGER NOT NULL DEFAULT 0,
    reply TEXT NOT NULL DEFAULT '',
    refused TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL,
    refers_to TEXT NOT NULL DEFAULT '',
    pdf_sha256 TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (issue, revision, post)
)
"""

_TESTS = """
CREATE TABLE tests (
    issue TEXT NOT NULL,
    revision INTEGER NOT NULL,
    language TEXT NOT NULL,
    address TEXT NOT NULL,
    message_id TEXT NOT NULL,
    reply TEXT NOT NULL,
    sent REAL NOT NULL
)
"""

#: The columns of ``Entry``, in its order (never ``SELECT *``: a migrated table may differ).
_COLUMNS = (
    "issue, revision, post, name, message_id, language, addresses, state, attempts, unknown_outcomes, "
    "resends, reply, refused, updated, refers_to, pdf_sha256"
)
#: The columns of a version-0 ledger, all kept by the migration.
_V0_COLUMNS = "issue, post, name, message_id, language, addresses, state, attempts, unknown_outcomes, reply, refused, updated"

NEVER_REBUILT = (
    "the ledger is never rebuilt: a new one would send the issue to every post again; restore it from a "
    "backup, or move it away only if you are sure no post has had this issue"
)


class LedgerError(EnvironmentFault):
    """The ledger cannot be opened, read or written (exit 4)."""


class LedgerBusy(EnvironmentFault):
    """Another send holds the ledger."""


@dataclass(frozen=True)
class Entry:
    """Where one post's message of one revision stands."""

    issue: str
    revision: int
    post: str
    name: str
    message_id: str
    language: str
    addresses: str
    state: State
    attempts: int
    unknown_outcomes: int
    resends: int
    reply: str
    refused: str
    updated: float
    #: Message-IDs of the earlier revisions this one corrects, space-separated.
    refers_to: str
    pdf_sha256: str

    @property
    def outcome_unknown(self) -> bool:
        """Handed over with no reply (or interrupted while handed over): it may have arrived."""
        return self.state in ("unknown", "sending")

    @property
    def may_have_arrived_twice(self) -> bool:
        """Sent again after an unknown outcome, or unknown now after an earlier attempt."""
        return self.resends > 0 or (self.outcome_unknown and self.unknown_outcomes > 1)


@dataclass(frozen=True)
class TestSend:
    """A test message sent to an editor, outside the accounting of posts."""

    issue: str
    revision: int
    language: str
    address: str
    message_id: str
    reply: str
    sent: float


class Ledger:
    """An open ledger file. Use as a context manager.

    Every failure of SQLite (a garbage file, a folder, a full disk) is a ``LedgerError``
    naming the file.
    """

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path = path
        if not path.exists() and not path.is_symlink():
            if not create:
                raise LedgerError("no ledger here", path)
            _create(path)
        elif not path.is_file():
            raise LedgerError("the ledger is not a file (a folder?)", path, NEVER_REBUILT)
        elif path.stat().st_size == 0:
            # We never make an empty ledger (see ``_create``): an empty file is a damaged one.
            raise LedgerError("the ledger is empty (0 bytes): it was damaged", path, NEVER_REBUILT)
        with self._guard("open"):
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            with self._guard("read"):
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                problems = [row[0] for row in self._db.execute("PRAGMA quick_check").fetchall()]
                if problems != ["ok"]:
                    raise LedgerError(
                        f"the ledger is damaged ({'; '.join(problems[:3])})", path, NEVER_REBUILT
                    )
                self._migrate()
        except BaseException:
            self._db.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    # -- plumbing

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """SQLite's failures as ``LedgerError``: this is the machine's side, not a bug."""
        try:
            yield
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
                raise LedgerError(
                    "the ledger is not a SQLite database (damaged?)", self.path, NEVER_REBUILT
                ) from None
            hint = (
                "free some space on the ledger's disk (or fix its permissions), then run the same command "
                "again: what was recorded is kept"
            )
            raise LedgerError(f"cannot {action} the ledger: {exc}", self.path, hint) from None
        except OSError as exc:
            raise LedgerError(f"cannot {action} the ledger: {exc.strerror or exc}", self.path) from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._guard("write"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (a full disk) may already have ended the transaction:
                # rolling back then would raise "no transaction is active" and hide the cause.
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"the ledger was written by a newer version of the tool (schema {version}, this one knows "
                f"{SCHEMA_VERSION})",
                self.path,
                "update the newsletter tool",
            )
        if version == SCHEMA_VERSION:
            return
        with self._write() as db:
            if "messages" in tables:
                count = db.execute("SELECT count(*) FROM messages").fetchone()[0]
                db.execute("ALTER TABLE messages RENAME TO messages_v0")
                db.execute(_MESSAGES)
                db.execute(
                    f"INSERT INTO messages ({_V0_COLUMNS}, revision) SELECT {_V0_COLUMNS}, 1 FROM messages_v0"
                )
                kept = db.execute("SELECT count(*) FROM messages").fetchone()[0]
                if kept != count:  # pragma: no cover - SQLite copies every row or fails
                    raise sqlite3.DatabaseError(f"migration kept {kept} of {count} rows")
                db.execute("DROP TABLE messages_v0")
            else:
                db.execute(_MESSAGES)
            db.execute(_TESTS)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _one(self, issue: str, revision: int, post: str) -> Entry:
        with self._guard("read"):
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE issue = ? AND revision = ? AND post = ?",
                (issue, revision, post),
            ).fetchone()
        if row is None:
            raise LedgerError(f"no entry for {post!r} of {issue} revision {revision}", self.path)
        return Entry(*row)

    # -- reading

    def entries(self, issue: str, revision: int | None = None) -> list[Entry]:
        """Every entry of ``issue`` (of one revision, when given), by revision and post."""
        where, args = (
            ("issue = ?", (issue,)) if revision is None else ("issue = ? AND revision = ?", (issue, revision))
        )
        with self._guard("read"):
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE {where} ORDER BY revision, post", args
            ).fetchall()
        return [Entry(*row) for row in rows]

    def get(self, issue: str, post: str, revision: int = 1) -> Entry | None:
        """The post's entry, if any."""
        with self._guard("read"):
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE issue = ? AND revision = ? AND post = ?",
                (issue, revision, post),
            ).fetchone()
        return Entry(*row) if row else None

    def tests(self, issue: str) -> list[TestSend]:
        """The test sends of ``issue``, oldest first."""
        with self._guard("read"):
            rows = self._db.execute(
                "SELECT issue, revision, language, address, message_id, reply, sent FROM tests WHERE issue = ? ORDER BY sent",
                (issue,),
            ).fetchall()
        return [TestSend(*row) for row in rows]

    # -- writing

    def register(
        self, issue: str, revision: int, rows: Iterable[tuple[str, str, str, str, str, str]]
    ) -> None:
        """Create a ``pending`` entry for each post not yet in the ledger, all in one transaction.

        ``rows`` are (post, name, message_id, language, addresses, refers_to). A post already
        there keeps its state; its name and addresses follow the recipients file until it is sent.
        """
        now = time.time()
        with self._write() as db:
            db.executemany(
                "INSERT INTO messages (issue, revision, post, name, message_id, language, addresses, state, updated, refers_to)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)"
                " ON CONFLICT (issue, revision, post) DO UPDATE SET name = excluded.name, addresses = excluded.addresses"
                " WHERE state != 'sent'",
                (
                    (issue, revision, post, name, mid, lang, addresses, now, refers)
                    for post, name, mid, lang, addresses, refers in rows
                ),
            )

    def attempt(self, issue: str, revision: int, post: str) -> None:
        """A new attempt at this post's message begins."""
        self._update(issue, revision, post, "attempts = attempts + 1")

    def mark_sending(self, issue: str, revision: int, post: str, resend: bool) -> None:
        """The body is about to be handed over: an interruption from here on is an unknown
        outcome. ``resend``: an earlier attempt's outcome was unknown, so this may be a second copy."""
        self._update(
            issue, revision, post, "state = 'sending'" + (", resends = resends + 1" if resend else "")
        )

    def mark_unknown(self, issue: str, revision: int, post: str, reply: str) -> None:
        """The body was handed over but no reply came: it may have arrived."""
        self._update(
            issue,
            revision,
            post,
            "state = 'unknown', unknown_outcomes = unknown_outcomes + 1, reply = ?",
            reply,
        )

    def mark(
        self,
        issue: str,
        revision: int,
        post: str,
        state: State,
        reply: str,
        refused: str = "",
        pdf_sha256: str = "",
    ) -> None:
        """The server's answer (or the reason nothing was handed over)."""
        self._update(
            issue,
            revision,
            post,
            "state = ?, reply = ?, refused = ?, pdf_sha256 = ?",
            state,
            reply,
            refused,
            pdf_sha256,
        )

    def note(self, issue: str, revision: int, posts: list[str], reply: str) -> None:
        """Why nothing was tried for these posts in this run (one transaction); their state stays."""
        with self._write() as db:
            db.executemany(
                "UPDATE messages SET reply = ?, updated = ? WHERE issue = ? AND revision = ? AND post = ?",
                ((reply, time.time(), issue, revision, post) for post in posts),
            )

    def record_test(
        self, issue: str, revision: int, language: str, address: str, message_id: str, reply: str
    ) -> None:
        """A test send, kept apart from the posts' entries."""
        with self._write() as db:
            db.execute(
                "INSERT INTO tests (issue, revision, language, address, message_id, reply, sent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (issue, revision, language, address, message_id, reply, time.time()),
            )

    def _update(self, issue: str, revision: int, post: str, assignments: str, *values: object) -> None:
        with self._write() as db:
            changed = db.execute(
                f"UPDATE messages SET {assignments}, updated = ? WHERE issue = ? AND revision = ? AND post = ?",
                (*values, time.time(), issue, revision, post),
            ).rowcount
        if changed != 1:
            raise LedgerError(f"no entry for {post!r} of {issue} revision {revision}", self.path)


def _create(path: Path) -> None:
    """Make a new ledger whole, then move it into place.

    Made beside its name and linked there only when complete: a crash never leaves an empty
    ledger, which could not be told from a damaged one.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_MESSAGES)
            db.execute(_TESTS)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            db.close()
        try:
            os.link(tmp, path)  # fails if another process made it first: theirs is kept
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise LedgerError(
            f"cannot create the ledger: {reason}",
            path,
            "choose a folder that can be written with --out or --ledger",
        ) from None


class SendLock:
    """One send at a time on a ledger: an exclusive ``flock`` on ``<ledger>.lock``.

    The lock file says who holds it (pid, since when, which issue); the lock itself is the
    kernel's, released when the holder ends, even by SIGKILL, so it is never left stuck.
    """

    def __init__(self, ledger: Path, what: str) -> None:
        self.path = ledger.with_name(ledger.name + ".lock")
        self._what = what
        self._fd: int | None = None

    def __enter__(self) -> Self:
        ledger = self.path.with_suffix("")
        if (ledger.exists() or ledger.is_symlink()) and not ledger.is_file():
            # Before making a lock file beside it: nothing is left behind when we refuse.
            raise LedgerError("the ledger is not a file (a folder?)", ledger, NEVER_REBUILT)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise LedgerError(
                f"cannot make the ledger's lock file: {exc.strerror or exc}",
                self.path,
                "choose a folder that can be written with --out or --ledger",
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 400).decode("utf-8", "replace").strip() or "a process that has just started"
            os.close(fd)
            raise LedgerBusy(
                f"another send is running on this ledger: {holder}",
                self.path.with_suffix(""),
                "wait for it to end (`newsletter status` shows where it stands), or stop that process; "
                "then run this command again",
            ) from None
        since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {since}, sending {self._what}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the lock
            self._fd = None
