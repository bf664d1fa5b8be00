"""Two languages kept in step: an issue compared with its siblings in the other languages
(``issue-10.yaml`` and ``issue-10.fr.yaml``).

They must have the same ids, blocks of the same types in the same order, the same reference
targets, the same dates, the same images (but for a figure marked ``translated``) and key
figures that denote the same numbers (``€1,830,000`` and
``1 830 000 €``). Each difference is a warning, located in the file being checked and
naming the place in the sibling: one edition often ships first, so it never blocks a build
(but ``--strict``). Links may differ (French readers should get French pages where they
exist): a difference there is a notice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from ..errors import FieldPath
from ..issue.load import Loaded, sibling_paths
from ..issue.markup import Inline
from ..issue.model import Figure, KeyFigure, Teaser, walk
from .registry import ContentContext, Hit, rule


def _siblings(ctx: ContentContext) -> Iterator[Loaded]:
    """The siblings in other languages (read once per build, for both rules)."""
    for loaded in ctx.siblings:
        if loaded.issue.language != ctx.issue.language:
            yield loaded


def _where(loaded: Loaded, path: FieldPath) -> str:
    line, col = loaded.where(path)
    return f"{loaded.path}:{line}:{col}" if line is not None else str(loaded.path)


def _kind(value: Any) -> str:
    return str(getattr(value, "type", None) or type(value).__name__)


def _shape(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, str]]:
    """The structure an edition must share with its siblings: every block and item, by path,
    with its type and id (its text left out: it is in another language)."""
    for sub, item in walk(value, path):
        if isinstance(item, BaseModel) and not isinstance(item, (KeyFigure, Teaser)):
            anchor = getattr(item, "id", None)
            yield sub, _kind(item) + (f"#{anchor}" if anchor else "")


def _number(value: str, language: str) -> float | None:
    """The number a key-figure value denotes: ``€1,830,000`` (en) and ``1 830 000 €`` (fr)
    are both 1830000."""
    match = re.search(r"\d[\d\s\u00a0\u202f,.]*", value)
    if not match:
        return None
    digits = match.group(0).strip(" \u00a0\u202f,.")
    digits = re.sub(r"[\s\u00a0\u202f]", "", digits)
    if language == "fr":
        digits = digits.replace(".", "").replace(",", ".")
    else:
        digits = digits.replace(",", "")
    try:
        return float(digits)
    except ValueError:
        return None


def _targets(value: Any, inline: Inline) -> list[str]:
    """The ids a block's references and teasers point at, in order."""
    found = []
    for _, item in walk(value):
        if isinstance(item, Teaser):
            found.append(item.target)
        elif isinstance(item, str):
            found += [target for link in inline.links(item) for target in link.internal_targets]
    return found


def _web_links(value: Any, inline: Inline) -> list[str]:
    found = []
    for _, item in walk(value):
        if isinstance(item, str):
            found += [link.href for link in inline.links(item) if not link.href.startswith("#")]
        url = getattr(item, "url", None)
        if isinstance(item, BaseModel) and isinstance(url, str):
            found.append(url)
    return found


def _pairs(mine: Any, theirs: Any, name: str, other: Loaded) -> Iterator[tuple[FieldPath, Any, Any] | Hit]:
    """The units compared one by one (the cover, then each block of each section, side by
    side), or a ``Hit`` where a section has a block the sibling lacks."""
    yield ("cover",), mine.cover, theirs.cover
    for s, (a, b) in enumerate(zip(mine.sections, theirs.sections, strict=True)):
        for i in range(max(len(a.blocks), len(b.blocks))):
            path: FieldPath = ("sections", s, "blocks", i)
            if i >= len(b.blocks):
                yield Hit(
                    f"{_kind(a.blocks[i])} here, nothing in {name} (after {_where(other, path[:-1])})", path
                )
            elif i >= len(a.blocks):
                yield Hit(
                    f"{name} has a {_kind(b.blocks[i])} more here ({_where(other, path)})",
                    ("sections", s, "blocks"),
                )
            else:
                yield path, a.blocks[i], b.blocks[i]


