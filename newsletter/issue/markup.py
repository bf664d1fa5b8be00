"""Inline markup: a small Markdown subset, with raw HTML disabled.

Editors write ``*emphasis*``, ``**strong**``, ``[words](https://...)`` and page references.
A page reference is a link to ``#target-id``:

- ``[page](#working-groups)`` prints the edition's word for page and the target's page
  number, e.g. "page 10" (never broken at a line end);
- ``[pages](#ccpcj,#parallel-events)`` prints both, in the edition's words: "pages 6 and 7",
  or "page 6" when both lie on one page; each number links to its target;
- ``[](#working-groups)`` prints the number alone;
- any other words, e.g. ``[the agenda](#agenda)``, make a plain internal link.

The numbers are ordinary text: ``page_of`` gives them, from the layout of a previous pass
(``engine/paginate.py`` lays out again until every printed number is its target's page).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

from .hyphenation import acronyms, soft_hyphens
from .model import INTERNAL_LINK, WEB_LINK
from .typography import compounds, ordinals

_SAFE_HREF = re.compile(rf"^({WEB_LINK}|{INTERNAL_LINK})$")
#: How deep emphasis, strong emphasis and links may nest in one text. Editors write three
#: levels at most; WeasyPrint lays out each level by recursion and fails at a few hundred.
MAX_NESTING = 12
#: The tokens that open and close a nested element.
_NESTED = frozenset({"em_open", "em_close", "strong_open", "strong_close", "link_open", "link_close"})
#: Words that make an internal link a page reference, in any issue's language.
PAGE_WORDS = frozenset({"page", "p.", "pages"})


@dataclass(frozen=True)
class LinkUse:
    """A link written in inline text."""

    href: str
    text: str

    @property
    def internal_target(self) -> str | None:
        """The (first) target id for ``#id`` links, else None."""
        return self.internal_targets[0] if self.internal_targets else None

    @property
    def internal_targets(self) -> list[str]:
        """Every target id of ``#id`` or ``#id,#other`` links; empty for others."""
        if not self.href.startswith("#"):
            return []
        return [part.removeprefix("#") for part in self.href.split(",")]


def _parser() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    # No backticks: <code> would ask for a monospace font, which the project does not bundle.
    md.enable(["emphasis", "link", "escape", "newline"])
    # Every link is tokenised so that ``links()`` can report the ones we refuse, instead of
    # markdown-it silently printing them as text.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


#: The parser ``_read`` uses; ``Inline`` has one of its own, with the same settings.
_PARSER = _parser()


@functools.lru_cache(maxsize=16384)
def _read(text: str) -> tuple[tuple[LinkUse, ...], int]:
    """The links of ``text`` and how deep its markup nests, parsed once: three rules ask, for
    every text of the issue, and a warm session asks again after each save for the texts that
    did not change (a 49-page issue has 1,300 texts). The parser's settings never change."""
    found: list[LinkUse] = []
    deepest = 0
    for block in _PARSER.parseInline(text):
        children = block.children or []
        depth = 0
        for i, tok in enumerate(children):
            if tok.type == "link_open":
                found.append(LinkUse(str(tok.attrGet("href") or ""), _link_text(children, i)))
            depth += tok.nesting if tok.type in _NESTED else 0
            deepest = max(deepest, depth)
    return tuple(found), deepest


