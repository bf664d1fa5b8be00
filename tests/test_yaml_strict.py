"""The YAML reader refuses what PyYAML's safe_load lets through, fast, with file:line:col."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from newsletter.errors import IssueError
from newsletter.issue.load import load_issue
from newsletter.issue.yamlsafe import MAX_BYTES, read_yaml

CASES = {
    "duplicate_key": (
        b"title: one\nnumber: 1\ntitle: two\n",
        3,
        1,
        "duplicate key 'title' (first written at line 1)",
    ),
    "alias_bomb": (
        (
            b'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
            b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        ),
        1,
        4,
        "anchors (&name) are not allowed",
    ),
    "alias_only": (b"a: 1\nb: *x\n", 2, 4, "aliases (*name) are not allowed"),
    "python_tag": (b"title: !!python/object/apply:os.system ['true']\n", 1, 8, "tags such as"),
    "tab_indent": (b"cover:\n\tlead: x\n", 2, 1, "a tab character"),
    "unclosed_quote": (b'title: "never closed\nnumber: 1\n', 1, 8, "the quote opened here is never closed"),
    "latin1": ("title: caf\u00e9\n".encode("latin-1"), 1, 11, "not UTF-8"),
    "datetime": (b"date: 2018-09-01 10:00:00\n", 1, 7, "without a time"),
}


def _case_file(name: str, folder: Path) -> Path:
    path = folder / f"{name}.yaml"
    path.write_bytes(CASES[name][0])
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_with_location(name: str, tmp_path: Path) -> None:
    _, line, col, message = CASES[name]
    path = _case_file(name, tmp_path)
    started = time.perf_counter()
    # What cannot be read stops the reader; what can be read past is reported with the rest
    # of the file's errors (issue 26): both with the place.
    try:
        located = read_yaml(path)
    except IssueError as failed:
        text = str(failed)
    else:
        assert located.problems, name
        text = "\n".join(map(str, located.problems))
        if name.startswith("alias"):  # an alias is read as nothing, never expanded
            assert None in located.data.values() or located.data["d"] == [None] * 9
    assert time.perf_counter() - started < 2
    assert f"{path}:{line}:{col}:" in text, text
    assert message in text, text
    # The issue's loader fails on it, whichever way it was found.
    with pytest.raises(IssueError):
        load_issue(path)


def test_huge_file_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.write(b"title: x\n")
        handle.write(b"# padding\n" * 5_000_000)  # 50 MB
    started = time.perf_counter()
    with pytest.raises(IssueError, match=f"larger than the limit of {MAX_BYTES} bytes"):
        load_issue(path)
    assert time.perf_counter() - started < 2


def test_positions_of_values_and_keys(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a:\n  - x\n  - b: 2\n", encoding="utf-8")
    located = read_yaml(path)
    assert located.data == {"a": ["x", {"b": 2}]}
    assert located.values[("a", 1, "b")] == (3, 8)
    assert located.keys[("a", 1, "b")] == (3, 5)
    assert located.where(("a", 1, "b", "missing")) == (3, 8)


def test_empty_and_non_mapping(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(IssueError, match="empty"):
        read_yaml(empty)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n", encoding="utf-8")
    with pytest.raises(IssueError, match="must be a list of fields"):
        load_issue(listing)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_exits_1_with_location(name: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsletter import cli

    _, line, col, _ = CASES[name]
    path = _case_file(name, tmp_path)
    started = time.perf_counter()
    result = CliRunner().invoke(cli.app, ["build", str(path), "--out", str(tmp_path / "out")])
    assert time.perf_counter() - started < 2
    assert result.exit_code == cli.EXIT_CONTENT
    assert f"{path}:{line}:{col}:" in result.output
    assert not (tmp_path / "out").exists()


def test_numbers_dates_and_yes_no_where_a_text_is_expected_are_taken_as_written(minimal: Path) -> None:
    """YAML reads `12`, `1.50`, `2018-05-14` and `No` as a number, a date and a boolean; where
    the issue expects a text, the editor meant the text as typed (not 1.5, not False)."""
    from conftest import edit

    edit(minimal, "title: First section", "title: No")
    edit(
        minimal,
        "      - type: figure\n",
        "      - type: key_figures\n        figures:\n          - value: 12\n            label: 2018-05-14\n"
        "          - value: 1.50\n            label: 0x1F\n      - type: figure\n",
    )
    issue = load_issue(minimal).issue
    block = next(b for b in issue.sections[0].blocks if getattr(b, "type", "") == "key_figures")
    assert [(f.value, f.label) for f in block.figures] == [("12", "2018-05-14"), ("1.50", "0x1F")]  # type: ignore[union-attr]
    assert issue.sections[0].title == "No"


def test_an_empty_value_where_a_text_is_expected_is_still_an_error(minimal: Path) -> None:
    from conftest import edit

    edit(minimal, "lead: A lead paragraph.", "lead:")
    with pytest.raises(IssueError) as info:
        load_issue(minimal)
    assert [f.field for f in info.value.findings] == ["cover.lead"]


def test_a_tagged_number_is_not_taken_as_text(minimal: Path) -> None:
    """`! 12` is a tag and a number: the tag is not text, so the value stays an error."""
    from conftest import edit

    edit(minimal, "lead: A lead paragraph.", "lead: ! 12")
    with pytest.raises(IssueError) as info:
        load_issue(minimal)
    assert [f.field for f in info.value.findings] == ["cover.lead"]
