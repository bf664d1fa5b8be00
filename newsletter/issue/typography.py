"""Typography: plain text as the editor types it, set as the issue's language wants it.

Editors type ``"quotes"``, ``l'ONUDC``, ``mot : suite`` and ``1 830 000 €`` on an ordinary
keyboard; the page needs curly quotes or guillemets, apostrophes, and spaces that never
break (U+00A0) or never break and stay narrow (U+202F). The rules are the house rules in
``typography.md`` (French: Imprimerie nationale; English: Chicago / Oxford, UK spellings).

Everything here is pure: ``str`` in, ``str`` out, no I/O and no state, so the functions can be
applied to every text token of the parsed inline Markdown (never to link targets) and tested
as tables. ``smarten`` is idempotent: applying it twice gives the same text as once.

What is never changed, whatever the language: URLs, e-mail addresses, ``@handles``, times
(``10:30``), document symbols (``E/CN.15/2018/L.2/Rev.1``), ISO dates and phone numbers, and
any U+00A0 or U+202F the editor already typed (a space typed on purpose is kept, never
doubled).

Where the layout sets letters apart (French ordinals raised, hyphenated words kept whole in
titles) is said here too (``ordinals``, ``compounds``); ``markup.py`` writes the HTML.

Dates: ``format_date``, ``format_range`` and ``format_span`` name months with Babel, in the house order day,
month, year, with the day and the month held together by U+00A0.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .model import Issue

#: The issues' languages this module knows the rules of.
LANGUAGES = ("en", "fr")

NBSP = "\u00a0"  # no-break space: never breaks, stretches like a space
NNBSP = "\u202f"  # narrow no-break space: never breaks, fixed and narrow
EN_DASH = "\u2013"
ELLIPSIS = "\u2026"

# Spaces a line may break at. U+2009 (thin space) is here on purpose: it looks like a
# narrow space but breaks, so where the rules want a narrow space it is replaced too.
_BREAKABLE = "[ \t\n\r\u2009]"
_NOBREAK = "\u00a0\u202f"
_ANY_SPACE = "[ \t\n\r\u2009\u00a0\u202f]"


#: Month names 1-12 in each language, as CLDR writes them in a date (Babel's
#: ``get_month_names("wide", context="format")``; ``tests/test_typography.py`` holds them to
#: it). Written here: loading Babel's locale data for two lists took 0.05 s of every build.
_MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
}  # fmt: skip
# Case-sensitive on purpose: English months are capitalised, so "may" the verb never
# matches; French months are lower case, as written in running text.
_MONTH_RE: dict[str, str] = {
    language: "(?:" + "|".join(sorted(names, key=len, reverse=True)) + r")(?!\w)"
    for language, names in _MONTHS.items()
}

# --------------------------------------------------------------------------------------
# What must not change. Each pattern finds a span that every rule below skips.

_PROTECTED_PATTERNS = (
    # A Markdown link target, in case raw Markdown is passed by mistake.
    r"\]\([^)\s]*\)",
    # URLs; trailing sentence punctuation is the sentence's, not the URL's.
    r"(?:\b(?:https?|ftp)://|\bmailto:|(?<![\w.])www\.)[^\s<>\"«»“”]*[^\s<>\"«»“”.,;:!?…)\]'’]",
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # e-mail addresses
    r"(?<![\w@.])@\w+",  # social media handles
    r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])",  # times, 10:30
    # Document symbols and other slashed ids: E/CN.15/2018/L.2/Rev.1, 14/05/2018.
    r"(?<![\w/.-])\w[\w.-]*/[\w.\-/]*\w",
    r"(?<![\w.])\d+(?:[-.]\d+){2,}(?!\w)",  # ISO dates, version numbers, 01-40-50
    r"\+\d[\d \u00a0.()-]{5,}\d",  # international phone numbers
    r"(?<![\w.])0\d(?:[ .-]\d{2}){4}(?!\d)",  # French phone numbers, 01 40 50 60 70
    r"(?<![\w.])\(?\d{3}\)?[ .-]\d{3}[.-]\d{4}(?!\d)",  # North American phones
    r"(?<![\w.-])\d{3}-\d{4}(?![\d-])",  # local phone numbers, 555-1234
)
_PROTECTED = re.compile("|".join(_PROTECTED_PATTERNS))

Replacement = str | Callable[[re.Match[str]], str]


def _protected_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _PROTECTED.finditer(text)]


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``text[start:end]`` touches a protected span (an insertion point counts
    when strictly inside one: adding a space right after a URL is fine, within it is not)."""
    return any(start < span_end and span_start < end for span_start, span_end in spans)


