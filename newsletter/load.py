"""Stage 1: YAML file -> ``Issue``, with every error located at ``file:line:col``.

This stage checks the form of the file (YAML, fields, types) and reports every such error
at once. What the content says (references, links, images, placeholders...) is checked by
the rules in ``check.py``, which use the positions kept here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import ContentError, Problem
from .model import Issue
from .yamlsafe import FieldPath, Located, read_yaml


@dataclass(frozen=True)
class Loaded:
    """An issue as validated, with the file it came from and where each value was written."""

    path: Path
    issue: Issue
    located: Located

    def where(self, field_path: FieldPath) -> tuple[int | None, int | None]:
        """1-based ``(line, col)`` of the value at ``field_path`` (or its closest ancestor)."""
        return self.located.where(field_path) or (None, None)


M = TypeVar("M", bound=BaseModel)


def read_model(path: Path, model: type[M], what: str, doc: str) -> tuple[M, Located]:
    """Read ``path`` as strict YAML and validate it as ``model``; every error at once.

    ``what`` names the file in messages ("an issue file"), ``doc`` is where its format is
    described.
    """
    located = read_yaml(path)
    if not isinstance(located.data, dict):
        raise ContentError([Problem(path, 1, 1, "", f"{what} must be a mapping of fields")])
    try:
        return model.model_validate(located.data), located
    except ValidationError as exc:
        raise ContentError(schema_problems(path, located, exc, doc)) from None


def load_issue(path: Path) -> Loaded:
    """Read and validate the issue at ``path``; raise ``ContentError`` listing every error."""
    issue, located = read_model(path, Issue, "an issue file", "docs/issue-format.md")
    return Loaded(path, issue, located)


def format_path(path: FieldPath) -> str:
    """``('sections', 2, 'blocks', 0)`` -> ``sections[2].blocks[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _pattern_message(pattern: str) -> str:
    if "@" in pattern:
        return "expected an email address such as name@example.org"
    if pattern.startswith(("^[a-z]", "^[a-z0-9]")):
        return "expected an id: lowercase letters, digits and dashes, starting with a letter"
    if "https?" in pattern:
        return "expected an address starting with https://, http:// or mailto:"
    return f"does not have the expected form ({pattern})"


def schema_problems(
    path: Path, located: Located, exc: ValidationError, doc: str = "docs/issue-format.md"
) -> list[Problem]:
    """Each pydantic error as a ``Problem`` at the place in the file it is about.

    ``doc`` is where the file's format is described, for unknown fields.
    """
    problems = []
    for err in exc.errors():
        data_path, missing = _data_path(located.data, err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            pos = located.keys.get(data_path) or located.where(data_path)
            message = f"unknown field {data_path[-1]!r}; check its spelling in {doc}"
        elif kind == "missing":
            pos = located.where(data_path)
            message = "this required field is missing"
        else:
            pos = located.where(data_path)
            message = err["msg"]
            if kind == "string_pattern_mismatch":
                message = _pattern_message(str((err.get("ctx") or {}).get("pattern", "")))
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


def walk(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every model, list item and scalar below ``value``, with its path in the file."""
    yield path, value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from walk(getattr(value, name), (*path, name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, (*path, i))
