"""Inline text as segments: the words, and the markup between them as numbered codes.

Input: a text of an issue, as an editor writes it (``*emphasis*``, ``**strong**``,
``[words](https://...)``, page references ``[page](#id)``, see ``markup.py``). Output: a
list of ``Words`` and ``Code``s, the form a translator's tool shows (XLIFF's inline elements,
numbered tags in a PO file), and back: ``to_markup`` writes segments as markup again.

Two texts with the same words and codes say the same thing whatever the delimiters (``*a*``
and ``_a_``) or the line breaks of the YAML: ``canonical`` is that common form, which the
records of what a translation was made from are a hash of (``texts.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# The markup's own reading of a link's words and end: one reading for the page and for segments.
from .markup import PAGE_WORDS, Inline, _link_text, _matching_close

#: What a code stands for: emphasis, strong emphasis, a link (paired: they hold words), a page
#: reference or a line break (alone: nothing in them to translate).
CodeKind = Literal["em", "strong", "link", "pageref", "break"]
PAIRED: frozenset[str] = frozenset({"em", "strong", "link"})


@dataclass(frozen=True)
class Words:
    """A run of text, as a reader reads it (markup escapes resolved)."""

    text: str


@dataclass(frozen=True)
class Code:
    """A piece of markup: the opening or closing of a paired element, or a code alone.

    ``id`` numbers the element in its text from 1 (both ends of a pair share it); ``markup``
    is what it is written as: the delimiter (``*``, ``**``), a link's address, or a page
    reference whole (``[page](#ccpcj)``).
    """

    id: int
    kind: CodeKind
    role: Literal["open", "close", "alone"]
    markup: str = ""


Segment = Words | Code

#: The characters that would start markup if written bare in a text.
_SPECIAL = re.compile(r"([\\*_\[\]])")
#: Runs of the spaces that wrapping makes and unmakes (not the no-break ones).
_SPACES = re.compile(r"[ \t\r\n]+")


def segments(text: str, inline: Inline | None = None) -> list[Segment]:
    """The segments of inline text ``text`` (``inline``: a parser made once, for speed)."""
    parser = inline or Inline(page_label="page")
    out: list[Segment] = []
    counter = 0
    opened: list[Code] = []
    for block in parser.tokens(text):
        children = block.children or []
        skip_until = -1
        for i, tok in enumerate(children):
            if i <= skip_until:
                continue
            if tok.type == "link_open":
                href = str(tok.attrGet("href") or "")
                words = _link_text(children, i)
                if href.startswith("#") and words.lower() in PAGE_WORDS | {""}:
                    counter += 1
                    out.append(Code(counter, "pageref", "alone", f"[{words}]({href})"))
                    skip_until = _matching_close(children, i)
                    continue
                counter += 1
                opened.append(Code(counter, "link", "open", href))
                out.append(opened[-1])
            elif tok.type in ("em_open", "strong_open"):
                counter += 1
                kind: CodeKind = "em" if tok.type == "em_open" else "strong"
                opened.append(Code(counter, kind, "open", tok.markup))
                out.append(opened[-1])
            elif tok.type in ("link_close", "em_close", "strong_close") and opened:
                start = opened.pop()
                out.append(Code(start.id, start.kind, "close", start.markup))
            elif tok.type == "hardbreak":
                counter += 1
                out.append(Code(counter, "break", "alone", "\\\n"))
            elif tok.type == "softbreak":
                _add_words(out, "\n")
            else:
                _add_words(out, tok.content)
    return out


def plain_segments(text: str) -> list[Segment]:
    """A text without markup (a name, a label) as segments: its words."""
    return [Words(text)] if text else []


def to_markup(parts: list[Segment]) -> str:
    """The segments written as inline markup again, words escaped where they would be read
    as markup."""
    out = []
    for part in parts:
        if isinstance(part, Words):
            out.append(_SPECIAL.sub(r"\\\1", part.text))
        elif part.kind == "link":
            out.append("[" if part.role == "open" else f"]({part.markup})")
        elif part.kind in ("em", "strong"):
            out.append(part.markup or ("*" if part.kind == "em" else "**"))
        else:
            out.append(part.markup)
    return "".join(out)


def to_plain(parts: list[Segment]) -> str:
    """The words of segments of a plain text (which holds no codes)."""
    return "".join(part.text for part in parts if isinstance(part, Words))


def canonical(parts: list[Segment]) -> str:
    """One form for every way of writing the same text: spaces and line breaks as one space,
    each code as its number and role. What a code is (emphasis or a link) and where a link
    leads are left out: a translator's file carries only the numbers (PO), and the
    ``sibling`` rules compare addresses and references."""
    out = []
    for part in parts:
        out.append(part.text if isinstance(part, Words) else f"\x00{part.id}{part.role[0]}\x00")
    # Only the spaces a writer's editor or a YAML fold changes: a no-break space is a choice.
    return _SPACES.sub(" ", "".join(out)).strip(" ")


def shape(parts: list[Segment]) -> list[tuple[int, str, str]]:
    """The codes of segments in order, as ``(id, kind, role)``: what a translation must keep."""
    return [(p.id, p.kind, p.role) for p in parts if isinstance(p, Code)]


def _add_words(out: list[Segment], text: str) -> None:
    if out and isinstance(out[-1], Words):
        out[-1] = Words(out[-1].text + text)
    elif text:
        out.append(Words(text))
