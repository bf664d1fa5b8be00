"""Shared fixtures: issue 10 is built once per test session and read back by many tests."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from systools import TOOLS, require

from newsletter.build import BuildResult, build_all, build_issue
from newsletter.check import OutputContext, run_checks
from newsletter.editions import EDITIONS
from newsletter.errors import Finding
from newsletter.issue.fonts import font_coverage
from newsletter.issue.load import load_issue
from newsletter.shipped import DEFAULT_LAYOUT, Layout

#: The mail tests' server, CA, issue and editions, found by every module (``mailkit.py``).
pytest_plugins = ["mailkit"]

ROOT = Path(__file__).resolve().parent.parent
ISSUE_10 = ROOT / "issues" / "issue-10.yaml"
ISSUE_10_FR = ROOT / "issues" / "issue-10.fr.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA = Path(__file__).resolve().parent / "data"


def pytest_configure(config: pytest.Config) -> None:
    # The user's cache (compiled templates, ``usercache.py``) is one of the session's own,
    # for every process the tests start: what a user's cache holds changes no test.
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="newsletter-tests-cache-")
    config.addinivalue_line(
        "markers", f"tool(*names): the test needs these system tools ({', '.join(TOOLS)}); see systools.py"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test whose system tool is missing, naming the package; fail it under CI."""
    require(*(name for mark in item.iter_markers("tool") for name in mark.args))


#: What the output rules say of a clean print edition: nothing where Ghostscript measures the
#: ink; where it is missing, that the ink was not measured (the edition still builds).
CLEAN_PRINT: list[str] = (
    []
    if TOOLS["ghostscript"].present()
    else ["ink-unmeasured: the ink coverage was not measured: Ghostscript (gs) is not installed"]
)

_NEEDS = re.compile(r"needs (.+?) \(Debian package ([^)]+)\)")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.get("XDG_CACHE_HOME", ""), ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which groups of tests did not run for want of a system tool, and how to get them."""
    wanted: Counter[tuple[str, str]] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        for name, package in _NEEDS.findall(reason):
            wanted[(name, package)] += 1
    if not wanted:
        return
    terminalreporter.section("not run: system tools missing")
    for (name, package), count in sorted(wanted.items()):
        terminalreporter.line(f"{count:4} tests need {name}: apt-get install {package}")
    packages = " ".join(sorted({package for _, package in wanted}))
    terminalreporter.line(
        f"all of them: sudo apt-get install {packages} (or run .ci/run, which installs them)"
    )


@dataclass
class BuiltPdf:
    """A built issue and handles to read its PDF back."""

    result: BuildResult
    pike: pikepdf.Pdf
    pdfium: pdfium.PdfDocument

    @property
    def path(self) -> Path:
        return self.result.pdf

    def page_text(self, index: int) -> str:
        """Text of page ``index`` (0-based) as pdfium extracts it."""
        return str(self.pdfium[index].get_textpage().get_text_range())


@pytest.fixture(scope="session")
def issue10(tmp_path_factory: pytest.TempPathFactory) -> BuiltPdf:
    out = tmp_path_factory.mktemp("issue10-out")
    result = build_issue(ISSUE_10, out, write_html=True)
    return BuiltPdf(result, pikepdf.open(result.pdf), pdfium.PdfDocument(str(result.pdf)))


@pytest.fixture(scope="session")
def issue10_fr(tmp_path_factory: pytest.TempPathFactory) -> BuiltPdf:
    """The French edition of issue 10, built once per session."""
    out = tmp_path_factory.mktemp("issue10-fr-out")
    result = build_issue(ISSUE_10_FR, out, write_html=True)
    return BuiltPdf(result, pikepdf.open(result.pdf), pdfium.PdfDocument(str(result.pdf)))


@pytest.fixture(scope="session")
def editions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuildResult]:
    """Every edition of issue 10, built once per session, in parallel."""
    out = tmp_path_factory.mktemp("editions")
    results = build_all(ISSUE_10, out)
    assert all(isinstance(r, BuildResult) for r in results.values()), results
    return results  # type: ignore[return-value]


@pytest.fixture
def issue_copy(tmp_path: Path) -> Path:
    """A writable copy of issue 10 and its images, for tests that edit it."""
    folder = tmp_path / "issues"
    shutil.copytree(ISSUE_10.parent, folder)
    return folder / ISSUE_10.name


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    """A writable copy of the minimal valid issue fixture."""
    folder = tmp_path / "minimal"
    shutil.copytree(FIXTURES / "minimal", folder)
    return folder / "issue.yaml"


def output_findings(pdf: Path, source: Path, edition: str = "email") -> list[Finding]:
    """The output rules' findings on a written PDF, opened afresh (tests spoil it between calls)."""
    with pikepdf.open(pdf) as opened:
        context = OutputContext(
            load_issue(source), font_coverage(DEFAULT_LAYOUT.fonts), EDITIONS[edition], pdf, opened
        )
        return run_checks("output", context)


def spoil(pdf: Path, change: Callable[[pikepdf.Pdf], object]) -> None:
    """Change the PDF at ``pdf`` in place with ``change``."""
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        change(doc)
        doc.save(pdf)


def layout_copy(tmp_path: Path, css_after: str = "", css_before: str = "") -> Layout:
    """A writable copy of the project's layout, its stylesheet with ``css_before`` put first
    and ``css_after`` last (the folder is ``tmp_path/layout``)."""
    templates = tmp_path / "layout"
    shutil.copytree(DEFAULT_LAYOUT.templates, templates)
    sheet = templates / "newsletter.css"
    sheet.write_text(css_before + sheet.read_text(encoding="utf-8") + "\n" + css_after, encoding="utf-8")
    return Layout(templates=templates, fonts=DEFAULT_LAYOUT.fonts)


def check_fixtures(tmp_path: Path) -> Path:
    """A writable copy of ``tests/fixtures/check/`` (one fixture per rule)."""
    folder = tmp_path / "check"
    shutil.copytree(FIXTURES / "check", folder)
    return folder


def edit(path: Path, old: str, new: str) -> Path:
    """Replace the first ``old`` in the file at ``path`` (which must hold it) with ``new``."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path