@rule("sibling", "content", "warning", "make the editions match, or correct the one that is wrong")
def _sibling(ctx: ContentContext) -> Iterator[Hit]:
    inline = Inline(page_label="page")
    mine = ctx.issue
    for other in _siblings(ctx):
        theirs, name = other.issue, other.path.name
        their_sections = [s.id for s in theirs.sections]
        if [s.id for s in mine.sections] != their_sections:
            yield Hit(f"the sections differ from {name}'s ({', '.join(their_sections)})", ("sections",))
            continue
        for pair in _pairs(mine, theirs, name, other):
            if isinstance(pair, Hit):
                yield pair
                continue
            path, block, their_block = pair
            there = _where(other, path)
            mine_shape, their_shape = list(_shape(block, path)), list(_shape(their_block, path))
            if mine_shape != their_shape:
                differs = [a for a, b in zip(mine_shape, their_shape, strict=False) if a != b]
                first = differs[0] if differs else mine_shape[min(len(mine_shape), len(their_shape)) - 1]
                other_kind = dict(their_shape).get(first[0], "nothing")
                yield Hit(f"{first[1]} here, {other_kind} in {name} ({_where(other, first[0])})", first[0])
                continue
            if _targets(block, inline) != _targets(their_block, inline):
                yield Hit(
                    f"the references point at {_targets(block, inline)}, in {name} ({there}) at "
                    f"{_targets(their_block, inline)}",
                    path,
                )
            yield from _images(block, their_block, path, other)
            yield from _dates(block, their_block, path, other)
            pairs = zip(_figures_of(block, path), _figures_of(their_block, path), strict=False)
            for (sub, fig), (their_sub, their_fig) in pairs:
                if _number(fig.value, mine.language) != _number(their_fig.value, theirs.language):
                    where = _where(other, (*their_sub, "value"))
                    yield Hit(
                        f"{fig.value!r} is not the number of {their_fig.value!r} in {name} ({where})",
                        (*sub, "value"),
                    )


def _images(block: Any, their_block: Any, path: FieldPath, other: Loaded) -> Iterator[Hit]:
    """The figures' images compared: the same file on both sides, but for a figure marked
    ``translated: true`` on both sides (its image differs by language on purpose); a mark on
    one side only is a difference of its own."""
    mine = [(sub, f) for sub, f in walk(block, path) if isinstance(f, Figure)]
    theirs = [f for _, f in walk(their_block) if isinstance(f, Figure)]
    name, there = other.path.name, _where(other, path)
    for (sub, fig), their_fig in zip(mine, theirs, strict=False):
        if fig.translated != their_fig.translated:
            # The shapes are the same: the figure has the same path in the sibling.
            marked = f"here, not in {name}" if fig.translated else f"in {name}, not here"
            yield Hit(
                f"the figure is marked `translated: true` {marked} ({_where(other, sub)})",
                (*sub, "translated") if fig.translated else (*sub, "image"),
            )
    my_images = [f.image if not f.translated else "(translated)" for _, f in mine]
    their_images = [f.image if not f.translated else "(translated)" for f in theirs]
    if my_images != their_images and [f.translated for _, f in mine] == [f.translated for f in theirs]:
        yield Hit(f"the images {my_images} differ from {their_images} in {name} ({there})", path)


def _dates(block: Any, their_block: Any, path: FieldPath, other: Loaded) -> Iterator[Hit]:
    """The dates of quotations and events, the same in both languages (a meeting of two
    days in one, of one day in the other is a difference)."""
    mine = [(sub, v) for sub, v in walk(block, path) if isinstance(v, dt.date) or _ends(sub, v)]
    theirs = [(sub, v) for sub, v in walk(their_block, path) if isinstance(v, dt.date) or _ends(sub, v)]
    for (sub, day), (their_sub, their_day) in zip(mine, theirs, strict=False):
        if (sub, day) != (their_sub, their_day):
            shown = "no end" if day is None else str(day)
            their_shown = "no end" if their_day is None else str(their_day)
            where = _where(other, their_sub)
            yield Hit(f"{shown} here, {their_shown} in {other.path.name} ({where})", sub)
            return


def _ends(sub: FieldPath, value: Any) -> bool:
    """An optional last day left out: compared too, as "no end"."""
    return value is None and bool(sub) and sub[-1] == "end"


def _figures_of(block: Any, path: FieldPath) -> Iterator[tuple[FieldPath, KeyFigure]]:
    for sub, item in walk(block, path):
        if isinstance(item, KeyFigure):
            yield sub, item


@rule(
    "sibling-links",
    "content",
    "notice",
    "point both editions at the same pages, or at the page in each language",
)
def _sibling_links(ctx: ContentContext) -> Iterator[Hit]:
    inline = Inline(page_label="page")
    for other in _siblings(ctx):
        if [s.id for s in ctx.issue.sections] != [s.id for s in other.issue.sections]:
            continue
        for pair in _pairs(ctx.issue, other.issue, other.path.name, other):
            if isinstance(pair, Hit):
                continue
            path, block, their_block = pair
            mine, theirs = _web_links(block, inline), _web_links(their_block, inline)
            if mine != theirs:
                extra = sorted(set(mine) - set(theirs)) or sorted(set(theirs) - set(mine)) or mine
                yield Hit(
                    f"the links differ from {other.path.name} ({_where(other, path)}): {', '.join(extra[:2])}",
                    path,
                )


__all__ = ["sibling_paths"]  # where an issue's other languages are: load.py, kept here for callers
