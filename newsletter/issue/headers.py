"""What may reach a mail header, and the one place headers are set.

A mail's Subject is made of the issue's series and title; the From line carries the
recipients file's ``sender_name``; the PDF's attachment is named after the issue's file; a
post's name is written in the ledger and the reports. Characters of the Unicode categories
Cc (controls: CR, LF, tab), Cf (format: zero-width spaces and joiners, direction marks and
overrides, the soft hyphen), Zl and Zp (line and paragraph separators) and Cs (the halves of
a character that could not be decoded) either break the header (a newline ends it, and what
follows becomes a header of its own) or make it lie (a right-to-left override turns
``exe.pdf`` around, a zero-width space hides in a subject). The no-break spaces U+00A0 and
U+202F are ordinary spaces (category Zs) and stay allowed: French typography puts them
before the colon of a subject.

A text is judged as a mail program reads it, not only as it is written: an RFC 2047
*encoded word* such as ``=?utf-8?q?news=0D=0AReply-To:_x@evil.example?=`` is plain ASCII as
written, and the ``email`` package decodes it when the header is set (a line break, then a
header of the attacker's, on Python 3.11 and 3.12). Each text is read as written, then
decoded the two ways the ``email`` package decodes (``email.header.decode_header`` and the
policy's header parser), again and again while decoding changes it (an encoded word may
hide another); every reading must be safe, and an encoded word that cannot be decoded is
refused too. They are refused where they are written, at check time as in ``send``.

Addresses (``address_problem``) are checked by ``email-validator``'s rules of syntax, without
DNS: ``a@b..example`` is refused in the recipients file, not by the server (nor by 3.11's
address parser, which fails on it with a TypeError).

Then, as a defence in depth, every header of a message goes through ``set_header`` and the
message's header lines through ``checked_bytes``: a value unsafe as written or as the
``email`` package parses it (an address header's names and addresses too), or a message
whose serialised headers are not exactly the ones set, raises ``UnsafeHeader`` (an
``IssueError``, exit 1), never a crash.
"""

from __future__ import annotations

import email.header
import re
import unicodedata
from collections.abc import Iterator
from email.errors import HeaderParseError
from email.headerregistry import Address, AddressHeader, ParameterizedMIMEHeader
from email.message import EmailMessage, Message
from email.policy import SMTP
from pathlib import Path
from typing import Any

from ..errors import Finding, IssueError
from .model import Issue

#: A position in an issue file: field names and list indexes, e.g. ``("title",)``.
FieldPath = tuple[str | int, ...]

#: Unicode categories that may not reach a mail header.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})

#: Direction controls and invisible characters refused by name as well, whatever category a
#: Python's Unicode tables give them (U+200B was a space, Zs, in old tables).
REFUSED_CHARACTERS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
    "\u200e\u200f\u061c"  # left-to-right, right-to-left and Arabic letter marks
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width space, non-joiner, joiner, word joiner, BOM
)

#: The issue's fields that reach a mail header: the Subject is "<series> – <issue> <number>: <title>".
HEADER_FIELDS: tuple[str, ...] = ("series", "title")

#: How many times a text is decoded, at most, to find an encoded word hidden in another.
MAX_DECODINGS = 4

HINT = (
    "remove the character (retype the text if it cannot be seen); write the text itself, not an "
    "encoded word (=?charset?q?...?=); no-break spaces are fine"
)

#: How texts are read as headers here: the policy messages are composed with.
_POLICY = SMTP.clone(cte_type="7bit")


def refused(char: str) -> bool:
    """Whether ``char`` may not reach a mail header."""
    return char in REFUSED_CHARACTERS or unicodedata.category(char) in REFUSED_CATEGORIES


def _shown(text: str, limit: int = 60) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


def _character_problem(text: str, what: str) -> str | None:
    """The first refused character of ``text`` and where it is, in words; or None."""
    for index, char in enumerate(text):
        if refused(char):
            name = unicodedata.name(char, "a control character")
            before = text[max(0, index - 20) : index]
            where = f" after {before!r}" if before else " at the start"
            count = sum(map(refused, text))
            more = f" (and {count - 1} more)" if count > 1 else ""
            return f"U+{ord(char):04X} ({name}){where}{more} cannot go into {what}: it breaks the header or cannot be seen"
    return None


class _Undecodable(ValueError):
    """An encoded word that the ``email`` package cannot decode."""


