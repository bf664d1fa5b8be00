"""Stage 1: YAML file -> ``Issue``, with every error located at ``file:line:col``.

This stage checks the form of the file (YAML, fields, types) and reports every such error
at once. What the content says (references, links, images, placeholders...) is checked by
the rules in ``check/`` (``content.py``, ``siblings.py``), which use the positions kept here.
"""

from __future__ import annotations

import copy
import re
import types
import typing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import FieldPath, Finding, IssueError, did_you_mean, error
from ..safeio import read_limited
from .incremental import reloaded
from .model import LINK_KINDS, Issue, walk
from .salvage import Salvaged, salvage
from .yamlsafe import Located, format_path, read_yaml


@dataclass(frozen=True)
class Loaded:
    """An issue as validated, with the file it came from and where each value was written."""

    path: Path
    issue: Issue
    located: Located

    def where(self, field_path: FieldPath, needle: str = "") -> tuple[int | None, int | None]:
        """1-based ``(line, col)`` of the value at ``field_path`` (or its closest ancestor);
        of ``needle`` inside it when given and found (a link inside a paragraph)."""
        if needle:
            found = self.located.find(field_path, needle)
            if found is not None:
                return found
        return self.located.where(field_path) or (None, None)


M = TypeVar("M", bound=BaseModel)
#: The languages an issue may be written in.
ISSUE_LANGUAGES: tuple[str, ...] = typing.get_args(Issue.model_fields["language"].annotation)


def read_model(path: Path, model: type[M], what: str, doc: str) -> tuple[M, Located]:
    """Read ``path`` as strict YAML and validate it as ``model``; every error at once.

    ``what`` names the file in messages ("an issue file"), ``doc`` is where its format is
    described.
    """
    located = read_yaml(path)
    value, located, failed = _validated(path, located, model, what, doc)
    if value is None or located.problems:
        raise IssueError(_form_problems(path, located, failed, doc, model))
    return value, located


def _validated(
    path: Path, located: Located, model: type[M], what: str, doc: str
) -> tuple[M | None, Located, ValidationError | None]:
    """``located``'s data validated as ``model`` (the model, or None and why), with numbers,
    dates and yes/no where a text is expected taken as the editor wrote them."""
    if not isinstance(located.data, dict):
        raise IssueError(
            [
                *located.problems,
                error(
                    path, f"{what} must be a list of fields (name: value)", line=1, col=1, hint=f"see {doc}"
                ),
            ]
        )
    try:
        return model.model_validate(located.data), located, None
    except ValidationError as exc:
        written = _as_written(located, exc)
        if written is None:
            return None, located, exc
    # Numbers, dates and yes/no where a text is expected: taken as the editor wrote them.
    located = replace(located, data=written)
    try:
        return model.model_validate(located.data), located, None
    except ValidationError as exc:
        return None, located, exc


def _form_problems(
    path: Path, located: Located, failed: ValidationError | None, doc: str, model: type[BaseModel]
) -> list[Finding]:
    """What the reader refused, then the schema's errors, but those at a place the reader
    refused already (a date with a time, read as its text, is not a text either)."""
    refused = {(f.line, f.col) for f in located.problems}
    found = [*located.problems]
    if failed is not None:
        found += [
            f for f in schema_problems(path, located, failed, doc, model) if (f.line, f.col) not in refused
        ]
    return found


class FormatErrors(IssueError):
    """An issue file with errors of form, and what can still be checked of it: the issue
    mended where it is wrong (``salvage.py``), for the content rules to run on in the same
    run; None when it cannot be mended."""

    def __init__(self, findings: list[Finding], salvaged: tuple[Loaded, Salvaged] | None) -> None:
        super().__init__(findings)
        self.salvaged = salvaged

    def __reduce__(self) -> tuple[Any, ...]:
        return (IssueError, (self.findings,))  # crosses processes as a plain IssueError


def _as_written(located: Located, exc: ValidationError) -> Any | None:
    """The data with every number, date or yes/no that stands where a text is expected
    replaced by its text as written (``value: 12`` is "12", ``value: 1.50`` is "1.50", not
    1.5); None when there is none. YAML reads such plain values as numbers, dates or
    booleans; an editor means the text."""
    data = copy.deepcopy(located.data)
    changed = False
    for err in exc.errors():
        if (
            err["type"] != "string_type"
            or err["input"] is None
            or isinstance(err["input"], (str, dict, list))
        ):
            continue
        data_path, missing = _data_path(data, err["loc"])
        span = located.spans.get(data_path)
        if missing or not data_path or span is None:
            continue
        written = located.text[span[0] : span[1]].strip()
        if written.startswith("!"):  # a tag (`! 12`) is not part of the text: left as an error
            continue
        parent = data
        for part in data_path[:-1]:
            parent = parent[part]
        parent[data_path[-1]] = written
        changed = True
    return data if changed else None


