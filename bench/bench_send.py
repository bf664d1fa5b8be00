"""Benchmark: the memory of a send as the posts grow, with issue 10 (English and French).

Each run is a whole ``newsletter send --dry-run`` in a child process, whose peak resident
memory is read from ``os.wait4`` (the child's own ``ru_maxrss``). The editions are built by a
first run and reused by the others (as a real send reuses them), so the figures are those of
composing and writing the messages; the first run's figure includes the build. Messages are
composed one at a time: memory should not grow with the posts. Target: 5000 posts under
250 MB.

``--baseline REV`` runs the same dry run with the code of a git revision (e.g. the one
before messages were composed one at a time) for a before/after figure.

Run: .venv/bin/python bench/bench_send.py [--posts 1000 5000] [--baseline REV]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ISSUE = Path("issues") / "issue-10.yaml"  # relative to the code measured, which is the working folder
TARGET_MB = 250


def recipients(path: Path, count: int) -> Path:
    """``count`` posts: one in five French, two groups, some with a second address and a Cc."""
    lines = [
        "sender: newsletter@diplomatie.example",
        "sender_name: Fight against human trafficking",
        "posts:",
    ]
    for i in range(count):
        lines += [f"  - name: Embassy {i:05d}", f"    addresses: [chancery{i:05d}@post.example]"]
        if i % 3 == 0:
            lines.append(f"    cc: [attache{i:05d}@post.example]")
        if i % 5 == 0:
            lines.append("    language: fr")
        lines.append(f"    groups: [{'South-East Europe' if i % 2 else 'Western Balkans'}]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def peak_of(argv: list[str], code: Path) -> tuple[float, float, int]:
    """Run ``argv`` with the package at ``code``; its peak RSS in MB, its time in s, its exit code."""
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        assert child.stderr is not None
        sys.stderr.write(child.stderr.read().decode(errors="replace")[-2000:])
    return usage.ru_maxrss / 1024, took, child.returncode  # Linux reports kilobytes


def dry_run(code: Path, posts: Path, out: Path) -> list[str]:
    """The command line of a dry run to ``out``."""
    return [
        sys.executable,
        "-m",
        "newsletter",
        "send",
        str(ISSUE),
        "--to",
        str(posts),
        "--out",
        str(out),
        "--dry-run",
    ]


def measure(label: str, code: Path, counts: list[int], work: Path) -> None:
    out = work / f"out-{label}"
    first, took, status = peak_of(dry_run(code, recipients(work / "posts-1.yaml", 1), out), code)
    print(f"{label}: 1 post, editions built: peak {first:5.0f} MB, {took:5.1f} s (exit {status})")
    for count in counts:
        peak, took, status = peak_of(
            dry_run(code, recipients(work / f"posts-{count}.yaml", count), out), code
        )
        written = list((out / "mail").rglob("*.eml"))
        size = sum(p.stat().st_size for p in written) / 1e6
        verdict = "ok" if peak < TARGET_MB else f"over the {TARGET_MB} MB target"
        print(
            f"{label}: {count:>5} posts: peak {peak:5.0f} MB, {took:5.1f} s, {len(written)} messages "
            f"({size:.0f} MB written; exit {status}; {verdict})"
        )
        shutil.rmtree(out / "mail")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--baseline", metavar="REV", help="also measure the code of this git revision")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the git repository of --baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-send-") as name:
        work = Path(name)
        measure("now", ROOT, args.posts, work)
        if args.baseline:
            old = work / "baseline"
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(args.repo), "archive", args.baseline], capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
            measure(f"at {args.baseline}", old, args.posts, work)


if __name__ == "__main__":
    main()