class Inline:
    """Parses and renders inline markup. Holds no state besides its parser and its words."""

    def __init__(
        self,
        page_label: str,
        pages_label: str = "pages",
        and_label: str = "and",
        page_of: Callable[[str], int] | None = None,
        language: str | None = None,
    ) -> None:
        self._md = _parser()
        # With a language, the text is set for the page (``render``): ordinals, breaks.
        self._language = language
        self._page_label = page_label
        self._pages_label = pages_label
        self._and_label = and_label
        # Before any layout the numbers are unknown: 0 holds their place for a first pass.
        self._page_of = page_of or (lambda target: 0)

    def tokens(self, text: str) -> list[Token]:
        """The parser's inline tokens of ``text`` (for ``segments.py``)."""
        return self._md.parseInline(text)

    def links(self, text: str) -> list[LinkUse]:
        """Every link in ``text``, in order."""
        return list(_read(text)[0])

    @staticmethod
    def is_safe(href: str) -> bool:
        """Whether a link may appear in the PDF: http(s), mailto or an internal ``#id``."""
        return bool(_SAFE_HREF.match(href))

    def _page_reference(self, href: str, with_word: bool) -> str:
        """``page 6`` (one link), ``pages 6 and 7`` (a link per number) or the number alone.

        A no-break space holds the word to its number: a line never ends between them.
        """
        targets = [part.removeprefix("#") for part in href.split(",")]
        numbers = [self._page_of(target) for target in targets]

        def link(target: str, text: str) -> str:
            return f'<a class="pageref" href="#{escape(target)}">{escape(text)}</a>'

        if len(targets) == 1 or len(set(numbers)) == 1:
            number = str(numbers[0])
            return link(targets[0], f"{self._page_label}\u00a0{number}" if with_word else number)
        word = f"{escape(self._pages_label)}\u00a0" if with_word else ""
        first, *middle, last = [link(t, str(n)) for t, n in zip(targets, numbers, strict=True)]
        joined = ", ".join([first, *middle])
        return f"{word}{joined} {escape(self._and_label)}\u00a0{last}"

    def nesting(self, text: str) -> int:
        """How deep emphasis, strong emphasis and links nest in ``text``."""
        return _read(text)[1]

    def nesting_problem(self, text: str) -> str | None:
        """Why ``text`` nests too deeply to be laid out, or None."""
        depth = self.nesting(text)
        if depth <= MAX_NESTING:
            return None
        return f"emphasis and links nest {depth} levels deep here; at most {MAX_NESTING} are allowed"

    def render(self, text: str, display: bool = False) -> Markup:
        """HTML for ``text``. Unsafe links are dropped to their words (load refuses them first);
        so is markup nested deeper than ``MAX_NESTING`` (``nesting_problem`` refuses it first).

        Made with a ``language`` (the PDF's text), the words are set for the page
        (``set_text``): running text keeps its last ``TAIL`` letters unbroken, and
        ``display`` text (titles, labels, captions) keeps its hyphenated words whole.
        """
        if "#" not in text:  # no page reference: the same HTML whatever the page numbers
            return _rendered(text, display, self._language)
        return self._render(text, display)

    def _render(self, text: str, display: bool) -> Markup:
        out: list[str] = []
        for block in self._md.parseInline(text):
            children = block.children or []
            tail = {} if self._language is None else _tail(children, TAIL)
            skip_until = -1
            # One entry per open element: whether its tags are written (False past the bound).
            opened: list[bool] = []
            for i, tok in enumerate(children):
                if i <= skip_until:
                    continue
                if tok.nesting == 1 and tok.type in _NESTED and sum(opened) >= MAX_NESTING:
                    opened.append(False)
                    continue
                if tok.nesting == -1 and tok.type in _NESTED and opened and not opened.pop():
                    continue
                if tok.type == "link_open":
                    href = str(tok.attrGet("href") or "")
                    words = _link_text(children, i)
                    if href.startswith("#") and self.is_safe(href) and words.lower() in PAGE_WORDS | {""}:
                        out.append(self._page_reference(href, bool(words)))
                        skip_until = _matching_close(children, i)  # its words and its close, whole
                        continue
                    if self.is_safe(href) and "," in href:  # several targets: only as page words
                        out.append("<span>")
                    elif self.is_safe(href):
                        cls = "xref" if href.startswith("#") else "ext"
                        out.append(f'<a class="{cls}" href="{escape(href)}">')
                    else:
                        out.append("<span>")
                elif tok.type == "link_close":
                    written = _opened_link(children, i, lambda h: self.is_safe(h) and "," not in h)
                    out.append("</a>" if written else "</span>")
                elif tok.type == "text" and self._language is not None:
                    out.append(
                        set_text(
                            tok.content, self._language, display, tail.get(i), bool(tail) and i == max(tail)
                        )
                    )
                else:
                    out.append(_simple(tok))
                if tok.nesting == 1 and tok.type in _NESTED:
                    opened.append(True)
        return Markup("".join(out))


@functools.lru_cache(maxsize=16384)
def _rendered(text: str, display: bool, language: str | None) -> Markup:
    """The HTML of a text without page references, made once: the issue is rendered twice
    a build (once with the page numbers unknown) and again after each save in a warm session,
    where most texts did not change (a 49-page issue has 2,400 texts to render)."""
    return _renderer(language)._render(text, display)


@functools.lru_cache(maxsize=8)
def _renderer(language: str | None) -> Inline:
    """A renderer for texts without page references (its page words are never printed)."""
    return Inline("", language=language)


