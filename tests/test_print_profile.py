"""The print profile keeps its ink limit: Lab colours from white to black, saturated and dark,
separated through it by ArgyllCMS's own ``xicclu`` (the tool that made it), never put more
than the print edition's ``ink_limit`` on the paper."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from newsletter.editions import EDITIONS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.tool("argyll")
def test_the_print_profile_keeps_to_the_ink_limit() -> None:
    xicclu = shutil.which("xicclu")
    assert xicclu is not None
    press = EDITIONS["print"].press
    assert press is not None
    lab = [
        (lightness, a, b) for lightness in (0, 5, 10, 20, 35, 50) for a in (-60, 0, 60) for b in (-60, 0, 60)
    ]
    done = subprocess.run(
        [xicclu, "-fb", "-ir", "-pl", str(ROOT / "layouts" / press.profile)],
        input="".join(f"{v[0]} {v[1]} {v[2]}\n" for v in lab),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    totals = []
    for line in done.stdout.splitlines():
        if "[CMYK]" in line:
            inks = [float(v) for v in line.split("->")[-1].split("[")[0].split()]
            totals.append(sum(inks) * 100)
    assert len(totals) == len(lab)
    assert max(totals) <= press.ink_limit + 0.5, max(totals)
    assert max(totals) > press.ink_limit - 5, "black should reach the limit, not stay far under it"
