"""The send ledger: where every message of every issue stands, in SQLite.

A row per (issue, revision, post) is registered ``pending`` when a run starts. It turns
``sending`` just before the message's body is handed to the server, and ``sent``,
``deferred``, ``failed`` or ``unknown`` when the server has answered (or not: ``unknown`` is a
body handed over whose reply never came). SQLite commits each change durably (WAL,
``synchronous=FULL``), so a kill at any point leaves either the state before the attempt or
``sending``: a message that may have arrived, which the next run sends once more with the
same Message-ID.

The ledger is never rebuilt: a ledger that cannot be read stops the send and names the file,
because an empty ledger would send to every post again. Nor is it guessed at: a file is
written only once it is known to be a ledger (our ``application_id``, or, in a ledger made
before we set one, our tables), so a ``--ledger`` naming another program's database is
refused untouched; a row whose state is none of ours is an error naming it, never "not sent".
Reading (``status``, planning a send) opens it read-only and writes nothing, not even
SQLite's side files.

One send at a time may write it, however it is reached: ``lock.SendLock``.

Schema versions (``PRAGMA user_version``): 0 is the first ledger (one row per issue and post);
2 adds revisions (errata), re-send counts, the attached PDF's digest and the test sends.
A version-0 ledger is migrated in one transaction, every row kept as revision 1, by the next
send; read-only, it is read as it is. The ``copies`` table (signed copies: each post's copy
number, the day it was first made and the SHA-256 of the copy last made) is added to any
ledger a send opens, without a new version: a ledger without it simply has no copies.
"""

from __future__ import annotations

import os
import sqlite3
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self, get_args

from ..errors import EnvironmentFault

State = Literal["pending", "sending", "sent", "deferred", "failed", "unknown"]
#: Every state this tool writes; any other is an error naming its row.
STATES: tuple[State, ...] = get_args(State)
SCHEMA_VERSION = 2
#: ``PRAGMA application_id`` of a ledger ("NLlg"): how a ledger file is told from another
#: program's SQLite database before anything is written to it.
APPLICATION_ID = 0x4E4C6C67

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

_COPIES = """
CREATE TABLE IF NOT EXISTS copies (
    issue TEXT NOT NULL,
    revision INTEGER NOT NULL,
    post TEXT NOT NULL,
    number INTEGER NOT NULL,
    made TEXT NOT NULL,
    sha256 TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL,
    PRIMARY KEY (issue, revision, post)
)
"""

#: The columns of ``Entry``, in its order (never ``SELECT *``: a migrated table may differ).
_COLUMNS = (
    "issue, revision, post, name, message_id, language, addresses, state, attempts, unknown_outcomes, "
    "resends, reply, refused, updated, refers_to, pdf_sha256"
)
#: The columns of a version-0 ledger, all kept by the migration.
_V0_COLUMNS = "issue, post, name, message_id, language, addresses, state, attempts, unknown_outcomes, reply, refused, updated"
#: A version-0 row read as an ``Entry`` (read-only, before the migration): revision 1, no re-sends.
_V0_AS_ENTRY = (
    "issue, 1, post, name, message_id, language, addresses, state, attempts, unknown_outcomes, 0, reply, "
    "refused, updated, '', ''"
)
#: The tables a ledger may hold (the first had only ``messages``).
_OUR_TABLES = {"messages", "tests", "copies"}

NEVER_REBUILT = (
    "the ledger is never rebuilt: a new one would send the issue to every post again; restore it from a "
    "backup, or move it away only if you are sure no post has had this issue"
)


class LedgerError(EnvironmentFault):
    """The ledger cannot be opened, read or written (exit 4)."""


