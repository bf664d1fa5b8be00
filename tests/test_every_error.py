"""Every error at once (issue 26): a mistake in one block never hides the mistakes of the
others. One file holds one mistake of each kind ``docs/issue-format.md`` names, from what
the YAML reader refuses to what the content rules find, and one run of ``check`` reports
each at its line and field. (``unknown block type 'keyfigures'`` used to hide the rest.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsletter import cli
from newsletter.build import check_issue
from newsletter.errors import IssueError
from newsletter.issue.load import FormatErrors, load_issue

BAD = Path(__file__).resolve().parent / "fixtures" / "bad"

#: (line, field, rule, words of the message) of each mistake of bad_every_kind.yaml.
EVERY_KIND = [
    # What the YAML reader refuses, and reads past.
    (6, "title", "format", "duplicate key 'title'"),
    (7, "author", "format", "anchors (&name) are not allowed"),
    (8, "subject", "format", "aliases (*name) are not allowed"),
    (9, "keywords", "format", "tags such as"),
    (27, "sections[0].blocks[1].date", "format", "without a time"),
    (39, "sections[0].blocks[4].entries[0].start", "format", "'2020-02-30' is not a valid date"),
    # What the format refuses.
    (3, "number", "format", "expected a whole number (found 'many')"),
    (16, "sections[0].id", "format", "expected an id"),
    (19, "sections[0].blocks[0].type", "format", "unknown block type 'keyfigures'"),
    (29, "sections[0].blocks[2].caption", "format", "this required field is missing"),
    (32, "sections[0].blocks[2].captoin", "format", "unknown field 'captoin'; did you mean 'caption'?"),
    (34, "sections[0].blocks[3].style", "format", "expected one of 'bullets', 'tiles', found 'stars'"),
    (35, "sections[0].blocks[3].items", "format", "this list is empty"),
    (43, "sections[1].fit.tracking", "format", "expected a number at most 5"),
    # Found only once the section's fields are valid: reported in the same run all the same.
    (42, "sections[1]", "format", "a section without a title needs a running_title"),
    # What the content rules find in what validates.
    (11, "cover.lead", "placeholder", "placeholder text 'TODO'"),
    (14, "cover.teasers[0].target", "unknown-reference", "unknown id 'nowhere'"),
    (30, "sections[0].blocks[2].image", "image-file", "image file not found"),
    (45, "sections[1].blocks[0].text", "unknown-reference", "unknown id 'nowhere-else'"),
    (46, "sections[1].blocks[1].text", "link-scheme", "'ftp://example.org/report.pdf' is not allowed"),
    (51, "sections[1].blocks[3].id", "duplicate-id", "duplicate id 'twice'"),
    (52, "sections[1].blocks[3].text", "placeholder", "placeholder text 'TODO'"),
    # The blocks after them: each kind again, past every mistake above.
    (53, "sections[1].blocks[4]", "figure-alt", "has no alt text"),
    (54, "sections[1].blocks[4].image", "image-file", "cannot be read"),
    (62, "sections[1].blocks[5].link.url", "format", "expected a link: https://, http://, mailto: or #id"),
    (65, "sections[1].blocks[6].items", "format", "this list has 5 items, more than the 4 allowed"),
]


@pytest.fixture
def every_kind(tmp_path: Path) -> Path:
    shutil.copy(BAD / "bad_every_kind.yaml", tmp_path / "issue.yaml")
    return tmp_path / "issue.yaml"


def test_one_run_reports_every_mistake_at_its_line_and_field(every_kind: Path) -> None:
    result = CliRunner().invoke(cli.app, ["check", str(every_kind)])
    assert result.exit_code == cli.EXIT_CONTENT
    found = check_issue(every_kind)
    located = {(f.line, f.field, f.rule): f.message for f in found}
    for line, field, rule, words in EVERY_KIND:
        assert (line, field, rule) in located, f"not reported: {line} {field} [{rule}]\n{result.output}"
        assert words in located[(line, field, rule)]
        assert f"issue.yaml:{line}:" in result.output and f"{field}: " in result.output
    # Nothing about the stand-ins put in place of what is wrong, and each mistake once.
    assert len(found) == len(EVERY_KIND), "\n".join(map(str, found))
    assert f"{len(EVERY_KIND)} errors, 0 warnings, 0 notices" in result.output


@pytest.mark.parametrize(
    ("mistake", "hidden"),
    [
        # One mistake of form, and what it used to hide.
        ("      - type: sidebar\n        text: No such type.\n", "unknown-reference"),
        ("      - type: figure\n        image: photo.png\n        captoin: Misspelt.\n", "unknown-reference"),
        (
            (
                "      - type: quote\n        speaker: S\n        role: r\n        occasion: o\n"
                "        date: yesterday\n        text: Words.\n"
            ),
            "unknown-reference",
        ),
        (
            "      - title: x\n        title: y\n        type: heading\n        text: Twice.\n",
            "unknown-reference",
        ),
    ],
)
def test_a_mistake_of_form_hides_no_other(tmp_path: Path, mistake: str, hidden: str) -> None:
    issue = tmp_path / "issue.yaml"
    issue.write_text(
        "series: S\nnumber: 1\ndate: 2020-01-01\ntitle: T\nauthor: A\ncover:\n  lead: L.\n"
        "sections:\n  - id: first\n    title: F\n    blocks:\n" + mistake + "      - See [page](#nowhere).\n",
        encoding="utf-8",
    )
    rules = [f.rule for f in check_issue(issue)]
    assert "format" in rules and hidden in rules, rules


def test_a_date_left_to_write_says_so(tmp_path: Path) -> None:
    issue = tmp_path / "issue.yaml"
    issue.write_text(
        "series: S\nnumber: 1\ndate: 2020-01-01\ntitle: T\nauthor: A\ncover:\n  lead: L.\n"
        "sections:\n  - id: first\n    title: F\n    blocks:\n      - type: agenda\n        when: past\n"
        "        entries:\n          - start: 'TODO: date'\n            place: 'TODO: place'\n"
        "            text: Something.\n",
        encoding="utf-8",
    )
    found = {(f.field, f.rule): f.message for f in check_issue(issue)}
    assert found[("sections[0].blocks[0].entries[0].start", "placeholder")].startswith("a date to write here")
    assert ("sections[0].blocks[0].entries[0].place", "placeholder") in found


def test_an_issue_with_errors_of_form_never_loads(every_kind: Path) -> None:
    with pytest.raises(FormatErrors) as failed:
        load_issue(every_kind)
    assert isinstance(failed.value, IssueError) and failed.value.salvaged is not None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" -"))


def test_any_value_made_wrong_is_reported_never_a_crash(tmp_path: Path) -> None:
    """Fields of issue 10 given a value of the wrong kind, one at a time: the check reports it
    at its line and never fails itself (the mending runs on whatever a file holds)."""
    source = Path(__file__).resolve().parent.parent / "issues" / "issue-10.yaml"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    shutil.copytree(source.parent / "images", tmp_path / "images")
    # Fields written on one line (not a text folded over the next lines).
    fields = [
        i
        for i, line in enumerate(lines[:-1])
        if ": " in line
        and not line.lstrip().startswith("#")
        and line.split(": ", 1)[1].strip()[:1] not in (">", "|", "")
        and _indent(lines[i + 1]) <= _indent(line)
    ]
    issue = tmp_path / "issue-10.yaml"
    for i in fields[:: max(1, len(fields) // 12)]:
        key = lines[i].split(": ", 1)[0]
        for wrong in ("[1, 2]", "{a: 1}"):
            issue.write_text("".join([*lines[:i], f"{key}: {wrong}\n", *lines[i + 1 :]]), encoding="utf-8")
            found = check_issue(issue, time_limit=20)
            errors = [f for f in found if f.severity == "error"]
            if errors:  # a text where a list was: taken as written (see _as_written)
                assert any(f.line == i + 1 for f in errors), (lines[i], wrong, [str(f) for f in errors][:5])
