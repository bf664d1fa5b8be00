"""The user's cache folder: what a process may keep for the next one (compiled templates),
never anything a result depends on. ``$XDG_CACHE_HOME/newsletter`` (else
``~/.cache/newsletter``), private to the user; without one, nothing is kept and every
process does the work again.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def cache_folder(name: str) -> Path | None:
    """The folder ``name`` of the user's cache, made (mode 0700) if missing; None when it
    cannot be made, or is not a folder of the user's own that only they can write in (what it
    holds is loaded as code: another user must not be able to put anything there)."""
    if not hasattr(os, "getuid"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    folder = root / "newsletter" / name
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for step in (folder.parent, folder):
            info = step.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
                return None
    except (OSError, RuntimeError):  # RuntimeError: no home folder to expand
        return None
    return folder
