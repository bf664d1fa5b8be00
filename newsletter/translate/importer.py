"""``newsletter translate import``: a translator's file written back into an edition.

Input: the target edition's file (``issues/issue-11.fr.yaml``) and the translator's file
(XLIFF 1.2 or PO, as ``export`` wrote it and a translation tool gave it back). Output: an
``Imported``; the edition's file with each translation written in, in the style of the text
it replaces (``issue/rewrite.py``: comments and layout kept), and, for every unit taken,
the record of the source it was translated from (``translated_from:``).

A unit is refused, each a located finding in the translator's file, when its key names no
text of the source edition (removed or moved since the export), when the target edition has
no block for it, when its codes are broken (one missing, one the source lacks, one opened
and not closed), or when the source's markup changed since the export. The other units are
written. A unit still marked for translation or review (XLIFF's ``state``, PO's ``fuzzy``)
whose text is what the edition holds already is left as it is: nobody translated it yet.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..errors import EnvironmentFault, FieldPath, Finding, IssueError
from ..issue import rewrite
from ..issue.load import Loaded, load_issue
from ..issue.markup import Inline
from ..issue.model import Inline as InlineText
from ..issue.model import Plain as PlainText
from ..issue.segments import (
    Code,
    Segment,
    Words,
    canonical,
    segments,
    to_markup,
    to_plain,
)
from ..issue.texts import RECORDS_COMMENT, Text, hash_of, records, resolve, texts
from ..safeio import atomic_write, read_limited, writing
from .export import edition_in
from .po import read_po_file
from .units import Exchange, ReadUnit, number_like
from .xliff import read_xliff

#: The largest translator's file read (an issue's XLIFF is a few hundred kilobytes).
MAX_EXCHANGE_BYTES = 8_000_000
#: The spaces a translator's tool wraps lines with (never the no-break ones French needs).
_SPACES = re.compile(r"[ \t\r\n]+")
_HINT = (
    "correct the unit in the translator's file (its codes as the source has them), or export the texts again"
)


@dataclass
class Imported:
    """What ``import`` did."""

    target: Path
    source: Path
    #: The keys whose text was written anew.
    written: list[str] = field(default_factory=list)
    #: The keys recorded as translated from the source as the file gives it.
    recorded: list[str] = field(default_factory=list)
    #: The keys left as they are: still marked for translation or review.
    waiting: list[str] = field(default_factory=list)
    #: The keys whose source changed since the export (recorded as made from the older text).
    behind: list[str] = field(default_factory=list)
    #: The units refused, each located in the translator's file.
    refused: list[Finding] = field(default_factory=list)
    #: Whether the edition's file changed.
    changed: bool = False

    def describe(self) -> str:
        """What was written, kept and refused, in a few lines."""
        lines = [
            f"{self.target}: {len(self.written)} text(s) written, {len(self.recorded)} recorded as "
            f"translated from {self.source.name}"
            + (f", {len(self.waiting)} still to translate or review" if self.waiting else "")
            + ("" if self.changed else " (the file is unchanged)")
        ]
        for key in self.behind:
            lines.append(f"  {key}: the source changed since the export; check will report it stale")
        return "\n".join(lines)


def read_exchange(path: Path) -> Exchange:
    """The translator's file at ``path``, XLIFF or PO (by its name, else by its first bytes).
    Raises ``IssueError`` located at the file when it cannot be read."""
    data = read_limited(path, MAX_EXCHANGE_BYTES)
    xml = path.suffix.lower() in (".xlf", ".xliff") or (
        path.suffix.lower() != ".po" and data.lstrip()[:1] == b"<"
    )
    try:
        return read_xliff(path, data) if xml else read_po_file(path, data)
    except ValueError as exc:
        raise IssueError([_refused(path, None, f"cannot read the translator's file: {exc}", "")]) from None


def import_texts(target_path: Path, exchange_path: Path) -> Imported:
    """Write the translations of ``exchange_path`` into the edition at ``target_path``.
    Raises ``IssueError`` when an edition has errors or the file is for another edition,
    ``EnvironmentFault`` when the edition cannot be written."""
    target = load_issue(target_path)
    exchange = read_exchange(exchange_path)
    language = target.issue.language
    if exchange.target_language and exchange.target_language.split("_")[0] != language:
        message = (
            f"this file is a translation into {exchange.target_language!r}; {target_path} is in {language!r}"
        )
        raise IssueError(
            [_refused(exchange_path, 1, message, "", "import it into the edition of its language")]
        )
    source = _source(target, exchange)
    if exchange.original and exchange.original != source.path.name:
        message = f"this file was exported from {exchange.original}, not from {source.path.name}"
        raise IssueError(
            [_refused(exchange_path, 1, message, "", "import it beside the issue it was exported from")]
        )
    return _Writer(target, source, exchange_path).run(exchange.units)


def _source(target: Loaded, exchange: Exchange) -> Loaded:
    languages = [exchange.source_language] if exchange.source_language else ["en", "fr"]
    for language in languages:
        if language != target.issue.language:
            try:
                return edition_in(target, language)
            except EnvironmentFault:
                continue
    raise EnvironmentFault(
        "no edition beside it in the language the texts were translated from",
        target.path,
        "keep the source edition beside the one you import into",
    )


class _Writer:
    """Writes the units of one import into the target's round-trip data."""

    def __init__(self, target: Loaded, source: Loaded, exchange_path: Path) -> None:
        self.target, self.source, self.path = target, source, exchange_path
        self.parser = Inline(page_label="page")
        self.source_texts = texts(source.issue)
        self.target_texts = texts(target.issue)
        self._data: Any = None
        language = source.issue.language
        self.records = records(target.issue, language)
        self.done = Imported(target.path, source.path)

    @property
    def data(self) -> Any:
        """The target's round-trip data, read when something is to be written (ruamel's
        round trip is the slow part of an import)."""
        if self._data is None:
            self._data = rewrite.load(self.target.located.text)
        return self._data

    def run(self, units: list[ReadUnit]) -> Imported:
        for unit in units:
            problem = self._take(unit)
            if problem:
                self.done.refused.append(_refused(self.path, unit.line, problem, unit.key))
        self._write_records()
        text = rewrite.dump(self._data) if self._data is not None else self.target.located.text
        if text != self.target.located.text:
            self._check(text)
            now = read_limited(self.target.path).decode("utf-8", "replace").removeprefix("\ufeff")
            if now != self.target.located.text:
                raise EnvironmentFault(
                    "the issue changed while the translations were read", self.target.path, "import again"
                )
            with writing(self.target.path.parent):
                atomic_write(self.target.path, text.encode("utf-8"))
            self.done.changed = True
        return self.done

    def _take(self, unit: ReadUnit) -> str:
        """Take one unit; why it is refused, or ``""``."""
        if unit.problem:
            return unit.problem
        source = self.source_texts.get(unit.key)
        if source is None:
            return f"{self.source.path.name} has no text {unit.key} (removed or moved since the export)"
        path = resolve(self.target.issue, unit.key)
        if path is None:
            return (
                f"{self.target.path.name} has no section or block for {unit.key}: add the block "
                f"first (check's sibling rule lists it)"
            )
        if unit.target is None or not "".join(p.text for p in unit.target if isinstance(p, Words)).strip():
            return ""  # not translated: nothing to write
        broken = code_problem(unit.source, unit.target)
        if broken:
            return broken
        filled = self._filled(unit, source)
        if isinstance(filled, str):
            return filled
        current = self.target_texts.get(unit.key)
        current_parts = (
            number_like(source.parts(self.parser), current.parts(self.parser)) if current else None
        )
        same = current_parts is not None and canonical(current_parts) == canonical(filled)
        if unit.review and same:
            self.done.waiting.append(unit.key)
            return ""
        if not same:
            value = to_markup(filled) if source.inline else to_plain(filled)
            refused = _unfit(value, source.inline)
            if refused:
                return refused
            if source.inline and not _reads_as(value, filled, self.parser):
                return "a code cannot be written as markup here (a space just inside an emphasis?): move it"
            try:
                self._set(path, value)
            except IndexError:
                return "the item before it has no translation yet: translate the items of a list in order"
            self.done.written.append(unit.key)
        recorded = hash_of(unit.source)
        self.records[unit.key] = recorded
        self.done.recorded.append(unit.key)
        if recorded != hash_of(source.parts(self.parser)):
            self.done.behind.append(unit.key)
        return ""

    def _filled(self, unit: ReadUnit, source: Text) -> list[Segment] | str:
        """The translation's codes made whole again: what each stands for, from the source
        (a link's address from the translation the edition has, when it has one there)."""
        now = source.parts(self.parser)
        if _ids(now) != _ids(unit.source):
            return f"the markup of {self.source.path.name}'s text changed since the export: {_HINT}"
        markup = {p.id: p for p in now if isinstance(p, Code)}
        current = self.target_texts.get(unit.key)
        if current is not None:
            for part in number_like(now, current.parts(self.parser)):
                if isinstance(part, Code) and part.id in markup and markup[part.id].kind == part.kind:
                    markup[part.id] = part
        out: list[Segment] = []
        for part in unit.target or []:
            if isinstance(part, Words):
                # A translator's tool wraps long lines: the lines of a text are one paragraph.
                out.append(Words(_SPACES.sub(" ", part.text)))
            else:
                known = markup[part.id]
                out.append(Code(part.id, known.kind, part.role, known.markup))
        return _tidy(out)

    def _set(self, path: FieldPath, value: str) -> None:
        """Write ``value`` at ``path`` of the round-trip data, making what is missing."""
        container: Any = self.data
        model: Any = self.target.issue
        for depth, part in enumerate(path[:-1]):
            if isinstance(container, list):
                item = container[int(part)]
                if isinstance(item, str):  # a bare string is a paragraph: its text is itself
                    rewrite.set_text(container, int(part), value)
                    return
                container = item
            else:
                if part not in container:
                    following = path[depth + 1]
                    made = rewrite.new_list() if isinstance(following, int) else rewrite.new_map()
                    rewrite.insert(container, str(part), made, _order(model))
                container = container[part]
            model = _child(model, part)
        last = path[-1]
        if not isinstance(container, list) and last not in container:
            rewrite.insert(container, str(last), value, _order(model))
        rewrite.set_text(container, last, value)

    def _write_records(self) -> None:
        """The records in the source's reading order, of texts the target has."""
        if not self.done.recorded:
            return
        language = self.source.issue.language
        order = [k for k in self.source_texts if k in self.records]
        order += [k for k in self.records if k not in self.source_texts and resolve(self.target.issue, k)]
        before = records(self.target.issue, language)
        if not self.done.written and list(before.items()) == [(k, self.records[k]) for k in order]:
            return  # the records as they are, in their order: nothing to write
        written = rewrite.new_map()
        for key in order:
            written[key] = self.records[key]
        if "translated_from" not in self.data:
            self.data["translated_from"] = rewrite.new_map()
            rewrite.comment_before(self.data, "translated_from", RECORDS_COMMENT)
        self.data["translated_from"][language] = written

    def _check(self, text: str) -> None:
        """The file as it would be written, loaded as an editor's would be: the import never
        leaves an edition that does not load."""
        with tempfile.TemporaryDirectory(prefix="newsletter-import-") as work:
            trial = Path(work) / self.target.path.name
            trial.write_text(text, encoding="utf-8")
            try:
                load_issue(trial)
            except IssueError as failed:
                raise IssueError(
                    [replace(f, file=self.target.path) if f.file == trial else f for f in failed.findings]
                ) from None


