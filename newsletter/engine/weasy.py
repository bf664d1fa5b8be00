"""WeasyPrint, imported once for the package, without cffi's slow search for its libraries.

When WeasyPrint loads Pango, HarfBuzz and friends, it tries several names for each library
(``libpango-1.0-0``, ``pango-1.0``, ..., ``libpango-1.0.so.0``). cffi meets every name that
is not a file name with ``ctypes.util.find_library``, which runs ``ldconfig``, ``gcc`` and
``ld`` in subprocesses: about 70 of them, 0.15-0.2 s of every build and check. The names
that end the list are the libraries' own file names, which load directly. So the search is
off while WeasyPrint is imported; should a system need it (a library found only through
it), the import is made again with the search on.

The modules that use WeasyPrint (``typesetter.py``, ``laidout.py``) import this one before it
(``from . import weasy``, then ``# isort: split``), so that this is the first import of it
in the process.

It also keeps the font subsets fontTools makes where HarfBuzz has no subsetter (``_SubsetMemo``)
and silences fontTools' note on Lato's dates: a build without ``libharfbuzz-subset0`` prints
what a build with it prints, and writes again as fast once warm; ``fonts_dated`` dates those
subsets from the issue, not the clock.
"""

from __future__ import annotations

import ctypes.util
import functools
import hashlib
import io
import os
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..issue.fonts import quiet_font_dates
from .patterns import install as install_patterns
from .rasters import install as install_rasters


def _import() -> Any:
    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        import weasyprint

        return weasyprint
    except OSError:
        # A library only the search finds: forget the half-made import, then search.
        for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[name]
    finally:
        ctypes.util.find_library = search
    import weasyprint

    return weasyprint


def fonttools_subset(font: Any, to_unicode: Mapping[int, Any], hinting: bool) -> None:
    """WeasyPrint 70's ``Font._fonttools_subset``, the same bytes five times faster.

    WeasyPrint asks fontTools to drop the layout tables (GSUB, GPOS) it cannot use after
    subsetting, but fontTools decompiles them whole first (its check for fonts beyond 64k
    glyphs): 0.1 s of a Lato or Noto Serif font's 0.13 s. They are dropped here before it
    starts, with the legacy ``kern`` table that fontTools drops when GPOS is there, which is
    all its first step would do with them (``Subsetter._prune_pre_subset``); a test compares
    the bytes with WeasyPrint's own for every bundled font.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont, TTLibError

    options = subset.Options(
        retain_gids=True,
        passthrough_tables=True,
        ignore_missing_glyphs=True,
        hinting=hinting,
        desubroutinize=True,
        notdef_outline=bool(font.missing),
    )
    options.drop_tables += ["GSUB", "GPOS", "SVG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(gids=to_unicode)
    try:
        ttfont = TTFont(io.BytesIO(font.file_content), fontNumber=font.index)
        if "GPOS" in ttfont and "kern" in ttfont and not options.legacy_kern:
            del ttfont["kern"]
        for tag in ("GSUB", "GPOS", "SVG "):
            if tag in ttfont:
                del ttfont[tag]
        subsetter.subset(ttfont)
    except TTLibError as exception:
        _LOGGER.warning('Unable to subset "%s" with fontTools', font.family)
        _LOGGER.debug("Original exception:", exc_info=exception)
    else:
        optimized = io.BytesIO()
        ttfont.save(optimized)
        font.file_content = optimized.getvalue()


class _SubsetMemo:
    """fontTools' subsets, kept by what makes them, for WeasyPrint's ``Font._fonttools_subset``.

    Where HarfBuzz has no subsetter (``libharfbuzz-subset0`` missing), WeasyPrint subsets
    every font of every PDF it writes with fontTools (``fonttools_subset``: about 0.3 s of a
    build of issue 10, 1.3 s with WeasyPrint's own). The same fonts with the same glyphs give the same
    subset bytes (the date in them comes from ``SOURCE_DATE_EPOCH``, which the build sets),
    so a process that writes again (the live preview, ``check`` after ``build``, ``--variant
    all``'s workers, the tests) takes the subset it made before. Without the variable set the
    subset carries the clock's date, and nothing is kept. At most ``limit`` subsets are kept,
    the oldest used dropped first.
    """

    def __init__(self, subset: Callable[..., None], original: Callable[..., None], limit: int = 64) -> None:
        self._subset = subset
        #: The method this one replaced.
        self.original = original
        self._limit = limit
        self._kept: OrderedDict[bytes, bytes] = OrderedDict()

    def __get__(self, font: Any, owner: type | None = None) -> Any:
        # Bound as the method it replaces: ``font._fonttools_subset(to_unicode, hinting)``.
        return self if font is None else functools.partial(self, font)

    def __call__(self, font: Any, to_unicode: Mapping[int, Any], hinting: bool) -> None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch is None:
            self._subset(font, to_unicode, hinting)
            return
        key = hashlib.sha256(font.file_content)
        key.update(
            repr((font.index, sorted(to_unicode), bool(hinting), sorted(font.missing), epoch)).encode()
        )
        digest = key.digest()
        kept = self._kept.get(digest)
        if kept is not None:
            self._kept.move_to_end(digest)
            font.file_content = kept
            return
        self._subset(font, to_unicode, hinting)
        self._kept[digest] = font.file_content
        while len(self._kept) > self._limit:
            self._kept.popitem(last=False)


weasyprint = _import()
# Its images made for the edition's options, and the hyphenation patterns it parses, kept
# for the next process (``rasters.py``, ``patterns.py``).
install_rasters(weasyprint)
install_patterns()
# WeasyPrint subsets the fonts with fontTools where HarfBuzz has no subsetter.
quiet_font_dates()
_LOGGER = weasyprint.LOGGER
_font = weasyprint.pdf.fonts.Font
#: WeasyPrint's own subsetting with fontTools, which ``fonttools_subset`` stands in for.
WEASYPRINT_FONTTOOLS_SUBSET: Callable[..., None] = _font.__dict__["_fonttools_subset"]
if isinstance(WEASYPRINT_FONTTOOLS_SUBSET, _SubsetMemo):  # this module run again (a reload)
    WEASYPRINT_FONTTOOLS_SUBSET = WEASYPRINT_FONTTOOLS_SUBSET.original
else:
    _font._fonttools_subset = _SubsetMemo(fonttools_subset, WEASYPRINT_FONTTOOLS_SUBSET)

__all__ = ["weasyprint"]


@contextmanager
def fonts_dated(epoch: int) -> Iterator[None]:
    """Date the subset fonts' ``head.modified`` from the issue, not the clock.

    Where the system's HarfBuzz has no subsetter (``libharfbuzz-subset0`` missing),
    WeasyPrint subsets with fontTools, which stamps every subset font with the current
    time unless ``SOURCE_DATE_EPOCH`` is set: two builds a second apart then differ. The
    variable is set only while the PDF is written and restored after, so nothing else in
    the process sees it.
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
