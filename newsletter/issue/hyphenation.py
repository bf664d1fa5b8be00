"""Hyphenation: which patterns each language uses, where they are wrong, and what the layout
keeps whole.

WeasyPrint breaks words with Pyphen's patterns, chosen by the language the stylesheet gives
(``-weasy-lang``, set from ``PATTERNS`` by ``issue.css.j2``). Pyphen's ``en`` is ``en_GB``,
whose patterns give wrong breaks in common words ("ar-res-ted", "activ-it-ies",
"pro-sec-u-tion", "res-ol-u-tion", "as-sist-ance"); ``en_US`` (the TeX patterns of Liang
and Knuth) gives Merriam-Webster's breaks in all of them, and where it does not know a
British spelling it breaks less, never wrongly ("labour" stays whole), so the English
edition uses ``en_US`` though it is spelt the British way. French uses ``fr``.

Where the patterns are still wrong, ``EXCEPTIONS`` lists the word with its right breaks:
the layout gives it soft hyphens (U+00AD) at those places, which WeasyPrint then uses
instead of the patterns. Words in capitals (acronyms: UNODC, EUROPOL) are never broken.

Everything here is pure (``str`` in, spans or ``str`` out); ``markup.py`` writes the HTML.
"""

from __future__ import annotations

import re

import pyphen

#: The Pyphen patterns of each issue language (``-weasy-lang`` in ``issue.css.j2``).
PATTERNS = {"en": "en_US", "fr": "fr"}

#: The fewest letters a word must have to be broken, and the fewest kept before and
#: after the break (``hyphenate-limit-chars`` in ``newsletter.css``): the Chicago Manual's
#: and the Imprimerie nationale's "two before, three after".
LIMIT_CHARS = (6, 2, 3)

#: Words the patterns break wrongly, with the breaks a dictionary gives (English:
#: Merriam-Webster; French: the syllables of the Petit Robert, as the Imprimerie
#: nationale's Lexique divides words). Lower case: a capital at the start is kept.
EXCEPTIONS: dict[str, dict[str, str]] = {
    "en": {
        # en_US breaks the British -ise spellings as "or-gan-": MW has or·ga·nize.
        "organised": "or-ga-nised",
        "organisation": "or-ga-ni-sa-tion",
        "organisations": "or-ga-ni-sa-tions",
        # Names the patterns do not know.
        "charpentier": "char-pen-tier",
        "macedonia": "mac-e-do-nia",
        "herzegovina": "her-ze-go-vi-na",
    },
    "fr": {
        # English words quoted in French text are broken as English, not French.
        "trafficking": "traf-fick-ing",
    },
}

_WORD = re.compile(r"[^\W\d_]+")
#: A word in capitals (UNODC, EUROPOL, GRETA): an acronym, never broken.
_ACRONYM = re.compile(r"(?<![\w\u00ad-])[A-Z][A-Z\d]+(?![\w\u00ad])")


def breaks(word: str, language: str) -> str:
    """``word`` with a ``-`` at each place the layout may break it: the exception's
    breaks if it is listed, else the patterns' (within ``LIMIT_CHARS``); an acronym is
    never broken. For documentation and tests: what a proof would show."""
    if _ACRONYM.fullmatch(word):
        return word
    listed = EXCEPTIONS[language].get(word.lower())
    if listed is not None:
        return word[0] + listed[1:] if word[:1].isupper() else listed
    total, left, right = LIMIT_CHARS
    if len(word) < total:
        return word
    return str(pyphen.Pyphen(lang=PATTERNS[language], left=left, right=right).inserted(word))


def soft_hyphens(text: str, language: str) -> str:
    """``text`` with U+00AD at the breaks of every word of ``EXCEPTIONS`` in it."""
    table = EXCEPTIONS[language]

    def mend(match: re.Match[str]) -> str:
        word = match.group(0)
        listed = table.get(word.lower())
        if listed is None:
            return word
        out, i = [], 0
        for part in listed.split("-"):
            out.append(word[i : i + len(part)])
            i += len(part)
        return "\u00ad".join(out)

    return _WORD.sub(mend, text)


def acronyms(text: str) -> list[tuple[int, int]]:
    """The spans of the words in capitals of ``text``, which are never broken."""
    return [match.span() for match in _ACRONYM.finditer(text)]
