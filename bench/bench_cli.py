"""Benchmark: how fast the command line answers when it does not build (``--help``,
``--version``), against a bare Python start measured in the same run.

The commands import WeasyPrint and pikepdf only where they use them; this measures that the
help stays near the interpreter's own start-up. Target: ``newsletter --help`` under 0.2 s.

Run: .venv/bin/python bench/bench_cli.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _median(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    bare = _median([sys.executable, "-c", "pass"], args.runs)
    print(f"baseline: python -c pass, median of {args.runs}: {bare * 1000:6.0f} ms")
    for what in (["--help"], ["--version"], ["build", "--help"]):
        took = _median([sys.executable, "-m", "newsletter", *what], args.runs)
        verdict = "ok" if took < 0.2 else "over the 0.2 s target"
        print(
            f"newsletter {' '.join(what):<12} median of {args.runs}: {took * 1000:6.0f} ms "
            f"({took / bare:.1f} x bare python; {verdict})"
        )


if __name__ == "__main__":
    main()
