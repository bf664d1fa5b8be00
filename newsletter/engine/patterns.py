"""Pyphen's hyphenation patterns, parsed once and kept in the user's cache for the next process.

WeasyPrint hyphenates with Pyphen, which parses a language's patterns from their ``.dic``
file the first time a process asks for them: 0.07 s for ``en_US``, as much for ``en_GB``
(an English issue's running footers are measured with the patterns of the html element's
``lang``). What the parse makes depends only on the file and the code, so it is kept by the
file's path, size and time (``usercache.Store`` adds the code); an entry that cannot be
read back as patterns is parsed again.

``install`` puts it in place once, when ``weasy.py`` imports WeasyPrint.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from ..usercache import Store


def install() -> None:
    """Make Pyphen read the patterns it parsed before from the user's cache (see the module)."""
    import pyphen

    if getattr(pyphen.HyphDict, "_newsletter_kept", False):  # weasy.py run again (a reload)
        return
    made = pyphen.HyphDict

    class KeptPatterns(made):  # type: ignore[misc, valid-type]
        """``HyphDict(path)``: the patterns kept in the cache, else parsed (and kept)."""

        _newsletter_kept = True

        def __new__(cls, path: Path) -> Any:
            kept = _read(path, made)
            # Not an instance of this class: Python does not call ``__init__`` on it.
            return kept if kept is not None else super().__new__(cls)

        def __init__(self, path: Path) -> None:
            super().__init__(path)
            _write(path, dict(vars(self)))

    pyphen.HyphDict = KeptPatterns


def _key(path: Path) -> tuple[Store, str] | None:
    store = Store.named("hyphenation")
    if store is None:
        return None
    try:
        info = Path(path).stat()
    except OSError:
        return None
    return store, Store.key(str(path), f"{info.st_size}|{info.st_mtime_ns}")


def _read(path: Path, made: type) -> Any:
    where = _key(path)
    kept = where[0].read(where[1]) if where is not None else None
    if kept is None or len(kept[1]) != 1:
        return None
    try:
        state = pickle.loads(kept[1][0])
    except Exception:  # noqa: BLE001 - a spoiled entry: parsed again
        return None
    if not isinstance(state, dict) or not isinstance(state.get("patterns"), dict) or "maxlen" not in state:
        return None
    patterns: Any = object.__new__(made)
    vars(patterns).update(state)
    return patterns


def _write(path: Path, state: dict[str, Any]) -> None:
    where = _key(path)
    if where is not None:
        where[0].write(where[1], {}, [pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)])
