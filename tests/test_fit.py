"""``newsletter fit``: the fitting a typesetter would allow, written into the issue as explicit
settings that every build applies as written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, layout_copy
from typer.testing import CliRunner

from newsletter import cli
from newsletter.build import build_issue, check_issue
from newsletter.issue.model import Fit
from newsletter.workbench.fit import Setting, apply, fit_issue

COPYFIT = FIXTURES / "copyfit"
runner = CliRunner()


@pytest.fixture
def copyfit(tmp_path: Path) -> Path:
    """A writable copy of the copy-fit fixtures (and their photo)."""
    shutil.copytree(COPYFIT, tmp_path / "copyfit")
    return tmp_path / "copyfit"


def _spills(issue: Path, section: str = "reseau") -> list[str]:
    return [
        f.message
        for f in check_issue(issue)
        if f.rule == "copy-fit" and f.message.startswith(f"section `{section}` runs")
    ]


def test_fit_removes_the_spill_and_writes_it_into_the_issue(copyfit: Path) -> None:
    issue = copyfit / "spill.yaml"
    before = issue.read_text(encoding="utf-8")
    assert _spills(issue)
    result = runner.invoke(cli.app, ["fit", str(issue), "--write"])
    assert result.exit_code == 0, result.output
    assert "section `reseau` runs 6 lines onto page 3" in result.output
    assert "tracking -1 %" in result.output  # tried, within the layout's bounds, before running on
    assert "pages: 4 -> 3" in result.output
    after = issue.read_text(encoding="utf-8")
    # One line added, where an editor would write it; comments and everything else kept.
    assert after == before.replace(
        "  - id: next\n    title: The next section\n",
        "  - id: next\n    title: The next section\n    new_page: false\n",
    )
    assert not _spills(issue)


def test_a_fit_field_is_applied_by_build_as_written_and_builds_byte_identically(
    copyfit: Path, tmp_path: Path
) -> None:
    issue = copyfit / "spill-figure.yaml"
    assert _spills(issue)
    fitting = fit_issue(issue, write=True)
    assert [after.fit for _, after in fitting.chosen.values()] == [Fit(images=95)]
    assert "    fit: {images: 95}\n    blocks:\n" in issue.read_text(encoding="utf-8")
    assert not _spills(issue)
    first = build_issue(issue, tmp_path / "one", write_html=True)
    second = build_issue(issue, tmp_path / "two")
    assert first.pdf is not None and second.pdf is not None
    assert first.pdf.read_bytes() == second.pdf.read_bytes()
    assert 'id="reseau" style="--fit-images: 95%;"' in first.html
    assert first.pages == fitting.pages_after == 3


def test_without_write_fit_only_says_what_it_would_change(copyfit: Path) -> None:
    issue = copyfit / "spill.yaml"
    before = issue.read_text(encoding="utf-8")
    result = runner.invoke(cli.app, ["fit", str(issue)])
    assert result.exit_code == 0, result.output
    assert "sections[1] `next`: starts on the previous section's last page" in result.output
    assert "--write" in result.output
    assert issue.read_text(encoding="utf-8") == before


def test_fit_stays_within_the_layouts_bounds(copyfit: Path, tmp_path: Path) -> None:
    layout = layout_copy(tmp_path)
    (layout.templates / "fit.yaml").write_text(
        "tracking: 0\nimages: 0\nbalance_columns: false\nrun_on: false\n", encoding="utf-8"
    )
    issue = copyfit / "spill.yaml"
    before = issue.read_text(encoding="utf-8")
    fitting = fit_issue(issue, layout, write=True)
    assert fitting.attempts == [] and not fitting.changed
    assert "no fitting within the layout's bounds helps" in fitting.describe()
    assert issue.read_text(encoding="utf-8") == before


def test_writing_settings_keeps_comments_and_removes_what_returns_to_the_layout() -> None:
    text = (
        "# the issue\nsections:\n  - id: a  # first\n    blocks:\n      - Text.\n"
        "  - id: b\n    new_page: false\n    fit: {tracking: -1}\n    blocks:\n      - More.\n"
    )
    written = apply(text, {0: Setting(Fit(tracking=-0.5, balance=False), True), 1: Setting(None, True)})
    assert written == (
        "# the issue\nsections:\n  - id: a  # first\n    fit: {tracking: -0.5, balance: false}\n"
        "    blocks:\n      - Text.\n  - id: b\n    blocks:\n      - More.\n"
    )


#: Texts written over several lines, as `newsletter new` (PyYAML) and editors write them:
#: ruamel.yaml's round trip joined the plain and quoted ones into one line (issue 26).
WRAPPED = """\
series: S
sections:
  - id: a
    title: T
    blocks:
      - type: contact
        name: Ms. Caroline Charpentier
        role: Regional expert on “Fight against the trafficking of human beings and related
          crime”, at the embassy
        email: a@b.org
        offices:
          - name: "Quoted name that is long and
              continues"
            address: 'single quoted
              continued'   # a comment
          - name: Folded
            address: >-
              Schwarzenbergplatz 16, 1010, Vienna (Austria), a line of an address that goes on past eighty
              and a second line
      - >
        A folded paragraph
        over two lines.
  - id: b
    title: B
    fit:
      images: 95
    blocks:
      - More.
