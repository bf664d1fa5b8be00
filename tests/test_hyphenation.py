"""The breaks the layout may make in common words of issues 10 and 11, against a dictionary.

Each row is a word of the issues with the breaks a dictionary gives: English from
Merriam-Webster (its end-of-line divisions, "ar·rest·ed"), French from the syllables of the
Petit Robert as the Imprimerie nationale's Lexique divides words ("dé·ve·lop·pe·ment").
Every break the layout may make (``hyphenation.breaks``: the patterns of
``hyphenation.PATTERNS`` within ``LIMIT_CHARS``, or the word's exception) must be one of the
dictionary's: a break the dictionary lacks is a wrong break. Fewer breaks are fine.
"""

from __future__ import annotations

import pyphen
import pytest

from newsletter.issue.hyphenation import EXCEPTIONS, LIMIT_CHARS, PATTERNS, acronyms, breaks, soft_hyphens

ENGLISH = [  # Merriam-Webster
    "ac-tiv-i-ties",
    "ap-proach",
    "ar-rest-ed",
    "as-sis-tance",
    "chil-dren",
    "com-mis-sion",
    "con-fer-ence",
    "con-tri-bu-tions",
    "co-op-er-a-tion",
    "co-or-di-na-tion",
    "crim-i-nal",
    "de-vel-op-ment",
    "ef-fec-tive",
    "ex-ploi-ta-tion",
    "fi-nan-cial",
    "im-por-tance",
    "in-ter-na-tion-al",
    "in-ves-ti-ga-tions",
    "ju-di-cial",
    "mi-gra-tion",
    "mul-ti-lat-er-al-ism",
    "ne-go-ti-a-tions",
    "or-ga-nised",  # MW or·ga·nize; the British spelling is in the exceptions
    "or-ga-ni-sa-tion",
    "per-ma-nent",
    "pre-sent-ed",
    "pre-ven-tion",
    "pro-tec-tion",
    "pros-e-cu-tion",
    "re-cruit-ment",
    "res-o-lu-tion",
    "se-cu-ri-ty",
    "smug-gling",
    "tech-ni-cal",
    "traf-fick-ing",
    "vic-tims",
    "vol-un-tary",
    "Ro-ma-nian",
    "Mac-e-do-nia",
    "Her-ze-go-vi-na",
]

FRENCH = [  # Petit Robert syllables, Lexique de l'Imprimerie nationale
    "as-sis-tance",
    "con-dam-na-tions",
    "con-tri-bu-tions",
    "co-opé-ra-tion",
    "co-or-di-na-tion",
    "cri-mi-na-li-té",
    "dé-ve-lop-pe-ment",
    "ex-ploi-ta-tion",
    "fran-çaise",
    "il-li-cite",
    "in-ter-na-tio-nale",
    "ju-di-ciaire",
    "mul-ti-la-té-ra-lisme",
    "né-ces-si-té",
    "né-go-cia-tions",
    "no-tam-ment",
    "or-ga-ni-sée",
    "per-son-nes",
    "pré-ven-tion",
    "pro-tec-tion",
    "re-cru-te-ment",
    "ren-for-cer",
    "ré-so-lu-tions",
    "sé-mi-naire",
    "tech-no-lo-gies",
    "tra-fi-quants",
    "vic-times",
    "vo-lon-taires",
    "uti-li-sa-tion",
]


def _places(written: str) -> set[int]:
    """The letter offsets where ``written`` ("ar-rest-ed") may break."""
    places, letters = set(), 0
    for char in written:
        if char == "-":
            places.add(letters)
        else:
            letters += 1
    return places


def test_the_table_holds_fifty_words() -> None:
    assert len(ENGLISH) + len(FRENCH) >= 50


@pytest.mark.parametrize(
    ("language", "dictionary"), [("en", w) for w in ENGLISH] + [("fr", w) for w in FRENCH]
)
def test_every_break_is_a_dictionary_break(language: str, dictionary: str) -> None:
    word = dictionary.replace("-", "")
    made = breaks(word, language)
    assert made.replace("-", "") == word
    wrong = _places(made) - _places(dictionary)
    assert not wrong, f"{made} breaks where {dictionary} does not"


def test_british_patterns_break_words_wrongly_where_the_american_ones_do_not() -> None:
    """Why English uses en_US: Pyphen's en (en_GB) gives "ar-res-ted", "activ-it-ies"."""
    _, left, right = LIMIT_CHARS
    british = pyphen.Pyphen(lang="en_GB", left=left, right=right)
    wrong = [w for w in ENGLISH if _places(british.inserted(w.replace("-", ""))) - _places(w)]
    assert {"ar-rest-ed", "ac-tiv-i-ties", "pros-e-cu-tion", "res-o-lu-tion"} <= set(wrong)
    assert PATTERNS["en"] == "en_US"


def test_exceptions_are_spelt_as_their_words() -> None:
    for language, table in EXCEPTIONS.items():
        for word, written in table.items():
            assert written.replace("-", "") == word, (language, word)


def test_soft_hyphens_go_where_the_exception_breaks() -> None:
    assert (
        soft_hyphens("Organised by Charpentier.", "en") == "Or\u00adga\u00adnised by Char\u00adpen\u00adtier."
    )
    assert soft_hyphens("organized", "en") == "organized"  # not listed: the patterns decide


def test_acronyms_are_never_broken() -> None:
    text = "UNODC, EUROPOL and GRETA, not Europol"
    assert [text[a:b] for a, b in acronyms(text)] == ["UNODC", "EUROPOL", "GRETA"]
    assert breaks("EUROPOL", "en") == "EUROPOL"
