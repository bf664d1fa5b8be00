"""The commands that need no layout load no WeasyPrint: ``new``, ``status``, ``schema`` and
``--help`` answer without it (and without pikepdf), each run in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
from newsletter import cli
sys.argv = ["newsletter", *sys.argv[1:]]
try:
    cli.app()
except SystemExit as done:
    code = done.code
else:
    code = 0
print("loaded:", "weasyprint" in sys.modules, "pikepdf" in sys.modules, "exit:", code, file=sys.stderr)
"""


def _loaded(*argv: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=cwd, check=False
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("loaded:")]
    assert lines, done.stdout + done.stderr
    return lines[-1]


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("build", "--help"),
        ("send", "--help"),
        ("schema",),
        ("new", "{issue}"),
        ("status", "{issue}"),
    ],
    ids=lambda argv: " ".join(argv),
)
def test_light_commands_load_no_weasyprint(argv: tuple[str, ...], minimal: Path, tmp_path: Path) -> None:
    words = [word.format(issue=minimal) for word in argv]
    assert _loaded(*words, cwd=tmp_path) == "loaded: False False exit: 0"