def _sub(pattern: re.Pattern[str], repl: Replacement, text: str) -> str:
    """``pattern.sub`` that leaves protected spans alone.

    The spans are found again on every call because earlier rules change offsets; the
    rules never change a protected span, so the same spans are found each time. They are
    looked for only where the rule matches at all (most rules match most texts nowhere).
    """
    if pattern.search(text) is None:
        return text
    spans = _protected_spans(text)

    def guarded(match: re.Match[str]) -> str:
        if _inside(match.start(), match.end(), spans):
            return match.group(0)
        return repl(match) if callable(repl) else match.expand(repl)

    return pattern.sub(guarded, text)


def _space(run: str, default: str) -> str:
    """The space a rule sets: the editor's own no-break space if they typed one, else
    ``default``. Breakable spaces in ``run`` are dropped."""
    for char in run:
        if char in _NOBREAK:
            return char
    return default


# --------------------------------------------------------------------------------------
# Rules shared by both languages.

_ELLIPSIS = re.compile(r"\.\.\.")
# A dash between clauses typed as a spaced hyphen or en dash: set as an en dash with a
# no-break space before it, so that no line starts with the dash.
_CLAUSE_DASH = re.compile(rf"(?<=\S)({_ANY_SPACE}+)[-–]({_ANY_SPACE}+)(?=\S)")


def _clause_dash(match: re.Match[str]) -> str:
    return _space(match.group(1), NBSP) + EN_DASH + _space(match.group(2), " ")


# A range of numbers typed with a hyphen, 14-18 or 2018-2019, set with an en dash in both
# languages, as the agenda sets its dates (``format_range``: "27–28 mars"), so that an
# edition has one mark for its ranges. Not a part of a longer chain (ISO dates, phone
# numbers and slashed ids such as 2024/1712 are protected), an id (COVID-19, A4-5) or a
# decimal.
_RANGE = re.compile(r"(?<![\w.,/–-])(\d{1,4})-(\d{1,4})(?![\w/–-]|[.,]\d)")


def _range(match: re.Match[str]) -> str:
    first, last = match.group(1), match.group(2)
    if first.startswith("0") or last.startswith("0"):
        return match.group(0)  # 09-01 is a code or a date, not a range
    return f"{first}{EN_DASH}{last}"


_OPENING_CONTEXT = "([{-–—/“‘«"
_CLOSING_PUNCTUATION = ".,;:!?)]}…"
_ELISION = re.compile(r"'(?:\d\d(?!\d)|tis\b|twas\b|em\b|n'|cause\b|til\b)", re.IGNORECASE)
# A contraction after ``*UNODC*``: the word is in the token before (or behind the ``*``).
_CONTRACTION = re.compile(r"'(?:s|t|ll|re|ve|d|m)(?!\w)")


def _opens(prev: str, nxt: str, opening_context: str) -> bool:
    """Whether a straight quote between ``prev`` and ``nxt`` opens a quotation."""
    if prev == "":
        # Start of the text token: the quote opens unless nothing follows it (a closing
        # quote right after an ``*emphasis*`` starts its own text token).
        return not (nxt == "" or nxt.isspace() or nxt in _CLOSING_PUNCTUATION)
    if prev in "*_":
        # Markdown emphasis marks both open and close: "**"word"**" and "*word*" said.
        return nxt != "" and (nxt.isalnum() or nxt in "“‘«'\"")
    return prev.isspace() or prev in opening_context


