"""Distribution: the email edition + the recipients -> one message per post -> SMTP, with a
send ledger so that nothing is lost and nothing is sent twice but what may have arrived.

- ``compose`` makes the messages (stdlib ``email``): subject and a short text/HTML body from
  the issue (title, lead, teasers with their computed page numbers), the PDF attached, and
  a Message-ID fixed per (issue, post) so that a re-send is recognisable as the same message.
- ``send`` hands them to the server over TLS with certificate verification, refuses before
  sending anything if one is larger than the server's SIZE, retries 4xx replies and dropped
  connections with backoff (bounded), never retries 5xx, and writes each message's state to
  the ledger before and after each attempt.
- ``write_eml`` is the dry run: every message as an ``.eml`` file, no server, no ledger.
"""

from __future__ import annotations

import mimetypes
import os
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .errors import EnvironmentFault
from .ledger import Ledger
from .markup import Inline
from .model import Issue
from .recipients import Post, RecipientList, slug
from .render import Layout, labels_for


class MailError(EnvironmentFault):
    """Sending cannot start (no server, a certificate refused, a message over the SIZE limit)."""


@dataclass(frozen=True)
class Edition:
    """An email edition ready to go: its issue, its PDF and where its teasers point."""

    language: str
    issue: Issue
    pdf: Path
    pages: int
    teaser_pages: dict[str, int]


@dataclass(frozen=True)
class Outgoing:
    """One message for one post."""

    post: Post
    language: str
    fallback: bool
    message_id: str
    recipients: list[str]
    message: EmailMessage

    @property
    def size(self) -> int:
        """Bytes on the wire."""
        return len(self.message.as_bytes(policy=SMTP_POLICY))


def issue_key(issue: Issue) -> str:
    """The issue's name in Message-IDs and the ledger: series, number."""
    return f"{slug(issue.series)}-{issue.number}"


def compose(
    editions: dict[str, Edition], recipients: RecipientList, posts: list[Post], layout: Layout
) -> list[Outgoing]:
    """One message per post, in the post's language when that edition exists."""
    sender = recipients.recipients.sender
    domain = sender.rsplit("@", 1)[1]
    main = next(iter(editions.values()))
    bodies: dict[str, tuple[str, str, str]] = {}
    outgoing = []
    for post in posts:
        wanted = post.language or main.language
        edition = editions.get(wanted, main)
        if edition.language not in bodies:
            bodies[edition.language] = _bodies(edition, layout)
        subject, text, html = bodies[edition.language]
        message_id = f"<newsletter.{issue_key(edition.issue)}.{post.key}@{domain}>"
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = formataddr((recipients.recipients.sender_name or "", sender))
        message["To"] = ", ".join(post.addresses)
        if post.cc:
            message["Cc"] = ", ".join(post.cc)
        message["Message-ID"] = message_id
        message["Date"] = formatdate(localtime=False)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        ctype = mimetypes.guess_type(edition.pdf.name)[0] or "application/pdf"
        maintype, subtype = ctype.split("/", 1)
        message.add_attachment(edition.pdf.read_bytes(), maintype=maintype, subtype=subtype, filename=edition.pdf.name)
        message["Content-Language"] = edition.language  # after set_content, which drops Content-* headers
        outgoing.append(
            Outgoing(post, edition.language, edition.language != wanted, message_id, [*post.addresses, *post.cc], message)
        )
    return outgoing


def _bodies(edition: Edition, layout: Layout) -> tuple[str, str, str]:
    labels = labels_for(layout, edition.language)
    inline = Inline(page_label=labels["page"])
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(layout.templates),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["inline"] = inline.render
    env.filters["plain"] = lambda text: Markup(inline.render(text)).striptags()
    teasers = [(t.text, edition.teaser_pages.get(t.target)) for t in edition.issue.cover.teasers]
    data = {
        "issue": edition.issue,
        "labels": labels,
        "teasers": teasers,
        "pages": edition.pages,
        "size_kb": round(edition.pdf.stat().st_size / 1024),
    }
    subject = f"{edition.issue.series} – {labels['issue']} {edition.issue.number}: {edition.issue.title}"
    return subject, env.get_template("mail.txt.j2").render(**data), env.get_template("mail.html.j2").render(**data)


