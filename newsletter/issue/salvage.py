"""What can still be checked in an issue file with format errors.

A mistake in one block (an unknown type, a field misspelt, a date that is not one) must not
hide the mistakes of the others: a reference to an id that does not exist, a placeholder
left, an image missing. The form errors are reported by ``load``; this module makes, from
the same data, an issue that validates, so that the content rules can run on it in the same
run:

- a field that is wrong or missing gets a stand-in value of its type (a date, a number, a
  word), an optional one is left out, an unknown one is dropped;
- a block that cannot be mended so (an unknown type, a wrong value deeper down) stands as an
  empty block of the same id (``contents``), so that references to it still find it.

Every path mended is returned: what the content rules find there is about a stand-in, not
about what the editor wrote, and is left out. Lists keep their length, so every other path
still names the place in the file. Pure: data in, data out.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from annotated_types import Ge, Gt
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from ..errors import FieldPath
from . import model as model_module
from .model import Issue, Section

#: Rounds of mending at most: each round mends every error pydantic reports.
MAX_ROUNDS = 6
_BLOCK_LISTS = ("blocks", "answer")
_ID = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class Salvaged:
    """An issue that validates, made from a file with format errors, and the paths mended."""

    issue: Issue
    mended: tuple[FieldPath, ...]
    #: Errors found only once others were mended (a section's own check runs only when its
    #: fields are valid): errors of the file too, to be reported with the first.
    later: tuple[ValidationError, ...] = ()

    def covers(self, path: FieldPath) -> bool:
        """Whether ``path`` is about a value mended here: the value or what is inside it."""
        return any(path[: len(m)] == m for m in self.mended)


class _Stuck(Exception):
    """An error this module cannot mend."""


def salvage(data: Any, errors: ValidationError) -> Salvaged | None:
    """The issue ``data`` mended until it validates (see the module's docstring), or None
    when an error cannot be mended (a section's own fields, the cover's)."""
    data = copy.deepcopy(data)
    if not isinstance(data, dict):
        return None
    mended: list[FieldPath] = []
    written_date = data.get("date")
    issue_date = written_date if isinstance(written_date, dt.date) else dt.date(2000, 1, 1)
    exc, later = errors, list[ValidationError]()
    for _ in range(MAX_ROUNDS):
        try:
            for err in exc.errors():
                mended.append(_mend(data, err, issue_date, set(mended)))
        except _Stuck:
            return None
        try:
            return Salvaged(Issue.model_validate(data), tuple(dict.fromkeys(mended)), tuple(later))
        except ValidationError as again:
            exc = again
            later.append(again)
    return None


def _mend(data: dict[str, Any], err: Any, issue_date: dt.date, done: set[FieldPath]) -> FieldPath:
    """Mend the value an error is about; the path mended. A value mended before and wrong
    still (its stand-in did not do) takes its block with it."""
    path, rest = _written(data, err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden" and not rest:
        _parent(data, path).pop(path[-1], None)
        return path
    annotation = _annotation(err["loc"])
    if kind not in {"union_tag_invalid", "union_tag_not_found"} and annotation is not None and len(rest) <= 1:
        value = _stand_in(annotation, issue_date)
        target = (*path, *rest)
        if value is not _NONE and target not in done:
            parent = _parent(data, target) if target else None
            if isinstance(parent, (dict, list)):
                if value is None and isinstance(parent, dict):
                    parent.pop(target[-1], None)  # optional: left out, its default applies
                else:
                    parent[target[-1]] = value  # type: ignore[index]
                return target
    if annotation is Section and kind == "value_error" and not rest:
        # Its own check (a title or a running title) runs once its fields are valid.
        _at(data, path)["running_title"] = "x"
        return (*path, "running_title")
    block = _block(path)
    if block is None:
        raise _Stuck
    written = _at(data, block)
    anchor = written.get("id") if isinstance(written, dict) else None
    stand_in: dict[str, Any] = {"type": "contents"}
    if isinstance(anchor, str) and _ID.match(anchor):
        stand_in["id"] = anchor  # references to the block still find it
    _parent(data, block)[block[-1]] = stand_in
    return block


def _written(data: Any, loc: tuple[int | str, ...]) -> tuple[FieldPath, FieldPath]:
    """The part of ``loc`` written in the file (union tags dropped) and the rest."""
    current, found = data, list[int | str]()
    for i, part in enumerate(loc):
        if isinstance(current, list) and isinstance(part, int) and part < len(current):  # noqa: SIM114
            current = current[part]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, dict) and current.get("type") == part:
            continue
        elif isinstance(current, str) and part in {"paragraph", "text"}:
            # A bare string standing for a paragraph: its text is the string itself.
            return tuple(found), ()
        else:
            return tuple(found), tuple(p for p in loc[i:] if p not in _TAGS)
        found.append(part)
    return tuple(found), ()


def _block(path: FieldPath) -> FieldPath | None:
    """The innermost block that holds ``path`` (an item of a list of blocks), if any."""
    for end in range(len(path), 1, -1):
        if isinstance(path[end - 1], int) and path[end - 2] in _BLOCK_LISTS:
            return path[:end]
    return None


def _at(data: Any, path: FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _parent(data: Any, path: FieldPath) -> Any:
    return _at(data, path[:-1])


_NONE = object()


def _annotation(loc: tuple[int | str, ...]) -> Any:
    """The type pydantic expects at ``loc``, walked down from ``Issue``; None when lost."""
    current: Any = Issue
    for part in loc:
        options = _options(current)
        if isinstance(part, int):
            lists = [typing.get_args(o)[0] for o in options if typing.get_origin(o) is list]
            if not lists:
                return None
            current = lists[0]
            continue
        models = [o for o in options if isinstance(o, type) and issubclass(o, BaseModel)]
        tagged = [m for m in models if _tag_of(m) == part]
        if tagged:
            current = tagged[0]
            continue
        fields = [m.model_fields[part] for m in models if part in m.model_fields]
        if not fields:
            return None
        current = _field_type(fields[0])
    return current


def _field_type(info: FieldInfo) -> Any:
    annotation = info.annotation
    if info.metadata:
        return typing.Annotated[(annotation, *info.metadata)]
    return annotation


def _options(annotation: Any) -> list[Any]:
    """The types an annotation may hold, through Annotated and unions (None included)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _options(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [o for arg in typing.get_args(annotation) for o in _options(arg)]
    return [annotation]


def _stand_in(annotation: Any, issue_date: dt.date) -> Any:
    """A value of ``annotation`` (None for an optional one), or ``_NONE``."""
    options = _options(annotation)
    if type(None) in options:
        return None
    metadata = _metadata(annotation)
    base = options[0]
    if typing.get_origin(base) is typing.Literal:
        return typing.get_args(base)[0]
    if base is bool:
        return False
    if base is dt.date:
        return issue_date
    if base in (int, float):
        low = next((m.ge for m in metadata if isinstance(m, Ge)), None)
        above = next((m.gt for m in metadata if isinstance(m, Gt)), None)
        return base(low if low is not None else (above + 1 if above is not None else 1))  # type: ignore[operator]
    if base is str:
        pattern = next((getattr(m, "pattern", None) for m in metadata if getattr(m, "pattern", None)), None)
        if pattern is None:
            return "x"
        for candidate in ("x-mended", "https://example.org/", "mended@example.org"):
            if re.match(pattern, candidate):
                return candidate
        return _NONE
    if typing.get_origin(base) is list:
        item = _stand_in(typing.get_args(base)[0], issue_date)
        return _NONE if item is _NONE or item is None else [item]
    return _NONE


def _metadata(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *meta = typing.get_args(annotation)
        return [*_metadata(inner), *meta]
    return []


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    args = typing.get_args(field.annotation) if field is not None else ()
    return str(args[0]) if args else None


#: The block types, as pydantic adds them to an error's location.
_TAGS = frozenset(
    tag
    for value in vars(model_module).values()
    if isinstance(value, type) and issubclass(value, BaseModel)
    for tag in [_tag_of(value)]
    if tag is not None
)
