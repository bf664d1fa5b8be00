"""Benchmark: the translator's round trip on issue 10 (190 texts): export (every text, and
the one changed paragraph), import (the first, which writes the records; an unchanged one;
a new translation of one paragraph) and the stale check (the two translation rules, cold
and warm), in process and as commands, on a copy of ``issues/``.

Run: .venv/bin/python bench/bench_translate.py [--runs 7]
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
from functools import partial
from pathlib import Path

from newsletter.check import ContentContext, run_rules
from newsletter.editions import EDITIONS
from newsletter.issue.fonts import font_coverage
from newsletter.issue.load import Loaded, load_issue, load_kept
from newsletter.translate.export import export_texts
from newsletter.translate.importer import import_texts

ROOT = Path(__file__).resolve().parent.parent
RULES = ["translation-stale", "untranslated"]


def _median(step: Callable[[], object], runs: int, before: Callable[[], object] = lambda: None) -> float:
    samples = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        step()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "issues"
        shutil.copytree(ROOT / "issues", folder)
        english, french = folder / "issue-10.yaml", folder / "issue-10.fr.yaml"
        out = Path(work) / "out"
        fonts = font_coverage(ROOT / "fonts")
        original = french.read_bytes()
        rows: list[tuple[str, float]] = []
        every = out / "all.xlf"
        rows.append(
            (
                "export, every text (XLIFF)",
                _median(lambda: export_texts(english, "fr", "xliff", True, every), runs),
            )
        )
        rows.append(
            (
                "export, every text (PO)",
                _median(lambda: export_texts(english, "fr", "po", True, out / "all.po"), runs),
            )
        )
        rows.append(
            (
                "import, the first (190 records written)",
                _median(lambda: import_texts(french, every), runs, lambda: french.write_bytes(original)),
            )
        )
        rows.append(("import, nothing changed", _median(lambda: import_texts(french, every), runs)))
        text = english.read_text(encoding="utf-8")
        english.write_text(text.replace("boast advanced", "run advanced", 1), encoding="utf-8")
        changed = out / "changed.xlf"
        rows.append(
            ("export, one paragraph changed", _median(lambda: export_texts(english, "fr", out=changed), runs))
        )
        translated = changed.read_text(encoding="utf-8").replace("qui disposent", "qui gèrent")
        changed.write_text(translated.replace("needs-review-translation", "translated"), encoding="utf-8")
        recorded = french.read_bytes()
        rows.append(
            (
                "import, that paragraph translated again",
                _median(lambda: import_texts(french, changed), runs, lambda: french.write_bytes(recorded)),
            )
        )

        def cold() -> None:
            run_rules(RULES, ContentContext(load_issue(french), fonts, EDITIONS["email"]))

        kept: dict[Path, Loaded] = {}
        files: dict[tuple[str, bytes], object] = {}
        load = partial(load_kept, kept=kept)

        def warm() -> None:
            context = ContentContext(load(french), fonts, EDITIONS["email"], load=load, files_kept=files)
            run_rules(RULES, context)

        rows.append(("stale check, cold (both files read)", _median(cold, runs)))
        warm()
        rows.append(("stale check, warm (the preview after a save)", _median(warm, runs)))
        for what, command in (
            (
                "command: translate export --all",
                ["translate", "export", str(english), "--all", "--out", str(every)],
            ),
            ("command: translate import", ["translate", "import", str(french), str(every)]),
        ):
            rows.append(
                (
                    what,
                    _median(
                        lambda c=command: subprocess.run(
                            [sys.executable, "-m", "newsletter", *c], check=False, capture_output=True
                        ),
                        runs,
                    ),
                )  # type: ignore[misc]
            )
    for what, seconds in rows:
        print(f"{what:<48} median of {runs}: {seconds * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
