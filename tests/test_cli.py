"""The command line as editors use it: exit codes, messages with file:line:col, nothing written."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from newsletter import cli

runner = CliRunner()

BAD = {
    "bad_malformed.yaml": (r":4:8: a list in \[brackets\] .*opened here is not closed",),
    "bad_missing_field.yaml": (r":1:1: title: this required field is missing",),
    "bad_unknown_block.yaml": (
        r":13:15: sections\[0\]\.blocks\[1\]\.type: unknown block type 'sidebar'; the block types are: paragraph",
    ),
    "bad_unknown_ref.yaml": (
        r":13:34: sections\[0\]\.blocks\[1\]\.text: page reference to unknown id 'agenda'",
    ),
    "bad_missing_image.yaml": (
        r":13:16: sections\[0\]\.blocks\[0\]\.image: image file not found: 'images/hero.jpg'",
    ),
    "bad_several.yaml": (
        r":2:9: number: expected a whole number \(found 'many'\)",
        r":14:5: sections\[0\]\.colour: unknown field 'colour'",
        r":16:9: sections\[0\]\.blocks\[0\]\.role: this required field is missing",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_fails_with_location_and_writes_nothing(name: str, tmp_path: Path) -> None:
    source = tmp_path / name
    shutil.copy(FIXTURES / "bad" / name, source)
    out = tmp_path / "out"
    result = runner.invoke(cli.app, ["build", str(source), "--out", str(out)])
    assert result.exit_code == cli.EXIT_CONTENT, result.output
    for pattern in BAD[name]:
        assert re.search(re.escape(str(source)) + pattern, result.output), result.output
    assert "nothing was written" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_build_writes_pdf_and_html(minimal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(cli.app, ["build", str(minimal), "--out", str(out), "--html"])
    assert result.exit_code == 0, result.output
    assert (out / "issue-email.pdf").read_bytes().startswith(b"%PDF-")
    assert "<html" in (out / "issue-email.html").read_text(encoding="utf-8")
    assert re.search(r"wrote .*issue-email\.pdf \(3 pages", result.output)
    assert not list(out.glob(".newsletter-tmp-*"))
    assert (out / "issue-email.pdf").stat().st_mode & 0o777 == 0o644


def test_failed_build_keeps_previous_pdf(minimal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(cli.app, ["build", str(minimal), "--out", str(out)]).exit_code == 0
    before = (out / "issue-email.pdf").read_bytes()
    minimal.write_text(minimal.read_text(encoding="utf-8").replace("(#second)", "(#third)"), encoding="utf-8")
    result = runner.invoke(cli.app, ["build", str(minimal), "--out", str(out)])
    assert result.exit_code == cli.EXIT_CONTENT
    assert (out / "issue-email.pdf").read_bytes() == before


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(cli.app, ["build", "--no-such-option", "x"]).exit_code == cli.EXIT_USAGE


def test_help_speaks_to_editors() -> None:
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0 and "build" in result.output
    result = runner.invoke(cli.app, ["build", "--help"])
    assert "page" in result.output and "--html" in result.output


def test_internal_error_exits_3_and_says_where_to_report(
    monkeypatch: pytest.MonkeyPatch, minimal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    import newsletter.build

    monkeypatch.setattr(newsletter.build, "build_issue", broken)
    monkeypatch.setattr(sys, "argv", ["newsletter", "build", str(minimal)])
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "this is a bug" in err and "report it" in err and "RuntimeError: boom" in err


def test_real_process_exit_code(tmp_path: Path) -> None:
    """The installed entry point, not only the runner, returns 1 on content errors."""
    source = tmp_path / "bad.yaml"
    shutil.copy(FIXTURES / "bad" / "bad_unknown_ref.yaml", source)
    proc = subprocess.run(
        [sys.executable, "-m", "newsletter", "build", str(source), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert f"{source}:13:34:" in proc.stderr
