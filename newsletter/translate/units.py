"""The texts of two editions side by side: one ``Unit`` per text of the source edition, with
its translation in the target edition when there is one, and its state.

- ``new``: the target lacks the text (a field, a list item or the whole block);
- ``changed``: the target's record says its translation was made from another source text
  (``texts.in_step``);
- ``current``: in step (a translation with no record counts as in step).

A unit's codes are numbered as in the source text; the target's own codes are given the
number of the source code they match (the same kind, the same address or reference, in
order), so that a translator sees one numbering in both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ..issue.load import Loaded
from ..issue.markup import Inline
from ..issue.segments import Code, Segment, Words
from ..issue.texts import hash_of, in_step, records, texts

State = Literal["new", "changed", "current"]
#: The states in words, for notes and reports.
STATE_WORDS: dict[str, str] = {
    "new": "new: not translated yet",
    "changed": "changed since it was translated",
    "current": "up to date",
}


@dataclass(frozen=True)
class Unit:
    """One text to translate: its key, the source, the current translation and its state."""

    key: str
    kind: str
    inline: bool
    source: list[Segment]
    target: list[Segment] | None
    state: State

    @property
    def note(self) -> str:
        """What the translator needs to know: the field, its kind and length, its state."""
        words = " ".join(p.text for p in self.source if isinstance(p, Words))
        form = "inline text (emphasis, links and page references as codes)" if self.inline else "plain text"
        return (
            f"{self.kind}, {form}; source {len(words)} characters, {len(words.split())} words; "
            f"{STATE_WORDS[self.state]}"
        )


def units(source: Loaded, target: Loaded, everything: bool = False) -> list[Unit]:
    """The units of ``source``'s texts for ``target``: the new and changed ones, or every
    one with ``everything``, in the source's reading order."""
    parser = Inline(page_label="page")
    mine, theirs = texts(source.issue), texts(target.issue)
    recorded = records(target.issue, source.issue.language)
    back = records(source.issue, target.issue.language)
    found = []
    for key, text in mine.items():
        parts = text.parts(parser)
        other = theirs.get(key)
        if other is None:
            found.append(Unit(key, text.kind, text.inline, parts, None, "new"))
            continue
        own = other.parts(parser)
        their_parts = number_like(parts, own)
        current = in_step(recorded.get(key), hash_of(parts), back.get(key), hash_of(own))
        state: State = "current" if current else "changed"
        if everything or state != "current":
            found.append(Unit(key, text.kind, text.inline, parts, their_parts, state))
    return found


def number_like(source: list[Segment], target: list[Segment]) -> list[Segment]:
    """``target``'s codes numbered as the source codes they match; a code that matches none
    gets a number of its own, after the source's (an import refuses it until it is fixed)."""
    free = [p for p in source if isinstance(p, Code) and p.role != "close"]
    taken: dict[int, int] = {}
    spare = max((p.id for p in source if isinstance(p, Code)), default=0)
    out: list[Segment] = []
    for part in target:
        if not isinstance(part, Code):
            out.append(part)
            continue
        if part.role == "close":
            out.append(replace(part, id=taken.get(part.id, part.id)))
            continue
        match = _match(part, free)
        if match is None:
            spare += 1
            taken[part.id] = spare
        else:
            free.remove(match)
            taken[part.id] = match.id
        out.append(replace(part, id=taken[part.id]))
    return out


def _match(code: Code, free: list[Code]) -> Code | None:
    same_kind = [p for p in free if p.kind == code.kind]
    exact = [p for p in same_kind if p.markup == code.markup]
    # A page reference points at the same place in both languages; a link may not (a French
    # page for French readers), an emphasis has no address: the first of its kind then.
    if code.kind == "pageref":
        return exact[0] if exact else None
    chosen = exact or same_kind
    return chosen[0] if chosen else None


@dataclass(frozen=True)
class ReadUnit:
    """A unit as a translator's file gives it back."""

    key: str
    #: The source text the translator saw (its codes' kinds as the file says, or unknown).
    source: list[Segment]
    #: The translation; None when the file has none.
    target: list[Segment] | None
    #: Marked as still to translate or to review (XLIFF's ``state``, PO's ``fuzzy``).
    review: bool
    #: Where the unit is written in the file.
    line: int | None
    #: Why the unit cannot be read (a code with no number, an element the format lacks).
    problem: str = ""


@dataclass(frozen=True)
class Exchange:
    """A translator's file as read: the editions it is between, and its units."""

    #: The source's file name, as the export wrote it.
    original: str
    source_language: str
    target_language: str
    units: list[ReadUnit]
