"""A strict YAML reader for files written by people.

PyYAML's ``safe_load`` silently keeps the last of two duplicate keys, expands anchors and
aliases (an "alias bomb" of a few hundred bytes becomes gigabytes later) and accepts tags.
This reader composes the node tree itself and refuses all of that, so that every value an
editor wrote means exactly one thing. It also returns where each value was written, so later
stages can point an editor at ``file:line:col``.
"""

from __future__ import annotations

import datetime as dt
import re
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

from ..errors import FieldPath, Finding, IssueError, error, excerpt
from ..safeio import FORMAT_HINT as YAML_HINT
from ..safeio import MAX_BYTES, read_limited

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
    #: Where each value's source text starts and ends (character offsets in ``text``).
    spans: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    #: The file's text.
    text: str = ""
    #: What the reader refused but could read past (a key written twice, an anchor, an
    #: alias, a tag, a date with a time or a date that does not exist), each located: the
    #: value is read as its text (an alias as nothing, a second key not at all), so that the
    #: rest of the file is checked in the same run.
    problems: tuple[Finding, ...] = ()

    def where(self, path: FieldPath) -> tuple[int, int] | None:
        """Position of the value at ``path``, or of its closest written ancestor."""
        while True:
            if path in self.values:
                return self.values[path]
            if not path:
                return None
            path = path[:-1]

    def find(self, path: FieldPath, needle: str) -> tuple[int, int] | None:
        """Position of ``needle`` as written inside the value at ``path``, if it is there.

        A reference inside a long paragraph is reported at the link, not at the paragraph's
        first line. Folded text is written over several lines, so the needle is looked for
        in the source span of the value, not in its parsed string.
        """
        while path not in self.spans and path:
            path = path[:-1]  # a bare string in a list of blocks stands for a paragraph's text
        span = self.spans.get(path)
        if span is None or not needle:
            return None
        index = self.text.find(needle, span[0], span[1] + 1)
        return _position(self.text, index) if index >= 0 else None


def format_path(path: FieldPath) -> str:
    """``('sections', 2, 'blocks', 0)`` -> ``sections[2].blocks[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _position(text: str, index: int) -> tuple[int, int]:
    """The 1-based ``(line, col)`` of the character at ``index`` of ``text``."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


#: Deeper nesting than any issue needs; PyYAML's composer recurses once per level.
MAX_DEPTH = 40


class _YamlRefusal(Exception):
    def __init__(self, message: str, node_or_event: Any) -> None:
        super().__init__(message)
        self.mark = node_or_event.start_mark


@dataclass(frozen=True)
class _Refused:
    """A refusal read past: what, where (0-based line and column), and of which field when
    known as it is met (else found by its place once the file is read)."""

    message: str
    line: int
    col: int
    path: FieldPath | None = None


def _refused(message: str, node_or_event: Any, path: FieldPath | None = None) -> _Refused:
    mark = node_or_event.start_mark
    return _Refused(message, mark.line, mark.column, path)


class _StrictComposer(Composer):
    """Composer that refuses anchors, aliases and explicit tags as they are read."""

    #: What was refused and read past, in the order met.
    refused: list[_Refused]

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]  # from Parser, mixed in below
        if isinstance(event, AliasEvent):
            # Read as nothing: the value it stands for is never expanded.
            self.refused.append(_refused("aliases (*name) are not allowed in issue files", event))
            self.get_event()  # type: ignore[attr-defined]
            return ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)  # type: ignore[arg-type]
        if isinstance(event, (ScalarEvent, CollectionStartEvent)):
            if event.anchor is not None:
                self.refused.append(_refused("anchors (&name) are not allowed in issue files", event))
                event.anchor = None  # no alias may name it: aliases are read as nothing
            if event.tag is not None and event.tag != "!":
                self.refused.append(
                    _refused(f"tags such as {event.tag!r} are not allowed in issue files", event)
                )
                event.tag = None  # read as if untagged: never constructed as the tag says
        # PyYAML composes recursively: bound the depth before Python's own limit is reached.
        depth = getattr(self, "_depth", 0)
        if depth > MAX_DEPTH:
            raise _YamlRefusal(f"the file nests values more than {MAX_DEPTH} levels deep", event)
        self._depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth = depth


