"""Benchmark: what the build adds to WeasyPrint, in whole processes, alternating pairs.

Each round runs, one after the other: Chromium printing the HTML our build lays out (the
baseline), bare ``python -m weasyprint`` on the same HTML (the floor), the same with the email
edition's options (PDF/UA tags, optimised images at 150 dpi: what its build cannot do
without), ``newsletter build`` of issue 10 into a new folder with an empty user cache (no
compiled templates or images kept, ``usercache.py``), the same into another new folder (first
build, no memo), the same build again (memo kept), and ``newsletter check`` right after that
build (it may read the build's memo). Each ratio is
taken within its round, so a machine that slows down between rounds moves both sides;
medians are printed with the min and max of the rounds. Peak memory of each process tree
is read from /proc while it runs.

Targets (issue 29): rebuild <= 1.2 x bare WeasyPrint, first build <= 1.4 x, check after a
build <= 0.5 x that build.

Run: .venv/bin/python bench/bench_speed.py [--pairs 7] [--issue issues/issue-10.yaml]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from baseline import chromium_print_argv
from memory import tree_peak_kb

DEFAULT_ISSUE = ROOT / "issues" / "issue-10.yaml"
#: What the email edition asks WeasyPrint for (``Edition.render_options``, ``write_options``):
#: the floor of what its build can cost, that bare WeasyPrint does not pay.
EMAIL_OPTIONS = ["--pdf-variant", "pdf/ua-1", "--pdf-tags", "--optimize-images", "-j", "80", "-D", "150"]


def _run(argv: list[str], ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time (s) and the peak resident memory (KB) of a command's process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    peak = tree_peak_kb(proc)
    took = time.perf_counter() - started
    if proc.returncode not in ok:
        raise SystemExit(
            f"failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return took, peak


def _spread(samples: list[float], unit: str = "s", scale: float = 1.0) -> str:
    values = [s * scale for s in samples]
    return f"{statistics.median(values):6.2f} {unit} (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--issue", type=Path, default=DEFAULT_ISSUE)
    args = parser.parse_args()
    issue = args.issue.resolve()
    newsletter = [sys.executable, "-m", "newsletter"]
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        out = Path(tmp)
        # The HTML our build lays out, as the build writes it.
        _run([*newsletter, "build", str(issue), "--out", str(out / "html"), "--html"], ok=(0, 1))
        html = out / "issue.html"
        shutil.copy(out / "html" / f"{issue.stem}-email.html", html)
        chromium = chromium_print_argv(html, out)
        bare_argv = [
            sys.executable,
            "-m",
            "weasyprint",
            "-u",
            f"{issue.parent}/",
            str(html),
            str(out / "bare.pdf"),
        ]
        steps_run = ("chromium", "bare", "bare+options", "cold", "first", "rebuild", "check")
        times: dict[str, list[float]] = {k: [] for k in steps_run}
        peaks: dict[str, list[int]] = {k: [] for k in times}
        for n in range(args.pairs):
            fresh = out / f"round-{n}"
            build = [*newsletter, "build", str(issue), "--out", str(fresh)]
            steps = {
                "chromium": chromium,
                "bare": bare_argv,
                "bare+options": [*bare_argv[:3], *EMAIL_OPTIONS, *bare_argv[3:]],
                "cold": [*newsletter, "build", str(issue), "--out", str(out / f"cold-{n}")],
                "first": build,
                "rebuild": build,
                "check": [*newsletter, "check", str(issue), "--out", str(fresh)],
            }
            for name, argv in steps.items():
                if argv is None:
                    continue
                # "cold": a first build without the user's cache either (usercache.py).
                env = {**os.environ, "XDG_CACHE_HOME": str(out / f"cache-{n}")} if name == "cold" else None
                took, peak = _run(argv, ok=(0, 1) if name == "check" else (0,), env=env)
                times[name].append(took)
                peaks[name].append(peak)
            print(
                f"round {n + 1}: "
                + ", ".join(f"{name} {samples[-1]:.2f} s" for name, samples in times.items() if samples),
                flush=True,
            )
            shutil.rmtree(fresh, ignore_errors=True)

    def ratios(top: str, bottom: str) -> list[float]:
        return [a / b for a, b in zip(times[top], times[bottom], strict=False)]

    print(f"\n{issue.name}, {args.pairs} rounds; median (min, max) of the rounds:")
    labels = {
        "chromium": "chromium --print-to-pdf, same HTML",
        "bare": "bare python -m weasyprint, same HTML",
        "bare+options": "the same with the email edition's options",
        "cold": "newsletter build, first, no user cache",
        "first": "newsletter build, first (no memo)",
        "rebuild": "newsletter build, memo kept",
        "check": "newsletter check after that build",
    }
    for name, label in labels.items():
        if times[name]:
            print(f"  {label:<38} {_spread(times[name])}   peak {max(peaks[name]) / 1024:5.0f} MB")
    print("ratios, each within its round:")
    print(f"  edition's options / bare        {_spread(ratios('bare+options', 'bare'), 'x')}")
    print(f"  first, no user cache / bare     {_spread(ratios('cold', 'bare'), 'x')}")
    print(f"  first build / bare weasyprint   {_spread(ratios('first', 'bare'), 'x')}   (target <= 1.4)")
    print(f"  rebuild / bare weasyprint       {_spread(ratios('rebuild', 'bare'), 'x')}   (target <= 1.2)")
    print(f"  check / the build before it     {_spread(ratios('check', 'rebuild'), 'x')}   (target <= 0.5)")
    if times["chromium"]:
        print(f"  bare weasyprint / chromium      {_spread(ratios('bare', 'chromium'), 'x')}")
        print(f"  first build / chromium          {_spread(ratios('first', 'chromium'), 'x')}")
        print(f"  rebuild / chromium              {_spread(ratios('rebuild', 'chromium'), 'x')}")


if __name__ == "__main__":
    main()