def _quotes(text: str, language: str) -> str:
    """Straight quotes to curly ones (English) or guillemets (French), left to right so
    that each quote sees the already converted character before it."""
    spans = _protected_spans(text)
    out: list[str] = []
    for i, char in enumerate(text):
        if char not in "\"'" or _inside(i, i + 1, spans):
            out.append(char)
            continue
        prev = out[-1] if out else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if language == "fr":
            # An apostrophe may precede a quotation in French: d'« avantage ».
            if char == '"':
                out.append("«" if _opens(prev, nxt, _OPENING_CONTEXT + "’'") else "»")
            else:
                out.append("’")  # in French a straight single quote is an apostrophe
        elif char == '"':
            out.append("“" if _opens(prev, nxt, _OPENING_CONTEXT) else "”")
        elif prev and (prev.isalnum() or prev in _CLOSING_PUNCTUATION + "%’”"):
            out.append("’")  # UNODC's, States', a closing quote
        elif _ELISION.match(text, i) or (prev in ("", "*", "_") and _CONTRACTION.match(text, i)):
            out.append("’")  # '90s, 'tis, rock 'n' roll: an apostrophe that opens a word
        elif _opens(prev, nxt, _OPENING_CONTEXT):
            out.append("‘")
        else:
            out.append("’")
    return "".join(out)


# --------------------------------------------------------------------------------------
# French.

# The start and the end of the text count as a word: the caller smartens each text token of
# the inline Markdown, and in "« *mot* »" or "*mot* :" the word is in the token next door.
_FR_AFTER_GUILLEMET = re.compile(rf"(?<=«)({_ANY_SPACE}*)(?=\S|$)")
_FR_BEFORE_GUILLEMET = re.compile(rf"(?:(?<=\S)|^)({_ANY_SPACE}*)(?=»)")
# Not after an opening bracket: "(?)" keeps its question mark tight.
_FR_BEFORE_TALL = re.compile(rf"(?:(?<=[^\s(\[«;:!?])|^)({_ANY_SPACE}*)(?=[;!?](?!\w))")
_FR_BEFORE_COLON = re.compile(rf"(?:(?<=[^\s(\[«:])|^)({_ANY_SPACE}*)(?=:)")
_FR_SPACED_GROUPS = re.compile(r"(?<![\w.,])\d{1,3}(?:[ \t\u2009\u00a0\u202f]\d{3})+(?!\w)")
_FR_PLAIN_NUMBER = re.compile(r"(?<![\w.,+-])\d{5,}(?!\w)")
# Numbers after these are identifiers (a standard, a number in a series), not quantities.
_ID_BEFORE = re.compile(r"(?:\b(?:ISO|EN|NF|ISBN|ISSN|No\.?|no\.?)|n°|N°)[ \u00a0]*$")
_FR_POSTCODE = re.compile(rf"{_ANY_SPACE}+[A-ZÀ-Ý]")
_FR_SYMBOL_UNIT = re.compile(rf"(?<=\d)({_ANY_SPACE}*)(?=(?:[%‰€$£¥]|°C)(?!\d))")
_FR_UNITS = "km²|m²|km|cm|mm|m|kg|g|t|h|min|ha|millions?|milliards?|euros?|dollars?"
_FR_WORD_UNIT = re.compile(rf"(?<=\d)({_BREAKABLE}+)(?=(?:{_FR_UNITS})(?!\w))")
_FR_HOUR_MINUTES = re.compile(rf"(?<=\d\u00a0h)({_BREAKABLE}+)(?=\d\d(?!\d))")  # 10 h 30
# The first of a month, alone or starting a range of days (1er–3 mars, as ``format_range``).
_FR_FIRST = re.compile(rf"(?<![\w.,])1(?=(?:–\d{{1,2}})?{_ANY_SPACE}+{_MONTH_RE['fr']})")
_FR_DAY_MONTH = re.compile(rf"(?<![\w.,])(\d{{1,2}}|1er)({_BREAKABLE}+)(?={_MONTH_RE['fr']})")
_FR_BEFORE_NUMBER = re.compile(
    rf"(?<![\w.])(n°|N°|p\.|pp\.|art\.|vol\.|chap\.|fig\.|pages?|articles?)({_BREAKABLE}+)(?=\d)"
)
_FR_BEFORE_NAME = re.compile(rf"(?<![\w.])(M\.|MM\.|Mmes?|Mlles?|Dr\.?|Pr\.?)({_BREAKABLE}+)(?=\w)")


