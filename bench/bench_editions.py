"""Benchmark: the three editions of issue 10, one by one and all at once, in the same run.

For each edition, a whole `python -m newsletter build --variant NAME` process; then the
three one after another (the baseline) against one `--variant all` process, which builds
them in parallel processes. Medians of N runs; ratios against the baseline of this run.

Run: .venv/bin/python bench/bench_editions.py [--runs 3]
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

from newsletter.editions import EDITION_NAMES

ISSUE = ROOT / "issues" / "issue-10.yaml"


def _run(edition: str, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "newsletter", "build", str(ISSUE), "--variant", edition, "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        each: dict[str, list[float]] = {name: [] for name in EDITION_NAMES}
        sequential, parallel = [], []
        for _ in range(args.runs):
            times = {name: _run(name, out) for name in EDITION_NAMES}
            for name, seconds in times.items():
                each[name].append(seconds)
            sequential.append(sum(times.values()))
            parallel.append(_run("all", out))
        sizes = {name: (out / f"issue-10-{name}.pdf").stat().st_size for name in EDITION_NAMES}
    base = statistics.median(each["email"])
    print(f"issue 10, whole process, median of {args.runs}:")
    for name in EDITION_NAMES:
        seconds = statistics.median(each[name])
        print(
            f"  --variant {name:<8} {seconds * 1000:6.0f} ms  ({seconds / base:.2f} x email)  {sizes[name] / 1024:7.0f} KB"
        )
    seq, par = statistics.median(sequential), statistics.median(parallel)
    print(f"  one after another   {seq * 1000:6.0f} ms  (baseline)")
    print(
        f"  --variant all       {par * 1000:6.0f} ms  ({par / seq:.2f} x baseline, {seq - par:+.2f} s saved)"
    )


if __name__ == "__main__":
    main()