def _decode_once(text: str) -> set[str]:
    """``text`` decoded once, each way the ``email`` package decodes a header's encoded words."""
    try:
        # The legacy API: every encoded word wherever it stands, even inside a word or quotes.
        legacy = str(email.header.make_header(email.header.decode_header(text)))
    except (LookupError, UnicodeError, ValueError, HeaderParseError) as exc:  # a charset, base64, bytes
        raise _Undecodable(str(exc) or type(exc).__name__) from None
    try:
        # What ``message["Subject"] = text`` stores (the value a server's parser sees too).
        parsed = str(_POLICY.header_factory("Subject", text))
    except Exception as exc:  # noqa: BLE001 - whatever the parser of this Python refuses
        raise _Undecodable(str(exc) or type(exc).__name__) from None
    return {legacy, parsed}


def readings(text: str) -> list[str]:
    """``text`` as written, then as each decoding of its encoded words reads it, decoded again
    while that changes it. Raises ``ValueError`` (with why) when an encoded word cannot be
    decoded or they hide in one another more than ``MAX_DECODINGS`` deep."""
    found = [text]
    fresh = [text]
    for _ in range(MAX_DECODINGS):
        fresh = [
            reading
            for form in fresh
            if "=?" in form  # no encoded word can start: nothing to decode
            for reading in sorted(_decode_once(form))
            if reading not in found
        ]
        if not fresh:
            return found
        found.extend(dict.fromkeys(fresh))
    raise _Undecodable(f"its encoded words hide in one another more than {MAX_DECODINGS} deep")


def header_problem(text: str, what: str = "a mail header") -> str | None:
    """Why ``text`` cannot go into a mail header, naming the first bad character and where it
    is (in the text as a mail program decodes it, when that is where it appears); or None."""
    problem = _character_problem(text, what)
    if problem:
        return problem
    if "=?" not in text:  # the common case: nothing a mail program would decode
        return None
    try:
        decoded = readings(text)
    except _Undecodable as exc:
        return f"{_shown(text)} holds an encoded word (=?...?=) that mail programs cannot decode ({exc}): it cannot go into {what}"
    for reading in decoded[1:]:
        problem = _character_problem(reading, what)
        if problem:
            return f"{_shown(text)} reads {_shown(reading)} once its encoded words (=?...?=) are decoded, as mail programs decode them: {problem}"
    return None


#: An address any server takes: ASCII only, so that no message needs SMTPUTF8.
ADDRESS_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"


def address_problem(value: str) -> str | None:
    """Why ``value`` is not an address a server takes (``a@b..example``, ``.a@example.org``),
    by ``email-validator``'s rules of syntax (no DNS); or None."""
    if not re.fullmatch(ADDRESS_PATTERN, value):
        return f"expected an email address such as name@example.org (found {value!r})"
    # Imported here: 0.02 s that a build, which checks no address, need not spend.
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        why = str(exc).rstrip(".")
        return f"{value!r} is not a valid email address: {why[:1].lower()}{why[1:]}"
    return None


def header_problems(issue: Issue) -> list[tuple[FieldPath, str]]:
    """Every field of ``issue`` that reaches a mail header and holds a refused character,
    as written or once decoded, with its path and what is wrong. Pure: reads only the issue."""
    problems: list[tuple[FieldPath, str]] = []
    for name in HEADER_FIELDS:
        value = getattr(issue, name)
        if isinstance(value, str):
            problem = header_problem(value, "a mail's subject")
            if problem:
                problems.append(((name,), problem))
    return problems


def mail_subject(template: str, issue_word: str, issue: Issue) -> str:
    """The subject of the mail of ``issue``: the layout's ``mail_subject`` label filled in
    with the series, the word "issue" in the edition's language, the number and the title
    (its ``mail_title`` when it has one)."""
    title = issue.mail_title or issue.title
    return template.format(series=issue.series, issue=issue_word, number=issue.number, title=title)


def file_name_problem(path: Path) -> str | None:
    """Why the name of the issue file at ``path`` cannot name the PDF attached to a mail
    (``<name>-email.pdf``, in the attachment's header); or None. Only the name counts: the
    folders never reach a mail."""
    problem = header_problem(path.name, "the name of the PDF attached to the mail")
    if problem is None:
        return None
    named = problem.startswith(_shown(path.name))  # "'=?...?=.yaml' reads ..." names it already
    return f"the file's name {problem}" if named else f"the file's name {_shown(path.name)}: {problem}"


# ---------------------------------------------------------------------------------------
# Where headers are set: the defence in depth.


class UnsafeHeader(IssueError):
    """A message would carry a header that is not safe as written or as read back: it is not
    built. Every text was checked at its source before; this is the last guard."""

    def __init__(self, name: str, value: str, why: str, shown: str = "") -> None:
        self.name = name
        self.value = value
        shown = f" {shown or _shown(value)}" if value else ""
        header = f"its {name} header{shown}: " if name else ""
        message = f"refused to compose a message: {header}{why}"
        super().__init__([Finding("mail-header", "error", message, HINT)])


