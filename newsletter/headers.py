"""What may reach a mail header.

A mail's Subject is made of the issue's series and title; the From line carries the
recipients file's ``sender_name``; a post's name is written in the ledger and the reports.
Characters of the Unicode categories Cc (controls: CR, LF, tab), Cf (format: zero-width
spaces and joiners, direction marks, the soft hyphen), Zl and Zp (line and paragraph
separators) either break the header (a newline ends it, and the email package refuses it
half-way through a send) or make it lie (an invisible character in a subject). They are
refused where they are written, at check time as in ``send``. The no-break spaces U+00A0
and U+202F are ordinary spaces (category Zs) and stay allowed: French typography puts them
before the colon of a subject.
"""

from __future__ import annotations

import unicodedata

from .model import Issue

#: A position in an issue file: field names and list indexes, e.g. ``("title",)``.
FieldPath = tuple[str | int, ...]

#: Unicode categories that may not reach a mail header.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})

#: The issue's fields that reach a mail header: the Subject is "<series> – <issue> <number>: <title>".
HEADER_FIELDS: tuple[str, ...] = ("series", "title")

HINT = "remove the character (retype the text if it cannot be seen); no-break spaces are fine"


def header_problem(text: str, what: str = "a mail header") -> str | None:
    """Why ``text`` cannot go into a mail header, naming the first bad character and where
    it is; or None."""
    for index, char in enumerate(text):
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            name = unicodedata.name(char, "a control character")
            before = text[max(0, index - 20) : index]
            where = f" after {before!r}" if before else " at the start"
            count = sum(unicodedata.category(c) in REFUSED_CATEGORIES for c in text)
            more = f" (and {count - 1} more)" if count > 1 else ""
            return f"U+{ord(char):04X} ({name}){where}{more} cannot go into {what}: it breaks the header or cannot be seen"
    return None


def header_problems(issue: Issue) -> list[tuple[FieldPath, str]]:
    """Every field of ``issue`` that reaches a mail header and holds a refused character,
    with its path and what is wrong. Pure: reads only the issue."""
    problems: list[tuple[FieldPath, str]] = []
    for name in HEADER_FIELDS:
        value = getattr(issue, name)
        if isinstance(value, str):
            problem = header_problem(value, "a mail's subject")
            if problem:
                problems.append(((name,), problem))
    return problems
