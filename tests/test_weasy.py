"""The adapter's stand-in for WeasyPrint's font subsetting with fontTools (used where HarfBuzz
has no subsetter): the same bytes as WeasyPrint's own, for every bundled font."""

from __future__ import annotations

import random
import types

import pytest

from newsletter.engine.weasy import WEASYPRINT_FONTTOOLS_SUBSET, fonttools_subset
from newsletter.shipped import DEFAULT_LAYOUT

FONTS = sorted(DEFAULT_LAYOUT.fonts.rglob("*.ttf"))


@pytest.mark.parametrize("path", FONTS, ids=[p.name for p in FONTS])
def test_the_fast_subset_gives_weasyprints_bytes(path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1543622400")
    data = path.read_bytes()  # type: ignore[attr-defined]
    picks = random.Random(path.name)  # type: ignore[attr-defined]
    for hinting, missing in ((False, {}), (True, {}), (False, {0x2603: 900})):
        gids = sorted(picks.sample(range(1, 700), 120))
        ours = types.SimpleNamespace(file_content=data, index=0, missing=missing, family="f")
        theirs = types.SimpleNamespace(file_content=data, index=0, missing=missing, family="f")
        fonttools_subset(ours, dict.fromkeys(gids), hinting)
        WEASYPRINT_FONTTOOLS_SUBSET(theirs, dict.fromkeys(gids), hinting)
        assert ours.file_content != data and ours.file_content == theirs.file_content, (hinting, missing)
