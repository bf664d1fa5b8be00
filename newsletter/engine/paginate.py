"""Stage 3, the plan: which parts of the issue to lay out, with which page numbers, and the
document they make together.

Page references print their numbers as text, so the layout depends on the numbers and the
numbers on the layout. The rule that settles them is always the same, whatever is known
beforehand: start with every number at 0, lay out, print the pages found, and again, until
what is printed is where the targets are (at most ``max_passes`` times; a state that comes
back stops the passes, and the ``page-reference`` rule reports what is still wrong). Where
two stable states exist (a number whose width moves its own target), this rule picks one,
the same one every time: a warm rebuild and a cold build agree, byte for byte.

What makes it fast is that the issue is laid out in parts (one per section that starts a
new page, see issue.html.j2) and that a part's layout is a function of its HTML (with the
numbers it prints), its first page and the layout's files: a ``Memo`` keeps, by that key,
what each part gave (its page count and where its ids lie) and, in a warm process, the
laid-out part itself. So the passes cost nothing for the parts already seen, and only the
parts whose content or printed numbers changed are laid out again. The outcomes are kept
beside the PDF between builds; the laid-out parts only in memory (``Session``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..safeio import atomic_write
from .laidout import anchor_pages
from .render import Rendered
from .typesetter import Typesetter

#: Version of the memo's file format; a file of another version is ignored (a cache).
MEMO_FORMAT = 2


@dataclass(frozen=True)
class Outcome:
    """What laying out a part gave: its page count, and the page (0-based, in the part) of
    each of its ids."""

    pages: int
    anchors: Mapping[str, int]


@dataclass
class Memo:
    """Parts' layouts by key: their outcomes (kept between builds) and, in this process,
    the laid-out parts. ``used`` is what the last pagination looked at: what is worth keeping."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        """The outcomes the last pagination used, for the file beside the PDF."""
        kept = {key: self.outcomes[key] for key in sorted(self.used) if key in self.outcomes}
        return {
            "format": MEMO_FORMAT,
            "parts": {key: {"pages": o.pages, "anchors": dict(o.anchors)} for key, o in kept.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> Memo:
        """The memo of a file written by ``to_json``; an empty one for anything else."""
        if not isinstance(data, dict) or data.get("format") != MEMO_FORMAT:
            return cls()
        outcomes: dict[str, Outcome] = {}
        parts = data.get("parts")
        for key, value in parts.items() if isinstance(parts, dict) else ():
            try:
                pages, anchors = value["pages"], value["anchors"]
                if _count(pages) and isinstance(anchors, dict) and all(map(_count, anchors.values())):
                    outcomes[str(key)] = Outcome(pages, {str(k): v for k, v in anchors.items()})
            except (TypeError, KeyError):
                continue
        return cls(outcomes)

    def keep_used(self) -> None:
        """Forget what the last pagination did not look at (bounded memory in a session)."""
        self.outcomes = {key: o for key, o in self.outcomes.items() if key in self.used}
        self.documents = {key: d for key, d in self.documents.items() if key in self.used}


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class Paginated:
    """The laid-out issue: the document, the HTML it was made from, how many passes the
    numbers took and how many pages were laid out to get there (the others came from the memo)."""

    document: Any
    rendered: Rendered
    passes: int
    laid_out: int
    page_map: dict[str, int]


@dataclass(frozen=True)
class _Part:
    key: str
    html: str
    start: int


class _StaleMemo(Exception):
    """A remembered outcome is not what the part gives now (a file edited by hand, say)."""


def paginate(
    render: Callable[[Mapping[str, int]], Rendered],
    typesetter: Typesetter,
    memo: Memo,
    max_passes: int,
    before_part: Callable[[], None] | None = None,
) -> Paginated:
    """Lay out the issue that ``render`` makes for given page numbers, until the numbers
    printed are the pages of their targets (see the module's docstring). ``before_part`` is
    called before each part is laid out: it may stop the layout by raising (a build whose
    checks, run aside, found errors meanwhile)."""
    tally = _Tally(before_part or _go_on)
    try:
        return _paginate(render, typesetter, memo, max_passes, tally)
    except _StaleMemo:
        # Settle again from what this process laid out itself.
        memo.outcomes = {key: memo.outcomes[key] for key in memo.documents if key in memo.outcomes}
        return _paginate(render, typesetter, memo, max_passes, tally)


def _go_on() -> None:
    pass


@dataclass
class _Tally:
    """The pages laid out so far, and what to call before laying out a part."""

    before_part: Callable[[], None]
    pages: int = 0


def _paginate(
    render: Callable[[Mapping[str, int]], Rendered],
    typesetter: Typesetter,
    memo: Memo,
    max_passes: int,
    counted: _Tally,
) -> Paginated:
    memo.used = set()
    counted.pages = 0
    numbers: dict[str, int] = {}
    seen: list[dict[str, int]] = []
    engine = ""
    for passes in range(1, max_passes + 1):
        rendered = render(numbers)
        if not engine:
            engine = typesetter.prepare(rendered.stylesheets, rendered.css)
        plan, anchors = _pass(rendered, engine, typesetter, memo, counted)
        truth = {target: anchors.get(target, printed) for target, printed in rendered.printed.items()}
        if truth == dict(rendered.printed) or truth in seen:
            break
        seen.append(truth)
        numbers = anchors
    documents = [_document(part, rendered, typesetter, memo, counted) for part in plan]
    pages = [page for document in documents for page in document.pages]
    document = documents[0].copy(pages) if len(documents) > 1 else documents[0]
    page_map = anchor_pages(document)
    if page_map != anchors:
        raise _StaleMemo
    return Paginated(document, rendered, passes, counted.pages, page_map)


def _pass(
    rendered: Rendered, engine: str, typesetter: Typesetter, memo: Memo, counted: _Tally
) -> tuple[list[_Part], dict[str, int]]:
    """One pass: every part at its first page, laid out unless its outcome is known; the
    page of every id."""
    plan: list[_Part] = []
    anchors: dict[str, int] = {}
    start = 1
    for html in rendered.parts or (rendered.html,):
        part = _Part(_key(engine, start, html), html, start)
        outcome = memo.outcomes.get(part.key)
        if outcome is None:
            outcome = _lay_out(part, rendered, typesetter, memo, counted)
        memo.used.add(part.key)
        for name, offset in outcome.anchors.items():
            anchors.setdefault(name, start + offset)
        plan.append(part)
        start += outcome.pages
    return plan, anchors


def _lay_out(part: _Part, rendered: Rendered, typesetter: Typesetter, memo: Memo, counted: _Tally) -> Outcome:
    counted.before_part()
    # A template without parts gives the whole document, with its own stylesheets.
    document = typesetter.lay_out(part.html, part.start, part=bool(rendered.parts))
    counted.pages += len(document.pages)
    outcome = Outcome(len(document.pages), {name: page - 1 for name, page in anchor_pages(document).items()})
    memo.documents[part.key] = document
    memo.outcomes[part.key] = outcome
    return outcome


def _document(part: _Part, rendered: Rendered, typesetter: Typesetter, memo: Memo, counted: _Tally) -> Any:
    """The laid-out part: kept from earlier, or laid out now (its outcome was remembered)."""
    document = memo.documents.get(part.key)
    if document is None:
        remembered = memo.outcomes[part.key]
        if _lay_out(part, rendered, typesetter, memo, counted) != remembered:
            raise _StaleMemo
        document = memo.documents[part.key]
    return document


def _key(engine: str, start: int, html: str) -> str:
    digest = hashlib.sha256(f"{engine}|{start}|".encode())
    digest.update(html.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def memo_path(source: Path, folder: Path | None, edition: str) -> Path | None:
    """Where the parts' outcomes are kept between builds: beside the PDF, hidden."""
    return folder / f".{source.stem}-{edition}.pages.json" if folder is not None else None


#: A memo file larger than this was not written by a build (issue 10's is 2 KB).
MAX_MEMO_BYTES = 5_000_000


def read_memo(paths: Iterable[Path | None]) -> Memo:
    """The outcomes of a previous build's parts, from the first of ``paths`` that holds any;
    none when there is no file or it cannot be read (a cache: a build without it lays out
    every part, and is the same)."""
    for path in paths:
        try:
            if path is None or not path.is_file() or path.stat().st_size > MAX_MEMO_BYTES:
                continue
            memo = Memo.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, RecursionError):  # RecursionError: nesting edited in by hand
            continue
        if memo.outcomes:
            return memo
    return Memo()


def write_memo(path: Path, memo: Memo) -> None:
    """Keep ``memo``'s outcomes at ``path``, whole or not at all."""
    atomic_write(path, json.dumps(memo.to_json(), separators=(",", ":")).encode("utf-8"))
