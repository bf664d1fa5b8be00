"""Composing: an email edition + a post -> the bytes of its message (stdlib ``email``).

Each message has the subject from the issue, a short text and HTML body from the layout's
``mail.txt.j2`` and ``mail.html.j2`` (title, the editorial's lead, the teasers with their
computed page numbers), rendered in the one Jinja environment of ``engine.render.jinja_env``, the
PDF attached, and a Message-ID fixed per (issue, revision, post), so that a message sent
again is recognisably the same.

Messages are composed one at a time, as they are sent: the MIME body (bodies and PDF,
base64) is made once per edition and kept as bytes; each post's message is its own headers
followed by those bytes. Memory does not grow with the number of posts.

Every message is plain ASCII (headers encoded, bodies in base64 or quoted-printable), so that
any server takes it without 8BITMIME or SMTPUTF8.
"""

from __future__ import annotations

import binascii
import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

from ..engine.render import jinja_env, labels_for
from ..errors import IssueError, error
from ..issue.headers import HINT as HEADER_HINT
from ..issue.headers import UnsafeHeader, checked_bytes, header_problem, mail_subject, set_header
from ..issue.model import Issue
from ..issue.typography import typeset_issue
from ..shipped import Layout
from .ledger import Copy
from .recipients import Post, SenderNames, sender_name_in, slug

#: 7-bit messages with CRLF line ends, as they go on the wire.
POLICY = SMTP.clone(cte_type="7bit")

#: The words a correction's and a test's subjects start with, when the layout's labels do not
#: give them (``correction``, ``test``).
_WORDS = {
    "en": {"correction": "Correction: ", "test": "[TEST] "},
    "fr": {"correction": "Rectificatif\u00a0: ", "test": "[ESSAI] "},
}


@dataclass(frozen=True)
class LanguageVersion:
    """An email edition ready to go: its issue, its PDF, where its teasers point, and the
    notices of its checks (stand-in images, passages to verify)."""

    language: str
    issue: Issue
    pdf: Path
    pages: int
    teaser_pages: dict[str, int]
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outgoing:
    """One post's message, before it is composed: who, in which edition, under which id."""

    post: Post
    language: str
    #: The post asked for a language the issue is not written in: it gets the issue's.
    fallback: bool
    message_id: str
    recipients: tuple[str, ...]
    #: Message-IDs of the earlier revisions this message corrects (errata), oldest first.
    references: tuple[str, ...] = ()


def issue_key(issue: Issue) -> str:
    """The issue's name in Message-IDs and the ledger: series, number."""
    return f"{slug(issue.series)}-{issue.number}"


@dataclass(frozen=True)
class _Body:
    subject: str
    #: The words a correction's and a test's subjects start with.
    correction: str
    test: str
    #: The MIME body as bytes, its own headers (MIME-Version, Content-Type...) first; empty
    #: when each post gets its own copy (``copies``): then made per message from the texts.
    data: bytes
    text: str = ""
    html: str = ""
    language: str = ""
    pdf_name: str = ""


class Copies(Protocol):
    """Makes each post's own copy of its edition (``send --sign``: stamped and signed)."""

    def number(self, copies: dict[str, Copy]) -> None:
        """The copy numbers and days the ledger gave the posts."""

    def copy_for(self, item: Outgoing) -> bytes:
        """The PDF attached to ``item``'s message."""

    def test_copy(self, language: str, address: str) -> bytes:
        """The PDF attached to a test message to ``address``."""


