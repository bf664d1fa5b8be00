"""Files written whole or not at all, and files read no further than a limit: the one home
of the package's file handling.

Writing: a temporary file beside its target (``TMP_PREFIX``, then the writing process's id),
synced, then renamed over the target (``atomic_write``, ``write_checked``, ``write_new``,
``staged_folder`` for a folder of outputs); a process killed with SIGKILL cannot clean up,
so the next build removes the temporaries of processes that are gone
(``remove_stale_temporaries``). The output folder is judged before anything is built
(``check_folder``, ``check_output_folder``), and the file system's failures while writing
become ``EnvironmentFault`` (``writing``).

Reading: a file judged by ``stat`` before it is opened, opened without blocking, judged
again on the opened file and read no further than the limit (``read_limited``,
``read_regular``): a FIFO cannot hang a command, nor ``/dev/zero`` fill its memory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import EnvironmentFault, IssueError, error

#: The name of every temporary file or folder the package makes beside its outputs, followed
#: by the id of the process that made it (``remove_stale_temporaries`` reads it).
TMP_PREFIX = ".newsletter-tmp-"

#: Largest issue or recipients file accepted. Issue 10 is about 60 KB.
MAX_BYTES = 1_000_000

#: Where an editor learns how an issue file is written.
FORMAT_HINT = "see docs/issue-format.md for how an issue file is written"

#: The hint of a failure to write in the output folder.
WRITE_HINT = "free some space or choose another folder with --out"


def temporary_prefix() -> str:
    """The prefix of this process's temporary names: ``.newsletter-tmp-<pid>-``."""
    return f"{TMP_PREFIX}{os.getpid()}-"


# -- The output folder ---------------------------------------------------------------------


def check_folder(folder: Path) -> None:
    """Raise ``EnvironmentFault`` now if ``folder`` could not be made or written to later.

    Nothing is created: a build that fails its checks leaves no trace.
    """
    hint = "name another folder with --out, or change its permissions"
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = (
            "the output folder is a file"
            if existing == folder
            else f"{existing} is a file, so the folder cannot be made"
        )
        raise EnvironmentFault(what, folder, "name a folder with --out")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = (
            "the output folder cannot be written to"
            if existing == folder
            else f"{existing} cannot be written to, so the folder cannot be made"
        )
        raise EnvironmentFault(what, folder, hint)


def prepare_folder(folder: Path) -> None:
    """Make the output folder; ``EnvironmentFault`` when it is a file or cannot be made."""
    check_folder(folder)
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)


def check_output_folder(folder: Path) -> None:
    """Make the output folder and make sure it can be written, before anything is built or
    sent: permissions (which root does not feel) are not the only reason it may not be (a
    read-only or immutable folder, ``/proc``, ``/sys``). The probe leaves nothing behind."""
    check_folder(folder)
    hint = "name another folder with --out, or make this one writable"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(prefix=f"{temporary_prefix()}probe-", dir=folder):
            pass
    except OSError as exc:
        raise EnvironmentFault(
            f"the output folder cannot be written to ({exc.strerror or exc})", folder, hint
        ) from None


@contextmanager
def writing(folder: Path) -> Iterator[None]:
    """Failures of the file system while writing (permissions, a full disk, /proc) as
    ``EnvironmentFault`` naming the file (else ``folder``)."""
    try:
        yield
    except OSError as exc:
        where = Path(exc.filename) if isinstance(exc.filename, str) else folder
        raise EnvironmentFault(f"cannot write: {exc.strerror or exc}", where, WRITE_HINT) from None


# -- Writing -------------------------------------------------------------------------------


def atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` whole or not at all (temporary file, fsync, rename)."""
    fd, tmp_name = tempfile.mkstemp(prefix=temporary_prefix(), dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_checked(
    write: Callable[[object], object],
    target: Path,
    check: Callable[[Path], None],
    keep: bool,
) -> int:
    """Write through a temporary file beside ``target`` (``write`` is given its handle),
    synced, then ``check`` it; move it over ``target`` when ``keep``, else remove it. The
    temporary file never stays. Returns the size written."""
    fd, tmp_name = tempfile.mkstemp(prefix=temporary_prefix(), suffix=target.suffix, dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); an edition is meant to be shared.
        tmp.chmod(0o644)
        check(tmp)
        size = tmp.stat().st_size
        if keep:
            os.replace(tmp, target)
            fsync_folder(target.parent)
        else:
            tmp.unlink()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` whole at ``path``, never over an existing file: ``FileExistsError``
    when the name is taken, however late it was taken; other ``OSError`` as they come."""
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(), dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        # A hard link fails when the name is taken: a file made meanwhile is never replaced.
        os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_unsynced(path: Path, data: bytes) -> None:
    """``data`` at ``path``, whole or not at all: written beside it under a temporary name,
    then renamed; the temporary file removed when writing fails (a full disk), and the error
    naming ``path``. No fsync: for files meant for reading, not keeping (a dry run's
    messages)."""
    tmp = path.with_name(f"{temporary_prefix()}{path.name}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise


@contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """A temporary folder beside ``final`` that takes its place, whole, when the block
    succeeds, and is removed when it fails: a folder of outputs (previews, differences) is
    never half-written."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=temporary_prefix(), dir=final.parent))
    except OSError as exc:
        raise EnvironmentFault(
            f"cannot write: {exc.strerror or exc}", final.parent, "choose another folder with --out"
        ) from None
    try:
        yield staging
        staging.chmod(0o755)
        old = None
        if final.exists():
            old = final.with_name(f"{temporary_prefix()}old-{final.name}")
            os.replace(final, old)
        os.replace(staging, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise EnvironmentFault(f"cannot write: {exc.strerror or exc}", final, WRITE_HINT) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temporaries(out_dir: Path) -> None:
    """A build killed with SIGKILL cannot clean up; the next build does.

    Temporary names carry the writing process's id, so a build running beside this one
    (another edition, another editor) keeps its own.
    """
    for stale in out_dir.glob(f"{TMP_PREFIX}*"):
        pid = stale.name[len(TMP_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or not _process_alive(int(pid)):
            stale.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, left by an earlier build in this process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- Reading -------------------------------------------------------------------------------


def read_limited(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of the text file at ``path``; ``IssueError`` (located at the file) when it is
    not a regular file, is larger than ``max_bytes`` or cannot be read.

    Every command reads an issue through here, and the file may be swapped under a running
    preview: a named pipe would block ``open()`` for good, and a symlink to ``/dev/zero``
    would be read until memory runs out. ``read_regular`` judges it before and after opening
    it and reads no further than the limit; this says why in an editor's words.
    """

    def refuse(message: str, hint: str, line: int | None = None) -> IssueError:
        return IssueError([error(path, message, line=line, col=line, hint=hint)])

    try:
        return read_regular(path, max_bytes)
    except NotRegular as exc:
        if exc.mode is not None:
            raise refuse(
                f"cannot read the file: it is {_kind(exc.mode)}, not a regular file",
                "put an ordinary text file in its place (a symlink to one is fine)",
            ) from None
        size = f" ({exc.size} bytes)" if exc.size is not None else ""  # else it grew while read
        raise refuse(
            f"the file is larger than the limit of {max_bytes} bytes{size}", FORMAT_HINT, 1
        ) from None
    except OSError as exc:
        raise refuse(
            f"cannot read the file: {exc.strerror or exc}", "check that the file exists and can be read"
        ) from None


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in an editor's words."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class NotRegular(OSError):
    """A path that is not a regular file (a FIFO, a device, a folder), or is too large."""

    def __init__(self, message: str, mode: int | None = None, size: int | None = None) -> None:
        super().__init__(message)
        #: The file's mode, when it is not a regular file.
        self.mode = mode
        #: The file's size, when it is over the limit (neither: it grew over it while read).
        self.size = size


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``: a regular file of at most ``max_bytes`` (``NotRegular`` else).

    Judged by ``stat`` before it is opened (a device is never opened), opened without
    blocking (a FIFO swapped in meanwhile cannot hang us), judged again on the opened file,
    and read no further than the limit."""

    def judged(info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(f"{path} is not a regular file", mode=info.st_mode)
        if info.st_size > max_bytes:
            raise NotRegular(
                f"{path} is {info.st_size} bytes, over the limit of {max_bytes}", size=info.st_size
            )

    judged(os.stat(path))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        judged(os.fstat(fd))
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise NotRegular(f"{path} grew over the limit of {max_bytes} bytes while read")
        return data
    finally:
        os.close(fd)
