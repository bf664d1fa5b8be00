"""Peak memory of a running process and all its descendants, read from /proc (Linux): what
the benches report as a command's memory."""

from __future__ import annotations

import os
import subprocess
import time


def tree_rss_kb(root: int) -> int:
    """Memory of a process and all its descendants now, in KB: their proportional set size
    (a page shared by a forked child and its parent counted half in each, not twice)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/smaps_rollup", encoding="ascii") as handle:
                pss = next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = pss
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def tree_peak_kb(proc: subprocess.Popen[bytes], every: float = 0.02) -> int:
    """The highest ``tree_rss_kb`` of ``proc`` seen until it ends (it is waited for)."""
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(every)
    return peak