def _fr_colon(match: re.Match[str]) -> str:
    run = match.group(1)
    if run:
        return _space(run, NBSP)
    # Insert a space only where the colon ends a clause; "a:b" is not prose.
    after = match.string[match.end() + 1 : match.end() + 2]
    return NBSP if after == "" or after.isspace() or after in '»)"*' else ""


def _fr_spaced_groups(match: re.Match[str]) -> str:
    number = match.group(0)
    digits = re.sub(r"\D", "", number)
    if _ID_BEFORE.search(match.string, 0, match.start()):
        return number
    # Four digits stay whole (2018, 1830, 4600), unless the editor held them together.
    if len(digits) <= 4 and not any(char in _NOBREAK for char in number):
        return digits
    return "".join(NNBSP if char in " \t\u2009" else char for char in number)


def _group(digits: str) -> str:
    """``1830000`` as ``1 830 000`` with U+202F between the groups of three."""
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return NNBSP.join(groups)


def _fr_plain_number(match: re.Match[str]) -> str:
    digits = match.group(0)
    if digits.startswith("0") or _ID_BEFORE.search(match.string, 0, match.start()):
        return digits  # 0 leads codes and phone numbers, not quantities
    if len(digits) == 5 and _FR_POSTCODE.match(match.string, match.end()):
        return digits  # a postcode before a town: 75007 Paris
    return _group(digits)


def _before_name(match: re.Match[str]) -> str:
    # Only before a name (a capital): "M. le ministre" may break after "M.".
    if match.string[match.end()].isupper():
        return match.group(1) + NBSP
    return match.group(0)


def _smarten_fr(text: str) -> str:
    text = _sub(_FR_AFTER_GUILLEMET, lambda m: _space(m.group(1), NNBSP), text)
    text = _sub(_FR_BEFORE_GUILLEMET, lambda m: _space(m.group(1), NNBSP), text)
    text = _sub(_FR_BEFORE_TALL, lambda m: _space(m.group(1), NNBSP), text)
    text = _sub(_FR_BEFORE_COLON, _fr_colon, text)
    text = _sub(_FR_SPACED_GROUPS, _fr_spaced_groups, text)
    text = _sub(_FR_PLAIN_NUMBER, _fr_plain_number, text)
    text = _sub(_FR_SYMBOL_UNIT, lambda m: _space(m.group(1), NBSP), text)
    text = _sub(_FR_WORD_UNIT, NBSP, text)
    text = _sub(_FR_HOUR_MINUTES, NBSP, text)
    text = _sub(_FR_FIRST, "1er", text)
    text = _sub(_FR_DAY_MONTH, lambda m: m.group(1) + NBSP, text)
    text = _sub(_FR_BEFORE_NUMBER, lambda m: m.group(1) + NBSP, text)
    return _sub(_FR_BEFORE_NAME, _before_name, text)


# --------------------------------------------------------------------------------------
# English.