def load_issue(path: Path) -> Loaded:
    """Read and validate the issue at ``path``; raise ``IssueError`` listing every error.

    The error is a ``FormatErrors`` that carries the issue mended where it is wrong, when it
    can be: a mistake in one block must not hide the mistakes of the others.
    """
    doc = "docs/issue-format.md"
    located = read_yaml(path)
    issue, located, failed = _validated(path, located, Issue, "an issue file", doc)
    if issue is not None and not located.problems:
        return Loaded(path, issue, located)
    findings = _form_problems(path, located, failed, doc, Issue)
    if issue is not None:
        mended: Salvaged | None = Salvaged(issue, ())
    else:
        assert failed is not None
        mended = salvage(located.data, failed)
    if mended is None:
        raise FormatErrors(findings, None)
    # What the reader refused counts as mended: it was read as its text, or not at all.
    refused = {(f.line, f.col) for f in located.problems}
    mended = replace(
        mended, mended=(*mended.mended, *(p for p, at in located.values.items() if at in refused))
    )
    for later in mended.later:
        found = schema_problems(path, located, later, doc, Issue)
        findings += [f for f in found if f not in findings and not mended.covers(_field_path(f.field))]
    # Positions are the file's: the mended data keeps every list's length.
    raise FormatErrors(findings, (Loaded(path, mended.issue, located), mended))