NOT_OURS = (
    "name the send ledger with --ledger (<out>/mail/ledger.sqlite by default); this file was left untouched"
)


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
class Copy:
    """A post's signed copy of one revision: its number (N°), the day it was first made, and
    the SHA-256 of the copy last made for it (a resumed send signs it again)."""

    post: str
    number: int
    made: str
    sha256: str


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
    naming the file, and so is a file that is not a ledger (another program's database) or a
    row in a state this tool does not write. ``read_only``: opened so that nothing is written
    (``status``, planning); an older schema is then read as it is (``schema`` says which).
    """

    def __init__(self, path: Path, create: bool = True, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        if not path.exists() and not path.is_symlink():
            if not create or read_only:
                raise LedgerError("no ledger here", path)
            create_ledger(path)
        elif not path.is_file():
            raise LedgerError("the ledger is not a file (a folder?)", path, NEVER_REBUILT)
        elif path.stat().st_size == 0:
            # We never make an empty ledger (see ``create_ledger``): an empty file is a damaged one.
            raise LedgerError("the ledger is empty (0 bytes): it was damaged", path, NEVER_REBUILT)
        # Looked at read-only first: nothing is written to a file before it is known to be a
        # ledger, sound, and in states we know.
        self._db = self._read_only_connection()
        try:
            with self._guard("read"):
                #: The file's schema version (the current one once a send has migrated it).
                self.schema, self._tables = self._recognise()
                problems = [row[0] for row in self._db.execute("PRAGMA quick_check").fetchall()]
                if problems != ["ok"]:
                    raise LedgerError(
                        f"the ledger is damaged ({'; '.join(problems[:3])})", path, NEVER_REBUILT
                    )
                self._check_states()
            if read_only:
                return
            self._db.close()
            with self._guard("open"):
                self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            with self._guard("read"):
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
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

    def _read_only_connection(self) -> sqlite3.Connection:
        """A connection that cannot write, and makes no file beside the ledger.

        ``mode=ro`` alone still makes the ``-wal`` and ``-shm`` files of a WAL database when
        they are not there, and leaves them. When there is no ``-wal``, everything committed is
        in the file itself, read as ``immutable`` (no side files, no locks); when there is one
        (a send running, or killed), through it, as SQLite reads a WAL database.
        """
        real = self.path.resolve()  # SQLite keeps the side files beside the symlink's target
        uri = f"file:{urllib.parse.quote(str(real))}?mode=ro"
        if not real.with_name(real.name + "-wal").exists():
            uri += "&immutable=1"
        with self._guard("open"):
            return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)

    def _recognise(self) -> tuple[int, set[str]]:
        """The schema version and tables of a file that is a ledger; ``LedgerError`` for another
        program's database (its application id, or, without one, tables that are not ours)."""
        db = self._db
        application = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            )
        }
        if application not in (0, APPLICATION_ID):
            raise LedgerError(
                f"this is not a send ledger: its application id ({application:#x}) is another program's",
                self.path,
                NOT_OURS,
            )
        if application == 0:
            # A ledger made before the application id was set: known by its tables.
            columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
            wanted = {name.strip() for name in _V0_COLUMNS.split(",")}
            if not tables or not tables <= _OUR_TABLES or not wanted <= columns:
                held = ", ".join(sorted(tables)) or "none"
                raise LedgerError(
                    f"this is not a send ledger (its tables: {held}); refusing to write to it",
                    self.path,
                    NOT_OURS,
                )
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"the ledger was written by a newer version of the tool (schema {version}, this one knows "
                f"{SCHEMA_VERSION})",
                self.path,
                "update the newsletter tool",
            )
        return version, tables

    @property
    def _columns(self) -> str:
        return _COLUMNS if self.schema >= SCHEMA_VERSION else _V0_AS_ENTRY

    @property
    def _revision(self) -> str:
        """The revision of a row in SQL: a version-0 row is revision 1."""
        return "revision" if self.schema >= SCHEMA_VERSION else "1"

    def _check_states(self) -> None:
        """Every row in a state we write: an unknown one is never taken for "not sent"."""
        marks = ", ".join("?" * len(STATES))
        row = self._db.execute(
            f"SELECT issue, {self._revision}, post, state FROM messages WHERE state NOT IN ({marks}) "
            "ORDER BY 1, 2, 3 LIMIT 1",
            STATES,
        ).fetchone()
        if row is not None:
            raise self._unknown_state(*row)

    def _unknown_state(self, issue: str, revision: int, post: str, state: object) -> LedgerError:
        return LedgerError(
            f"the post {post!r} of {issue} revision {revision} is in the state {state!r}, which this tool "
            f"never writes ({', '.join(STATES)}): whether it has the message is unknown",
            self.path,
            "the ledger was edited or damaged: restore it from a backup, or set that row's state by hand "
            "to what is known (`sent` only if the post surely has the message); nothing is sent meanwhile",
        )

    def _entry(self, row: Any) -> Entry:
        """A row as an ``Entry``; its state checked (a row may change after the open's check)."""
        if row[7] not in STATES:
            raise self._unknown_state(row[0], row[1], row[2], row[7])
        return Entry(*row)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:  # pragma: no cover - a bug of the caller
            raise LedgerError("the ledger was opened read-only", self.path)
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
        """Bring an older ledger to ``SCHEMA_VERSION`` in one transaction, every row kept; set the
        application id of a ledger made before it was set."""
        application = self._db.execute("PRAGMA application_id").fetchone()[0]
        if self.schema == SCHEMA_VERSION:
            if application != APPLICATION_ID or "copies" not in self._tables:
                with self._write() as db:
                    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    db.execute(_COPIES)
                self._tables = self._tables | {"copies"}
            return
        with self._write() as db:
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
            if "tests" not in self._tables:
                db.execute(_TESTS)
            db.execute(_COPIES)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        self.schema, self._tables = SCHEMA_VERSION, self._tables | _OUR_TABLES

    # -- reading

    def entries(self, issue: str, revision: int | None = None) -> list[Entry]:
        """Every entry of ``issue`` (of one revision, when given), by revision and post."""
        where, args = (
            ("issue = ?", (issue,))
            if revision is None
            else (f"issue = ? AND {self._revision} = ?", (issue, revision))
        )
        with self._guard("read"):
            rows = self._db.execute(
                f"SELECT {self._columns} FROM messages WHERE {where} ORDER BY 2, 3", args
            ).fetchall()
        return [self._entry(row) for row in rows]

    def get(self, issue: str, post: str, revision: int = 1) -> Entry | None:
        """The post's entry, if any."""
        with self._guard("read"):
            row = self._db.execute(
                f"SELECT {self._columns} FROM messages WHERE issue = ? AND {self._revision} = ? AND post = ?",
                (issue, revision, post),
            ).fetchone()
        return self._entry(row) if row else None

    def tests(self, issue: str) -> list[TestSend]:
        """The test sends of ``issue``, oldest first (a version-0 ledger has none)."""
        if "tests" not in self._tables:
            return []
        with self._guard("read"):
            rows = self._db.execute(
                "SELECT issue, revision, language, address, message_id, reply, sent FROM tests WHERE issue = ? ORDER BY sent",
                (issue,),
            ).fetchall()
        return [TestSend(*row) for row in rows]

    def copies(self, issue: str, revision: int) -> dict[str, Copy]:
        """The signed copies of ``issue``'s ``revision``, by post (none in a ledger without them)."""
        if "copies" not in self._tables:
            return {}
        with self._guard("read"):
            rows = self._db.execute(
                "SELECT post, number, made, sha256 FROM copies WHERE issue = ? AND revision = ?",
                (issue, revision),
            ).fetchall()
        return {row[0]: Copy(*row) for row in rows}

    # -- writing

    def number_copies(self, issue: str, revision: int, posts: Iterable[str], made: str) -> dict[str, Copy]:
        """Give each of ``posts`` that has none a copy number and the day ``made``, in one
        transaction, and return every copy of the revision.

        A post keeps the number it had in an earlier revision of the issue (its N° names its
        copies); a new post gets the next number of the issue. Numbers and days are never
        changed: a resumed send makes the same copy for a post (same N°, same day).
        """
        now = time.time()
        with self._write() as db:
            for post in posts:
                db.execute(
                    "INSERT INTO copies (issue, revision, post, number, made, updated) VALUES (?, ?, ?, "
                    " coalesce((SELECT number FROM copies WHERE issue = ? AND post = ? ORDER BY revision LIMIT 1),"
                    "          (SELECT coalesce(max(number), 0) + 1 FROM copies WHERE issue = ?)), ?, ?)"
                    " ON CONFLICT (issue, revision, post) DO NOTHING",
                    (issue, revision, post, issue, post, issue, made, now),
                )
        return self.copies(issue, revision)

    def record_copy(self, issue: str, revision: int, post: str, sha256: str) -> None:
        """The SHA-256 of the copy just made for ``post`` (before it is handed over)."""
        with self._write() as db:
            changed = db.execute(
                "UPDATE copies SET sha256 = ?, updated = ? WHERE issue = ? AND revision = ? AND post = ?",
                (sha256, time.time(), issue, revision, post),
            ).rowcount
        if changed != 1:
            raise LedgerError(f"no copy numbered for {post!r} of {issue} revision {revision}", self.path)

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


def create_ledger(path: Path) -> None:
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
            db.execute(_COPIES)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
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


def default_ledger(out_dir: Path) -> Path:
    """Where ``send`` and ``status`` keep the ledger when not told: ``<out>/mail/ledger.sqlite``."""
    return out_dir / "mail" / "ledger.sqlite"
