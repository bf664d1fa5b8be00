"""Benchmark: from saving issue 10 to the changed page in view in ``newsletter serve``.

The preview runs in this process on a free port with a copy of issue 10; a headless Chromium
(Debian's, driven by Playwright) shows it. Each round saves the issue with one paragraph
changed (alternately there and back) and waits until the browser has loaded the new image of
the first page that changed; the page records when each image finished loading
(``window.__swaps``, in ``newsletter/workbench/web/app.js``). Prints every round and the median.

Run: .venv/bin/python bench/bench_serve.py [--rounds 10] [--times 4]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scaled import scaled_issue

from newsletter.workbench.liveview import ServeOptions
from newsletter.workbench.serve import serving

ISSUE = ROOT / "issues" / "issue-10.yaml"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The edit: one paragraph of the "since 2010" section, and back.
BEFORE, AFTER = "Sarajevo, Bosnia and", "Sarajevo (Bosnia) and"


def main() -> None:
    """Run the rounds and print the times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--times", type=int, default=1, help="issue 10's sections repeated (4: 49 pages)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as work:
        folder = Path(work) / "issues"
        if args.times > 1:
            issue = scaled_issue(ISSUE, folder, args.times)
        else:
            shutil.copytree(ISSUE.parent, folder)
            issue = folder / ISSUE.name
        text = issue.read_text(encoding="utf-8")
        with serving(ServeOptions(issue, port=0)) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url)
            # Conditions are functions: Playwright evals a bare expression, which the page's CSP forbids.
            page.wait_for_function(
                "() => !!window.__view && window.__view.status === 'ready' && window.__view.pages.length > 0"
                " && document.querySelectorAll('img.page-image').length === window.__view.pages.length",
                timeout=180_000,
            )
            print(f"{issue.name}: {page.evaluate('window.__view.pages.length')} pages")
            time.sleep(1)
            times = []
            for round_ in range(args.rounds):
                old, new = (BEFORE, AFTER) if round_ % 2 == 0 else (AFTER, BEFORE)
                swaps = page.evaluate("window.__swaps.length")
                views = page.evaluate("window.__views.length")
                saved = time.time() * 1000
                issue.write_text(text.replace(old, new, 1) if round_ % 2 == 0 else text, encoding="utf-8")
                page.wait_for_function(f"() => window.__swaps.length > {swaps}", timeout=60_000)
                first = page.evaluate(f"window.__swaps[{swaps}]")
                elapsed = (first["at"] - saved) / 1000
                times.append(elapsed)
                seen = page.evaluate(f"window.__views.slice({views})")
                # When the browser heard that a rebuild started, and which pages it changes.
                started = next((v["at"] for v in seen if v["status"] == "building"), saved)
                told = next((v["at"] for v in seen if v["stale"]), started)
                print(
                    f"round {round_ + 1}: page {first['page']} in view {elapsed:.2f} s after the save "
                    f"(rebuild started {(started - saved) / 1000:.2f} s, changed pages known "
                    f"{(told - saved) / 1000:.2f} s)"
                )
                # Let the rest of the rebuild finish before the next save.
                page.wait_for_function(
                    "() => window.__view.status === 'ready' && window.__view.stale.length === 0",
                    timeout=60_000,
                )
                time.sleep(0.5)
            browser.close()
    print(
        f"median of {len(times)}: {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})"
    )


if __name__ == "__main__":
    main()
