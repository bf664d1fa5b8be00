"""``check`` right after ``build`` gives the build's findings without laying the issue out
again (``newsletter/verdicts.py``), and checks in full as soon as anything they depend on
changed: the issue, a file beside it, the layout, the options, the PDF, the record itself."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import edit
from typer.testing import CliRunner

import newsletter.build
from newsletter.build import BuildOptions, build_issue, check_issue, run
from newsletter.cli import app
from newsletter.shipped import DEFAULT_LAYOUT
from newsletter.verdicts import Inputs, record_path, recorded_check


def _inputs(source: Path, edition: str = "email", strict: bool = False) -> Inputs:
    return Inputs(source, DEFAULT_LAYOUT.templates, DEFAULT_LAYOUT.fonts, edition, strict, 120.0)


@pytest.fixture
def built(minimal: Path, tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "out"
    build_issue(minimal, out)
    return minimal, out


def _no_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("laid out again")

    monkeypatch.setattr(newsletter.build, "run", refused)


def test_a_check_after_a_build_gives_its_findings(
    built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, out = built
    in_full = check_issue(source)
    assert in_full, "the minimal issue has notices to compare"
    _no_layout(monkeypatch)
    assert check_issue(source, memo_from=out) == in_full


def test_the_command_answers_from_the_record(built: tuple[Path, Path], tmp_path: Path) -> None:
    source, out = built
    runner = CliRunner()
    recorded = runner.invoke(app, ["check", str(source), "--out", str(out), "--format", "json"])
    in_full = runner.invoke(app, ["check", str(source), "--out", str(tmp_path / "empty"), "--format", "json"])
    assert recorded.exit_code == in_full.exit_code == 0, recorded.output + in_full.output
    assert recorded.output == in_full.output
    assert '"pages": [' in recorded.output


@pytest.mark.parametrize(
    "change",
    ["issue edited", "image added", "layout edited", "pdf replaced", "record spoiled", "record a fifo"],
)
def test_a_change_checks_in_full(built: tuple[Path, Path], change: str, tmp_path: Path) -> None:
    source, out = built
    layout = tmp_path / "layout"
    shutil.copytree(DEFAULT_LAYOUT.templates, layout)
    inputs = Inputs(source, layout, DEFAULT_LAYOUT.fonts, "email", False, 120.0)
    # A build with this layout copy, so that its record is the one looked at.
    from newsletter.shipped import Layout

    build_issue(source, out, Layout(layout, DEFAULT_LAYOUT.fonts))
    assert recorded_check(inputs, out) is not None
    record = record_path(source, out, "email")
    if change == "issue edited":
        edit(source, "title:", "title: Edited,")
    elif change == "image added":
        (source.parent / "new.png").write_bytes(b"\x89PNG")
    elif change == "layout edited":
        (layout / "newsletter.css").write_text("/* edited */\n", encoding="utf-8")
    elif change == "pdf replaced":
        (out / f"{source.stem}-email.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    elif change == "record spoiled":
        record.write_text('{"format": 1, "key": "x", "findings": [1]}', encoding="utf-8")
    else:
        record.unlink()
        os.mkfifo(record)  # never opened for reading: a check would hang on it
    assert recorded_check(inputs, out) is None


def test_other_options_are_not_answered_from_the_record(built: tuple[Path, Path]) -> None:
    source, out = built
    assert recorded_check(_inputs(source), out) is not None
    assert recorded_check(_inputs(source, strict=True), out) is None
    assert recorded_check(_inputs(source, edition="archive"), out) is None
    assert (
        recorded_check(_inputs(Path(os.path.relpath(source))), out) is None
    )  # findings name the file as given


def test_a_failed_build_is_not_recorded(minimal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    edit(minimal, "title:", "title: TODO")
    with pytest.raises(newsletter.build.IssueError):
        run(minimal, BuildOptions(out_dir=out))
    assert not record_path(minimal, out, "email").exists()
    assert recorded_check(_inputs(minimal), out) is None


def test_a_folder_too_large_to_stamp_records_nothing(
    built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An issue kept at the top of a large tree: stamping every file would cost more than a
    check; nothing is answered from a record then, and the build still keeps its memo."""
    from newsletter import verdicts

    source, out = built
    assert recorded_check(_inputs(source), out) is not None
    monkeypatch.setattr(verdicts, "MAX_FILES", 3)
    assert verdicts.inputs_key(_inputs(source), out) is None
    assert recorded_check(_inputs(source), out) is None
    (out / f".{source.stem}-email.pages.json").unlink()
    build_issue(source, out)
    assert (out / f".{source.stem}-email.pages.json").is_file()