def write_eml(outgoing: list[Outgoing], folder: Path) -> list[Path]:
    """The dry run: each message as ``<post>.eml`` in ``folder``; nothing else is touched."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for item in outgoing:
        path = folder / f"{item.post.key}.eml"
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(item.message.as_bytes(policy=SMTP_POLICY))
        os.replace(tmp, path)
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------
# Sending


@dataclass(frozen=True)
class Settings:
    """How to reach the server. Credentials come from the environment or the keyring."""

    host: str
    port: int
    security: str  # "starttls" or "ssl"
    ca_file: Path | None = None
    timeout: float = 30.0
    user: str | None = None
    password: str | None = None


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
    """How hard to try a 4xx reply or a dropped connection before deferring."""

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
    resent_after_unknown: bool = False
    fallback_language: bool = False
    skipped: bool = False


class _Tracking:
    """Knows whether the message body reached the server: only then is a drop 'unknown'."""

    data_started = False

    def data(self, msg: Any) -> Any:
        self.data_started = True
        return super().data(msg)  # type: ignore[misc]


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPS(_Tracking, smtplib.SMTP_SSL):
    pass


def _connect(settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    try:
        if settings.security == "ssl":
            smtp: smtplib.SMTP = _SMTPS(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            smtp = _SMTP(settings.host, settings.port, timeout=settings.timeout)
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                smtp.close()
                raise MailError(f"{settings.host}:{settings.port} does not offer STARTTLS; refusing to send in clear")
            smtp.starttls(context=context)
        smtp.ehlo()
        if settings.user:
            if not settings.password:
                raise MailError("NEWSLETTER_SMTP_USER is set but no password was found (environment or keyring)")
            smtp.login(settings.user, settings.password)
    except ssl.SSLCertVerificationError as exc:
        raise MailError(
            f"the certificate of {settings.host}:{settings.port} was refused ({exc.verify_message}); "
            "give its CA with --ca-file if it is your own server"
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot reach {settings.host}:{settings.port}: {exc}") from None
    return smtp


def _code_text(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()


def send(
    outgoing: list[Outgoing],
    ledger: Ledger,
    issue: str,
    settings: Settings,
    sender: str,
    rate_per_minute: float | None = None,
    retry: Retry | None = None,
    progress: Callable[[Outcome], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Send every message not yet confirmed sent; return what became of each.

    Raises ``MailError`` before anything is sent when the server cannot be reached, its
    certificate is refused, or a message exceeds the SIZE it announces.
    """
    retry = retry or Retry()
    first = _connect(settings)
    limit = int(first.esmtp_features.get("size", "0") or 0)
    too_big = [item for item in outgoing if limit and item.size > limit]
    if too_big:
        first.quit()
        raise MailError(
            f"{len(too_big)} message(s) are larger than the server's limit of {limit} bytes "
            f"(the largest is {max(i.size for i in too_big)} bytes); nothing was sent"
        )
    smtp: smtplib.SMTP | None = first
    interval = 60.0 / rate_per_minute if rate_per_minute else 0.0
    last_start = 0.0
    outcomes = []
    try:
        for item in outgoing:
            entry = ledger.ensure(issue, item.post.key, item.post.name, item.message_id, item.language, ", ".join(item.recipients))
            if entry.state == "sent":
                outcome = Outcome(item.post.key, item.post.name, "sent", entry.reply, entry.attempts, skipped=True)
                outcomes.append(outcome)
                if progress:
                    progress(outcome)
                continue
            if interval:
                wait = last_start + interval - time.monotonic()
                if wait > 0:
                    sleep(wait)
            last_start = time.monotonic()
            outcome, smtp = _send_one(item, entry.state == "sending", ledger, issue, smtp, settings, sender, retry, sleep)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return outcomes


