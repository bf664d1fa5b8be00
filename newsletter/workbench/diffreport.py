"""A difference of two proofs in words, for people (``newsletter diff``): a line per changed,
added or removed page with the words added (+) and removed (-) on it, the pages only
renumbered, and the references that print another number. ``Difference.as_dict`` is the
form for tools.
"""

from __future__ import annotations

from .diff import Difference, PageChange


def describe(difference: Difference, limit: int = 100) -> str:
    """The difference in words, for people: a line per changed, added or removed page, the
    words added (+) and removed (-) on it, then the references that moved."""
    d = difference
    lines = [f"{d.old} ({d.old_pages} pages) -> {d.new} ({d.new_pages} pages)"]
    if d.identical:
        lines.append("identical: every page prints the same")
        return "\n".join(lines)
    # Changed and added pages in the order of the new PDF.
    entries = [(page, [f"page {page}: added"]) for page in d.added]
    entries += [(change.new, _changed_lines(change, limit)) for change in d.changed]
    for _page, text in sorted(entries, key=lambda entry: entry[0]):
        lines += text
    if d.renumbered:
        lines.append(f"{_runs(d.renumbered)}: the same, renumbered")
    lines += [f"page {page} of {d.old.name}: removed" for page in d.removed]
    if d.references:
        lines.append("references printing another number:")
        for ref in d.references:
            where = f"page {ref.new_page}" + (
                f" (was page {ref.old_page})" if ref.old_page != ref.new_page else ""
            )
            lines.append(f"  {where}: #{ref.target} prints {ref.new_number}, was {ref.old_number}")
    lines += [f"note: {note}" for note in d.notes]
    lines.append(
        f"{_count(len(d.changed), 'page')} changed, {len(d.added)} added, {len(d.removed)} removed; "
        f"{_count(len(d.references), 'reference')} moved"
    )
    return "\n".join(lines)


def _changed_lines(change: PageChange, limit: int) -> list[str]:
    moved = f" (was page {change.old})" if change.old != change.new else ""
    shown = f", see {change.image}" if change.image else ""
    words = [f"  + {_short(w, limit)}" for w in change.added] + [
        f"  - {_short(w, limit)}" for w in change.removed
    ]
    return [f"page {change.new}{moved}: changed{shown}", *(words or ["  (same text; its layout differs)"])]


def _short(words: str, limit: int) -> str:
    return repr(words if len(words) <= limit else words[: limit - 1] + "…")


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _runs(pairs: tuple[tuple[int, int], ...]) -> str:
    """``pages 7-13 (were 6-12)``: runs of pages moved by the same number of pages."""
    runs: list[list[tuple[int, int]]] = []
    for old, new in pairs:
        if runs and runs[-1][-1] == (old - 1, new - 1):
            runs[-1].append((old, new))
        else:
            runs.append([(old, new)])
    words = []
    for run in runs:
        (a, b), (c, d) = run[0], run[-1]
        words.append(f"page {b} (was {a})" if len(run) == 1 else f"pages {b}-{d} (were {a}-{c})")
    return ", ".join(words)
