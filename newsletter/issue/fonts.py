"""The characters the bundled fonts can print.

WeasyPrint falls back to a system font for any character its fonts lack, and the system's
fonts differ from machine to machine. Checking the issue's text against the characters that
every bundled family covers keeps "the same PDF on every machine" true and turns a missing
glyph into an error the editor can act on.
"""

from __future__ import annotations

import logging
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
    for path in _font_files(fonts_dir):
        with TTFont(path, lazy=True) as font:
            covered.setdefault(_family(font, path), set()).update(font.getBestCmap() or {})
    return {family: frozenset(chars) | _LAYOUT_CHARACTERS for family, chars in covered.items()}


def _font_files(fonts_dir: Path) -> list[Path]:
    return sorted(fonts_dir.rglob("*.[ot]tf"))


def _family(font: TTFont, path: Path) -> str:
    return str(font["name"].getDebugName(16) or font["name"].getDebugName(1) or path.stem)


def is_bundled(pdf_font_name: str, families: frozenset[str]) -> bool:
    """Whether a PDF ``BaseFont`` such as ``ABCDEF+Noto-Serif-Bold`` is one of ``families``."""
    name = pdf_font_name.lstrip("/").split("+", 1)[-1].replace("-", "").replace(" ", "")
    return any(name.startswith(family) for family in families)


class Coverage:
    """What the bundled fonts can print, read from the font files once per build, when a
    rule first asks (about 0.04 s: a build's checks that run aside read it there)."""

    def __init__(
        self, by_family: dict[str, frozenset[int]] | None = None, fonts_dir: Path | None = None
    ) -> None:
        self._given, self._fonts_dir = by_family, fonts_dir

    @cached_property
    def by_family(self) -> dict[str, frozenset[int]]:
        """Code points each family can print, by its CSS name."""
        if self._given is not None or self._fonts_dir is None:
            return self._given or {}
        return printable_by_family(self._fonts_dir)

    @cached_property
    def common(self) -> frozenset[int]:
        """Code points every family can print."""
        return frozenset.intersection(*self.by_family.values()) if self.by_family else _LAYOUT_CHARACTERS

    @cached_property
    def families(self) -> frozenset[str]:
        """Family names without spaces, as PDF font names carry them (from the fonts' names
        alone, when their characters were not needed)."""
        if "by_family" in self.__dict__ or self._fonts_dir is None:
            names = set(self.by_family)
        else:
            names = set()
            for path in _font_files(self._fonts_dir):
                with TTFont(path, lazy=True) as font:
                    names.add(_family(font, path))
        return frozenset(name.replace(" ", "") for name in names)


def font_coverage(fonts_dir: Path) -> Coverage:
    """The coverage of the fonts under ``fonts_dir`` (read when first asked)."""
    return Coverage(fonts_dir=fonts_dir)
