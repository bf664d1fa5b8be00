"""Stage 1: YAML file -> ``Issue``, with every error located at ``file:line:col``.

All problems are collected and reported at once: a schema error in one section does not hide
an unknown reference in another.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ContentError, Problem
from .images import check_image
from .markup import Inline
from .model import AgendaEntry, Figure, Issue, Teaser
from .yamlsafe import FieldPath, Located, read_yaml


def load_issue(path: Path, printable: frozenset[int] | None = None) -> Issue:
    """Read, validate and cross-check the issue at ``path``; raise ``ContentError`` if wrong.

    ``printable`` is the set of code points the layout's fonts can print (see
    ``fonts.printable_characters``); text outside it is an error. None skips that check.
    """
    located = read_yaml(path)
    if not isinstance(located.data, dict):
        raise ContentError([Problem(path, 1, 1, "", "an issue file must be a mapping of fields")])
    try:
        issue = Issue.model_validate(located.data)
    except ValidationError as exc:
        raise ContentError(_schema_problems(path, located, exc)) from None
    problems = list(_cross_check(path, located, issue, printable))
    if problems:
        raise ContentError(problems)
    return issue


def format_path(path: FieldPath) -> str:
    """``('sections', 2, 'blocks', 0)`` -> ``sections[2].blocks[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _schema_problems(path: Path, located: Located, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        data_path, missing = _data_path(located.data, err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            pos = located.keys.get(data_path) or located.where(data_path)
            message = f"unknown field {data_path[-1]!r}; check its spelling in docs/issue-format.md"
        elif kind == "missing":
            pos = located.where(data_path)
            message = "this required field is missing"
        else:
            pos = located.where(data_path)
            message = err["msg"]
            if kind not in {"union_tag_invalid", "union_tag_not_found"}:
                found = repr(err.get("input"))
                message += f" (found {found[:60] + '...' if len(found) > 60 else found})"
        line, col = pos if pos else (None, None)
        problems.append(Problem(path, line, col, format_path(data_path + missing), message))
    return _unique(problems)


def _data_path(data: Any, loc: tuple[int | str, ...]) -> tuple[FieldPath, FieldPath]:
    """Map a pydantic error location onto the written data, dropping union tags.

    Returns the part of the path that exists in the file and the missing rest.
    """
    current = data
    found: list[str | int] = []
    for i, part in enumerate(loc):
        if isinstance(current, list) and isinstance(part, int) and part < len(current):  # noqa: SIM114
            current = current[part]
            found.append(part)
        elif isinstance(current, dict) and part in current:
            current = current[part]
            found.append(part)
        elif isinstance(current, dict) and current.get("type") == part:
            continue  # discriminated union: pydantic adds the tag to the location
        elif isinstance(current, str) and part in {"paragraph", "text"}:
            continue  # a bare string standing for a paragraph
        else:
            return tuple(found), tuple(loc[i:])
    return tuple(found), ()


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    return [p for p in problems if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _walk(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, Any]]:
    """Every model, list item and scalar below ``value``, with its path in the file."""
    yield path, value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), (*path, name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))


def _cross_check(
    path: Path, located: Located, issue: Issue, printable: frozenset[int] | None
) -> Iterator[Problem]:
    def at(field_path: FieldPath, message: str) -> Problem:
        line, col = located.where(field_path) or (None, None)
        return Problem(path, line, col, format_path(field_path), message)

    ids: dict[str, FieldPath] = {}
    for field_path, value in _walk(issue, ()):
        if isinstance(value, BaseModel) and isinstance(getattr(value, "id", None), str):
            anchor = value.id  # type: ignore[attr-defined]
            id_path = (*field_path, "id")
            if anchor in ids:
                first = located.where(ids[anchor])
                yield at(id_path, f"duplicate id {anchor!r} (first used at line {first[0] if first else '?'})")
            else:
                ids[anchor] = id_path

    inline = Inline(page_label="page")
    for field_path, value in _walk(issue, ()):
        if isinstance(value, str):
            missing = [] if printable is None else sorted({c for c in value if ord(c) not in printable})
            if missing:
                shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing[:5])
                yield at(field_path, f"the bundled fonts cannot print {shown}; replace or remove them")
            for link in inline.links(value):
                target = link.internal_target
                if not inline.is_safe(link.href):
                    yield at(
                        field_path,
                        f"link {link.href!r} is not allowed: use https://, http://, mailto: or #id",
                    )
                elif target is not None and target not in ids:
                    yield at(field_path, f"page reference to unknown id {target!r}")
        elif isinstance(value, Teaser) and value.target not in ids:
            yield at((*field_path, "target"), f"teaser points at unknown id {value.target!r}")
        elif isinstance(value, Figure):
            message = check_image(path.parent, value.image)
            if message:
                yield at((*field_path, "image"), message)
        elif isinstance(value, AgendaEntry) and value.end is not None and value.end < value.start:
            yield at((*field_path, "end"), "the end date is before the start date")