_EN_PERCENT = re.compile(rf"(?<=\d)({_BREAKABLE}+)(?=[%‰])")
_EN_UNITS = "km²|m²|km|cm|mm|m|kg|g|t|ha|millions?|billions?|euros?|dollars?|[€$£¥]|°C"
_EN_UNIT = re.compile(rf"(?<=\d)({_BREAKABLE}+)(?=(?:{_EN_UNITS})(?!\w))")
_EN_DAY_MONTH = re.compile(rf"(?<![\w.,])(\d{{1,2}})({_BREAKABLE}+)(?={_MONTH_RE['en']})")
_EN_BEFORE_NUMBER = re.compile(rf"(?<![\w.])(p\.|pp\.|No\.|art\.|pages?|articles?)({_BREAKABLE}+)(?=\d)")
_EN_BEFORE_NAME = re.compile(rf"(?<![\w.])((?:Mr|Mrs|Ms|Mx|Dr|Prof)\.?)({_BREAKABLE}+)(?=\w)")


def _smarten_en(text: str) -> str:
    # The reference sets "12%" in English: the space typed before % goes.
    text = _sub(_EN_PERCENT, "", text)
    text = _sub(_EN_UNIT, NBSP, text)
    text = _sub(_EN_DAY_MONTH, lambda m: m.group(1) + NBSP, text)
    text = _sub(_EN_BEFORE_NUMBER, lambda m: m.group(1) + NBSP, text)
    return _sub(_EN_BEFORE_NAME, _before_name, text)


# --------------------------------------------------------------------------------------
# Public API.


def _check_language(language: str) -> None:
    # An unknown language raises rather than passing text through: a typo such as "FR"
    # would otherwise print an edition without its typography, and nothing would say so.
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}")


def smarten(text: str, language: str) -> str:
    """Typeset a run of plain text (no markup) by the rules of ``language``.

    French: U+202F before ``; ! ?`` and inside ``« »`` (``"…"`` becomes ``« … »``), U+00A0
    before ``:``, ``%``, currencies and units, digit groups of three with U+202F from five
    digits (four digits stay whole, typed with a space or not: the Imprimerie nationale's
    rule), ``1er`` for the first of a month, no break after ``M.``, ``Mme``, ``n°``, ``p.``.
    English: curly quotes and apostrophes, no space before ``%``, no break between a number
    and its unit or after ``Mr``, ``Ms``, ``Dr``.
    Both: ``...`` becomes ``…``, a spaced hyphen between clauses an en dash, an en dash in
    number ranges (``14–18 May``, ``27–28 mars``), and the day of a date is held to its month.

    URLs, e-mail addresses, handles, times, document symbols, ISO dates and phone numbers
    are left as typed, and so is any U+00A0 or U+202F already there. Idempotent.

    Meant for each text token of the parsed inline Markdown: the start and the end of
    ``text`` are taken to touch a word in the next token (``« `` before ``*mot*`` gets its
    U+202F). Raw inline Markdown works too: ``](target)`` is left alone and ``*``/``_`` are
    seen through when deciding whether a quote opens.

    Raises ``ValueError`` if ``language`` is not one of ``LANGUAGES``.
    """
    _check_language(language)
    text = _sub(_ELLIPSIS, ELLIPSIS, text)
    text = _quotes(text, language)
    text = _sub(_CLAUSE_DASH, _clause_dash, text)
    text = _sub(_RANGE, _range, text)
    return _smarten_fr(text) if language == "fr" else _smarten_en(text)


# --------------------------------------------------------------------------------------
# Where the layout sets letters apart: what the typography decides, ``markup.py`` writes as
# HTML (a ``<sup>``, a span that never breaks), so the typed text stays plain.

