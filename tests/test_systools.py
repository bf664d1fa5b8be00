"""A test whose system tool is missing is skipped, naming the Debian package, and the run says
which groups did not run; under CI it fails instead. The tool is hidden from ``PATH``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from systools import TOOLS, missing


def _run_hidden(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    """The print profile's test (it needs ArgyllCMS's xicclu) with an empty ``PATH``."""
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = str(tmp_path)  # an empty folder: no xicclu, no other tool
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "tests/test_print_profile.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_hidden_tool_skips_its_test_naming_the_package(tmp_path: Path) -> None:
    done = _run_hidden(tmp_path, ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout and "passed" not in done.stdout, done.stdout
    assert "needs ArgyllCMS (Debian package argyll)" in done.stdout, done.stdout
    # The summary at the end: the group, and how to get it.
    assert "not run: system tools missing" in done.stdout
    assert "1 tests need ArgyllCMS: apt-get install argyll" in done.stdout, done.stdout


def test_under_ci_a_hidden_tool_fails_its_test(tmp_path: Path) -> None:
    done = _run_hidden(tmp_path, ci=True)
    assert done.returncode == 1, done.stdout + done.stderr
    # Failed in its setup: pytest counts it an error, and the run fails.
    assert "1 error" in done.stdout and "skipped" not in done.stdout, done.stdout
    assert "needs ArgyllCMS (Debian package argyll)" in done.stdout
    assert "CI installs it (.ci/run)" in done.stdout


def test_every_tool_is_looked_up_on_the_path_as_it_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    hidden = {tool.package for tool in missing(tuple(TOOLS))}
    assert {"ghostscript", "qpdf", "poppler-utils", "argyll"} <= hidden
