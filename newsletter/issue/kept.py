"""An issue as loaded and as typeset, kept in the user's cache for the next process.

Reading and validating issue 10, then typesetting its text, takes a build about 0.07 s; a
build run again on the same issue (after a change to the layout, its images, or nothing)
would do it again for the same result. Both depend only on the issue file's text and on
the code, so they are kept under a digest of the text and of the path as given
(``usercache.Store`` adds the code: this package, the installed distributions, Python), and
taken back only for that very text: the text read to look them up is the text they were made from. Only an
issue without errors is kept; anything that cannot be read back is made again
(``usercache.Store``). The content rules still run on it at every build.

What is kept is a pickle, read only from the user's own cache folder (``usercache.py``).
"""

from __future__ import annotations

import pickle
from pathlib import Path

from ..errors import IssueError
from ..safeio import read_limited
from ..usercache import Store
from .load import Loaded
from .model import Issue

#: Version of what is kept; another version is not read.
KEPT_FORMAT = 1


def read_kept(source: Path) -> tuple[Loaded, Issue] | None:
    """The issue at ``source`` as loaded and as typeset, when the cache holds them for the
    text the file holds now; else None (the build loads and typesets it)."""
    store = Store.named("issues")
    if store is None:
        return None
    try:
        text = read_limited(source).decode("utf-8").removeprefix("\ufeff")
    except (IssueError, UnicodeDecodeError):
        return None  # the loader says what is wrong with the file
    kept = store.read(_key(source, text))
    if kept is None or len(kept[1]) != 1:
        return None
    try:
        loaded, typeset = pickle.loads(kept[1][0])
    except Exception:  # noqa: BLE001 - a spoiled entry: loaded again
        return None
    if not (isinstance(loaded, Loaded) and isinstance(typeset, Issue) and loaded.located.text == text):
        return None
    return loaded, typeset


def keep(source: Path, loaded: Loaded, typeset: Issue) -> None:
    """Keep ``loaded`` and ``typeset`` for the text they were made from."""
    store = Store.named("issues")
    if store is None:
        return
    try:
        data = pickle.dumps((loaded, typeset), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - something that does not pickle: not kept
        return
    store.write(_key(source, loaded.located.text), {}, [data])


def _key(source: Path, text: str) -> str:
    return Store.key(str(KEPT_FORMAT), str(source), text)
