"""Inline markup, tested directly: each case of tests/fixtures/markup/cases.yaml is the text
an editor writes and the HTML it must give (links nested, page words, unsafe links...)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import FIXTURES

from newsletter.issue.markup import Inline, set_text

CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "markup" / "cases.yaml").read_text(encoding="utf-8"))
#: Where the targets of the cases lie (the fixture's header says the same).
PAGES = {"agenda": 11, "x": 4, "a": 6, "b": 7}


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_inline_markup_renders_as_the_fixture_says(case: dict[str, Any]) -> None:
    inline = Inline("page", "pages", "and", page_of=lambda target: PAGES.get(target, 0))
    assert str(inline.render(case["text"])) == case["html"]


def test_links_are_listed_with_their_words() -> None:
    links = Inline(page_label="page").links("See [page](#a), [the site](https://x.org) and [x](file:///etc)")
    assert [(link.href, link.text, link.internal_target) for link in links] == [
        ("#a", "page", "a"),
        ("https://x.org", "the site", None),
        ("file:///etc", "x", None),
    ]


def test_only_web_mail_and_anchor_links_are_safe() -> None:
    safe = Inline.is_safe
    assert safe("https://x.org/a?b=c") and safe("http://x.org") and safe("mailto:a@b.org") and safe("#an-id")
    for href in (
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,x",
        "ftp://x.org",
        "#Upper",
        "mailto:x",
        "",
    ):
        assert not safe(href), href


def test_the_page_word_comes_from_the_edition() -> None:
    french = Inline("p.", "pages", "et", page_of=lambda target: PAGES[target])
    assert str(french.render("[page](#a)")) == '<a class="pageref" href="#a">p.\u00a06</a>'
    assert "pages\u00a0" in str(french.render("[pages](#a,#b)")) and " et\u00a0" in str(
        french.render("[pages](#a,#b)")
    )


# Text set for the page (issue 26): (language, display, text, HTML).
SET_TEXT = [
    (
        "fr",
        False,
        "le 13e rapport, le 1er mars",
        'le 13<sup class="ordinal">e</sup> rapport, le 1<sup class="ordinal">er</sup> mars',
    ),
    ("fr", False, "au XXIe siècle", 'au XXI<sup class="ordinal">e</sup> siècle'),
    ("en", False, "the 13th session", "the 13th session"),
    (
        "fr",
        True,
        "Les tendances en Europe du Sud-Est",
        'Les tendances en Europe du <span class="whole">Sud-Est</span>',
    ),
    ("en", True, "Trends in South-East Europe", 'Trends in <span class="whole">South-East</span> Europe'),
    ("en", False, "the South-East of Europe", "the South-East of Europe"),  # running text may break it
    (
        "en",
        False,
        "UNODC and GRETA",
        '<span class="acronym">UNODC</span> and <span class="acronym">GRETA</span>',
    ),
    ("en", False, "organised", "or\u00adga\u00adnised"),
    ("en", True, "organised", "organised"),  # display text has no breaks at all
    (
        "en",
        False,
        "see https://www.unodc.org/13e-x",
        'see <span class="address">https://<wbr>www.<wbr>unodc.<wbr>org/<wbr>13e-x</span>',
    ),
]


@pytest.mark.parametrize(("language", "display", "text", "html"), SET_TEXT)
def test_set_text(language: str, display: bool, text: str, html: str) -> None:
    assert set_text(text, language, display) == html


def test_the_last_words_of_running_text_are_never_hyphenated() -> None:
    inline = Inline("page", language="en")
    html = str(inline.render("Shelters offered assistance to the victims identified during investigations."))
    assert (
        html
        == 'Shelters offered assistance to the victims identified<span class="tail"> during investigations.</span>'
    )
    # A short last word is held to the one before; in display text too, without the span.
    assert (
        str(inline.render("They met in Vienna in 2018."))
        == 'They met<span class="tail"> in Vienna in\u00a02018.</span>'
    )
    assert str(inline.render("A label on the cover, 2018", display=True)).endswith("cover,\u00a02018")
    # Without a language (the mail's text), nothing is added.
    assert str(Inline("page").render("They met in Vienna in 2018.")) == "They met in Vienna in 2018."
