"""One send at a time on a ledger, however it is reached: ``SendLock`` holds an ``flock``
for the whole run on a lock file named by the ledger's device and inode (a symlink or a hard
link to the ledger meets the same lock), which the kernel releases when the process ends,
however it ends.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import stat
import tempfile
from pathlib import Path
from typing import Self

from ..errors import EnvironmentFault
from .ledger import NEVER_REBUILT, LedgerError, create_ledger


class LedgerBusy(EnvironmentFault):
    """Another send holds the ledger."""


def lock_folder() -> Path:
    """The folder of the user's send locks: ``$XDG_RUNTIME_DIR/newsletter-locks``, else
    ``<temporary folder>/newsletter-locks-<uid>``.

    One folder for every ledger, so that every name of a ledger (a symlink, a hard link in
    another folder) meets the same lock file there.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return Path(runtime) / "newsletter-locks"
    return Path(tempfile.gettempdir()) / f"newsletter-locks-{os.getuid()}"


def _private_folder(folder: Path) -> None:
    """Make ``folder`` (mode 0700), or check that it is the user's own, that only they can
    write in: in a shared temporary folder, another user could otherwise hold or swap our locks."""
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        raise LedgerError(
            f"cannot make the folder of the send locks: {exc.strerror or exc}",
            folder,
            "free some space in the temporary folder, or set XDG_RUNTIME_DIR to a folder of yours",
        ) from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise LedgerError(
            "the folder of the send locks is not a folder of yours that only you can write in",
            folder,
            "remove it (it holds only lock files) and run the command again",
        )


class SendLock:
    """One send at a time on a ledger, however it is reached: an exclusive ``flock`` on a lock
    file named by the ledger's device and inode, in the user's folder of send locks
    (``lock_folder``).

    Keyed on the file, not on its name: the ledger, a symlink to it and a hard link to it meet
    the same lock. Not an ``flock`` on the ledger itself: SQLite owns that file's locks (POSIX
    locks, which this process closing any other descriptor of the file would drop). A ledger
    that does not exist yet is made first (whole, see ``ledger.create_ledger``), so that it has an inode.

    The lock file says who holds it (pid, since when, what, through which name); the lock is
    the kernel's, released when its holder ends, even by SIGKILL, so it is never left stuck.
    Its holder removes the file when done; a taker checks that the file it locked is still the
    one at that name, so a lock file removed meanwhile is never held by two.
    """

    def __init__(self, ledger: Path, what: str) -> None:
        self.ledger = ledger
        #: The lock file, once the ledger's inode is known.
        self.path: Path | None = None
        self._what = what
        self._fd: int | None = None

    def __enter__(self) -> Self:
        ledger = self.ledger
        if (ledger.exists() or ledger.is_symlink()) and not ledger.is_file():
            # Before making anything: nothing is left behind when we refuse.
            raise LedgerError("the ledger is not a file (a folder?)", ledger, NEVER_REBUILT)
        if not ledger.exists():
            create_ledger(ledger)
        folder = lock_folder()
        _private_folder(folder)
        for _ in range(10):
            device, inode = self._identity()
            self.path = folder / f"ledger-{device}-{inode}.lock"
            fd = self._take(self.path)
            if self._identity() == (device, inode):
                break
            # The ledger was replaced while we took its lock (restored from a backup): lock the new one.
            os.close(fd)
        else:  # pragma: no cover - a ledger replaced ten times in a row
            raise LedgerError("the ledger keeps being replaced: cannot lock it", ledger)
        since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid {os.getpid()}, since {since}, sending {self._what} (ledger {ledger})\n".encode(), 0
        )
        self._fd = fd
        return self

    def _identity(self) -> tuple[int, int]:
        """The ledger's device and inode, through every symlink."""
        try:
            info = os.stat(self.ledger)
        except OSError as exc:
            raise LedgerError(f"cannot read the ledger: {exc.strerror or exc}", self.ledger) from None
        return info.st_dev, info.st_ino

    def _take(self, path: Path) -> int:
        """An open descriptor of the lock file at ``path``, exclusively locked; ``LedgerBusy``
        naming the holder when another process holds it."""
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            except OSError as exc:
                raise LedgerError(
                    f"cannot make the ledger's lock file: {exc.strerror or exc}",
                    path,
                    "remove it and try again",
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = (
                    os.read(fd, 400).decode("utf-8", "replace").strip() or "a process that has just started"
                )
                os.close(fd)
                raise LedgerBusy(
                    f"another send is running on this ledger: {holder}",
                    self.ledger,
                    "wait for it to end (`newsletter status` shows where it stands), or stop that process; "
                    "then run this command again",
                ) from None
            try:
                here = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                here = None
            held = os.fstat(fd)
            if here is not None and (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino):
                return fd
            os.close(fd)  # removed by its last holder after we opened it: take the one there now

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            assert self.path is not None
            try:
                # Removed while held: whoever opened it meanwhile sees it gone and takes a new one.
                self.path.unlink(missing_ok=True)
            except OSError:
                pass  # left for the next holder, who takes it as it is
            finally:
                os.close(self._fd)  # closing releases the lock
                self._fd = None