def code_problem(source: list[Segment], target: list[Segment]) -> str:
    """Why the codes of a translation do not match its source's, or ``""``: each code of the
    source once, none it lacks, each pair opened before it is closed and closed inside the
    pairs around it."""
    wanted = {p.id: p.role for p in source if isinstance(p, Code)}
    paired = {number for number, role in wanted.items() if role in ("open", "close")}
    seen: dict[int, int] = {}
    opened: list[int] = []
    for part in target:
        if not isinstance(part, Code):
            continue
        tag = _tag(part)
        if part.id not in wanted:
            return f"{tag} is not a code of the source (its codes: {_listed(source)})"
        if (part.id in paired) != (part.role != "alone"):
            return f"{tag} is written as {'a pair' if part.role != 'alone' else 'a single code'}, not as in the source"
        seen[part.id] = seen.get(part.id, 0) + 1
        if part.role == "open":
            opened.append(part.id)
        elif part.role == "close":
            if not opened or opened[-1] != part.id:
                return f"{tag} closes a code that is not the last one opened"
            opened.pop()
    if opened:
        return f"<{opened[-1]}> is opened and never closed"
    missing = [n for n in wanted if n not in seen]
    if missing:
        return f"the code {missing[0]} of the source is missing (its codes: {_listed(source)})"
    twice = [n for n, count in seen.items() if count > (2 if n in paired else 1)]
    if twice:
        return f"the code {twice[0]} is written more than once"
    return ""


