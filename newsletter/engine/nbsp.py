"""A font's no-break space given a glyph of its own, so that the PDF's text says U+00A0.

A PDF's text is read back (copy, search, screen readers) through each font's ``ToUnicode``
map, from glyph to characters. Lato maps U+0020 and U+00A0 to one glyph, ``space``; a glyph
can map to one text only, so every no-break space the typography stage set in Lato (before
a French ``:``, in "page 6", "Mr Fedotov") reads back as an ordinary space, while Noto
Serif, which has a glyph ``uni00A0``, gives U+00A0.

``distinct_nbsp`` gives such a font, as WeasyPrint loads it, one more glyph: empty, with the
space's advance, and U+00A0 mapped to it. The page looks the same (both glyphs draw
nothing and advance alike) and the text reads as it was set. The font file on disk is not
changed; the subset embedded in the PDF carries the glyph, as it carries only the glyphs
the issue uses (the OFL's terms for fonts in documents; the font keeps its name).

Only the tables that number glyphs change (``loca``, ``hmtx``, ``maxp``, ``cmap``, ``post``
names); the outlines (``glyf``) are copied as they are, so it takes about 0.02 s a font.
"""

from __future__ import annotations

import functools
import hashlib
import io
from pathlib import Path

from fontTools.ttLib import TTFont

from ..issue.fonts import quiet_font_dates
from ..usercache import Store

NBSP, SPACE = 0x00A0, 0x0020


# Kept for the process, by the font's bytes: the tests and a long ``serve`` make many
# typesetters, each loading the same four Lato files (about 0.03 s a font). Bounded: a
# layout has a handful of fonts.
@functools.lru_cache(maxsize=16)
def distinct_nbsp(data: bytes) -> bytes:
    """``data`` (a TrueType font) with a glyph of its own for U+00A0, when the font maps it to
    its space's glyph; else ``data`` itself (a CFF font, or one that needs nothing)."""
    quiet_font_dates()
    try:
        # The dates as they were: a build must give the same bytes every time.
        font = TTFont(io.BytesIO(data), lazy=True, recalcTimestamp=False, recalcBBoxes=False)
        if "glyf" not in font or "loca" not in font:
            return data
        cmap = font.getBestCmap() or {}
        space = cmap.get(SPACE)
        if space is None or cmap.get(NBSP) != space:
            return data
        font["post"]  # loaded, so that its glyph names are written for the new order
        order = list(font.getGlyphOrder())
        name = "nbspace"
        while name in order:
            name += ".alt"
        loca = font["loca"]
        # An empty glyph: its outline starts and ends where the last glyph's ends.
        loca.locations = [*loca.locations, loca.locations[-1]]
        font["hmtx"].metrics[name] = font["hmtx"].metrics[space]
        for table in font["cmap"].tables:
            if table.isUnicode() and NBSP in table.cmap:
                table.cmap[NBSP] = name
        order.append(name)
        font.setGlyphOrder(order)
        font["maxp"].numGlyphs = len(order)
        for per_glyph in ("hdmx", "LTSH", "VDMX"):  # device tables per glyph: optional
            if per_glyph in font:
                del font[per_glyph]
        out = io.BytesIO()
        font.save(out, reorderTables=False)
        return out.getvalue()
    except Exception:  # noqa: BLE001 — a font fontTools cannot rewrite is used as it is
        return data


def font_key(data: bytes) -> bytes:
    """A font's bytes, by which ``patched_fonts`` names it."""
    return hashlib.blake2b(data, digest_size=16).digest()


def patched_fonts(folder: Path) -> dict[bytes, bytes | None]:
    """``distinct_nbsp`` of every font under ``folder``, by ``font_key`` of its bytes; None
    for a font it leaves as it is. A cold build computes this aside (``aside.py``) while the
    issue loads, and its fetcher takes the fonts from it (``ProjectFetcher``). What it made
    for a font before is kept in the user's cache (``usercache.py``; 0.05 s a font)."""
    found = _fonts(folder, make=True)
    assert found is not None
    return found


def kept_fonts(folder: Path) -> dict[bytes, bytes | None] | None:
    """``patched_fonts`` when the user's cache holds every font of ``folder`` (a few
    milliseconds: not worth a child); None when one is missing."""
    return _fonts(folder, make=False)


def _fonts(folder: Path, make: bool) -> dict[bytes, bytes | None] | None:
    store = Store.named("fonts")
    found: dict[bytes, bytes | None] = {}
    for path in sorted(folder.rglob("*.[ot]tf")):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        key = font_key(data)
        entry = Store.key(key)
        kept = store.read(entry) if store is not None else None
        if kept is not None and len(kept[1]) == 1 and isinstance(kept[0].get("mended"), bool):
            found[key] = kept[1][0] if kept[0]["mended"] else None
            continue
        if not make:
            return None
        patched = distinct_nbsp(data)
        # By value: ``distinct_nbsp`` keeps its results, so a font it left as it was comes
        # back as the bytes of the first call, equal to ``data`` but not ``data``.
        mended = patched != data
        found[key] = patched if mended else None
        if store is not None:
            store.write(entry, {"mended": mended}, [patched if mended else b""])
    return found
