"""The characters the bundled fonts can print.

WeasyPrint falls back to a system font for any character its fonts lack, and the system's
fonts differ from machine to machine. Checking the issue's text against the characters that
every bundled family covers keeps "the same PDF on every machine" true and turns a missing
glyph into an error the editor can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from fontTools.ttLib import TTFont

#: The logger of fontTools' ``head`` table, which says when it reads a font's dates.
_HEAD_LOGGER = "fontTools.ttLib.tables._h_e_a_d"


class _LatoDates(logging.Filter):
    """Drops fontTools' "'created' timestamp seems very low; regarding as unix timestamp".

    Lato's files store ``head.created`` as a Unix time; fontTools reads it right and says so
    at every read (each subset font of a build, without HarfBuzz's subsetter: two dozen lines
    an editor cannot act on). Every other warning of that logger still passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "timestamp seems very low" not in str(record.msg)


def quiet_font_dates() -> None:
    """Silence fontTools' note about Lato's dates (once per process, however often called)."""
    logger = logging.getLogger(_HEAD_LOGGER)
    if not any(isinstance(f, _LatoDates) for f in logger.filters):
        logger.addFilter(_LatoDates())


#: Never printed as glyphs of their own.
_LAYOUT_CHARACTERS = frozenset(map(ord, "\n\t\u00ad\u200b"))


def printable_by_family(fonts_dir: Path) -> dict[str, frozenset[int]]:
    """Code points each bundled family (by its CSS name, e.g. ``Noto Serif``) can print."""
    covered: dict[str, set[int]] = {}
    for path in sorted(fonts_dir.rglob("*.[ot]tf")):
        with TTFont(path, lazy=True) as font:
            family = font["name"].getDebugName(16) or font["name"].getDebugName(1) or path.stem
            covered.setdefault(family, set()).update(font.getBestCmap() or {})
    return {family: frozenset(chars) | _LAYOUT_CHARACTERS for family, chars in covered.items()}


def is_bundled(pdf_font_name: str, families: frozenset[str]) -> bool:
    """Whether a PDF ``BaseFont`` such as ``ABCDEF+Noto-Serif-Bold`` is one of ``families``."""
    name = pdf_font_name.lstrip("/").split("+", 1)[-1].replace("-", "").replace(" ", "")
    return any(name.startswith(family) for family in families)


@dataclass(frozen=True)
class Coverage:
    """What the bundled fonts can print, read from the font files once per build."""

    by_family: dict[str, frozenset[int]]

    @cached_property
    def common(self) -> frozenset[int]:
        """Code points every family can print."""
        return frozenset.intersection(*self.by_family.values()) if self.by_family else _LAYOUT_CHARACTERS

    @cached_property
    def families(self) -> frozenset[str]:
        """Family names without spaces, as PDF font names carry them."""
        return frozenset(name.replace(" ", "") for name in self.by_family)


def font_coverage(fonts_dir: Path) -> Coverage:
    """The coverage of the fonts under ``fonts_dir``."""
    return Coverage(printable_by_family(fonts_dir))
