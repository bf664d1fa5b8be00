"""Inline markup, tested directly: each case of tests/fixtures/markup/cases.yaml is the text
an editor writes and the HTML it must give (links nested, page words, unsafe links...)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import FIXTURES

from newsletter.issue.markup import Inline

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