#: A web or mail address written as text: it breaks, when it must, after "/" or "." with no
#: hyphen added (a hyphen would change the address).
_ADDRESS = re.compile(r"(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)»]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def breakable_addresses(text: str) -> Markup:
    """``text`` escaped, each address in it set in ``<span class="address">`` (no
    hyphenation) with a break opportunity (``<wbr>``) after each ``/`` and ``.``."""
    out, last = [], 0
    for match in _ADDRESS.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        pieces = re.split(r"(?<=[/.])(?!/)", match.group(0))  # "https://" stays whole
        out.append('<span class="address">' + "<wbr>".join(str(escape(p)) for p in pieces if p) + "</span>")
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


#: Letters at the end of running text that are never hyphenated: a paragraph's last line
#: is then never a fragment of a word alone ("ing cases."), since a fragment that starts it
#: comes before these letters, all on that line too (WeasyPrint has no
#: ``hyphenate-limit-last``).
TAIL = 16
#: A last word this short is held to the word before it (no line of "it." alone).
SHORT_LAST_WORD = 5


def _tail(children: list[Token], letters: int) -> dict[int, int]:
    """Where the last ``letters`` characters of the text start: for each text token in
    them, the offset (at a word's start) from which it is kept unbroken. Stops at a hard
    break, where the paragraph's last line starts anyway."""
    found: dict[int, int] = {}
    need = letters
    for i in range(len(children) - 1, -1, -1):
        tok = children[i]
        if tok.type == "hardbreak":
            break
        if tok.type != "text" or not tok.content:
            continue
        content = tok.content
        if len(content) < need:
            found[i] = 0
            need -= len(content)
            continue
        cut = len(content) - need
        # The word the cut falls in, or the one starting right after it, is kept whole. The
        # space before it goes into the tail too: a text that ends in a space before the
        # span made WeasyPrint 70 set a hyphenated fragment alone on the line above.
        space = max(content.rfind(" ", 0, cut), content.rfind("\u00a0", 0, cut))
        found[i] = max(space, 0)
        break
    return found


def set_text(
    text: str, language: str, display: bool = False, tail: int | None = None, last: bool = False
) -> str:
    """``text`` (one text token) as HTML for the page in ``language``: each French
    ordinal's letters in ``<sup class="ordinal">``; words in capitals never broken; in
    ``display`` text each hyphenated word kept whole (``<span class="whole">``); in
    running text the words of ``hyphenation.EXCEPTIONS`` broken where a dictionary breaks
    them, and from offset ``tail`` on nothing hyphenated (``<span class="tail">``); in
    both, the last word (of the ``last`` token) is held to the one before when it is short. Addresses as ``breakable_addresses``."""
    if tail is not None:
        head, rest = text[:tail], text[tail:]
        words = rest.rstrip().rsplit(" ", 1)
        if last and len(words) == 2 and sum(ch.isalnum() for ch in words[1]) < SHORT_LAST_WORD:
            rest = words[0] + "\u00a0" + words[1] + rest[len(rest.rstrip()) :]
        inner = set_text(rest, language, display)
        if display or not rest:  # display text is never hyphenated anyway
            return set_text(head, language, display) + inner
        return set_text(head, language) + f'<span class="tail">{inner}</span>'
    out, done = [], 0
    for match in _ADDRESS.finditer(text):
        out.append(_decorated(text[done : match.start()], language, display))
        out.append(str(breakable_addresses(match.group(0))))
        done = match.end()
    out.append(_decorated(text[done:], language, display))
    return "".join(out)


def _decorated(text: str, language: str, display: bool) -> str:
    spans = [(a, b, '<sup class="ordinal">', "</sup>") for a, b in ordinals(text, language)]
    if display:
        spans += [(a, b, '<span class="whole">', "</span>") for a, b in compounds(text)]
    spans += [(a, b, '<span class="acronym">', "</span>") for a, b in acronyms(text)]
    out, last = [], 0
    for start, end, opening, closing in sorted(spans):
        if start < last:
            continue  # inside a span already set (an acronym in a compound)
        out += [
            _plain(text[last:start], language, display),
            opening,
            _plain(text[start:end], language, display),
            closing,
        ]
        last = end
    out.append(_plain(text[last:], language, display))
    return "".join(out)


def _plain(text: str, language: str, display: bool) -> str:
    return str(escape(text if display else soft_hyphens(text, language)))


def _simple(tok: Token) -> str:
    if tok.type == "text":
        return str(breakable_addresses(tok.content))
    if tok.type == "softbreak":
        return " "
    if tok.type == "hardbreak":
        return "<br>"
    tags = {"em_open": "<em>", "em_close": "</em>", "strong_open": "<strong>", "strong_close": "</strong>"}
    return tags.get(tok.type, str(escape(tok.content)))


def _matching_close(children: list[Token], open_index: int) -> int:
    depth = 0
    for j in range(open_index, len(children)):
        if children[j].type == "link_open":
            depth += 1
        elif children[j].type == "link_close":
            depth -= 1
            if depth == 0:
                return j
    return len(children) - 1


def _link_text(children: list[Token], open_index: int) -> str:
    close = _matching_close(children, open_index)
    return "".join(t.content for t in children[open_index + 1 : close] if t.type == "text").strip()


def _opened_link(children: list[Token], close_index: int, is_safe: object) -> bool:
    depth = 0
    for j in range(close_index, -1, -1):
        if children[j].type == "link_close":
            depth += 1
        elif children[j].type == "link_open":
            depth -= 1
            if depth == 0:
                return bool(is_safe(str(children[j].attrGet("href") or "")))  # type: ignore[operator]
    return False