def _addresses(headers: list[Any]) -> list[tuple[str, str]]:
    """The (name, address) pairs of parsed address headers."""
    return [(a.display_name, a.addr_spec) for header in headers for a in header.addresses]


def _parsed_parts(header: object) -> Iterator[str]:
    """The texts a mail program shows of a parsed header: its value, and for an address
    header the name and parts of each address, for a MIME header its parameters."""
    yield str(header)
    if isinstance(header, AddressHeader):
        for address in header.addresses:
            yield from (address.display_name, address.username, address.domain)
    if isinstance(header, ParameterizedMIMEHeader):
        yield from (str(value) for value in header.params.values())


def set_header(message: EmailMessage, name: str, value: str | Address) -> None:
    """Add the header ``name: value`` to ``message``, only when ``value`` is safe as written,
    as decoded, and as the ``email`` package parses it; else raise ``UnsafeHeader``.

    An ``Address`` (the From line's name and address) is set as one, never as a text made
    by ``formataddr``: the package writes its name quoted where it needs quotes, and never
    reads a comma of an encoded name as the end of an address."""
    written = value if isinstance(value, str) else str(value)
    texts = [value] if isinstance(value, str) else [value.display_name, value.username, value.domain]
    for text in texts:
        problem = header_problem(text, f"a mail's {name} header")
        if problem:
            raise UnsafeHeader(name, written, problem)
    try:
        message[name] = value
    except Exception as exc:  # noqa: BLE001 - ValueError, HeaderParseError, even a TypeError of 3.11's parser
        raise UnsafeHeader(name, written, f"the email package cannot read it ({exc})") from None
    try:
        check_parsed(message, name, written)
    except UnsafeHeader:
        del message[name]  # a message refused holds none of it
        raise


def check_parsed(message: Message, name: str, written: str = "") -> None:
    """Raise ``UnsafeHeader`` when the header ``name`` of ``message``, as the ``email``
    package parsed it, holds a text unsafe in a header (a decoded encoded word) or, for an
    address header, an address a server would refuse. ``written`` is the value as set, to
    show beside what the package read (3.11 reads ``a@b..example`` as ``<>``)."""
    for header in message.get_all(name, []):
        shown = f"{written!r}, read as {str(header)!r}" if written and written != str(header) else ""
        for part in _parsed_parts(header):
            problem = header_problem(part, f"a mail's {name} header")
            if problem:
                raise UnsafeHeader(name, written or str(header), problem, shown)
        for address in header.addresses if isinstance(header, AddressHeader) else ():
            problem = address_problem(address.addr_spec)
            if problem:
                raise UnsafeHeader(name, written or str(header), problem, shown)


def checked_bytes(message: EmailMessage, read_back: bool = False) -> bytes:
    """``message`` as bytes on the wire, once they are found to hold exactly the headers set,
    in every part (a line break in a value would start a header of its own); else
    ``UnsafeHeader``. With ``read_back``, every header as read back from the bytes must be
    safe too (for the parts made by the ``email`` package: the attachment's file name)."""
    try:
        data = message.as_bytes(policy=_POLICY)
    except Exception as exc:  # noqa: BLE001 - 3.13 refuses a folded newline (HeaderWriteError)
        raise UnsafeHeader("", "", f"its headers cannot be written ({exc})") from None
    # The parser splits lines at CR, LF or both, as the most lenient reader would.
    back = email.message_from_bytes(data, policy=_POLICY)
    expected = [[name.lower() for name in part] for part in message.walk()]
    written = [[name.lower() for name in part] for part in back.walk()]
    if written != expected:
        added = [n for names, was in zip(written, expected) for n in names if n not in was]
        raise UnsafeHeader(
            "",
            "",
            f"written out, its header lines read as {written}, not as the headers set ({expected})"
            + (f": a value made the header {added[0]!r}" if added else ""),
        )
    # Who it is from and to must read back the same: the package's folding has turned the
    # comma of an encoded name into the end of an address (3.11 to 3.13).
    for name in [n for n in message if isinstance(message[n], AddressHeader)]:
        set_as, read_as = (_addresses(m.get_all(name, [])) for m in (message, back))
        if read_as != set_as:
            raise UnsafeHeader(name, str(message[name]), f"written out, it reads as {read_as}, not {set_as}")
    if read_back:
        for part in back.walk():
            for name in set(part):
                check_parsed(part, name)
    return data
