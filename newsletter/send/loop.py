"""The send loop: the messages of a send -> a transport, with a ledger so that nothing is
lost and nothing is sent twice but what may have arrived.

Composing lives in ``compose.py``, the server behind the ``Transport`` seam of
``transport.py``; this module decides what to send, when to retry, when to stop, and what to
write in the ledger, for any transport:

- every post of the send is registered ``pending`` first; a post confirmed ``sent`` in an
  earlier run is skipped;
- each message is composed when its turn comes (memory does not grow with the posts), after
  the size of each edition's message was checked against the server's SIZE;
- a 4xx reply or a connection failure before the body was handed over is retried with
  doubling delays (bounded), the post ``deferred`` in the ledger meanwhile, so that a kill
  during the wait leaves it simply to be sent; a post deferred by an earlier run is tried once
  per run, without those waits (a mailbox full for days cost 14 s on every run);
- a 5xx reply is never retried: the post is ``failed`` (refused for good), and later runs
  skip it unless told to try the refused again (``--retry-refused``);
- a body handed over without a reply (a timeout, a dropped line) is an *unknown outcome*: it
  may have arrived, so it is never retried within the run; the next run sends it once more,
  with the same Message-ID, and says it may arrive twice;
- after ``max_failures`` timeouts or connection failures in a row the run stops, the rest
  left pending with the reason; running the same command again resumes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..defaults import DEFAULT_MAX_FAILURES
from ..defaults import DEFAULT_SMTP_TIMEOUT as DEFAULT_TIMEOUT
from ..errors import EnvironmentFault
from .compose import Composer, LanguageVersion, Outgoing, issue_key
from .ledger import Ledger, LedgerError
from .transport import MailError, Refused, Settings, Transport, Unknown, Unreachable

__all__ = [
    "DEFAULT_MAX_FAILURES",
    "DEFAULT_TIMEOUT",
    "Composer",
    "LanguageVersion",
    "MailError",
    "Outcome",
    "Outgoing",
    "Retry",
    "Run",
    "Settings",
    "credentials",
    "issue_key",
    "report",
    "send",
]


def credentials(host: str) -> tuple[str | None, str | None]:
    """``NEWSLETTER_SMTP_USER`` / ``NEWSLETTER_SMTP_PASSWORD``, else the system keyring.

    Never a file in the repository: a password committed once is a password leaked.
    """
    user = os.environ.get("NEWSLETTER_SMTP_USER")
    password = os.environ.get("NEWSLETTER_SMTP_PASSWORD")
    if user and not password:
        try:
            import keyring  # optional: only where the editor has set it up

            password = keyring.get_password("newsletter-smtp", f"{user}@{host}")
        except Exception:  # noqa: BLE001 - no keyring backend is not an error
            password = None
    return user, password


@dataclass
class Retry:
    """How hard to try a 4xx reply or a connection failure before deferring."""

    attempts: int = 4
    first_delay: float = 2.0
    max_total: float = 120.0


@dataclass
class Outcome:
    """What became of one post's message in this run."""

    post: str
    name: str
    state: str
    reply: str
    attempts: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    #: Handed over again after an earlier unknown outcome: it may arrive twice.
    resent_after_unknown: bool = False
    fallback_language: bool = False
    #: Confirmed sent in an earlier run: nothing done.
    skipped: bool = False
    #: Not tried in this run: the run stopped before its turn.
    not_tried: bool = False
    #: Its body reached the server in this run (at least once).
    handed_over: bool = False
    #: Refused for good (a 5xx reply) in an earlier run: not tried again.
    refused_before: bool = False


@dataclass
class Run:
    """A run of a send: what became of each post, and why it stopped early, if it did."""

    issue: str
    revision: int
    outcomes: list[Outcome] = field(default_factory=list)
    #: Why the run stopped before the end (too many failures in a row, the ledger failing).
    stopped: str | None = None
    #: The environment's failure that stopped it, if one did (exit 4).
    fault: EnvironmentFault | None = None
    #: The posts refused for good in earlier runs were tried again.
    retry_refused: bool = False

    @property
    def complete(self) -> bool:
        """Every post confirmed sent."""
        return all(o.state == "sent" for o in self.outcomes)


