"""The system tools some tests need, and what a test does when one is missing.

A test that needs a tool says so with ``@pytest.mark.tool("qpdf")`` (or ``pytestmark`` for a
module); ``conftest.py`` looks the tool up before the test runs. Where it is missing, the test
is skipped with a reason that names the Debian package, and the run ends with a summary of the
groups that did not run and how to get them. Under CI (the ``CI`` variable, which ``.ci/run``
sets) a missing tool fails the test instead: CI installs them all, so a skip there would hide
a broken install step.

Tools are looked up on the ``PATH`` as it is when the test runs, so a test can hide one.
"""

from __future__ import annotations

import ctypes
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Debian's Chromium, which the live preview's browser tests drive.
CHROMIUM = Path("/usr/bin/chromium")


def _on_path(command: str) -> Callable[[], bool]:
    return lambda: shutil.which(command) is not None


def _library(name: str) -> Callable[[], bool]:
    def loads() -> bool:
        try:
            ctypes.CDLL(name)
        except OSError:
            return False
        return True

    return loads


@dataclass(frozen=True)
class Tool:
    """A system tool: how tests find it, its Debian package, what the tests use it for."""

    name: str
    package: str
    use: str
    present: Callable[[], bool]

    @property
    def reason(self) -> str:
        """The skip reason: the summary groups skipped tests by its first words."""
        return f"needs {self.name} (Debian package {self.package}): {self.use}"


TOOLS: dict[str, Tool] = {
    "ghostscript": Tool(
        "Ghostscript", "ghostscript", "the print edition's ink on the plates", _on_path("gs")
    ),
    "qpdf": Tool("qpdf", "qpdf", "checking the PDFs' structure", _on_path("qpdf")),
    "poppler": Tool(
        "poppler-utils", "poppler-utils", "reading the PDFs with a second reader", _on_path("pdffonts")
    ),
    "argyll": Tool("ArgyllCMS", "argyll", "checking the print profile's ink limit", _on_path("xicclu")),
    "gettext": Tool("gettext's msgfmt", "gettext", "checking the exported PO files", _on_path("msgfmt")),
    "chromium": Tool("Chromium", "chromium", "the live preview in a real browser", lambda: CHROMIUM.exists()),
    "harfbuzz-subset": Tool(
        "HarfBuzz's subsetter",
        "libharfbuzz-subset0",
        "font subsetting as fast builds do it",
        _library("libharfbuzz-subset.so.0"),
    ),
}


def under_ci() -> bool:
    """Whether this run is CI's, where every tool must be present."""
    return bool(os.environ.get("CI"))


def missing(names: tuple[str, ...]) -> list[Tool]:
    """The tools of ``names`` that this machine lacks (an unknown name is a test's bug)."""
    return [TOOLS[name] for name in names if not TOOLS[name].present()]


def require(*names: str) -> None:
    """Skip the running test when a tool of ``names`` is missing, naming its package; fail it
    under CI, which installs them all (``.ci/run``)."""
    lacking = missing(names)
    if not lacking:
        return
    reason = "; ".join(tool.reason for tool in lacking)
    if under_ci():
        pytest.fail(f"{reason}: CI installs it (.ci/run), so it must be there", pytrace=False)
    pytest.skip(reason)
