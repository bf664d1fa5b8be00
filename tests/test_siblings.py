"""Two editions kept in step: issue 10 and its French sibling, each kind of difference found,
located in the file checked and naming the place in the other, as a warning (links: a notice).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import ISSUE_10, ROOT, edit

from newsletter.check import ContentContext, run_checks
from newsletter.check.siblings import sibling_paths
from newsletter.editions import EDITIONS
from newsletter.errors import Finding
from newsletter.issue.fonts import font_coverage
from newsletter.issue.load import load_issue


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Writable copies of issue 10 in English and French, with their images."""
    folder = tmp_path / "issues"
    shutil.copytree(ISSUE_10.parent, folder, ignore=shutil.ignore_patterns("*.md"))
    # The tests mark and unmark translated figures themselves: from both editions naming the
    # same images, as before issue 10's French got images of its own.
    for path in (folder / "issue-10.yaml", folder / "issue-10.fr.yaml"):
        text = re.sub(r"\n *translated: true\n", "\n", path.read_text(encoding="utf-8"))
        path.write_text(re.sub(r"(images/[\w-]+)\.fr\.", r"\1.", text), encoding="utf-8")
    return folder / "issue-10.yaml", folder / "issue-10.fr.yaml"


def _sibling_findings(source: Path) -> list[Finding]:
    context = ContentContext(load_issue(source), font_coverage(ROOT / "fonts"), EDITIONS["email"])
    return [f for f in run_checks("content", context) if f.rule.startswith("sibling")]


def test_issue_10_and_its_french_edition_are_in_step(pair: tuple[Path, Path]) -> None:
    english, french = pair
    assert sibling_paths(english) == [french] and sibling_paths(french) == [english]
    assert _sibling_findings(english) == [] and _sibling_findings(french) == []


DIFFERENCES = {
    # kind: (old text in the French file, new text, expected message part, line in the English file)
    "key-figure number": (
        "value: 163 500 €",
        "value: 165 500 €",
        "'€163,500' is not the number of '165 500 €'",
    ),
    "block type": ("      - type: heading", "      - type: lead", "heading here, lead in issue-10.fr.yaml"),
    "id": ("id: key-figures", "id: chiffres-cles", "key_figures#key-figures here, key_figures#chiffres-cles"),
    "reference target": ("(#working-groups)", "(#htmss)", "the references point at"),
    "image": (
        "image: images/fedotov.jpg",
        "image: images/falconi.jpg",
        "the images ['images/fedotov.jpg'] differ",
    ),
}


@pytest.mark.parametrize("kind", sorted(DIFFERENCES))
def test_each_kind_of_difference_is_a_located_warning(kind: str, pair: tuple[Path, Path]) -> None:
    english, french = pair
    old, new, expected = DIFFERENCES[kind]
    edit(french, old, new)
    found = _sibling_findings(english)
    assert found, kind
    finding = found[0]
    assert finding.severity == "warning" and finding.rule == "sibling"
    assert expected in finding.message, finding.message
    # Located in the English file, and naming the place in the French one.
    assert finding.file == english and finding.line is not None
    assert f"{french}:" in finding.message
    # The other way round, the French file gets its own finding.
    back = _sibling_findings(french)
    assert back and back[0].file == french


def test_a_block_missing_in_the_sibling(pair: tuple[Path, Path]) -> None:
    english, french = pair
    text = french.read_text(encoding="utf-8")
    start = text.index("      - type: key_figures")
    end = text.index("\n  - id:", start)
    french.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    messages = [f.message for f in _sibling_findings(english)]
    assert any("key_figures here, nothing in issue-10.fr.yaml" in m for m in messages), messages


def test_different_links_are_a_notice(pair: tuple[Path, Path]) -> None:
    english, french = pair
    edit(
        french,
        "https://www.unodc.org/documents/human-trafficking",
        "https://www.unodc.org/fr/documents/human-trafficking",
    )
    found = _sibling_findings(english)
    assert [f.rule for f in found] == ["sibling-links"]
    assert found[0].severity == "notice"


def test_a_difference_never_blocks_the_build_but_under_strict(pair: tuple[Path, Path]) -> None:
    english, french = pair
    edit(french, "value: 163 500 €", "value: 165 500 €")
    found = _sibling_findings(english)
    assert found and all(f.severity != "error" for f in found)
    context = ContentContext(load_issue(english), font_coverage(ROOT / "fonts"), EDITIONS["email"])
    strict = [f for f in run_checks("content", context, strict=True) if f.rule == "sibling"]
    assert strict and strict[0].severity == "error"


CHART = "        image: images/key-figures-chart.png\n"


def _translated(path: Path, image: str = "images/key-figures-chart.png") -> None:
    edit(path, CHART, f"        image: {image}\n        translated: true\n")


def test_a_translated_figure_may_name_its_own_image(pair: tuple[Path, Path]) -> None:
    english, french = pair
    shutil.copy(french.parent / "images" / "key-figures-chart.png", french.parent / "images" / "chart-fr.png")
    _translated(english)
    _translated(french, "images/chart-fr.png")
    # Before: "the images [...] differ" forever, and `check --strict` could never pass.
    assert _sibling_findings(english) == [] and _sibling_findings(french) == []


def test_a_translated_figure_still_needs_its_image(pair: tuple[Path, Path]) -> None:
    english, french = pair
    _translated(english)
    _translated(french, "images/chart-missing.png")
    context = ContentContext(load_issue(french), font_coverage(ROOT / "fonts"), EDITIONS["email"])
    errors = [f for f in run_checks("content", context) if f.severity == "error"]
    assert [f.field for f in errors] == ["sections[0].blocks[2].image"], errors


def test_a_translated_mark_on_one_side_only_is_a_warning(pair: tuple[Path, Path]) -> None:
    english, french = pair
    _translated(french)
    found = _sibling_findings(english)
    assert [f.rule for f in found] == ["sibling"]
    assert "marked `translated: true` in issue-10.fr.yaml, not here" in found[0].message
    assert found[0].field.endswith(".image") and f"{french}:" in found[0].message
    back = _sibling_findings(french)
    assert "marked `translated: true` here, not in issue-10.yaml" in back[0].message
    assert back[0].field.endswith(".translated")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("date: 2018-01-30", "date: 2018-01-31", "2018-01-30 here, 2018-01-31 in issue-10.fr.yaml"),
        ("date: 2018-01-30", "date: 2018-01-30\n        end: 2018-01-31", "no end here, 2018-01-31 in"),
        ("start: 2018-09-17", "start: 2018-09-18", "2018-09-17 here, 2018-09-18 in issue-10.fr.yaml"),
    ],
)
def test_the_dates_are_the_same_in_both_languages(
    pair: tuple[Path, Path], old: str, new: str, expected: str
) -> None:
    english, french = pair
    edit(french, old, new)
    found = _sibling_findings(english)
    assert [f.rule for f in found] == ["sibling"] and expected in found[0].message, found
    assert found[0].field.endswith((".date", ".end", ".start"))
