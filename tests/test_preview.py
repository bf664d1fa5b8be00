"""`newsletter preview`: a PNG per page, per facing-page spread and one contact sheet, under
out/preview/<issue>-<edition>/, written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import edit
from PIL import Image
from typer.testing import CliRunner

from newsletter import cli
from newsletter.workbench.preview import spreads

runner = CliRunner()
A4 = (595.276, 841.89)  # points


def _close(size: tuple[int, int], dpi: float, pages: int = 1) -> bool:
    """Whether ``size`` is ``pages`` A4 pages side by side at ``dpi`` (pdfium rounds up)."""
    width, height = A4[0] * dpi / 72, A4[1] * dpi / 72
    return abs(size[0] - pages * width) <= pages and abs(size[1] - height) <= 1


@pytest.fixture
def previewed(minimal: Path, tmp_path: Path) -> Path:
    """The minimal issue previewed at 48 dpi into tmp_path/out; its preview folder."""
    result = runner.invoke(cli.app, ["preview", str(minimal), "--out", str(tmp_path / "out"), "--dpi", "48"])
    assert result.exit_code == 0, result.output
    assert "rendering pages" in result.output  # the progress bar, on standard error
    assert "how full each page is: 1: " in result.output
    return tmp_path / "out" / "preview" / "issue-email"


def test_preview_counts_and_sizes(previewed: Path) -> None:
    pages = json.loads((previewed / "pages.json").read_text(encoding="utf-8"))["pages"]
    count = len(pages)
    assert count >= 2
    names = sorted(p.name for p in previewed.iterdir())
    assert [n for n in names if n.startswith("page-")] == [f"page-{i:02d}.png" for i in range(1, count + 1)]
    expected_spreads = [
        "spread-" + "-".join(f"{p:02d}" for p in pair if p is not None) + ".png" for pair in spreads(count)
    ]
    assert [n for n in names if n.startswith("spread-")] == sorted(expected_spreads)
    with Image.open(previewed / "page-01.png") as page:
        assert _close(page.size, 48)
    with Image.open(previewed / expected_spreads[1]) as spread:
        assert _close(spread.size, 48, pages=2)
    with Image.open(previewed / "contact-sheet.png") as sheet:
        assert sheet.width > 4 * A4[0] * 48 / 72 / 3 and sheet.height > A4[1] * 48 / 72 / 3
    assert all(0 <= p["full"] <= 1 for p in pages)


def test_spreads_put_the_cover_alone_on_the_right() -> None:
    assert spreads(12) == [(None, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11), (12, None)]
    assert spreads(3) == [(None, 1), (2, 3)]
    assert spreads(1) == [(None, 1)]
    assert spreads(0) == []


def test_a_preview_is_replaced_whole_and_kept_when_the_issue_has_errors(
    previewed: Path, minimal: Path, tmp_path: Path
) -> None:
    stale = previewed / "page-99.png"
    stale.write_bytes(b"an older preview's page")
    edit(minimal, "title: A minimal issue", "title: A minimal issue TODO")
    failed = runner.invoke(cli.app, ["preview", str(minimal), "--out", str(tmp_path / "out")])
    assert failed.exit_code == cli.EXIT_CONTENT
    assert "placeholder" in failed.output and "nothing was written" in failed.output
    assert stale.exists() and (previewed / "contact-sheet.png").exists()

    edit(minimal, "title: A minimal issue TODO", "title: A minimal issue")
    again = runner.invoke(cli.app, ["preview", str(minimal), "--out", str(tmp_path / "out"), "--dpi", "30"])
    assert again.exit_code == 0, again.output
    assert not stale.exists()
    with Image.open(previewed / "page-01.png") as page:
        assert _close(page.size, 30)
    assert not [p for p in previewed.parent.iterdir() if p.name.startswith(".newsletter-tmp-")]


def test_preview_into_a_file_is_the_environments_fault(minimal: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    result = runner.invoke(cli.app, ["preview", str(minimal), "--out", str(blocker)])
    assert result.exit_code == cli.EXIT_ENVIRONMENT
    assert "nothing was written" in result.output