def _send_one(
    item: Outgoing,
    unknown_before: bool,
    ledger: Ledger,
    issue: str,
    smtp: smtplib.SMTP | None,
    settings: Settings,
    sender: str,
    retry: Retry,
    sleep: Callable[[float], None],
) -> tuple[Outcome, smtplib.SMTP | None]:
    outcome = Outcome(item.post.key, item.post.name, "deferred", "", resent_after_unknown=unknown_before,
                      fallback_language=item.fallback)
    started = time.monotonic()
    delay = retry.first_delay
    for attempt in range(1, retry.attempts + 1):
        outcome.attempts = attempt
        ledger.mark_sending(issue, item.post.key)
        try:
            if smtp is None:
                smtp = _connect(settings)
            if isinstance(smtp, _Tracking):
                smtp.data_started = False
            refused = smtp.send_message(item.message, from_addr=sender, to_addrs=item.recipients)
            outcome.refused = {addr: _code_text(code, text) for addr, (code, text) in refused.items()}
            outcome.state, outcome.reply = "sent", "250 accepted"
            ledger.mark(issue, item.post.key, "sent", outcome.reply, _refusals(outcome.refused))
            return outcome, smtp
        except smtplib.SMTPRecipientsRefused as exc:
            outcome.refused = {addr: _code_text(code, text) for addr, (code, text) in exc.recipients.items()}
            permanent = all(code >= 500 for code, _ in exc.recipients.values())
            outcome.reply = "; ".join(f"{a}: {r}" for a, r in outcome.refused.items())
            if permanent:
                outcome.state = "failed"
                ledger.mark(issue, item.post.key, "failed", outcome.reply, _refusals(outcome.refused))
                return outcome, smtp
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            outcome.reply = _code_text(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code >= 500:
                outcome.state = "failed"
                ledger.mark(issue, item.post.key, "failed", outcome.reply)
                return outcome, smtp
        except (TimeoutError, smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
            unknown = isinstance(smtp, _Tracking) and smtp.data_started
            outcome.reply = f"connection lost: {exc}"
            if unknown:
                # The body was handed over; the server may have kept it. Send it again with
                # the same Message-ID, and say so.
                ledger.mark_unknown(issue, item.post.key, outcome.reply)
                outcome.resent_after_unknown = True
            try:
                if smtp is not None:
                    smtp.close()
            finally:
                smtp = None
        if attempt == retry.attempts or time.monotonic() - started + delay > retry.max_total:
            break
        sleep(delay)
        delay *= 2
    # Still a temporary failure: the next run tries again.
    ledger.mark(issue, item.post.key, "deferred", outcome.reply, _refusals(outcome.refused))
    return outcome, smtp


def _refusals(refused: dict[str, str]) -> str:
    return "; ".join(f"{addr}: {reply}" for addr, reply in refused.items())


def report(outcomes: list[Outcome]) -> str:
    """The closing table: sent, deferred, failed, with reasons."""
    lines = []
    counts = {state: sum(o.state == state for o in outcomes) for state in ("sent", "deferred", "failed")}
    already = sum(o.skipped for o in outcomes)
    lines.append(f"{'post':<40} {'state':<9} {'tries':>5}  reply")
    for o in outcomes:
        if o.skipped:
            continue
        note = []
        if o.resent_after_unknown:
            note.append("sent again after an unknown outcome: it may arrive twice, with the same Message-ID")
        if o.fallback_language:
            note.append("edition in its language does not exist: sent in the issue's language")
        for addr, reply in o.refused.items():
            note.append(f"refused {addr}: {reply}")
        lines.append(f"{o.name[:40]:<40} {o.state:<9} {o.attempts:>5}  {o.reply}")
        lines.extend(f"{'':<40} {'':<9} {'':>5}  ({n})" for n in note)
    lines.append(
        f"sent {counts['sent'] - already} (and {already} sent before), deferred {counts['deferred']}, failed {counts['failed']}"
    )
    return "\n".join(lines)
