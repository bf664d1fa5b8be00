"""Work done aside: a function run in a forked child while this process goes on, its result
taken when needed. A build uses it for the checks whose findings are not needed until the
PDF is to be kept (the content rules while the issue is laid out, the layout rules while the
PDF is written): WeasyPrint's layout is single-threaded Python, and the machine's other
core would otherwise wait.

A fork copies this process as it is (the issue loaded, the pages laid out), so nothing is
sent to the child; the result comes back pickled through a pipe. It is a pure speed-up: where
forking is unsafe or fails, or the child dies or sends something unreadable, the function
runs here, when its result is asked for, and gives the same result. A process with other
threads never forks (a lock held by another thread at the fork stays held in the child for
good), so a test runner's or a server's process runs everything in line.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def single_threaded() -> bool:
    """Whether this process has one thread only, those Python did not start counted too (a
    library's pool, a test runner's): the condition for a safe ``fork``."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc (macOS): only what Python knows of
        return threading.active_count() == 1


class Aside(Generic[T]):
    """The result of ``func(*args)``, computed in a forked child or, failing that, here."""

    def __init__(self, func: Callable[..., T], args: tuple[object, ...], fork: bool = True) -> None:
        """Start ``func(*args)`` in a child when ``fork`` and it is safe; without ``fork``,
        compute it here now."""
        self._func, self._args = func, args
        self._pid: int | None = None
        self._fd: int | None = None
        self._chunks: list[bytes] = []
        self._done: tuple[T] | None = None
        if not fork:
            self._done = (func(*args),)
        elif sys.platform == "linux" and single_threaded():
            self._fork()

    def _fork(self) -> None:
        read, write = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered here is written twice
            stream.flush()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child: compute, send, and leave without running the parent's exits
            status = 1
            # Whatever fails here (an exception, an unpicklable result), the parent runs the
            # function again itself and meets it there.
            with contextlib.suppress(BaseException):
                os.close(read)
                payload = pickle.dumps(self._func(*self._args), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as out:
                    out.write(payload)
                status = 0
            os._exit(status)
        os.close(write)
        self._pid, self._fd = pid, read

    def ready(self) -> bool:
        """Whether the result can be taken without waiting (always, when computed here)."""
        if self._fd is None:
            return True
        readable, _, _ = select.select([self._fd], [], [], 0)
        return bool(readable) and self._read(block=False)

    def result(self) -> T:
        """The function's result: from the child (waited for), else computed here now."""
        if self._done is None:
            if self._fd is not None:
                self._read(block=True)
            if self._done is None:
                self._done = (self._func(*self._args),)
        return self._done[0]

    def _read(self, block: bool) -> bool:
        """Read what the child sent; True once it has all been read (and the child reaped)."""
        assert self._fd is not None
        while True:
            chunk = os.read(self._fd, 1 << 20)
            if chunk:
                self._chunks.append(chunk)
                if block or select.select([self._fd], [], [], 0)[0]:
                    continue
                return False
            break
        self._end(sent=True)
        return True

    def close(self) -> None:
        """Stop the child if it still runs, and reap it; the result, if not taken, is then
        computed here when asked for."""
        self._end(sent=False)

    def _end(self, sent: bool) -> None:
        """Reap the child: when it has ``sent`` all (its pipe closed), it is ending and is
        waited for; otherwise its result is not wanted and it is stopped first."""
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        assert self._pid is not None
        pid, status = os.waitpid(self._pid, 0 if sent else os.WNOHANG)
        if pid == 0:  # still running, its result not wanted: stop it
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            _, status = os.waitpid(self._pid, 0)
        if sent and os.waitstatus_to_exitcode(status) == 0 and self._chunks:
            try:
                self._done = (pickle.loads(b"".join(self._chunks)),)
            except Exception:  # noqa: BLE001 - unreadable: computed here instead
                self._done = None
        self._chunks = []

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit, the os module may be gone
            self.close()


def aside(func: Callable[..., T], *args: object) -> Aside[T]:
    """``func(*args)`` started in a forked child where that is safe; ``.result()`` gives it."""
    return Aside(func, args)