"""


@pytest.mark.parametrize(
    ("settings", "changed"),
    [
        ({0: Setting(Fit(tracking=-0.5), True)}, {4: ["    fit: {tracking: -0.5}"]}),
        ({0: Setting(None, False)}, {4: ["    new_page: false"]}),
        ({1: Setting(Fit(images=90), True)}, {24: ["    fit: {images: 90}"], 25: []}),
        ({1: Setting(None, False)}, {24: ["    new_page: false"], 25: []}),
        (
            {0: Setting(Fit(balance=False), False), 1: Setting(Fit(tracking=1), True)},
            {4: ["    fit: {balance: false}", "    new_page: false"], 24: ["    fit: {tracking: 1}"], 25: []},
        ),
    ],
)
def test_writing_settings_keeps_every_other_line_byte_for_byte(
    settings: dict[int, Setting], changed: dict[int, list[str]]
) -> None:
    written = apply(WRAPPED, settings).splitlines()
    expected: list[str] = []
    for number, line in enumerate(WRAPPED.splitlines()):
        if number in changed:
            expected += changed[number]
            if number == 4:  # inserted before `blocks:`
                expected.append(line)
        else:
            expected.append(line)
    assert written == expected


def test_a_fit_out_of_the_models_range_is_a_located_error(copyfit: Path) -> None:
    issue = copyfit / "spill.yaml"
    text = issue.read_text(encoding="utf-8")
    issue.write_text(
        text.replace("  - id: next\n", "  - id: next\n    fit: {tracking: 9}\n"), encoding="utf-8"
    )
    result = runner.invoke(cli.app, ["check", str(issue)])
    assert result.exit_code == cli.EXIT_CONTENT
    assert "sections[1].fit.tracking" in result.output


def test_fit_on_an_issue_with_errors_changes_nothing(tmp_path: Path, copyfit: Path) -> None:
    issue = tmp_path / "broken.yaml"
    issue.write_text("series: [unclosed\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["fit", str(issue), "--write"])
    assert result.exit_code == cli.EXIT_CONTENT
    assert "broken.yaml:1:" in result.output
    assert issue.read_text(encoding="utf-8") == "series: [unclosed\n"
    # An error the build finds is said of the editor's file, not of the copy fit builds.
    placeholder = copyfit / "spill.yaml"
    placeholder.write_text(
        placeholder.read_text(encoding="utf-8").replace("a new page.", "a new page. TODO"), encoding="utf-8"
    )
    result = runner.invoke(cli.app, ["fit", str(placeholder)])
    assert result.exit_code == cli.EXIT_CONTENT
    assert f"{placeholder}:50:9: sections[1].blocks[0].text: placeholder" in result.output
