"""Table tests for newsletter.issue.typography: what the editor types, what the page shows.

Special spaces are written as escapes so that a reader sees them: ``\\u00a0`` is the no-break
space, ``\\u202f`` the narrow no-break space. Most rows are sentences of issue 10.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
import yaml

from newsletter.issue.typography import LANGUAGES, compounds, format_date, format_range, ordinals, smarten

ISSUES = Path(__file__).resolve().parent.parent / "issues"

# (language, typed, expected)
CASES: list[tuple[str, str, str]] = [
    # --- French: punctuation spaces ----------------------------------------------------
    ("fr", "mot : suite", "mot\u00a0: suite"),
    ("fr", "mot: suite", "mot\u00a0: suite"),
    ("fr", "mot ; mot ! mot ?", "mot\u202f; mot\u202f! mot\u202f?"),
    ("fr", "quoi?!", "quoi\u202f?!"),
    ("fr", "mot\u2009;", "mot\u202f;"),  # a thin space breaks: replaced
    ("fr", "5.2 :", "5.2\u00a0:"),  # the text inside **5.2 :**
    (
        "fr",
        "subsistent à l'échelle mondiale ; c'est tout l'enjeu",
        "subsistent à l’échelle mondiale\u202f; c’est tout l’enjeu",
    ),
    (
        "fr",
        "les enjeux et les défis du multilatéralisme : nous n'avons donc pas d'autre choix",
        "les enjeux et les défis du multilatéralisme\u00a0: nous n’avons donc pas d’autre choix",
    ),
    # --- French: quotes and apostrophes ---------------------------------------------------
    ("fr", '"mot"', "«\u202fmot\u202f»"),
    ("fr", "« mot »", "«\u202fmot\u202f»"),
    ("fr", "«mot»", "«\u202fmot\u202f»"),
    ("fr", "l'ONUDC", "l’ONUDC"),
    (
        "fr",
        "la citation de Kofi Annan : « Il n'y a pas de paix sans développement ».",
        "la citation de Kofi Annan\u00a0: «\u202fIl n’y a pas de paix sans développement\u202f».",
    ),
    (
        "fr",
        "« Le multilatéralisme peut-il encore préserver la paix ? », pendant la Semaine",
        "«\u202fLe multilatéralisme peut-il encore préserver la paix\u202f?\u202f», pendant la Semaine",
    ),
    (
        "fr",
        "la notion d'« avantage financier ou autre avantage matériel » dans le",
        "la notion d’«\u202favantage financier ou autre avantage matériel\u202f» dans le",
    ),
    (
        "fr",
        'le document sur "la coopération internationale dans les affaires de traite"',
        "le document sur «\u202fla coopération internationale dans les affaires de traite\u202f»",
    ),
    # --- French: numbers, units, dates -------------------------------------------------
    ("fr", "1 830 000 €", "1\u202f830\u202f000\u00a0€"),
    ("fr", "1830000 €", "1\u202f830\u202f000\u00a0€"),
    ("fr", "333 959 $", "333\u202f959\u00a0$"),
    ("fr", "à hauteur de 150 000 euros, un cycle", "à hauteur de 150\u202f000\u00a0euros, un cycle"),
    ("fr", "entre 2015 et 2017, en 1830", "entre 2015 et 2017, en 1830"),
    ("fr", "plus de 4 600 praticiens", "plus de 4600 praticiens"),  # 4 digits stay whole
    ("fr", "12,5 %", "12,5\u00a0%"),
    ("fr", "12,5%", "12,5\u00a0%"),
    ("fr", "5 km à pied", "5\u00a0km à pied"),
    ("fr", "2 millions d'euros", "2\u00a0millions d’euros"),
    ("fr", "à 10 h 30", "à 10\u00a0h\u00a030"),
    ("fr", "1 mars 2018", "1er\u00a0mars 2018"),
    ("fr", "le 1 mai et le 11 mai", "le 1er\u00a0mai et le 11\u00a0mai"),
    ("fr", "du 31 mai au 1 juin", "du 31\u00a0mai au 1er\u00a0juin"),
    ("fr", "Du 14 au 18 mai 2018, ONUDC, Vienne", "Du 14 au 18\u00a0mai 2018, ONUDC, Vienne"),
    ("fr", "n° 12345", "n°\u00a012345"),  # a number in a series is not grouped
    # --- French: abbreviations, ellipsis, dashes ---------------------------------------
    ("fr", "n° 9, p. 6, M. Brunet", "n°\u00a09, p.\u00a06, M.\u00a0Brunet"),
    ("fr", "Mme Caroline Charpentier", "Mme\u00a0Caroline Charpentier"),
    ("fr", "conformément à l'article 2, alinéa b)", "conformément à l’article\u00a02, alinéa b)"),
    ("fr", "Trois questions à...", "Trois questions à…"),
    ("fr", "la traite - et le trafic - sont", "la traite\u00a0– et le trafic\u00a0– sont"),
    # --- French: ranges with an en dash, as the agenda sets them (issue 26) ------------
    ("fr", "c'est-à-dire le Nord-Est, en 2018-2019", "c’est-à-dire le Nord-Est, en 2018–2019"),
    ("fr", "réunis les 27-28 mars", "réunis les 27–28\u00a0mars"),
    ("fr", "du 1-3 mars", "du 1er–3\u00a0mars"),
    ("fr", "voir pages 3-5", "voir pages\u00a03–5"),
    ("fr", "la période 2019-2021", "la période 2019–2021"),
    # ...and not what is not a range: ids, symbols, phone numbers, ISO dates, postcodes.
    ("fr", "la directive (UE) 2024/1712", "la directive (UE) 2024/1712"),
    ("fr", "la résolution A/RES/55/25", "la résolution A/RES/55/25"),
    ("fr", "tél. +43 1 26060-0", "tél. +43 1 26060-0"),
    ("fr", "le 2025-03-01", "le 2025-03-01"),
    ("fr", "Wagramer Strasse 5, A-1400 Vienne", "Wagramer Strasse 5, A-1400 Vienne"),
    ("fr", "la COVID-19", "la COVID-19"),
    # --- French: four digits stay whole, typed with a space or not (Lexique IN) ----------
    ("fr", "1 000 victimes", "1000 victimes"),
    ("fr", "1000 victimes", "1000 victimes"),
    ("fr", "10 000 victimes", "10\u202f000 victimes"),
    ("fr", "10000 victimes", "10\u202f000 victimes"),
    ("fr", "1\u202f000 victimes", "1\u202f000 victimes"),  # held on purpose: kept
    # --- French: left alone ------------------------------------------------------------
    ("fr", "Schwarzenbergplatz 16, 1010 Vienne (Autriche)", "Schwarzenbergplatz 16, 1010 Vienne (Autriche)"),
    ("fr", "75007 Paris", "75007 Paris"),
    ("fr", "GLOT59, GLOT92 et GLO.ACT", "GLOT59, GLOT92 et GLO.ACT"),
    (
        "fr",
        "Voir https://www.youtube.com/watch?v=ZqNXBZtBoEE : la table ronde",
        "Voir https://www.youtube.com/watch?v=ZqNXBZtBoEE\u00a0: la table ronde",
    ),
    (
        "fr",
        "Écrire à caroline-marie.charpentier@diplomatie.gouv.fr !",
        "Écrire à caroline-marie.charpentier@diplomatie.gouv.fr\u202f!",
    ),
    ("fr", "Suivez @RP_France_OSCE !", "Suivez @RP_France_OSCE\u202f!"),
    ("fr", "réunion à 10:30 ; fin à 12:00", "réunion à 10:30\u202f; fin à 12:00"),
    (
        "fr",
        "E/CN.15/2018/L.2/Rev.1 : Résolution biélorusse",
        "E/CN.15/2018/L.2/Rev.1\u00a0: Résolution biélorusse",
    ),
    ("fr", "le 2018-09-01", "le 2018-09-01"),
    ("fr", "Tél. : 01 40 50 60 70", "Tél.\u00a0: 01 40 50 60 70"),
    # Already typeset, or held by the editor with their own no-break space: kept, not doubled.
    (
        "fr",
        "mot\u00a0: «\u202fmot\u202f» 1\u202f830\u202f000\u00a0€",
        "mot\u00a0: «\u202fmot\u202f» 1\u202f830\u202f000\u00a0€",
    ),
    ("fr", "«\u00a0mot\u00a0» ; 4\u202f600", "«\u00a0mot\u00a0»\u202f; 4\u202f600"),
    ("fr", "mot\u202f: suite", "mot\u202f: suite"),
    # --- French: text tokens cut by inline markup (the neighbouring word is in another token)
    ("fr", " : suite", "\u00a0: suite"),  # after [page](#id) or *mot*
    ("fr", "« ", "«\u202f"),  # before *mot*
    ("fr", " »", "\u202f»"),  # after *mot*
    ("fr", "?", "\u202f?"),
    ("fr", "(?)", "(?)"),
    # --- raw inline Markdown also works: link targets are kept, emphasis marks are seen through
    (
        "fr",
        '« *mot* » : [page](#id) ; l\'[ONUDC](https://unodc.org) et **"lu"**',
        "«\u202f*mot*\u202f»\u00a0: [page](#id)\u202f; l’[ONUDC](https://unodc.org) et **«\u202flu\u202f»**",
    ),
    ("en", "*UNODC*'s view, **'quoted'** and *x*\" said", "*UNODC*’s view, **‘quoted’** and *x*” said"),
    # --- English: quotes and apostrophes -------------------------------------------------
    ("en", '"word"', "“word”"),
    ("en", "'word'", "‘word’"),
    ("en", "UNODC's", "UNODC’s"),
    ("en", "the States' duties", "the States’ duties"),
    ("en", "the '90s", "the ’90s"),
    ("en", "rock 'n' roll", "rock ’n’ roll"),
    ("en", "'s work", "’s work"),  # the token after *UNODC*'s
    ("en", '("yes")', "(“yes”)"),
    (
        "en",
        "I'd like to go back to the quote from Kofi Annan: 'There's no peace without development'.",
        "I’d like to go back to the quote from Kofi Annan: ‘There’s no peace without development’.",
    ),
    (
        "en",
        'about "the aims and principles of the Charter", in New York',
        "about “the aims and principles of the Charter”, in New York",
    ),
    (
        "en",
        'the question "Can multilateralism still preserve peace?" during',
        "the question “Can multilateralism still preserve peace?” during",
    ),
    # --- English: ranges, numbers, units, titles ----------------------------------------
    ("en", "14-18 May", "14–18\u00a0May"),
    ("en", "pages 6-7", "pages\u00a06–7"),
    ("en", "From 14-18 May 2018, Vienna hosted", "From 14–18\u00a0May 2018, Vienna hosted"),
    ("en", "over the 2018-2019 period", "over the 2018–2019 period"),
    ("en", "met on 27-28 March", "met on 27–28\u00a0March"),
    ("en", "see pages 3-5", "see pages\u00a03–5"),
    ("en", "Directive (EU) 2024/1712", "Directive (EU) 2024/1712"),
    ("en", "resolution A/RES/55/25", "resolution A/RES/55/25"),
    ("en", "tel. +43 1 26060-0", "tel. +43 1 26060-0"),
    ("en", "A-1400 Vienna", "A-1400 Vienna"),
    ("en", "1 000 victims and 1,000 more", "1 000 victims and 1,000 more"),
    ("en", "on 13 July 2018", "on 13\u00a0July 2018"),
    ("en", "5 km", "5\u00a0km"),
    ("en", "12 %", "12%"),
    (
        "en",
        "France's general voluntary contributions to the UNODC in 2018: 1,830,000 euros",
        "France’s general voluntary contributions to the UNODC in 2018: 1,830,000\u00a0euros",
    ),
    ("en", "€1,830,000 and $333,959", "€1,830,000 and $333,959"),
    ("en", "Mr Fedotov", "Mr\u00a0Fedotov"),
    ("en", "Ms. Caroline Charpentier", "Ms.\u00a0Caroline Charpentier"),
    ("en", "wait...", "wait…"),
    (
        "en",
        "routes - when applicable - of TIP and SOM",
        "routes\u00a0– when applicable\u00a0– of TIP and SOM",
    ),
    # --- English: left alone -------------------------------------------------------------
    ("en", "E/CN.15/2018/L.2/Rev.1", "E/CN.15/2018/L.2/Rev.1"),
    ("en", "see http://undocs.org/E/CN.15/2018/L.3/REV.1.", "see http://undocs.org/E/CN.15/2018/L.3/REV.1."),
    ("en", "on 2018-09-01", "on 2018-09-01"),
    ("en", "COVID-19 and the G-20", "COVID-19 and the G-20"),
    ("en", "call 555-1234 or +33 1 40 50 60 70", "call 555-1234 or +33 1 40 50 60 70"),
    ("en", "at 10:30 on 1 March", "at 10:30 on 1\u00a0March"),
    ("en", "the May 2018 session", "the May 2018 session"),
    ("en", "North-South, re-victimization", "North-South, re-victimization"),
    ("en", "Mr\u00a0Fedotov’s “view”", "Mr\u00a0Fedotov’s “view”"),
]


@pytest.mark.parametrize(("language", "typed", "expected"), CASES)
def test_smarten(language: str, typed: str, expected: str) -> None:
    assert smarten(typed, language) == expected


@pytest.mark.parametrize(("language", "typed", "expected"), CASES)
def test_smarten_is_idempotent(language: str, typed: str, expected: str) -> None:
    once = smarten(typed, language)
    assert smarten(once, language) == once
    assert smarten(expected, language) == expected


# (language, text, the letters raised): French ordinals (Lexique IN); none in English.
ORDINALS: list[tuple[str, str, list[str]]] = [
    ("fr", "le 1er mars", ["1[er]"]),
    ("fr", "la 1re réunion", ["1[re]"]),
    ("fr", "la 13e session", ["13[e]"]),
    ("fr", "au XXIe siècle", ["XXI[e]"]),
    ("fr", "la Ve République, François Ier", ["V[e]", "I[er]"]),
    ("fr", "la 2nde session, le 2d rapport, la 2de", ["2[nde]", "2[d]", "2[de]"]),
    ("fr", "les 2e et 3e rapports", ["2[e]", "3[e]"]),
    ("fr", "Le De Me Ce", []),  # words, not roman numerals
    ("fr", "1e 3er", []),  # not French ordinals
    ("fr", "E/CN.15/2018/L.2e https://x.org/13e", []),  # symbols and addresses
    ("fr", "la COVID-19e", []),
    ("en", "the 13th session, 1st March, the 21st century", []),
]


@pytest.mark.parametrize(("language", "text", "raised"), ORDINALS)
def test_ordinals(language: str, text: str, raised: list[str]) -> None:
    spans = ordinals(text, language)
    shown = []
    for start, end in spans:
        number = re.search(r"[\dIVXLCDM]+$", text[:start])
        assert number is not None
        shown.append(f"{number.group(0)}[{text[start:end]}]")
    assert shown == raised


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        ("Zoom sur le Sud-Est", ["Sud-Est"]),
        ("the Franco-Romanian resolution, co-sponsored", ["Franco-Romanian", "co-sponsored"]),
        ("Bosnie-Herzégovine et l’Europe du Sud-Est", ["Bosnie-Herzégovine", "Sud-Est"]),
        ("see https://www.osce.org/cthb-report and A-1400", ["A-1400"]),
        ("no hyphen here", []),
    ],
)
def test_compounds_kept_whole_in_display_text(text: str, whole: list[str]) -> None:
    assert [text[a:b] for a, b in compounds(text)] == whole


def test_table_covers_both_languages() -> None:
    assert len(CASES) >= 40
    assert {language for language, _, _ in CASES} == set(LANGUAGES)


# A breakable space (U+0020, U+2009) where French wants a no-break one.
_BREAKABLE_IN_FRENCH = re.compile(r"[ \u2009](?:[;!?»%€$]|:(?!\d))|«[ \u2009]")


@pytest.mark.parametrize("typed", [typed for language, typed, _ in CASES if language == "fr"])
def test_french_output_has_no_breakable_space_where_a_no_break_one_is_required(typed: str) -> None:
    assert not _BREAKABLE_IN_FRENCH.search(smarten(typed, "fr"))


def test_unknown_language_raises() -> None:
    # Raising, not passing text through: a typo in the language must not go unnoticed.
    with pytest.raises(ValueError, match="unknown language"):
        smarten("mot : suite...", "de")
    with pytest.raises(ValueError, match="unknown language"):
        format_date(dt.date(2018, 3, 1), "FR")
    with pytest.raises(ValueError, match="unknown language"):
        format_range(dt.date(2018, 3, 1), None, "en-GB", "short")


# --- Dates ------------------------------------------------------------------------------

D = dt.date

DATES: list[tuple[dt.date, str, str]] = [
    (D(2018, 3, 1), "fr", "1er\u00a0mars 2018"),
    (D(2018, 5, 14), "fr", "14\u00a0mai 2018"),
    (D(2018, 8, 15), "fr", "15\u00a0août 2018"),
    (D(2018, 3, 1), "en", "1\u00a0March 2018"),
    (D(2018, 12, 31), "en", "31\u00a0December 2018"),
]


@pytest.mark.parametrize(("day", "language", "expected"), DATES)
def test_format_date(day: dt.date, language: str, expected: str) -> None:
    assert format_date(day, language) == expected


Style = Literal["short", "long"]

RANGES: list[tuple[dt.date, dt.date | None, str, Style, str]] = [
    # short: the agenda column, no years
    (D(2018, 5, 14), D(2018, 5, 18), "fr", "short", "14–18\u00a0mai"),
    (D(2018, 5, 14), D(2018, 5, 18), "en", "short", "14–18\u00a0May"),
    (D(2018, 5, 31), D(2018, 6, 1), "fr", "short", "31\u00a0mai\u00a0– 1er\u00a0juin"),
    (D(2018, 5, 31), D(2018, 6, 1), "en", "short", "31\u00a0May\u00a0– 1\u00a0June"),
    (D(2018, 10, 30), D(2018, 11, 2), "fr", "short", "30\u00a0octobre\u00a0– 2\u00a0novembre"),
    (D(2018, 4, 16), None, "fr", "short", "16\u00a0avril"),
    (D(2018, 4, 16), D(2018, 4, 16), "en", "short", "16\u00a0April"),
    (D(2018, 3, 1), D(2018, 3, 3), "fr", "short", "1er–3\u00a0mars"),
    (D(2018, 12, 30), D(2019, 1, 2), "en", "short", "30\u00a0December\u00a0– 2\u00a0January"),
    # long: running text
    (D(2018, 5, 14), D(2018, 5, 18), "fr", "long", "du 14 au 18\u00a0mai 2018"),
    (D(2018, 5, 31), D(2018, 6, 1), "fr", "long", "du 31\u00a0mai au 1er\u00a0juin 2018"),
    (D(2018, 3, 1), D(2018, 3, 3), "fr", "long", "du 1er au 3\u00a0mars 2018"),
    (D(2018, 12, 30), D(2019, 1, 2), "fr", "long", "du 30\u00a0décembre 2018 au 2\u00a0janvier 2019"),
    (D(2018, 4, 16), None, "fr", "long", "16\u00a0avril 2018"),
    (D(2018, 5, 14), D(2018, 5, 18), "en", "long", "14–18\u00a0May 2018"),
    (D(2018, 5, 31), D(2018, 6, 1), "en", "long", "31\u00a0May\u00a0– 1\u00a0June 2018"),
    (D(2018, 12, 30), D(2019, 1, 2), "en", "long", "30\u00a0December 2018\u00a0– 2\u00a0January 2019"),
    (D(2018, 7, 2), D(2018, 7, 2), "en", "long", "2\u00a0July 2018"),
]


@pytest.mark.parametrize(("start", "end", "language", "style", "expected"), RANGES)
def test_format_range(
    start: dt.date, end: dt.date | None, language: str, style: Style, expected: str
) -> None:
    out = format_range(start, end, language, style)
    assert out == expected
    # Never a break before a dash, never a breakable thin space.
    assert " –" not in out and "\u2009" not in out
    # What the functions print, smarten leaves as it is.
    assert smarten(out, language) == out


def test_format_range_refuses_reversed_dates_and_unknown_styles() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        format_range(D(2018, 5, 18), D(2018, 5, 14), "fr", "short")
    with pytest.raises(ValueError, match="unknown style"):
        format_range(D(2018, 5, 14), D(2018, 5, 18), "fr", "medium")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "typed", "day"),
    [
        ("fr", "1 mars 2018", D(2018, 3, 1)),
        ("en", "1 March 2018", D(2018, 3, 1)),
        ("fr", "13 juillet 2018", D(2018, 7, 13)),
    ],
)
def test_smarten_and_format_date_agree(language: str, typed: str, day: dt.date) -> None:
    assert smarten(typed, language) == format_date(day, language)


# --- The real issues -------------------------------------------------------------------


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _issue_strings(name: str) -> list[str]:
    with (ISSUES / name).open(encoding="utf-8") as handle:
        return list(_strings(yaml.safe_load(handle)))


@pytest.mark.parametrize(("name", "language"), [("issue-10.fr.yaml", "fr"), ("issue-10.yaml", "en")])
def test_real_issue_is_idempotent_and_keeps_urls(name: str, language: str) -> None:
    url = re.compile(r"https?://\S+?(?=[)\s]|$)")
    for text in _issue_strings(name):
        once = smarten(text, language)
        assert smarten(once, language) == once, text
        assert url.findall(once) == url.findall(text), text
        if language == "fr":
            assert not _BREAKABLE_IN_FRENCH.search(once), once


def test_real_english_quotes_round_trip() -> None:
    """Straighten the curly quotes of the English issue, smarten, and get them back."""
    straighten = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
    checked = 0
    for text in _issue_strings("issue-10.yaml"):
        if any(char in text for char in "“”‘’"):
            assert smarten(text.translate(straighten), "en") == smarten(text, "en"), text
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_month_names_are_cldr_s(language: str) -> None:
    """The month names are written in the code (Babel's locale data took 0.05 s of every
    build to load); they are CLDR's, as Babel gives them, for every language."""
    from babel.dates import get_month_names

    from newsletter.issue.typography import _MONTHS

    names = get_month_names("wide", context="format", locale=language)
    assert _MONTHS[language] == tuple(str(names[month]) for month in range(1, 13))
