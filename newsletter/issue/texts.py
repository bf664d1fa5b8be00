"""The texts of an issue that a translator translates, each under a key that stays put, and
the record of what each translation was made from.

Input: an ``Issue``. Output: its ``Text``s in reading order, each with its key, its path in
the file, its words and what kind of field it is. Settings, ids, addresses, images and dates
are not texts: they are the same in every language (the ``sibling`` rule compares them).

A key is the field's path with each section, and each block that has an id, named by its id
instead of its place, so that a key outlives a block added before it:
``sections[editorial].blocks[key-figures].figures[0].label``, ``cover.teasers[1].text``,
``title``. ``resolve`` finds a key's path in an issue again.

The record: an issue's ``translated_from:`` holds, per source language and key, ``text_hash``
of the source text a translation was made from (a short hash of its ``canonical`` segments:
rewrapping a paragraph or writing ``_a_`` for ``*a*`` changes nothing).
"""

from __future__ import annotations

import hashlib
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..errors import FieldPath
from .markup import Inline as InlineParser
from .model import Inline, Issue
from .segments import Segment, canonical, plain_segments, segments

#: Text fields that are not for translating: what points at something, the same in every language.
NOT_TEXT = frozenset({"id", "target", "image", "url", "email", "translated_from"})
#: How long a record's hash is (hex digits): 32 bits tell apart every text an issue changes.
HASH_DIGITS = 8
#: The constraint that marks an inline text (markup allowed) in the model.
_INLINE_MARK = typing.get_args(Inline)[1]
#: The comment the tools write above the records (``translated_from:``).
RECORDS_COMMENT = (
    "What each text was translated from (a hash of the source text per field), written by\n"
    "`newsletter translate import` and `newsletter new`; `newsletter check` reports a text\n"
    "whose source changed since. Leave it to the tools."
)
_KEY_PART = re.compile(r"\.?([a-z_]+)|\[([a-z0-9-]+)\]")


@dataclass(frozen=True)
class Text:
    """One text of an issue."""

    key: str
    path: FieldPath
    value: str
    #: The model and field, e.g. ``Paragraph.text``: what the text is, for the translator.
    kind: str
    #: Whether it is inline text (markup allowed), else a plain label.
    inline: bool

    def parts(self, parser: InlineParser | None = None) -> list[Segment]:
        """The text as segments (a plain label is its words)."""
        return segments(self.value, parser) if self.inline else plain_segments(self.value)


def texts(issue: Issue) -> dict[str, Text]:
    """Every text of ``issue`` by key, in reading order."""
    return {text.key: text for text in _texts(issue, (), "")}


def containers(issue: Issue) -> dict[str, FieldPath]:
    """The key of every group of fields and list in ``issue`` (where a text may be added)."""
    found: dict[str, FieldPath] = {}
    for key, path, value in _walk(issue, (), ""):
        if isinstance(value, (BaseModel, list)):
            found[key] = path
    return found


def text_hash(text: str, inline: bool = True, parser: InlineParser | None = None) -> str:
    """The record of ``text``: a short hash of its canonical segments."""
    parts = segments(text, parser) if inline else plain_segments(text)
    return hash_of(parts)


def hash_of(parts: list[Segment]) -> str:
    """The record of a text given as segments."""
    digest = hashlib.blake2b(canonical(parts).encode("utf-8"), digest_size=HASH_DIGITS // 2)
    return digest.hexdigest()


def records(issue: Issue, language: str) -> dict[str, str]:
    """What the texts of ``issue`` were translated from, out of ``language``: key -> hash."""
    return {
        key: digest
        for lang, found in issue.translated_from.items()
        if lang == language
        for key, digest in found.items()
    }


def in_step_records(source: Issue, target: Issue) -> dict[str, str]:
    """The records that say every text of ``target`` is a translation of ``source``'s text
    as it is now (the texts both have)."""
    theirs = texts(target)
    return {key: text_hash(t.value, t.inline) for key, t in texts(source).items() if key in theirs}


def in_step(recorded: str | None, source_hash: str, back: str | None, target_hash: str) -> bool:
    """Whether a translation is in step with its source: it has no record (nothing is known:
    in step), its record is the source's hash, or the source's own record says the source was
    translated back from the translation as it is now (a round trip both ways)."""
    return recorded is None or recorded == source_hash or back == target_hash


def resolve(issue: Issue, key: str) -> FieldPath | None:
    """The path of ``key`` in ``issue`` (the text may be absent there: an optional field, a
    list item after the last), or None when the section or block it names is not there."""
    value: Any = issue
    path: list[str | int] = []
    for match in _KEY_PART.finditer(key):
        name, index = match.groups()
        if name is not None:
            if not isinstance(value, BaseModel) or name not in type(value).model_fields:
                return None
            path.append(name)
            value = getattr(value, name)
        elif isinstance(value, list):
            if index.isdigit():
                position = int(index)
                path.append(position)
                value = value[position] if position < len(value) else None
            else:
                found = [i for i, item in enumerate(value) if getattr(item, "id", None) == index]
                if not found:
                    return None
                path.append(found[0])
                value = value[found[0]]
        else:
            return None
    return tuple(path)


def _texts(value: Any, path: FieldPath, key: str) -> Iterator[Text]:
    for sub_key, sub_path, item in _walk(value, path, key):
        if isinstance(item, str) and sub_path:
            owner, name = _owner(value, sub_path)
            if owner is None or name in NOT_TEXT:
                continue
            field = type(owner).model_fields[name]
            if typing.get_origin(field.annotation) is typing.Literal:
                continue
            kind = f"{type(owner).__name__}.{name}"
            yield Text(sub_key, sub_path, item, kind, _is_inline(field.annotation, field.metadata))


def _owner(root: Any, path: FieldPath) -> tuple[BaseModel | None, str]:
    """The model holding the field at ``path`` and the field's name (a list item's list)."""
    value = root
    owner: BaseModel | None = None
    name = ""
    for part in path:
        if isinstance(value, BaseModel) and isinstance(part, str):
            owner, name = value, part
            value = getattr(value, part)
        elif isinstance(value, list) and isinstance(part, int):
            value = value[part]
    return owner, name


def _walk(value: Any, path: FieldPath, key: str) -> Iterator[tuple[str, FieldPath, Any]]:
    yield key, path, value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name in NOT_TEXT:
                continue
            yield from _walk(getattr(value, name), (*path, name), f"{key}.{name}" if key else name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            anchor = getattr(item, "id", None) if isinstance(item, BaseModel) else None
            yield from _walk(item, (*path, i), f"{key}[{anchor or i}]")


def _is_inline(annotation: Any, metadata: list[Any]) -> bool:
    if any(mark is _INLINE_MARK for mark in metadata):
        return True
    return any(
        arg is _INLINE_MARK or _is_inline(arg, []) for arg in typing.get_args(annotation) if arg is not None
    )
