"""Measure: printer's marks by WeasyPrint (``marks: crop``) or by our finishing step.

Issue 10's print edition is laid out once; then
- WeasyPrint's marks: the same HTML with ``@page { bleed: 13mm; marks: crop }`` (a bleed wide
  enough to hold a 10 mm slug, since WeasyPrint's media box is its bleed box): where its crop
  marks lie against the trim and the 3 mm bleed, their colour operators and width, the
  BleedBox it writes;
- the finishing step (``newsletter/press.py``, run in the ``write_pdf`` finisher): the time
  ``write_pdf`` takes with and without it, and the size;
- for comparison, the least a pikepdf pass over the written PDF costs (open and save again).

Run: .venv/bin/python bench/bench_marks.py [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pikepdf

from newsletter.build import DEFAULT_LAYOUT, BuildOptions, run
from newsletter.editions import EDITIONS
from newsletter.engine.typesetter import typeset
from newsletter.press.finishing import finisher

ISSUE = ROOT / "issues" / "issue-10.yaml"
MM = 72 / 25.4


def _layout(html: str) -> Any:
    layout = DEFAULT_LAYOUT
    return typeset(html, ISSUE.parent, [ISSUE.parent, layout.templates, layout.fonts], ISSUE)


def _weasyprint_marks(html: str) -> None:
    """Where WeasyPrint's own crop marks go, on page 1."""
    html = html.replace("</head>", "<style>@page { bleed: 13mm; marks: crop }</style></head>", 1)
    document = _layout(html)
    data = document.write_pdf()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        trim = [float(v) for v in page.obj.TrimBox]
        bleed = [float(v) for v in page.obj.BleedBox]
        operators: set[str] = set()
        widths: set[float] = set()
        forms = 0
        first_length = 0.0
        for xobject in page.Resources.XObject.values():
            if xobject.get("/Subtype") != "/Form":
                continue
            forms += 1
            for instruction in pikepdf.parse_content_stream(xobject):
                op = str(instruction.operator)
                if op in ("rg", "RG", "k", "K", "cs", "CS", "g", "G"):
                    operators.add(f"{' '.join(str(v) for v in instruction.operands)} {op}")
                elif op == "w":
                    widths.add(float(instruction.operands[0]))
                elif op == "l" and not first_length:
                    # The first mark runs from the media box's corner along the trim line.
                    first_length = float(instruction.operands[0]) * 0.75 / MM
        media_mm = (trim[0] - float(page.obj.MediaBox[0])) / MM
        segment = (media_mm - first_length, media_mm)
    print("WeasyPrint marks: crop (CSS bleed 13 mm = 3 mm bleed + 10 mm slug):")
    print(f"  BleedBox {(trim[0] - bleed[0]) / MM:.2f} mm beyond the trim (the bleed is 3 mm)")
    print(
        f"  crop marks from {segment[0]:.1f} to {segment[1]:.1f} mm from the trim (half the CSS bleed, to the media edge)"
    )
    print(f"  colour operators {sorted(operators)}; line widths {sorted(widths)} (CSS px, x 0.75 pt)")
    print(f"  {forms} form XObjects on page 1; no slug line, no registration colour (/Separation /All)")


def _timed_writes(html: str, runs: int) -> None:
    document = _layout(html)
    issue = run(ISSUE, BuildOptions("print", out_dir=None)).issue
    edition = EDITIONS["print"]
    options = edition.write_options(issue)
    plain = EDITIONS["archive"]  # a finisher that only rewrites the XMP: no press step
    times: dict[str, list[float]] = {
        "finisher without the press step": [],
        "finisher with the press step": [],
    }
    sizes: dict[str, int] = {}
    for _ in range(runs):
        for label, chosen in (
            ("finisher without the press step", plain),
            ("finisher with the press step", edition),
        ):
            started = time.perf_counter()
            data = document.write_pdf(finisher=finisher(chosen, issue), **options)
            times[label].append(time.perf_counter() - started)
            sizes[label] = len(data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "print.pdf"
        path.write_bytes(data)
        passes = []
        for _ in range(runs):
            started = time.perf_counter()
            with pikepdf.open(path) as pdf:
                pdf.save(Path(tmp) / "again.pdf", deterministic_id=True)
            passes.append(time.perf_counter() - started)
    print(f"write_pdf of the laid-out print edition, median of {runs}:")
    for label, values in times.items():
        print(f"  {label:<34} {statistics.median(values) * 1000:6.0f} ms  {sizes[label] / 1024:6.0f} KB")
    print(f"  a pikepdf pass (open + save only)  {statistics.median(passes) * 1000:6.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    html = run(ISSUE, BuildOptions("print", out_dir=None)).html
    _weasyprint_marks(html)
    _timed_writes(html, args.runs)


if __name__ == "__main__":
    main()
