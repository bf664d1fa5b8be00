"""Benchmark: page numbers as text. Page layouts per build, cold and warm builds against
Chromium printing the same HTML (alternating pairs, in one run), the warm rebuild of an
edit, peak memory, and the curve at 12, 24 and 48 pages.

Run: .venv/bin/python bench/bench_pagination.py [--pairs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import weasyprint.layout.page as wp_page
from baseline import chromium_print_argv
from memory import tree_peak_kb
from scaled import scaled_issue

from newsletter import Session
from newsletter.build import build_issue

ISSUE = ROOT / "issues" / "issue-10.yaml"


def _count_make_page(action: Callable[[], Any]) -> int:
    """How many times WeasyPrint lays out a page while ``action`` runs."""
    real = wp_page.make_page
    calls = 0

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    wp_page.make_page = counting
    try:
        action()
    finally:
        wp_page.make_page = real
    return calls


def _run(argv: list[str]) -> tuple[float, int]:
    """Wall time (s) and peak memory of the whole process tree (KB) of a command."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    peak = tree_peak_kb(proc)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return took, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        cold_calls = _count_make_page(lambda: build_issue(ISSUE, out / "count"))
        warm_calls = _count_make_page(lambda: build_issue(ISSUE, out / "count"))
        print(
            f"page layouts (make_page) for issue 10's 12 pages: first build {cold_calls}, "
            f"with the memo of the previous build {warm_calls}"
        )

        html = out / "issue-10.html"
        result = build_issue(ISSUE, out / "html", write_html=True)
        assert result.pdf is not None
        shutil.copy(result.pdf.with_suffix(".html"), html)
        chromium = chromium_print_argv(html, out)
        build = [sys.executable, "-m", "newsletter", "build", str(ISSUE), "--out"]
        cold, warm, base, peaks = [], [], [], []
        for i in range(args.pairs):
            fresh = out / f"cold-{i}"
            took, peak = _run([*build, str(fresh)])
            cold.append(took)
            peaks.append(peak)
            warm.append(_run([*build, str(fresh)])[0])  # the memo of the first is at hand
            if chromium:
                base.append(_run(chromium)[0])
        print(f"whole process, median of {args.pairs} (alternating with Chromium):")
        print(f"  first build (no memo)      {statistics.median(cold) * 1000:6.0f} ms")
        print(f"  rebuild (memo kept)        {statistics.median(warm) * 1000:6.0f} ms")
        if base:
            b = statistics.median(base)
            print(f"  chromium --print-to-pdf    {b * 1000:6.0f} ms")
            print(
                f"  ratios: first build {statistics.median(cold) / b:.2f}, rebuild {statistics.median(warm) / b:.2f} (goal <= 2.0)"
            )
        print(f"peak memory of a build (process tree): {max(peaks) / 1024:.0f} MB")
        _, all_peak = _run([*build, str(out / "all"), "--variant", "all"])
        print(f"peak memory of --variant all (process tree): {all_peak / 1024:.0f} MB")

        # The warm rebuild of an edit: one paragraph of the interview changed.
        folder = out / "edit"
        shutil.copytree(ISSUE.parent, folder)
        source = folder / ISSUE.name
        session = Session(source, out_dir=out / "edit-out")
        session.rebuild()
        text = source.read_text(encoding="utf-8")
        edits = []
        for n in range(3):
            # One word of the interview's first answer, changed each time.
            word = ["abject", "heinous", "odious", "abject"][n + 1]
            text = text.replace(f"this {['abject', 'heinous', 'odious'][n]} crime", f"this {word} crime", 1)
            source.write_text(text, encoding="utf-8")
            started = time.perf_counter()
            first_seen: list[float] = []
            done = session.rebuild(on_changed=lambda pages, seen=first_seen: seen.append(time.perf_counter()))
            edits.append(
                (time.perf_counter() - started, first_seen[0] - started if first_seen else 0.0, done.changed)
            )
        took, seen, changed = sorted(edits)[len(edits) // 2]
        line = f"warm rebuild after an interview edit: {took * 1000:.0f} ms (changed pages known after {seen * 1000:.0f} ms: {changed})"
        print(
            line
            + (
                f"; {took / statistics.median(base):.2f} x Chromium's cold print (goal <= 0.6)"
                if base
                else ""
            )
        )

        print("scale (cold build in process, then a warm rebuild after an interview edit):")
        for times in (1, 2, 4):
            scaled = scaled_issue(ISSUE, out / f"scale-{times}", times)
            started = time.perf_counter()
            try:
                first = build_issue(scaled, out / f"scale-{times}" / "out")
            except Exception as exc:  # noqa: BLE001 - a bench reports and goes on
                print(f"  x{times}: {exc}")
                continue
            cold_s = time.perf_counter() - started
            session = Session(scaled, out_dir=out / f"scale-{times}" / "out")
            session.rebuild()
            text = scaled.read_text(encoding="utf-8")
            rounds = []
            totals = []
            for word in ("heinous", "odious", "heinous", "odious", "heinous"):
                scaled.write_text(
                    text.replace("this abject crime", f"this {word} crime", 1), encoding="utf-8"
                )
                began = time.perf_counter()
                again = session.rebuild()
                totals.append(time.perf_counter() - began)
                assert again.result is not None
                rounds.append((again.result.timings, again.result.laid_out))
            session.close()
            stage = {
                name: statistics.median(t[name] for t, _ in rounds) for name in ("load", "layout", "write")
            }
            print(
                f"  {first.pages:3d} pages: cold {cold_s:5.2f} s ({cold_s / first.pages * 1000:.0f} ms/page), "
                f"warm rebuild (median of 5 edits): load {stage['load']:.2f} s, layout {stage['layout']:.2f} s "
                f"({rounds[-1][1]} pages laid out), write {stage['write']:.2f} s; "
                f"{first.size / first.pages / 1024:.0f} KB/page"
            )
            whole = statistics.median(totals)
            versus = f", {whole / statistics.median(base):.2f} x Chromium's cold print of issue 10 (goal 0.6)"
            print(f"        warm rebuild with the PDF written: {whole:.2f} s" + (versus if base else ""))


if __name__ == "__main__":
    main()