class _StrictLoader(Reader, Scanner, Parser, _StrictComposer, SafeConstructor, Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _StrictComposer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.refused = []


def _pos(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


#: The fields that hold a date and a time (with its offset), not a date alone.
DATETIME_FIELDS = ("embargo", "release")


def _convert(loader: _StrictLoader, node: Node, path: FieldPath, out: Located) -> Any:
    out.values[path] = _pos(node)
    out.spans[path] = (node.start_mark.index, node.end_mark.index)
    if len(path) > MAX_DEPTH:
        raise _YamlRefusal(f"the file nests values more than {MAX_DEPTH} levels deep", node)
    if node.tag not in _ALLOWED_TAGS:  # pragma: no cover - explicit tags are read as untagged
        raise _YamlRefusal(f"unsupported value type {node.tag!r}", node)
    if isinstance(node, ScalarNode):
        try:
            value = loader.construct_object(node)
        except ValueError as exc:  # e.g. a date like 2020-02-30: read as its text
            loader.refused.append(
                _refused(f"{node.value!r} is not a valid date or number: {exc}", node, path)
            )
            return node.value
        if isinstance(value, dt.datetime) and (not path or path[-1] not in DATETIME_FIELDS):
            loader.refused.append(_refused("write dates as YYYY-MM-DD, without a time", node, path))
            return node.value
        return value
    if isinstance(node, SequenceNode):
        return [_convert(loader, item, (*path, i), out) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                loader.refused.append(_refused("keys must be plain words", key_node, path))
                continue
            key = str(key_node.value)
            if key in result:  # the first is kept, the second read past
                first = out.keys[(*path, key)]
                loader.refused.append(
                    _refused(
                        f"duplicate key {key!r} (first written at line {first[0]})", key_node, (*path, key)
                    )
                )
                continue
            out.keys[(*path, key)] = _pos(key_node)
            result[key] = _convert(loader, value_node, (*path, key), out)
        return result
    raise _YamlRefusal("unsupported YAML node", node)  # pragma: no cover - PyYAML has no others


def read_yaml(path: Path, max_bytes: int = MAX_BYTES) -> Located:
    """Read ``path`` as strict YAML; raise ``IssueError`` with ``file:line:col`` when it
    cannot be read (not UTF-8, not YAML, nested too deeply). What it refuses but can read
    past (a key written twice, an anchor, an alias, a tag, a date with a time) is in
    ``Located.problems``, so that the rest of the file is checked in the same run: the caller
    reports them.

    The file is read by ``read_limited``: a regular file of at most ``max_bytes``.

    The parser's messages are put in an editor's words, with the line and a caret.
    """

    def fail(
        message: str, line: int | None = None, col: int | None = None, hint: str = "", shown: str = ""
    ) -> IssueError:
        return IssueError([error(path, message, line=line, col=col, hint=hint or YAML_HINT, excerpt=shown)])

    raw = read_limited(path, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise fail(
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
            line,
            col,
            "save the file as UTF-8 (in most editors: Save as..., encoding UTF-8)",
        ) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line, col = _position(text, text.index("\x00"))
        raise fail(
            "the file contains a NUL character (is it a text file?)",
            line,
            col,
            "save the file as plain UTF-8 text",
        )

    loader = _StrictLoader(text)
    located = Located(data=None, text=text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise fail("the file is empty", 1, 1)
        data = _convert(loader, root, (), located)
    except _YamlRefusal as exc:
        line, col = exc.mark.line + 1, exc.mark.column + 1
        raise fail(str(exc), line, col, shown=excerpt(text, line, col)) from None
    except yaml.MarkedYAMLError as exc:
        raise IssueError([_explain(path, text, exc)]) from None
    except yaml.YAMLError as exc:
        raise fail(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise fail(f"the file nests values too deeply (more than {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()
    # An anchor, an alias or a tag is met before its field is known: found by its place.
    fields = {at: at_path for at_path, at in located.values.items()}
    problems = tuple(
        error(
            path,
            r.message,
            line=r.line + 1,
            col=r.col + 1,
            field=format_path(r.path if r.path is not None else fields.get((r.line + 1, r.col + 1), ())),
            hint=YAML_HINT,
            excerpt=excerpt(text, r.line + 1, r.col + 1),
        )
        for r in loader.refused
    )
    return Located(
        data=data, values=located.values, keys=located.keys, spans=located.spans, text=text, problems=problems
    )


def _lone_field(text: str, line: int, col: int) -> bool:
    """Whether the text before the column on ``line`` is a field name alone (``  title``)."""
    lines = text.splitlines()
    before = lines[line - 1][: col - 1] if line <= len(lines) else ""
    return re.fullmatch(r"\s*(-\s+)?[A-Za-z_][A-Za-z0-9_]*\s*", before) is not None


def _explain(path: Path, text: str, exc: yaml.MarkedYAMLError) -> Finding:
    """A parser error in an editor's words: what is wrong on the line, and how to fix it.

    The common traps are a ": " inside an unquoted text (French puts a space before the
    colon), a line indented differently from its neighbours, a tab, and an unclosed quote.
    """
    problem, context = exc.problem or "", exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    message, hint = f"{context}: {problem}" if context else (problem or "invalid YAML"), YAML_HINT
    if "mapping values are not allowed" in problem and line is not None and _lone_field(text, line, col or 1):
        # "     title: x" under "  - id: y": the field is read as the continuation of the text above.
        message = (
            "this line is indented further than the field above it, so it reads as part of that field's text"
        )
        hint = "line this field up with the other fields of its block (the same number of spaces)"
    elif "mapping values are not allowed" in problem:
        message = 'a second ": " on this line: YAML takes the text before it for a field name'
        hint = 'put the whole text in quotes (title: "Paris : la conférence"), or write it on the next lines after ">-"'
    elif "'\\t'" in problem or "\t" in problem:
        message = "a tab character: YAML indents with spaces only"
        hint = "replace the tab with spaces (set your editor to insert spaces for Tab)"
    elif "quoted scalar" in context and "end of stream" in problem and exc.context_mark is not None:
        line, col = exc.context_mark.line + 1, exc.context_mark.column + 1
        message = "the quote opened here is never closed"
        hint = "end the text with the same quote character it starts with"
    elif "quoted scalar" in context:
        message = f"a quoted text is not written correctly: {problem}"
        hint = 'inside "double quotes" write \\" for a quote and \\\\ for a backslash, or use single quotes'
    elif context.startswith(("while parsing a block collection", "while parsing a block mapping")) or (
        "simple key" in context and "could not find expected ':'" in problem
    ):
        message = "this line is not indented like the lines around it"
        if exc.context_mark is not None and "block" in context:
            message += f" (its block starts at line {exc.context_mark.line + 1})"
        hint = (
            'give fields of one block the same number of spaces, list items ("- ") the same indentation, '
            "and indent the continuation of a text further than its field name"
        )
    elif "while parsing a flow" in context or "flow sequence" in problem or "flow mapping" in problem:
        if exc.context_mark is not None:
            line, col = exc.context_mark.line + 1, exc.context_mark.column + 1
        message = "a list in [brackets] or a mapping in {braces} opened here is not closed, or lacks a comma"
        hint = 'close it with "]" or "}", separate its items with ", ", or put a text that starts with "[" in quotes'
    elif "alias" in context or "anchor" in context:
        message = 'a text starting with "*" or "&": YAML reads it as an alias'
        hint = "put the text in quotes"
    elif "cannot start any token" in problem:
        message = f"a text cannot start with this character ({problem.split(chr(39))[1] if chr(39) in problem else '?'})"
        hint = "put the text in quotes"
    shown = excerpt(text, line, col) if line is not None and col is not None else ""
    return error(path, message, line=line, col=col, hint=hint, excerpt=shown)


def read_part(text: str, start: int, end: int, base: FieldPath) -> Located | None:
    """The value written at ``text[start:end]`` (a mapping that starts at ``start``, such as
    one section of an issue), read alone as ``read_yaml`` reads a file, its positions and
    paths (under ``base``) those of the whole ``text``; None when it cannot be read so (not a
    mapping alone, a value refused): the caller reads the whole file.

    The part is read with as many empty lines and spaces before it as the file has, so that
    the parser's lines and columns are the file's; its offsets are shifted to the file's.
    """
    line, col = _position(text, start)
    pad = "\n" * (line - 1) + " " * (col - 1)
    loader = _StrictLoader(pad + text[start:end])
    loader._depth = len(base)  # nested as deep as in the file: the same limit applies
    located = Located(data=None, text=text)
    try:
        root = loader.get_single_node()
        if not isinstance(root, MappingNode):
            return None
        data = _convert(loader, root, base, located)
    except (_YamlRefusal, yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()
    if loader.refused:
        return None
    shift = start - len(pad)
    spans = {path: (a + shift, b + shift) for path, (a, b) in located.spans.items()}
    return Located(data=data, values=located.values, keys=located.keys, spans=spans, text=text)
