"""Issue 10 looks as it did: each page rendered and compared with its golden PNG.

On a difference, both images and their difference are written to tests/visual-failures/
for a human to look at. Regenerate the goldens after a deliberate change with
`.venv/bin/python tools/update_golden.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BuiltPdf
from PIL import Image, ImageChops
from visual import GOLDEN, difference, render_pages

FAILURES = Path(__file__).resolve().parent / "visual-failures"
#: Anti-aliasing may differ a little between builds of the renderer; a moved block does not.
MAX_MEAN = 1.5
MAX_CHANGED = 0.004


def test_pages_match_their_goldens(issue10: BuiltPdf) -> None:
    goldens = sorted(GOLDEN.glob("issue-10-p*.png"))
    assert len(goldens) == 12, "run tools/update_golden.py"
    pages = render_pages(issue10.path)
    assert len(pages) == len(goldens)
    failed = []
    for number, (page, golden_path) in enumerate(zip(pages, goldens), start=1):
        golden = Image.open(golden_path).convert("RGB")
        mean, changed = difference(page, golden)
        if mean > MAX_MEAN or changed > MAX_CHANGED:
            FAILURES.mkdir(exist_ok=True)
            page.save(FAILURES / f"p{number:02d}-actual.png")
            golden.save(FAILURES / f"p{number:02d}-expected.png")
            if page.size == golden.size:
                ImageChops.difference(page, golden).save(FAILURES / f"p{number:02d}-diff.png")
            failed.append(f"page {number}: mean difference {mean:.2f}, {changed:.2%} of pixels changed")
    assert not failed, "\n".join(failed) + f"\n(see {FAILURES})"


def test_the_comparison_sees_a_change(issue10: BuiltPdf) -> None:
    """A page that moved by a few pixels fails the tolerance: the test can fail."""
    page = render_pages(issue10.path)[2]
    shifted = ImageChops.offset(page, 0, 4)
    mean, changed = difference(page, shifted)
    assert mean > MAX_MEAN or changed > MAX_CHANGED
    assert difference(page, page) == (0.0, 0.0)


@pytest.fixture(autouse=True, scope="module")
def _clean_failures() -> None:
    for old in FAILURES.glob("*.png") if FAILURES.exists() else []:
        old.unlink()
