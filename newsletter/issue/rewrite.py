"""Writing into an issue file as an editor would: every comment, quote, indent and line that
is not changed stays as it was written (ruamel.yaml's round trip).

``newsletter fit --write`` writes its ``fit:`` fields with it, ``newsletter translate
import`` the translated texts and what they were translated from. A text replaced keeps
the style of the one it replaces: a folded paragraph (``>-``) stays folded, wrapped at the
file's width; a short plain text stays plain.
"""

from __future__ import annotations

import io
from typing import Any

#: The width issue files are wrapped at (the project's issues are written so).
WIDTH = 96


def round_trip() -> Any:
    """ruamel.yaml set to write an issue file back as it was written: the project's indents
    (sequences indented under their key), quotes kept, no line rewrapped."""
    from ruamel.yaml import YAML

    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def load(text: str) -> Any:
    """The issue ``text`` as round-trip data (ruamel's ``CommentedMap``)."""
    return round_trip().load(text)


def dump(data: Any) -> str:
    """Round-trip data as the issue's text."""
    out = io.StringIO()
    round_trip().dump(data, out)
    return out.getvalue()


def set_text(container: Any, key: str | int, value: str, indent: int | None = None) -> None:
    """Write the text ``value`` at ``container[key]`` (a mapping's field or a list's item), in
    the style of the text it replaces: folded and wrapped when that one was folded, or when
    the new text does not fit on the line. ``indent`` is the column the text is written at
    when it is folded (found from where the old one was written when not given). Raises
    ``IndexError`` for an item after the one a list would take next."""
    from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

    if isinstance(key, int) and key > len(container):
        raise IndexError(f"item {key} of a list of {len(container)}: the items before it are missing")
    old = container[key] if _has(container, key) else None
    column = indent if indent is not None else _indent(container, key)
    if isinstance(old, LiteralScalarString) or "\n" in value:
        container[key] = LiteralScalarString(value)
        return
    fits = column + len(str(key)) + 2 + len(value) <= WIDTH
    if isinstance(old, FoldedScalarString) or not fits:
        folded = FoldedScalarString(value)
        # The lines before the first word changed stay as they were: the diff shows the change.
        kept = getattr(old, "fold_pos", None) or [] if isinstance(old, FoldedScalarString) else []
        same = _common_prefix(str(old), value) if old is not None else 0
        folded.fold_pos = fold_positions(value, WIDTH - column, [p for p in kept if p < same])
        container[key] = folded
    elif isinstance(key, int) and key == len(container):
        container.append(value)
    else:
        container[key] = value


def new_map() -> Any:
    """An empty group of fields that keeps its order and comments."""
    from ruamel.yaml.comments import CommentedMap

    return CommentedMap()


def new_list() -> Any:
    """An empty list that keeps its comments."""
    from ruamel.yaml.comments import CommentedSeq

    return CommentedSeq()


def insert(mapping: Any, key: str, value: Any, order: list[str]) -> None:
    """Add the field ``key`` to ``mapping`` where ``order`` (the model's order of fields)
    puts it: before the first field written that comes after it, else last."""
    rank = order.index(key) if key in order else len(order)
    keys = list(mapping.keys())
    at = next((i for i, k in enumerate(keys) if k in order and order.index(k) > rank), len(keys))
    mapping.insert(at, key, value)


def comment_before(mapping: Any, key: str, text: str) -> None:
    """A comment (each line of ``text``) above the field ``key``, after a blank line."""
    mapping.yaml_set_comment_before_after_key(key, before="\n" + text, indent=0)


def fold_positions(text: str, width: int, kept: list[int] | None = None) -> list[int]:
    """Where a folded text breaks its lines (the spaces turned into line ends) so that no
    line is longer than ``width``, but a word longer than the line; ``kept``: the first
    breaks, as they were written."""
    positions = list(kept or [])
    start = positions[-1] + 1 if positions else 0
    last_space = -1
    for i in range(start, len(text)):
        # A space next to another one would not survive folding: never break there.
        if text[i] == " " and text[i - 1 : i] != " " and text[i + 1 : i + 2] not in (" ", ""):
            if i - start > width and last_space > start:
                positions.append(last_space)
                start = last_space + 1
            last_space = i
    if len(text) - start > width and last_space > start:
        positions.append(last_space)
    return positions


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _has(container: Any, key: str | int) -> bool:
    if isinstance(key, int):
        return key < len(container)
    return key in container


def _indent(container: Any, key: str | int) -> int:
    """The column a folded text at ``container[key]`` is written at: two more than its key's,
    or, in a list, where the item's value starts."""
    try:
        if isinstance(key, int):
            if key < len(container):
                return int(container.lc.item(key)[1])
            return int(container.lc.col) + 2
        if key in container:
            return int(container.lc.key(key)[1]) + 2
        return int(container.lc.col) + 2
    except (AttributeError, KeyError, TypeError, IndexError):
        return 4
