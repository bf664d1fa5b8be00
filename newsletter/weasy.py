"""WeasyPrint, imported once for the package, without cffi's slow search for its libraries.

When WeasyPrint loads Pango, HarfBuzz and friends, it tries several names for each library
(``libpango-1.0-0``, ``pango-1.0``, ..., ``libpango-1.0.so.0``). cffi meets every name that
is not a file name with ``ctypes.util.find_library``, which runs ``ldconfig``, ``gcc`` and
``ld`` in subprocesses: about 70 of them, 0.15-0.2 s of every build and check. The names
that end the list are the libraries' own file names, which load directly. So the search is
off while WeasyPrint is imported; should a system need it (a library found only through
it), the import is made again with the search on.

The modules that use WeasyPrint (``typeset.py``, ``laidout.py``) import this one before it
(``from . import weasy``, then ``# isort: split``), so that this is the first import of it
in the process.
"""

from __future__ import annotations

import ctypes.util
import sys
from typing import Any


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


weasyprint = _import()

__all__ = ["weasyprint"]