class Composer:
    """Makes the messages of one send: the email PDF of each language, the first being the fallback."""

    def __init__(
        self,
        languages: dict[str, LanguageVersion],
        sender: str,
        sender_name: str | SenderNames | None,
        layout: Layout,
        revision: int = 1,
        copies: Copies | None = None,
    ) -> None:
        self.languages = languages
        #: Each post's own copy (signed, with its copy line), or None: the edition as built.
        self.copies = copies
        self.sender = sender
        self.revision = revision
        self._sender_name = sender_name
        self._domain = sender.rsplit("@", 1)[1]
        self._layout = layout
        self._bodies: dict[str, _Body] = {}
        #: Per language, a message's bytes before and after its attachment's base64 (``_with_copy``).
        self._frames: dict[str, tuple[bytes, bytes]] = {}
        main = next(iter(languages.values()))
        self.key = issue_key(main.issue)
        self.main_language = main.language

    def sender_address(self, language: str) -> Address:
        """The From of the messages in ``language``: the sender's name in that language (or
        the one name), then the address."""
        name = sender_name_in(self._sender_name, language, self.main_language)
        # An Address, not formataddr's text: an encoded name's comma stays in the name.
        return Address(name or "", addr_spec=self.sender)

    def message_id(self, post_key: str, revision: int | None = None) -> str:
        """``<newsletter.<series>-<number>.<post>@<domain>>``; ``.r<N>`` before the post for a
        correction (revision N > 1)."""
        revision = self.revision if revision is None else revision
        mark = f".r{revision}" if revision > 1 else ""
        return f"<newsletter.{self.key}{mark}.{post_key}@{self._domain}>"

    def outgoing(
        self, posts: Iterable[Post], references: dict[str, tuple[str, ...]] | None = None
    ) -> Iterator[Outgoing]:
        """One ``Outgoing`` per post, in the post's language when the issue is written in it."""
        for post in posts:
            wanted = post.language or self.main_language
            language = wanted if wanted in self.languages else self.main_language
            yield Outgoing(
                post,
                language,
                language != wanted,
                self.message_id(post.key),
                (*post.addresses, *post.cc),
                (references or {}).get(post.key, ()),
            )

    def wire(self, item: Outgoing) -> bytes:
        """The message of ``item``, as it goes to the server."""
        return self.compose(item)[0]

    def compose(self, item: Outgoing) -> tuple[bytes, str]:
        """The message of ``item`` and the SHA-256 of the post's own copy attached to it
        (empty when the posts get the edition as built)."""
        body = self._body(item.language)
        copy = b""
        if self.copies is not None:
            copy = self.copies.copy_for(item)
            body = self._with_copy(body, copy)
        subject = body.subject
        if self.revision > 1:
            subject = body.correction + subject
        headers: dict[str, str | Address] = {
            "Subject": subject,
            "From": self.sender_address(item.language),
            "To": ", ".join(item.post.addresses),
            "Cc": ", ".join(item.post.cc),
            "Message-ID": item.message_id,
            "References": " ".join(item.references),
        }
        return self._assemble(headers, body), hashlib.sha256(copy).hexdigest() if copy else ""

    def test_wire(self, language: str, address: str) -> tuple[str, bytes]:
        """A test message in ``language`` for ``address``: its Message-ID and bytes.

        Marked as a test in its subject, with a Message-ID of its own that no post's message has.
        """
        body = self._body(language)
        if self.copies is not None:
            body = self._with_copy(body, self.copies.test_copy(language, address))
        subject = body.test + (body.correction if self.revision > 1 else "")
        revision = f".r{self.revision}" if self.revision > 1 else ""
        message_id = f"<newsletter.{self.key}{revision}.test-{language}-{time.time_ns()}@{self._domain}>"
        headers: dict[str, str | Address] = {
            "Subject": subject + body.subject,
            "From": self.sender_address(language),
            "To": address,
            "Message-ID": message_id,
        }
        return message_id, self._assemble(headers, body)

    def size(self, item: Outgoing) -> int:
        """Bytes on the wire of ``item``'s message."""
        return len(self.wire(item))

    def largest(self, items: Iterable[Outgoing]) -> dict[str, int]:
        """Per language, the size of its largest message (the one with the longest headers)."""
        heaviest: dict[str, Outgoing] = {}
        for item in items:
            current = heaviest.get(item.language)
            if current is None or _weight(item) > _weight(current):
                heaviest[item.language] = item
        return {language: self.size(item) for language, item in heaviest.items()}

    def subject(self, language: str) -> str:
        """The subject of the messages in ``language`` (before any correction mark)."""
        return self._body(language).subject

    def _assemble(self, headers: dict[str, str | Address], body: _Body) -> bytes:
        message = EmailMessage(policy=POLICY)
        for name, value in headers.items():
            if value:
                set_header(message, name, value)  # refused unless safe as decoded (headers.py)
        message["Date"] = formatdate(localtime=False)
        head = checked_bytes(message)  # the headers and the blank line that ends them
        return head[:-2] + body.data

    def _body(self, language: str) -> _Body:
        if language not in self._bodies:
            self._bodies[language] = self._make_body(self.languages[language])
        return self._bodies[language]

    def _make_body(self, version: LanguageVersion) -> _Body:
        labels = labels_for(self._layout, version.language)
        env = jinja_env(self._layout, labels)
        # The mail reads like the PDF: its text typeset by the rules of its language.
        issue = typeset_issue(version.issue)
        teasers = [(t.text, version.teaser_pages.get(t.target)) for t in issue.cover.teasers]
        pdf = version.pdf.read_bytes()
        data = {
            "issue": issue,
            "labels": labels,
            "teasers": teasers,
            "pages": version.pages,
            "size_kb": round(len(pdf) / 1024),
            "revision": self.revision,
        }
        subject = mail_subject(str(labels["mail_subject"]), str(labels["issue"]), issue)
        words = {
            key: str(labels[f"mail_{key}"]) if isinstance(labels.get(f"mail_{key}"), str) else default
            for key, default in _WORDS.get(version.language, _WORDS["en"]).items()
        }
        # The issue's own fields are checked before (``header_problems``): what is left is the
        # layout's words, located in its labels file. A subject unsafe only as a whole (an
        # encoded word split across the series and the title) is refused by ``set_header``.
        label_words = [(key, str(labels[key])) for key in ("mail_subject", "issue")]
        for key, text in label_words + [(f"mail_{key}", word) for key, word in words.items()]:
            problem = header_problem(text, "a mail's subject")
            if problem:
                raise IssueError(
                    [
                        error(
                            self._layout.labels_file,
                            problem,
                            field=f"{version.language}.{key}",
                            rule="mail-header",
                            hint=HEADER_HINT,
                        )
                    ]
                )
        # The PDF is named after the issue's file, whose name was checked (``file_name_problem``).
        name = version.pdf.name
        problem = header_problem(name, "the name of the attached PDF")
        if problem:
            raise UnsafeHeader("Content-Disposition", name, problem)
        body = _Body(
            subject,
            words["correction"],
            words["test"],
            b"",
            env.get_template("mail.txt.j2").render(**data),
            env.get_template("mail.html.j2").render(**data),
            version.language,
            name,
        )
        # Each post's own copy is attached when its message is made (``_with_pdf``).
        return body if self.copies is not None else self._with_pdf(body, pdf)

    def _with_copy(self, body: _Body, pdf: bytes) -> _Body:
        """``body`` with a post's own copy attached: the body made and checked once per
        language with a stand-in attachment, the copy's base64 put in the stand-in's place.

        Making and checking a message of 300 KB (``checked_bytes`` writes it and reads it
        back) costs 20 ms, as much as signing the copy; only the attachment's bytes differ
        from post to post, and they are base64, which holds no header.
        """
        if body.language not in self._frames:
            framed = self._with_pdf(body, _STAND_IN).data
            encoded = _base64_lines(_STAND_IN)
            if framed.count(encoded) != 1:  # pragma: no cover - the email package changed
                raise AssertionError("the stand-in attachment is not found once in its message")
            head, _, tail = framed.partition(encoded)
            self._frames[body.language] = (head, tail)
        head, tail = self._frames[body.language]
        return replace(body, data=head + _base64_lines(pdf) + tail)

    @staticmethod
    def _with_pdf(body: _Body, pdf: bytes) -> _Body:
        """``body`` with its MIME bytes: the texts and ``pdf`` attached."""
        message = EmailMessage(policy=POLICY)
        message.set_content(body.text)
        message.add_alternative(body.html, subtype="html")
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=body.pdf_name)
        message["Content-Language"] = body.language  # after set_content, which drops Content-* headers
        return replace(body, data=checked_bytes(message, read_back=True))


#: The attachment of a message made once per language, replaced by each post's copy.
_STAND_IN = b"%PDF-1.7 newsletter: the post's own copy goes here\n" * 4


def _base64_lines(data: bytes) -> bytes:
    """``data`` in base64 as the ``email`` package writes an attachment on the wire: lines of
    76 characters (57 bytes each, for ``POLICY``'s 78), each ended by CRLF."""
    step = (POLICY.max_line_length or 78) // 4 * 3
    return b"".join(binascii.b2a_base64(data[i : i + step]) for i in range(0, len(data), step)).replace(
        b"\n", b"\r\n"
    )


def _weight(item: Outgoing) -> int:
    """How long ``item``'s own headers are, roughly: the longest makes the largest message."""
    return sum(map(len, item.recipients)) + len(item.message_id) + sum(map(len, item.references))
