"""A strict YAML reader for files written by people.

PyYAML's ``safe_load`` silently keeps the last of two duplicate keys, expands anchors and
aliases (an "alias bomb" of a few hundred bytes becomes gigabytes later) and accepts tags.
This reader composes the node tree itself and refuses all of that, so that every value an
editor wrote means exactly one thing. It also returns where each value was written, so later
stages can point an editor at ``file:line:col``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from .errors import ContentError, Problem

#: Largest issue or recipients file accepted. Issue 10 is about 60 KB.
MAX_BYTES = 1_000_000

FieldPath = tuple[str | int, ...]

_ALLOWED_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


@dataclass(frozen=True)
class Located:
    """Parsed YAML data plus the 1-based ``(line, col)`` of every value and key."""

    data: Any
    values: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: FieldPath) -> tuple[int, int] | None:
        """Position of the value at ``path``, or of its closest written ancestor."""
        while True:
            if path in self.values:
                return self.values[path]
            if not path:
                return None
            path = path[:-1]


class _YamlRefusal(Exception):
    def __init__(self, message: str, node_or_event: Any) -> None:
        super().__init__(message)
        self.mark = node_or_event.start_mark


class _StrictComposer(Composer):
    """Composer that refuses anchors, aliases and explicit tags as they are read."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]  # from Parser, mixed in below
        if isinstance(event, AliasEvent):
            raise _YamlRefusal("aliases (*name) are not allowed in issue files", event)
        if isinstance(event, (ScalarEvent, CollectionStartEvent)):
            if event.anchor is not None:
                raise _YamlRefusal("anchors (&name) are not allowed in issue files", event)
            if event.tag is not None and event.tag != "!":
                raise _YamlRefusal(f"tags such as {event.tag!r} are not allowed in issue files", event)
        return super().compose_node(parent, index)


class _StrictLoader(Reader, Scanner, Parser, _StrictComposer, SafeConstructor, Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _StrictComposer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


def _pos(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(loader: _StrictLoader, node: Node, path: FieldPath, out: Located) -> Any:
    out.values[path] = _pos(node)
    if node.tag not in _ALLOWED_TAGS:
        raise _YamlRefusal(f"unsupported value type {node.tag!r}", node)
    if isinstance(node, ScalarNode):
        try:
            value = loader.construct_object(node)
        except ValueError as exc:  # e.g. a date like 2020-02-30
            raise _YamlRefusal(f"{node.value!r} is not a valid date or number: {exc}", node) from None
        if isinstance(value, dt.datetime):
            raise _YamlRefusal("write dates as YYYY-MM-DD, without a time", node)
        return value
    if isinstance(node, SequenceNode):
        return [_convert(loader, item, (*path, i), out) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise _YamlRefusal("keys must be plain words", key_node)
            key = str(key_node.value)
            if key in result:
                first = out.keys[(*path, key)]
                raise _YamlRefusal(
                    f"duplicate key {key!r} (first written at line {first[0]})", key_node
                )
            out.keys[(*path, key)] = _pos(key_node)
            result[key] = _convert(loader, value_node, (*path, key), out)
        return result
    raise _YamlRefusal("unsupported YAML node", node)  # pragma: no cover - PyYAML has no others


def read_yaml(path: Path, max_bytes: int = MAX_BYTES) -> Located:
    """Read ``path`` as strict YAML; raise ``ContentError`` with ``file:line:col`` on any defect."""

    def fail(message: str, line: int | None = None, col: int | None = None) -> ContentError:
        return ContentError([Problem(path, line, col, "", message)])

    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise fail(f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise fail(f"the file is larger than the limit of {max_bytes} bytes", 1, 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise fail(
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8", line, col
        ) from None
    text = text.removeprefix("\ufeff")

    loader = _StrictLoader(text)
    located = Located(data=None)
    try:
        root = loader.get_single_node()
        if root is None:
            raise fail("the file is empty", 1, 1)
        data = _convert(loader, root, (), located)
    except _YamlRefusal as exc:
        raise fail(str(exc), exc.mark.line + 1, exc.mark.column + 1) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or "invalid YAML"
        if exc.context:
            message = f"{exc.context}: {message}"
        if "\t" in message or "'\\t'" in str(exc):
            message += " (indent with spaces, not tabs)"
        if mark is None:
            raise fail(message) from None
        raise fail(message, mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise fail(f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return Located(data=data, values=located.values, keys=located.keys)
