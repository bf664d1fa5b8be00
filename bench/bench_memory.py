"""Benchmark: memory. The peak of one build and of ``--variant all`` (every process of the
tree, by proportional set size: a page a forked child shares with its parent counts half in
each), and the memory of ``newsletter serve`` through many edits of the issue at a steady
pace, after each rebuild: a curve that must stay flat once the first rebuilds are done.

Each edit changes one word of the interview, there and back, as an editor saving often; the
bench waits for the preview's view to say the rebuild is done (``GET /view``), then reads
the server's memory.

Run: .venv/bin/python bench/bench_memory.py [--edits 200] [--interval 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from memory import tree_peak_kb, tree_rss_kb

ROOT = Path(__file__).resolve().parent.parent
ISSUE = ROOT / "issues" / "issue-10.yaml"
WORDS = ("this abject crime", "this heinous crime")


def _peak(argv: list[str]) -> int:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    peak = tree_peak_kb(proc)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return peak


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _view(port: int) -> dict[str, object]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/view", headers={"Host": f"127.0.0.1:{port}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.loads(answer.read()))


def _wait(port: int, after: int, timeout: float = 120) -> dict[str, object]:
    """The view once a rebuild after generation ``after`` is done (ready, nothing stale)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            view = _view(port)
        except OSError:
            time.sleep(0.1)
            continue
        generation = int(view["generation"])  # type: ignore[call-overload]
        if generation > after and view["status"] in ("ready", "error") and not view["stale"]:
            return view
        time.sleep(0.05)
    raise SystemExit("the preview did not finish a rebuild in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    newsletter = [sys.executable, "-m", "newsletter"]
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        out = Path(tmp)
        one = _peak([*newsletter, "build", str(ISSUE), "--out", str(out / "one")])
        every = _peak([*newsletter, "build", str(ISSUE), "--out", str(out / "all"), "--variant", "all"])
        print(f"peak of one build (email):     {one / 1024:6.0f} MB")
        print(f"peak of --variant all:         {every / 1024:6.0f} MB")

        folder = out / "issues"
        shutil.copytree(ISSUE.parent, folder)
        issue = folder / ISSUE.name
        text = issue.read_text(encoding="utf-8")
        port = _free_port()
        server = subprocess.Popen(
            [*newsletter, "serve", str(issue), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        try:
            view = _wait(port, -1, timeout=180)
            curve = [(0, tree_rss_kb(server.pid))]
            peak = curve[0][1]
            for n in range(1, args.edits + 1):
                started = time.monotonic()
                old, new = WORDS if n % 2 else WORDS[::-1]
                text = text.replace(old, new, 1)
                issue.write_text(text, encoding="utf-8")
                view = _wait(port, int(view["generation"]))  # type: ignore[call-overload]
                memory = tree_rss_kb(server.pid)
                peak = max(peak, memory)
                curve.append((n, memory))
                if n % 10 == 0 or n <= 5:
                    print(f"  after edit {n:3d}: {memory / 1024:6.0f} MB", flush=True)
                time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    settled = [kb for n, kb in curve if n >= 10]
    print(
        f"serve, {args.edits} edits every {args.interval:g} s: started at {curve[0][1] / 1024:.0f} MB, peak {peak / 1024:.0f} MB"
    )
    if settled:
        print(
            f"  from edit 10 on: min {min(settled) / 1024:.0f} MB, max {max(settled) / 1024:.0f} MB, "
            f"last {settled[-1] / 1024:.0f} MB (growth after edit 10: {(settled[-1] - settled[0]) / 1024:+.0f} MB)"
        )


if __name__ == "__main__":
    main()
