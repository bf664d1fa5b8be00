"""Benchmark: build issue 10, stage by stage, against a baseline measured in the same run.

Stages (in process, median of N runs): load (YAML -> model), render (model -> HTML),
layout (WeasyPrint layout + page-reference verification), write (PDF bytes, atomic write).
Whole process: ``python -m newsletter build`` as an editor runs it, median of N runs.
Baseline: headless Chromium printing the same HTML to PDF (when ``chromium`` is installed),
timed in the same run, so the ratio holds on a noisy machine.

Run: .venv/bin/python bench/bench_build.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from baseline import chromium_print_argv

from newsletter.build import DEFAULT_LAYOUT, build_issue
from newsletter.engine.render import issue_renderer

ISSUE = ROOT / "issues" / "issue-10.yaml"


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.0f} ms"


def _time_command(argv: list[str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, timeout=300)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        stages: dict[str, list[float]] = {}
        for _ in range(args.runs):
            result = build_issue(ISSUE, out)
            for stage, seconds in result.timings.items():
                stages.setdefault(stage, []).append(seconds)
        print(f"issue 10: {result.pages} pages, {result.size} bytes ({result.size / 1024:.0f} KB)")
        print(f"stages, in process, median of {args.runs}:")
        for stage, samples in stages.items():
            print(f"  {stage:<8}{_median_ms(samples)}")
        total = [sum(run) for run in zip(*stages.values())]
        print(f"  {'total':<8}{_median_ms(total)}")

        whole = _time_command(
            [sys.executable, "-m", "newsletter", "build", str(ISSUE), "--out", str(out)], args.runs
        )
        print(f"whole process (python -m newsletter build), median of {args.runs}: {_median_ms(whole)}")

        html_file = out / "issue-10.html"
        # Same HTML as our build lays out; Chromium ignores the paged-media parts it lacks
        # (running section titles, target-counter page numbers).
        html_file.write_text(
            issue_renderer(result.issue, DEFAULT_LAYOUT, ISSUE.parent)({}).html, encoding="utf-8"
        )
        bare = _time_command(
            [
                sys.executable,
                "-m",
                "weasyprint",
                "-u",
                str(ISSUE.parent) + "/",
                str(html_file),
                str(out / "bare.pdf"),
            ],
            args.runs,
        )
        print(
            f"floor: bare `python -m weasyprint` on the same HTML, median of {args.runs}: {_median_ms(bare)}"
        )
        print(
            f"ratio newsletter build / bare weasyprint: {statistics.median(whole) / statistics.median(bare):.2f}"
        )
        chromium = chromium_print_argv(html_file, out)
        if chromium is None:
            print("baseline: chromium not installed (apt-get install chromium); no ratio")
            return
        baseline = _time_command(
            chromium,
            args.runs,
        )
        print(f"baseline: chromium --print-to-pdf, same HTML, median of {args.runs}: {_median_ms(baseline)}")
        ratio = statistics.median(whole) / statistics.median(baseline)
        print(f"ratio newsletter build / chromium print: {ratio:.2f} (target: <= 1.00)")


if __name__ == "__main__":
    main()
