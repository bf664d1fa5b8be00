"""What ``build`` says: counts that agree with the findings listed, and each finding of
``--variant all`` once, naming the editions it concerns when not all of them (issue 26)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from newsletter import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: An upcoming event before the issue's date: a warning of every edition.
AGENDA = """\
      - type: agenda
        when: upcoming
        entries:
          - start: 2019-06-01
            place: Vienna
            text: A meeting that took place before the issue.
"""


def _issue(tmp_path: Path) -> Path:
    folder = tmp_path / "issue"
    shutil.copytree(FIXTURES / "minimal", folder)
    path = folder / "issue.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      - Back to the first", AGENDA + "      - Back to the first"), "utf-8")
    return path


def _run(*args: object) -> str:
    result = CliRunner().invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _summaries(output: str) -> list[tuple[int, ...]]:
    found = re.findall(r"(\d+) errors?, (\d+) warnings?, (\d+) notices?", output)
    return [tuple(int(n) for n in counts) for counts in found]


def test_one_edition_counts_agree(tmp_path: Path) -> None:
    output = _run("build", _issue(tmp_path), "--out", tmp_path / "out")
    # Before: "0 errors, N warnings, 0 notices", then "1 notice: `newsletter check` lists them".
    (errors, warnings, notices), *more = _summaries(output)
    assert not more and errors == 0 and notices >= 1, output
    assert f"warning{'s' if warnings != 1 else ''} ({warnings}):" in output
    assert f"{notices} notice{'s' if notices != 1 else ''}: `newsletter check" in output
    assert output.count("[agenda-dates]") == 1


def test_all_editions_each_finding_once(tmp_path: Path) -> None:
    output = _run("build", _issue(tmp_path), "--out", tmp_path / "out", "--variant", "all")
    # Before: the warning and its summary printed once per edition, three times.
    assert output.count("[agenda-dates]") == 1, output
    assert "(print edition)" not in output.split("[agenda-dates]")[0].splitlines()[-1]
    (_, _, notices), *more = _summaries(output)
    assert not more, output
    assert f"{notices} notice{'s' if notices != 1 else ''}: `newsletter check" in output
    assert output.count("wrote ") == 3


def test_check_names_the_editions_of_a_finding(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.app, ["check", str(_issue(tmp_path)), "--variant", "all"])
    assert result.exit_code == 0, result.output
    assert result.output.count("[agenda-dates]") == 1
    # The stand-in is a notice of every edition: said once, without a list of editions.
    stand_in = next(line for line in result.output.splitlines() if "[stand-in]" in line)
    assert not stand_in.endswith("edition) [stand-in]")
    # What one edition finds alone says so.
    assert re.search(r"\((email|print|archive)( and \w+)? editions?\) \[", result.output), result.output


def test_preview_says_each_finding_once_with_counts_that_agree(tmp_path: Path) -> None:
    output = _run(
        "preview", _issue(tmp_path), "--out", tmp_path / "preview", "--variant", "all", "--dpi", "20"
    )
    assert output.count("[agenda-dates]") == 1, output
    (_, warnings, notices), *more = _summaries(output)
    assert not more and f"warning{'s' if warnings != 1 else ''} ({warnings}):" in output
    assert f"{notices} notice{'s' if notices != 1 else ''}: `newsletter check" in output