def _field_path(field: str) -> FieldPath:
    """``sections[0].blocks[2]`` (as a finding names a field) -> a field path."""
    return tuple(int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", field))


def load_kept(path: Path, kept: dict[Path, Loaded]) -> Loaded:
    """``load_issue``, unless ``kept`` holds the issue loaded from the very text the file
    holds now (a warm process reads again only the files that changed), or from a text that
    differs from it inside one section (only that section is read: ``incremental.py``)."""
    previous = kept.get(path)
    if previous is not None:
        # Read as the strict reader reads it (a regular file, within the size limit): the
        # file may have been swapped for a pipe or a device while a preview runs.
        raw = read_limited(path)
        try:
            text: str | None = raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            text = None
        if text == previous.located.text:
            return previous
        if text is not None and "\x00" not in text:
            again = reloaded(previous, text)
            if again is not None:
                kept[path] = again
                return again
    loaded = load_issue(path)
    kept[path] = loaded
    return loaded


def sibling_paths(source: Path) -> list[Path]:
    """The issue at ``source`` in its other languages: the files that exist beside it.

    ``issue-10.yaml`` has ``issue-10.fr.yaml``; ``issue-10.fr.yaml`` has ``issue-10.yaml``
    (and ``issue-10.en.yaml`` if an editor named it so).
    """
    stem = source.name.removesuffix(".yaml")
    base, _, tag = stem.rpartition(".")
    if not (base and tag in ISSUE_LANGUAGES):
        base = stem
    candidates = [source.parent / f"{base}.yaml"] + [
        source.parent / f"{base}.{lang}.yaml" for lang in ISSUE_LANGUAGES
    ]
    return [p for p in candidates if p.is_file() and p.resolve() != source.resolve()]


def parse_path(text: str) -> FieldPath:
    """``sections.2.blocks.0`` (as the layout writes it in ``data-src``) -> a field path."""
    return tuple(int(part) if part.isdigit() else part for part in text.split(".") if part)


def _pattern_message(pattern: str) -> str:
    # A link first: its pattern holds an "@" too (mailto:).
    if "https?" in pattern:
        return f"expected a link: {LINK_KINDS}"
    if "\\[" in pattern:
        return "expected the key of a text (e.g. sections[editorial].blocks[0].text), as the tools write it"
    if pattern == "^[0-9a-f]{8}$":
        return "expected the record of a source text: 8 hexadecimal digits, as the tools write it"
    if "@" in pattern:
        return "expected an email address such as name@example.org"
    if pattern.startswith(("^[a-z]", "^[a-z0-9]")):
        return "expected an id: lowercase letters, digits and dashes, starting with a letter (e.g. working-groups)"
    return f"does not have the expected form ({pattern})"


#: How a date left to write is reported.
DATE_TO_WRITE = "a date to write here"

_KINDS = {
    "string_type": "expected a text; put it in quotes if it is meant as text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "date_type": "expected a date written YYYY-MM-DD",
    "date_parsing": "expected a date written YYYY-MM-DD",
    "date_from_datetime_parsing": "expected a date written YYYY-MM-DD",
    "date_from_datetime_inexact": "expected a date written YYYY-MM-DD, without a time",
    "timezone_aware": "expected a date and time with its offset from UTC, e.g. 2026-12-10T09:00:00+01:00",
    "datetime_type": "expected a date and time with its offset from UTC, e.g. 2026-12-10T09:00:00+01:00",
    "datetime_parsing": "expected a date and time with its offset from UTC, e.g. 2026-12-10T09:00:00+01:00",
    "datetime_from_date_parsing": "expected a date and time with its offset from UTC, e.g. 2026-12-10T09:00:00+01:00",
    "list_type": 'expected a list (lines starting with "- ")',
    "dict_type": "expected a group of fields (name: value)",
    "model_type": "expected a group of fields (name: value)",
    "model_attributes_type": "expected a group of fields (name: value)",
}


def _found(value: Any) -> str:
    if isinstance(value, dict):
        return "a group of fields"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    shown = repr(value)
    return shown[:60] + "..." if len(shown) > 60 else shown


def _message(err: Any, data_path: FieldPath, model: type[BaseModel] | None) -> tuple[str, str]:
    """An error of pydantic's in an editor's words, and the field it is about."""
    kind, ctx, given = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        tag = str(ctx.get("tag", ""))
        return (
            f"unknown block type {tag!r}{did_you_mean(tag, tags) or ';'} the block types are: {', '.join(tags)}",
            "type",
        )
    if kind == "union_tag_not_found":
        return "this block has no `type:` (a bare text is a paragraph; any other block needs its type)", ""
    if kind == "extra_forbidden":
        name = str(data_path[-1])
        allowed = _fields_at(model, err["loc"][:-1]) if model is not None else []
        hint = did_you_mean(name, allowed)
        listed = f"; the fields here are: {', '.join(allowed)}" if allowed and not hint else ""
        return f"unknown field {name!r}{hint}{listed}", ""
    if kind == "missing":
        return "this required field is missing", ""
    if kind == "too_short" and isinstance(given, list):
        return "this list is empty: write at least one item", ""
    if kind == "too_long" and isinstance(given, list):
        return f"this list has {len(given)} items, more than the {ctx.get('max_length')} allowed", ""
    if kind == "string_too_short":
        return "this text is empty", ""
    if kind == "string_too_long":
        return f"this text is longer than the {ctx.get('max_length')} characters allowed", ""
    if kind == "string_pattern_mismatch":
        return f"{_pattern_message(str(ctx.get('pattern', '')))} (found {_found(given)})", ""
    if kind == "literal_error":
        choices = [c.strip(" '") for c in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")]
        return (
            f"expected one of {', '.join(repr(c) for c in choices)}, found {_found(given)}{did_you_mean(str(given), choices)}",
            "",
        )
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        bound = next(iter(ctx.values()), "?")
        words = {
            "greater_than": "more than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }
        return f"expected a number {words[kind]} {bound}, found {_found(given)}", ""
    if kind.startswith("date_") and isinstance(given, str) and given.strip().upper().startswith("TODO"):
        # `newsletter new` leaves a quotation's or an event's date to write: never invented.
        return f"{DATE_TO_WRITE}, YYYY-MM-DD (found the placeholder {given!r})", ""
    if kind in _KINDS:
        return f"{_KINDS[kind]} (found {_found(given)})", ""
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, "), ""
    return f"{err['msg']} (found {_found(given)})", ""


def schema_problems(
    path: Path,
    located: Located,
    exc: ValidationError,
    doc: str = "docs/issue-format.md",
    model: type[BaseModel] | None = None,
) -> list[Finding]:
    """Each pydantic error as a finding at the place in the file it is about, in plain words.

    ``doc`` is where the file's format is described; ``model`` is the validated model, for
    "did you mean" among the fields an unknown one may have been meant as.
    """
    findings = []
    for err in exc.errors():
        data_path, missing = _data_path(located.data, err["loc"])
        message, sub = _message(err, data_path, model)
        if err["type"] == "extra_forbidden":
            pos = located.keys.get(data_path) or located.where(data_path)
        elif sub:
            pos = located.where((*data_path, sub))
            data_path = (*data_path, sub)
        else:
            pos = located.where(data_path)
        line, col = pos if pos else (None, None)
        # A date `newsletter new` left to write is a placeholder, like the texts it left.
        to_write = message.startswith(DATE_TO_WRITE)
        findings.append(
            error(
                path,
                message,
                line=line,
                col=col,
                field=format_path(data_path + missing),
                rule="placeholder" if to_write else "format",
                hint="write the real date in place of the placeholder" if to_write else f"see {doc}",
            )
        )
    return _unique(findings)


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Annotated, Optional, lists, unions)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    return [annotation] if isinstance(annotation, type) and issubclass(annotation, BaseModel) else []


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model at pydantic location ``loc`` (union tags included)."""
    current: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        narrowed = [m for m in current if part in m.model_fields]
        if narrowed:
            current = [c for m in narrowed for c in _unwrap(m.model_fields[part].annotation)]
            continue
        tagged = [m for m in current if _tag(m) == part]
        current = tagged or current
    return sorted({name for m in current for name in m.model_fields}) if len(current) == 1 else []


def _tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return str(args[0]) if args else None


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
        elif isinstance(part, str) and " " in part:
            continue  # a tagged union's tag ("by language"): no field name holds a space
        else:
            return tuple(found), tuple(loc[i:])
    return tuple(found), ()


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    return [f for f in findings if not (f in seen or seen.add(f))]  # type: ignore[func-returns-value]


__all__ = [
    "ISSUE_LANGUAGES",
    "FormatErrors",
    "Loaded",
    "format_path",
    "load_issue",
    "parse_path",
    "read_model",
    "schema_problems",
    "sibling_paths",
    "walk",
]