def _tag(part: Code) -> str:
    return {"open": f"<{part.id}>", "close": f"</{part.id}>", "alone": f"<{part.id}/>"}[part.role]


def _listed(parts: list[Segment]) -> str:
    shown = [_tag(p) for p in parts if isinstance(p, Code) and p.role != "close"]
    return ", ".join(shown) or "none"


def _ids(parts: list[Segment]) -> list[tuple[int, str]]:
    return sorted((p.id, p.role) for p in parts if isinstance(p, Code))


def _tidy(parts: list[Segment]) -> list[Segment]:
    """The words of a translation with the spaces at its ends removed (as the loader does)."""
    if parts and isinstance(parts[0], Words):
        parts[0] = Words(parts[0].text.lstrip())
    if parts and isinstance(parts[-1], Words):
        parts[-1] = Words(parts[-1].text.rstrip())
    return [p for p in parts if not (isinstance(p, Words) and not p.text)]


def _reads_as(value: str, intended: list[Segment], parser: Inline) -> bool:
    """Whether ``value`` reads back as the codes and words intended."""

    def form(parts: list[Segment]) -> tuple[str, list[str]]:
        order: dict[int, int] = {}
        renumbered = []
        for part in parts:
            if isinstance(part, Code):
                order.setdefault(part.id, len(order) + 1)
                part = replace(part, id=order[part.id])
            renumbered.append(part)
        return canonical(renumbered), [p.kind for p in parts if isinstance(p, Code)]

    return form(segments(value, parser)) == form(intended)


#: What the model accepts as a text of each kind (length, printable characters).
_FITS = {True: TypeAdapter(InlineText), False: TypeAdapter(PlainText)}


def _unfit(value: str, inline: bool) -> str:
    """Why the model would refuse ``value`` as a text (a control character, too long), or ``""``."""
    try:
        _FITS[inline].validate_python(value)
    except ValidationError as exc:
        return "the translation cannot be printed: " + "; ".join(
            str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()
        )
    return ""


def _order(model: Any) -> list[str]:
    return list(type(model).model_fields) if isinstance(model, BaseModel) else []


def _child(model: Any, part: str | int) -> Any:
    if isinstance(model, BaseModel) and isinstance(part, str):
        return getattr(model, part, None)
    if isinstance(model, list) and isinstance(part, int) and part < len(model):
        return model[part]
    return None


def _refused(path: Path, line: int | None, message: str, key: str, hint: str = _HINT) -> Finding:
    return Finding("translation-import", "error", message, hint, path, line, 1 if line else None, key)