class _Streak:
    """Counts timeouts and connection failures in a row; any reply of the server ends a streak."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.last = ""

    def failed(self, reason: str) -> bool:
        """One more failure; whether the run must stop."""
        self.count += 1
        self.last = reason
        return self.count >= self.limit

    def ok(self) -> None:
        self.count = 0


def send(
    outgoing: list[Outgoing],
    composer: Composer,
    ledger: Ledger,
    transport: Transport,
    rate_per_minute: float | None = None,
    retry: Retry | None = None,
    progress: Callable[[Outcome], None] | None = None,
    max_failures: int = DEFAULT_MAX_FAILURES,
    sleep: Callable[[float], None] = time.sleep,
    retry_refused: bool = False,
) -> Run:
    """Send every message not yet confirmed sent, nor refused for good in an earlier run
    (unless ``retry_refused``); return what became of each.

    Raises ``MailError`` before anything is sent (or registered) when a message is larger
    than the SIZE the server announces. The transport is closed at the end.
    """
    retry = retry or Retry()
    key, revision = composer.key, composer.revision
    run = Run(key, revision, retry_refused=retry_refused)
    try:
        limit = transport.size_limit()
        if limit:
            too_big = {lang: size for lang, size in composer.largest(outgoing).items() if size > limit}
            if too_big:
                raise MailError(
                    f"the messages of the {', '.join(sorted(too_big))} edition are larger than the server's limit of "
                    f"{limit} bytes ({max(too_big.values())} bytes); nothing was sent"
                )
        ledger.register(
            key,
            revision,
            (
                (
                    o.post.key,
                    o.post.name,
                    o.message_id,
                    o.language,
                    ", ".join(o.recipients),
                    " ".join(o.references),
                )
                for o in outgoing
            ),
        )
        if composer.copies is not None:
            # Numbered once, kept by every later run: a resumed send makes the same copies.
            composer.copies.number(
                ledger.number_copies(
                    key, revision, [o.post.key for o in outgoing], dt.date.today().isoformat()
                )
            )
        before = {e.post: e for e in ledger.entries(key, revision)}
        digests = {
            lang: hashlib.sha256(e.pdf.read_bytes()).hexdigest() for lang, e in composer.languages.items()
        }
        sending = _Sending(composer, ledger, transport, limit, digests, retry, _Streak(max_failures), sleep)
        streak = sending.streak
        interval = 60.0 / rate_per_minute if rate_per_minute else 0.0
        last_start = 0.0
        untried: list[str] = []
        for item in outgoing:
            entry = before[item.post.key]
            if entry.state == "sent":
                outcome = Outcome(
                    item.post.key, item.post.name, "sent", entry.reply, entry.attempts, skipped=True
                )
            elif entry.state == "failed" and not retry_refused:
                # The same message to the same server: it would be refused again.
                outcome = Outcome(
                    item.post.key,
                    item.post.name,
                    "failed",
                    entry.reply,
                    entry.attempts,
                    fallback_language=item.fallback,
                    refused_before=True,
                )
            elif run.stopped:
                outcome = Outcome(
                    item.post.key,
                    item.post.name,
                    entry.state,
                    f"not tried: {run.stopped}",
                    entry.attempts,
                    fallback_language=item.fallback,
                    not_tried=True,
                )
                untried.append(item.post.key)
            else:
                if interval:
                    wait = last_start + interval - time.monotonic()
                    if wait > 0:
                        sleep(wait)
                last_start = time.monotonic()
                try:
                    outcome = _send_one(sending, item, entry.outcome_unknown, entry.state == "deferred")
                except _LedgerFailed as failed:
                    run.fault, run.stopped = (
                        failed.fault,
                        f"the ledger could not be written ({failed.fault.message})",
                    )
                    outcome = failed.outcome
                if streak.count >= streak.limit and not run.stopped:
                    run.stopped = (
                        f"{streak.count} timeouts or connection failures in a row (the last: {streak.last})"
                    )
            run.outcomes.append(outcome)
            if progress:
                progress(outcome)
        if untried and run.fault is None:
            ledger.note(key, revision, untried, f"not tried: {run.stopped}")
    except LedgerError as exc:
        # Before the loop (registering the posts): nothing was handed over.
        run.fault, run.stopped = exc, f"the ledger could not be written ({exc.message})"
    finally:
        transport.close()
    return run


class _LedgerFailed(Exception):
    """The ledger failed in the middle of a post: what is known of it, and the failure."""

    def __init__(self, outcome: Outcome, fault: LedgerError) -> None:
        super().__init__(str(fault))
        self.outcome = outcome
        self.fault = fault


@dataclass(frozen=True)
class _Sending:
    """What every post of a run is sent with: the messages, the ledger, the connection, the
    server's size limit, the digest of each edition's PDF, the retry policy, the count of
    failures in a row, and how to wait."""

    composer: Composer
    ledger: Ledger
    transport: Transport
    limit: int
    digests: dict[str, str]
    retry: Retry
    streak: _Streak
    sleep: Callable[[float], None]


def _send_one(sending: _Sending, item: Outgoing, unknown_before: bool, deferred_before: bool) -> Outcome:
    outcome = Outcome(item.post.key, item.post.name, "deferred", "", fallback_language=item.fallback)
    try:
        return _attempts(sending, outcome, item, unknown_before, deferred_before)
    except LedgerError as exc:
        # Handed over but not recorded: the ledger still says ``sending``, an unknown outcome.
        outcome.state = "unknown" if outcome.handed_over and outcome.state != "failed" else outcome.state
        outcome.reply = f"the ledger could not be written: {exc.message}"
        raise _LedgerFailed(outcome, exc) from None


def _attempts(
    sending: _Sending, outcome: Outcome, item: Outgoing, unknown_before: bool, deferred_before: bool
) -> Outcome:
    """Hand one post's message over, retrying a temporary failure with doubling waits, only
    in the first run that tries it: deferred by an earlier one, it is tried once, at once."""
    composer, ledger, transport, limit = sending.composer, sending.ledger, sending.transport, sending.limit
    retry, streak, sleep, digest = (
        sending.retry,
        sending.streak,
        sending.sleep,
        sending.digests[item.language],
    )
    key, revision, post = composer.key, composer.revision, item.post.key
    data, copy_sha256 = composer.compose(item)  # composed now, dropped when this post is done
    if copy_sha256:
        # The copy made in this run (a resumed send signs it again): the one that is sent.
        ledger.record_copy(key, revision, post, copy_sha256)
    if limit and len(data) > limit:
        outcome.state, outcome.reply = "failed", f"{len(data)} bytes, over the server's limit of {limit}"
        ledger.mark(key, revision, post, "failed", outcome.reply)
        return outcome

    def handing_over() -> None:
        ledger.mark_sending(key, revision, post, resend=unknown_before)
        outcome.handed_over = True  # only once recorded: a failing ledger stops before the body goes
        outcome.resent_after_unknown = unknown_before

    started = time.monotonic()
    delay = retry.first_delay
    attempts = 1 if deferred_before else retry.attempts
    for attempt in range(1, attempts + 1):
        outcome.attempts = attempt
        ledger.attempt(key, revision, post)
        try:
            refused = transport.send(composer.sender, list(item.recipients), data, handing_over)
        except Refused as exc:
            streak.ok()
            outcome.refused, outcome.reply = exc.refused, exc.reply
            if exc.permanent:
                outcome.state = "failed"
                ledger.mark(key, revision, post, "failed", exc.reply, _refusals(exc.refused))
                return outcome
            # Known not delivered: a kill during the wait below leaves it simply to be sent.
            ledger.mark(key, revision, post, "deferred", exc.reply, _refusals(exc.refused))
        except Unknown as exc:
            # It may have arrived: never again in this run (the next run sends it once more).
            outcome.state, outcome.reply = "unknown", exc.reason
            ledger.mark_unknown(key, revision, post, exc.reason)
            streak.failed(exc.reason)
            return outcome
        except Unreachable as exc:
            outcome.reply = exc.reason
            ledger.mark(key, revision, post, "deferred", exc.reason)
            if streak.failed(exc.reason):
                return outcome
        else:
            streak.ok()
            outcome.state, outcome.reply, outcome.refused = "sent", "250 accepted", refused
            ledger.mark(key, revision, post, "sent", outcome.reply, _refusals(refused), digest)
            return outcome
        if attempt == attempts or time.monotonic() - started + delay > retry.max_total:
            break
        sleep(delay)
        delay *= 2
    return outcome  # still a temporary failure: the next run tries again


def _refusals(refused: dict[str, str]) -> str:
    return "; ".join(f"{addr}: {reply}" for addr, reply in refused.items())


UNKNOWN_WORDS = "outcome unknown: may arrive twice"


def report(run: Run, resume: str = "run the same command again") -> str:
    """The closing table (every post acted on, with its reply and notes), the counts, and,
    when the run stopped early or left posts unsent, how to resume."""
    outcomes = run.outcomes
    lines = [f"{'post':<40} {'state':<9} {'tries':>5}  reply"]
    for o in outcomes:
        if o.skipped or o.not_tried or o.refused_before:
            continue
        notes = []
        if o.state == "unknown":
            notes.append(f"{UNKNOWN_WORDS}; the next run sends it once more, with the same Message-ID")
        if o.resent_after_unknown:
            notes.append("sent again after an unknown outcome: it may arrive twice, with the same Message-ID")
        if o.fallback_language:
            notes.append("edition in its language does not exist: sent in the issue's language")
        notes.extend(f"refused {addr}: {reply}" for addr, reply in o.refused.items())
        lines.append(f"{o.name[:40]:<40} {o.state:<9} {o.attempts:>5}  {o.reply}")
        lines.extend(f"{'':<40} {'':<9} {'':>5}  ({n})" for n in notes)
    done = [o for o in outcomes if not o.skipped and not o.not_tried and not o.refused_before]
    count = {
        state: sum(o.state == state for o in done) for state in ("sent", "deferred", "failed", "unknown")
    }
    already = sum(o.skipped for o in outcomes)
    not_tried = sum(o.not_tried and o.state != "sent" for o in outcomes)
    refused_before = sum(o.refused_before for o in outcomes)
    twice = sum(o.resent_after_unknown for o in done)
    summary = (
        f"sent {count['sent']} (and {already} sent before), deferred {count['deferred']}, failed {count['failed']}, "
        f"{UNKNOWN_WORDS} {count['unknown']}"
    )
    if twice:
        summary += f", sent again after an unknown outcome {twice}"
    if not_tried:
        summary += f", not tried {not_tried}"
    if refused_before:
        summary += f", refused for good before and not tried again {refused_before}"
    lines.append(summary)
    if run.stopped:
        lines.append(f"the run stopped: {run.stopped}; the {not_tried} posts not tried are pending.")
    if not run.complete:
        refused = sum(o.state == "failed" for o in outcomes)
        lines.append(
            f"to resume: {resume} (only what is not confirmed sent goes out"
            + ("; each message whose outcome is unknown is sent once more" if count["unknown"] else "")
            + (
                f"; the {refused} posts refused for good (a 5xx reply) only with --retry-refused"
                if refused and not run.retry_refused
                else ""
            )
            + ")"
        )
    return "\n".join(lines)
