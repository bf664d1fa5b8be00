"""The user's cache folder: what a process may keep for the next one (compiled templates and
the labels they read, the images made for the PDF, parsed hyphenation patterns, the fonts
with their no-break space mended, the issue as loaded), each kept by a digest of everything
that made it: what it was made from (given by its user) and the code that made it (the same
for every entry: ``code_tag``). A result is the same with the cache, without it, or with a
spoiled one.

The cache is ``$XDG_CACHE_HOME/newsletter`` (else ``~/.cache/newsletter``), private to the
user; without one, nothing is kept and every process does the work again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import struct
from pathlib import Path
from typing import Any

from .safeio import atomic_write
from .verdicts import code_key


@functools.lru_cache(maxsize=1)
def code_tag() -> str | None:
    """The code this process runs, taken once (``verdicts.code_key``: this package's files,
    the installed distributions and their versions, Python's): the code it imported is the
    code that makes what it keeps. None when it cannot be told (then nothing is kept)."""
    key = code_key()
    return key[:32] if key is not None else None


def cache_folder(name: str) -> Path | None:
    """The folder ``name`` of the user's cache, made (mode 0700) if missing; None when it
    cannot be made, or is not a folder of the user's own that only they can write in (what it
    holds is loaded as code: another user must not be able to put anything there), or when a
    folder above it could be swapped by another user, or its root is not an absolute path (a
    relative ``$HOME`` would put the cache in whatever folder the command runs in)."""
    if not hasattr(os, "getuid"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    home = os.environ.get("HOME", "")
    if base and os.path.isabs(base):
        root = Path(base)
    elif home and os.path.isabs(home):
        root = Path(home) / ".cache"
    else:
        return None
    try:
        root = root.resolve()
        folder = root / "newsletter" / name
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for step in (folder.parent, folder):
            info = step.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
                return None
        for above in (root, *root.parents):
            info = above.lstat()
            # Another user who may write in a folder above could rename ours away and put
            # theirs in its place: only the user, root, or a sticky folder (/tmp) will do.
            swappable = info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX
            if info.st_uid not in (0, os.getuid()) or swappable:
                return None
    except (OSError, RuntimeError, ValueError):  # ValueError: a NUL in the path
        return None
    return folder


_MAGIC = b"newsletter-cache-1\n"
#: An entry larger than this is not one of ours: not read.
_MAX_ENTRY = 256 * 1024 * 1024
#: The cache is cut back to ``_KEEP_BYTES`` (oldest used first) when it outgrows ``_MAX_BYTES``.
_MAX_BYTES = 200 * 1024 * 1024
_KEEP_BYTES = 150 * 1024 * 1024


class Store:
    """Entries of a JSON header and byte blobs, one file each in a folder of the cache,
    named by their key (a digest of what made them). An entry that cannot be read is
    missing; one that cannot be written is not kept."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def named(cls, name: str) -> Store | None:
        """The store in the cache's folder ``name``; None without one (``cache_folder``), or
        when the code cannot be told (``code_tag``)."""
        folder = cache_folder(name)
        return cls(folder) if folder is not None and code_tag() is not None else None

    @staticmethod
    def key(*made_from: str | bytes) -> str:
        """The name of the entry made from ``made_from`` by this process's code."""
        digest = hashlib.sha256(f"{code_tag()}\n".encode())
        for part in made_from:
            data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.hexdigest()

    def read(self, key: str) -> tuple[dict[str, Any], list[bytes]] | None:
        path = self.folder / key
        try:
            with path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > _MAX_ENTRY or handle.read(len(_MAGIC)) != _MAGIC:
                    return None
                left = size - len(_MAGIC)
                blobs = []
                (count,) = struct.unpack(">I", handle.read(4))
                for _ in range(count):
                    (length,) = struct.unpack(">Q", handle.read(8))
                    left -= 8
                    if length > left:  # spoiled: never asked of the reader
                        return None
                    blob = handle.read(length)
                    if len(blob) != length:
                        return None
                    left -= length
                    blobs.append(blob)
            header = json.loads(blobs[0])
            os.utime(path)  # used now: kept longest when the cache is cut back
        except Exception:  # noqa: BLE001 - a spoiled entry (deep JSON, a bad count...) is missing
            return None
        return (header, blobs[1:]) if isinstance(header, dict) else None

    def write(self, key: str, header: dict[str, Any], blobs: list[bytes]) -> None:
        parts = [json.dumps(header).encode(), *blobs]
        body = b"".join(struct.pack(">Q", len(part)) + part for part in parts)
        try:
            atomic_write(self.folder / key, _MAGIC + struct.pack(">I", len(parts)) + body)
            self._cut_back()
        except OSError:
            pass

    def _cut_back(self) -> None:
        entries = []
        for entry in os.scandir(self.folder):
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                entries.append((info.st_mtime_ns, info.st_size, entry.path))
        total = sum(size for _, size, _ in entries)
        if total <= _MAX_BYTES:
            return
        for _, size, path in sorted(entries):
            with contextlib.suppress(OSError):
                os.unlink(path)
                total -= size
            if total <= _KEEP_BYTES:
                break
