"""An issue read again after an edit inside one of its sections: that section's text parsed
and validated alone, the rest kept from the previous read.

The editor's loop saves the file after each change, mostly a word or a paragraph of one
section. Reading a 49-page issue whole takes 0.12 s of YAML parsing; reading the section
that changed takes a few milliseconds, whatever the issue's length.

``reloaded`` gives exactly what ``load_issue`` gives for the new text (the tests compare
them over edits of every kind), or None when it cannot be sure, and the file is then read
whole:

- the change must lie inside one section's text (not on the line where the next one starts,
  nor in the issue's fields or between sections);
- the section must read alone as a mapping with nothing refused, and validate as a
  ``Section`` (an error is reported by the whole read, with its salvage);
- the previous read must have had nothing refused either.

Then the new section replaces the old in the data and in the issue (``Issue`` has no rule
across sections: its fields are validated one by one), and every position after it moves by
the lines and characters the edit added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .model import Section
from .yamlsafe import Located, read_part

if TYPE_CHECKING:
    from .load import Loaded

_SECTIONS = "sections"


def reloaded(previous: Loaded, text: str) -> Loaded | None:
    """The issue of ``previous`` with its file's new ``text``, read by the section the edit
    is in; None when the whole file must be read (see the module's docstring)."""
    old = previous.located
    sections = old.data.get(_SECTIONS) if isinstance(old.data, dict) else None
    if old.problems or not isinstance(sections, list) or len(sections) != len(previous.issue.sections):
        return None
    before = old.text
    first, last = _changed(before, text)
    found = _section_at(old, len(sections), first, last)
    if found is None:
        return None
    index, start, end = found
    delta = len(text) - len(before)
    base = (_SECTIONS, index)
    part = read_part(text, start, end + delta, base)
    if part is None:
        return None
    try:
        section = Section.model_validate(part.data)
    except ValidationError:
        return None
    lines = text.count("\n", start, end + delta) - before.count("\n", start, end)
    data = dict(old.data)
    data[_SECTIONS] = [*sections[:index], part.data, *sections[index + 1 :]]
    located = Located(
        data=data,
        values=_moved(old.values, part.values, base, _position(before, end), lines),
        keys=_moved(old.keys, part.keys, base, _position(before, end), lines),
        spans=_spans(old.spans, part.spans, base, start, end, delta),
        text=text,
    )
    issue = previous.issue.model_copy(
        update={_SECTIONS: [*previous.issue.sections[:index], section, *previous.issue.sections[index + 1 :]]}
    )
    return replace(previous, issue=issue, located=located)


def _changed(before: str, after: str) -> tuple[int, int]:
    """Where the two texts differ: the first differing offset, and the end of the differing
    run in ``before`` (after which both are the same to their ends)."""
    shortest = min(len(before), len(after))
    first = 0
    while first < shortest and before[first] == after[first]:
        first += 1
    same = 0
    while same < shortest - first and before[-1 - same] == after[-1 - same]:
        same += 1
    return first, len(before) - same


def _section_at(old: Located, count: int, first: int, last: int) -> tuple[int, int, int] | None:
    """The section whose text holds the whole change ``[first, last)`` of the old text, with
    its span; the change must end before the line where the section's text ends (where the
    next section or field starts)."""
    for index in range(count):
        span = old.spans.get((_SECTIONS, index))
        if span is None:
            return None
        start, end = span
        line_of_end = old.text.rfind("\n", 0, end) + 1
        if start <= first and last <= line_of_end and start < line_of_end:
            return index, start, end
    return None


def _position(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _under(path: tuple[Any, ...], base: tuple[Any, ...]) -> bool:
    return path[: len(base)] == base


def _moved(
    old: dict[Any, tuple[int, int]],
    new: dict[Any, tuple[int, int]],
    base: tuple[Any, ...],
    end: tuple[int, int],
    lines: int,
) -> dict[Any, tuple[int, int]]:
    """The positions of ``old`` with those under ``base`` replaced by ``new``'s, and those
    from ``end`` on moved down by ``lines``."""
    return _replaced(
        old, new, base, lambda line, col: (line + lines, col) if (line, col) >= end else (line, col)
    )


def _spans(
    old: dict[Any, tuple[int, int]],
    new: dict[Any, tuple[int, int]],
    base: tuple[Any, ...],
    start: int,
    end: int,
    delta: int,
) -> dict[Any, tuple[int, int]]:
    """The spans of ``old`` with those under ``base`` replaced by ``new``'s, those after the
    section moved by ``delta``, and those around it stretched by it."""

    def moved(a: int, b: int) -> tuple[int, int]:
        if a >= end:
            return a + delta, b + delta
        if b >= end and a <= start:
            return a, b + delta
        return a, b

    return _replaced(old, new, base, moved)


def _replaced(
    old: dict[Any, tuple[int, int]],
    new: dict[Any, tuple[int, int]],
    base: tuple[Any, ...],
    move: Callable[[int, int], tuple[int, int]],
) -> dict[Any, tuple[int, int]]:
    """``old`` with its entries under ``base`` replaced by ``new``'s (where the first of them
    stood: the file's order is kept) and every other entry's pair passed through ``move``."""
    result: dict[Any, tuple[int, int]] = {}
    placed = False
    for path, pair in old.items():
        if _under(path, base):
            if not placed:
                result.update(new)
                placed = True
            continue
        result[path] = move(*pair)
    if not placed:
        result.update(new)
    return result
