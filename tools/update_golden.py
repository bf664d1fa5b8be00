"""Render issue 10's email edition to the golden PNGs the visual test compares against.

Run after a deliberate change of the layout, then look at the diff of tests/golden/ (an
image viewer shows old and new side by side) before committing it:

    .venv/bin/python tools/update_golden.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from visual import GOLDEN, render_pages

from newsletter.build import build_issue


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = build_issue(ROOT / "issues" / "issue-10.yaml", Path(tmp))
        assert result.pdf is not None
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN.glob("issue-10-p*.png"):
            old.unlink()
        for number, image in enumerate(render_pages(result.pdf), start=1):
            image.save(GOLDEN / f"issue-10-p{number:02d}.png", optimize=True)
    print(f"wrote {len(list(GOLDEN.glob('issue-10-p*.png')))} pages to {GOLDEN}")


if __name__ == "__main__":
    main()