# French ordinals (Lexique de l'Imprimerie nationale, "Abréviations"): 1er, 1re, 2e, 2nd,
# 2nde, 13e, XXIe; the letters are superscript. A roman numeral of one letter is only I, V
# or X (Ve République): "Le", "De", "Me" are words. English sets 21st on the line (Chicago).
_FR_ORDINAL = re.compile(
    r"(?<![\w./\u2010-])(?:\d+|[IVX]|[IVXLCDM]{2,})(?P<suffix>ers?|res?|es?|nde?s?|de?s?)(?![\w\u2010-])"
)
_ROMAN_SUFFIXES = frozenset({"e", "es", "er", "re"})
#: A word with a hyphen of its own (Sud-Est, Franco-Romanian, co-sponsored): in display
#: text it is kept whole, since the fonts have no non-breaking hyphen (U+2011).
_COMPOUND = re.compile(r"(?<![\w-])[^\W_]+(?:[-\u2010][^\W_]+)+(?![\w-])")


def ordinals(text: str, language: str) -> list[tuple[int, int]]:
    """The spans of the letters of each ordinal in ``text`` (``13e`` -> the ``e``), to be
    set as superscript: French ``1er``, ``1re``, ``2e``, ``2nd``, ``2nde``, ``XXIe``;
    none in English. Protected spans (URLs, symbols) are left out."""
    _check_language(language)
    if language != "fr":
        return []
    spans = _protected_spans(text)
    found = []
    for match in _FR_ORDINAL.finditer(text):
        number, suffix = text[match.start() : match.start("suffix")], match.group("suffix")
        first = number in ("1", "I")
        if suffix.rstrip("s") in ("er", "re"):
            fits = first  # 1er, 1re, Ier; never "3er"
        elif suffix.rstrip("s") == "e":
            fits = not first or number == "I"  # 13e, XXIe, Ie; "1e" is not French
        else:
            fits = number.isdigit() and not first  # 2nd, 2nde, 2d, 2de
        if fits and not _inside(match.start(), match.end(), spans):
            found.append(match.span("suffix"))
    return found


def compounds(text: str) -> list[tuple[int, int]]:
    """The spans of the words of ``text`` with a hyphen of their own (``Sud-Est``), which
    a title keeps whole. URLs and symbols are left out."""
    spans = _protected_spans(text)
    return [m.span() for m in _COMPOUND.finditer(text) if not _inside(m.start(), m.end(), spans)]


def _day(day: dt.date, language: str) -> str:
    return "1er" if language == "fr" and day.day == 1 else str(day.day)


def _day_month(day: dt.date, language: str) -> str:
    # Day and month never part at a line end; the year may go to the next line.
    return f"{_day(day, language)}{NBSP}{_MONTHS[language][day.month - 1]}"


def format_date(day: dt.date, language: str) -> str:
    """``day`` in the house style, day month year: ``1er mars 2018``, ``1 March 2018``.

    Day and month are joined by U+00A0. Raises ``ValueError`` for an unknown language.
    """
    _check_language(language)
    return f"{_day_month(day, language)} {day.year}"


def format_range(start: dt.date, end: dt.date | None, language: str, style: Literal["short", "long"]) -> str:
    """The dates from ``start`` to ``end`` (one day if ``end`` is None or equal).

    ``short``, for a narrow agenda column, without years: ``14–18 mai``,
    ``31 mai – 1er juin``, ``16 avril``; ``14–18 May``, ``31 May – 1 June``.
    ``long``, for running text: ``du 14 au 18 mai 2018``, ``du 31 mai au 1er juin 2018``;
    ``14–18 May 2018``, ``31 May – 1 June 2018``; one day is ``format_date``. The French
    form starts in lower case: the caller capitalises it at the start of a sentence.

    Between two dates the dash has U+00A0 before it and a normal space after it, so that
    no line starts with the dash; day and month are joined by U+00A0.
    Raises ``ValueError`` for an unknown language or style, or ``end`` before ``start``.
    """
    _check_language(language)
    if style not in ("short", "long"):
        raise ValueError(f"unknown style {style!r}: expected 'short' or 'long'")
    if end is None or end == start:
        return _day_month(start, language) if style == "short" else format_date(start, language)
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    same_month = (start.year, start.month) == (end.year, end.month)
    if style == "short":
        if same_month:
            return f"{_day(start, language)}{EN_DASH}{_day_month(end, language)}"
        return f"{_day_month(start, language)}{NBSP}{EN_DASH} {_day_month(end, language)}"
    if same_month:
        first = _day(start, language)
    elif start.year == end.year:
        first = _day_month(start, language)
    else:
        first = format_date(start, language)
    if language == "fr":
        return f"du {first} au {format_date(end, language)}"
    joint = EN_DASH if same_month else f"{NBSP}{EN_DASH} "
    return f"{first}{joint}{format_date(end, language)}"


