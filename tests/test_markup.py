"""Inline markup, tested directly: each case of tests/fixtures/markup/cases.yaml is the text
an editor writes and the HTML it must give (links nested, page words, unsafe links...)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import FIXTURES

from newsletter.markup import Inline

CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "markup" / "cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_inline_markup_renders_as_the_fixture_says(case: dict[str, Any]) -> None:
    assert str(Inline(page_label="page").render(case["text"])) == case["html"]


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
    for href in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "ftp://x.org", "#Upper", "mailto:x", ""):
        assert not safe(href), href


def test_the_page_word_comes_from_the_edition() -> None:
    assert str(Inline(page_label="p.").render("[page](#a)")) == "<a class=\"pageref\" href=\"#a\">p.\u00a0</a>"