def format_span(start: dt.date, end: dt.date | None, language: str, issue_year: int | None = None) -> str:
    """The day or days from ``start`` to ``end``, as the layout prints a date: the days as a
    range with an en dash in both languages (``14–15 May``, ``14–15 mai``, ``31 May – 1 June``),
    with the year when it is not ``issue_year`` (every time when ``issue_year`` is None).

    An agenda entry of the next year prints ``15 July 2026`` in an issue of 2025 (without its
    year it reads as past); a quotation is dated with its year always. A range across two
    years gives both: ``30 December 2025 – 2 January 2026``. Day and month are joined by
    U+00A0, and U+00A0 before a spaced dash keeps it from starting a line.
    Raises ``ValueError`` for an unknown language or ``end`` before ``start``.
    """
    _check_language(language)
    end = end or start
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    if start.year != end.year:
        return f"{format_date(start, language)}{NBSP}{EN_DASH} {format_date(end, language)}"
    if start == end:
        days = _day_month(start, language)
    elif start.month == end.month:
        days = f"{_day(start, language)}{EN_DASH}{_day_month(end, language)}"
    else:
        days = f"{_day_month(start, language)}{NBSP}{EN_DASH} {_day_month(end, language)}"
    return days if end.year == issue_year else f"{days} {end.year}"


#: Fields whose values are names of things, not words to typeset: ids, addresses, files, the
#: records of what each text was translated from (``translated_from:``),
#: and the choices of the format (``type: key_figures``, ``style: tiles``). (``place`` is
#: both a figure's side and an agenda entry's town: typeset, it changes neither.)
_NOT_TEXT = frozenset(
    {"id", "target", "image", "url", "email", "type", "style", "width", "when", "language", "translated_from"}
)


def typeset_issue(issue: Issue, kept: dict[tuple[str, str], str] | None = None) -> Issue:
    """The typography stage: the issue with every text that reaches the page or the mail
    typeset by the rules of its language (``smarten``), its ids, addresses and files left
    as written. The content checks run before, on the text as the editor typed it.
    ``kept`` holds texts already typeset (a warm process typesets only the texts edited);
    on return it holds this issue's texts only.
    """
    language = issue.language
    _check_language(language)
    before = dict(kept) if kept is not None else {}
    done: dict[tuple[str, str], str] = {}

    def typeset(text: str) -> str:
        key = (text, language)
        if key not in done:
            done[key] = before[key] if key in before else smarten(text, language)
        return done[key]

    def visit(value: Any, key: str | None) -> Any:
        if isinstance(value, str):
            return value if key in _NOT_TEXT else typeset(value)
        if isinstance(value, dict):
            return {k: v if k in _NOT_TEXT else visit(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(v, key) for v in value]
        return value

    result = type(issue).model_validate(visit(issue.model_dump(), None))
    if kept is not None:
        kept.clear()
        kept.update(done)
    return result


def typeset_labels(labels: dict[str, Any], language: str) -> dict[str, Any]:
    """The layout's own words (``labels.yaml``) typeset like the issue's text."""
    return {
        key: smarten(value, language) if isinstance(value, str) else value for key, value in labels.items()
    }
