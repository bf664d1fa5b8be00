"""Stage 3: HTML -> laid-out ``weasyprint.Document``.

Everything WeasyPrint reads goes through ``ProjectFetcher``: ``data:`` URLs and files inside
the allowed folders (the issue's folder, ``layouts/``, ``fonts/``), nothing else. Page
numbers are ordinary text, settled by the layout passes (``paginate.py``); after layout,
``page_references`` reads what every page reference prints and where its target really lies,
and the ``page-reference`` rule of ``check/layout.py`` fails the build on any mismatch.
"""

from __future__ import annotations

import errno
import hashlib
import mimetypes
import os
import re
import shutil
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import weasy  # noqa: F401 - first: WeasyPrint imported without cffi's library search

# isort: split
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from ..errors import IssueError, error
from .laidout import anchor_pages, internal_links
from .nbsp import distinct_nbsp, font_key

FETCH_HINT = "only files in the issue's folder, layouts/ and fonts/ may be used"
#: Largest single file WeasyPrint may read (fonts are the largest, about 0.7 MB).
MAX_FETCH_BYTES = 20_000_000


class RefusedURL(FatalURLFetchingError):  # type: ignore[misc]  # WeasyPrint ships no types
    """WeasyPrint asked for a URL that the project does not allow; stops the layout."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{reason}: {url}")
        self.url = url
        self.reason = reason


class ProjectFetcher(URLFetcher):  # type: ignore[misc]
    """Reads ``data:`` URLs and files under ``roots``; refuses every other URL, and every
    attachment to the PDF whatever its URL.

    A file is opened one path component at a time from its root, never following a symlink
    (``O_NOFOLLOW``): a folder swapped for a symlink between the check of the resolved path
    and the opening is refused, not followed. The opened file itself is then checked: a
    regular file (not a FIFO or a device: opened without blocking), under the size limit,
    and, where ``/proc`` shows it, really under its root.
    """

    def __init__(
        self,
        roots: list[Path],
        max_bytes: int = MAX_FETCH_BYTES,
        fonts: Callable[[], Mapping[bytes, bytes | None]] | None = None,
    ) -> None:
        """``fonts``: the fonts with their no-break space mended beforehand
        (``nbsp.patched_fonts``); any other font is mended when read."""
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, fail_on_errors=True)
        self._roots = [root.resolve() for root in roots]
        self._max_bytes = max_bytes
        self._fonts = fonts

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Serve ``url`` if it is allowed, else raise ``RefusedURL`` (which stops the layout)."""
        if _for_attachment():
            # <a rel=attachment> and <link rel=attachment> are fetched while the PDF is
            # written, from this one WeasyPrint function: nothing may be embedded in the PDF.
            raise RefusedURL(url[:200], "files may not be attached to the PDF")
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            if len(url) > self._max_bytes * 4 // 3 + 100:  # base64 of a file at the size limit
                raise RefusedURL(url[:60] + "...", "data URL over the size limit")
            return super().fetch(url, headers)
        if scheme != "file":
            raise RefusedURL(url, "only project files may be read, never the network")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedURL(url, "only local project files may be read")
        path = self._resolve(Path(unquote(parts.path)), url)
        root = next((root for root in self._roots if path.is_relative_to(root)), None)
        if root is None:
            raise RefusedURL(url, "file outside the issue, layouts and fonts folders")
        body = self._read_under(root, path, url)
        if path.suffix.lower() in (".ttf", ".otf"):  # a glyph of its own for U+00A0 (nbsp.py)
            known = self._fonts() if self._fonts is not None else {}
            key = font_key(body)
            body = (known[key] or body) if key in known else distinct_nbsp(body)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body, {"Content-Type": mime})

    @staticmethod
    def _resolve(path: Path, url: str) -> Path:
        """The path with symlinks and ``..`` resolved (checked against the roots)."""
        try:
            resolved = path.resolve()
        except (RuntimeError, OSError):  # a symlink loop, as Python 3.11 and 3.12 say it
            raise RefusedURL(url, "cannot read file (a symlink loop)") from None
        if resolved.is_symlink():  # the same loop, left unresolved by Python 3.13
            raise RefusedURL(url, "cannot read file (a symlink loop)")
        return resolved

    def _read_under(self, root: Path, path: Path, url: str) -> bytes:
        """The bytes of ``path``, opened from ``root`` without following any symlink."""
        names = path.relative_to(root).parts
        if not names:
            raise RefusedURL(url, "cannot read file (a folder)")
        directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for name in names[:-1]:
                inner = os.open(
                    name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory
                )
                os.close(directory)
                directory = inner
            fd = os.open(
                names[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory
            )
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise RefusedURL(url, "a symlink took the place of a folder or file of the path") from None
            raise RefusedURL(url, f"cannot read file ({exc.strerror})") from None
        finally:
            os.close(directory)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise RefusedURL(url, "cannot read file (not a regular file)")
            if info.st_size > self._max_bytes:
                raise RefusedURL(url, f"file over the size limit of {self._max_bytes} bytes")
            try:
                opened = Path(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                opened = path  # no /proc: the walk above without symlinks is the guarantee
            if not opened.is_relative_to(root):
                raise RefusedURL(url, "file outside the issue, layouts and fonts folders")
            with os.fdopen(os.dup(fd), "rb") as handle:
                body = handle.read(self._max_bytes + 1)
        except OSError as exc:
            raise RefusedURL(url, f"cannot read file ({exc.strerror})") from None
        finally:
            os.close(fd)
        if len(body) > self._max_bytes:
            raise RefusedURL(url, f"file over the size limit of {self._max_bytes} bytes")
        return body


def _for_attachment() -> bool:
    """Whether WeasyPrint is fetching a URL to embed it in the PDF as an attachment."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "write_pdf_attachment" and str(
            frame.f_globals.get("__name__", "")
        ).startswith("weasyprint"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class BuildTimeout(BaseException):
    """The layout ran past its time limit (a pathological input, most likely).

    A ``BaseException``, like ``KeyboardInterrupt``: it is raised asynchronously from a
    signal handler, wherever the layout happens to be, and WeasyPrint's own
    ``except Exception`` clauses (around image and font loading) must not swallow it.
    """


@contextmanager
def layout_time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``BuildTimeout`` in this thread after ``seconds``.

    WeasyPrint's layout is Python code, so a SIGALRM handler interrupts it between
    bytecodes. Signals reach only the main thread: elsewhere no limit is set.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        # An exception raised while Python runs a finalizer (a ``__del__`` of WeasyPrint's)
        # is printed and dropped, not propagated: wait for the timer's next tick instead.
        while frame is not None:
            if frame.f_code.co_name == "__del__":
                return
            frame = frame.f_back
        raise BuildTimeout(f"the layout took longer than {seconds:g} s and was stopped")

    previous = signal.signal(signal.SIGALRM, expire)
    # Fire again every 50 ms until cleared, should one tick fall in a finalizer.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class PageRef:
    """A page reference as laid out: where it is, what it points at, what it prints."""

    page: int
    target: str
    printed: str
    target_page: int | None

    @property
    def printed_number(self) -> int | None:
        """The number at the end of the printed text, if any."""
        match = re.search(r"(\d+)\s*$", self.printed)
        return int(match.group(1)) if match else None

    @property
    def ok(self) -> bool:
        """Whether the printed number is the target's page."""
        return self.target_page is not None and self.printed_number == self.target_page


def typeset(
    html: str,
    base_dir: Path,
    roots: list[Path],
    source: Path,
    time_limit: float | None = None,
    options: dict[str, Any] | None = None,
) -> weasyprint.Document:
    """Lay out ``html`` as one document; its page references are checked by ``page_references``.

    ``roots`` are the folders WeasyPrint may read; ``source`` names the issue file in errors.
    Raises ``IssueError`` for a refused URL or an attachment and ``BuildTimeout`` when the
    layout runs past ``time_limit`` seconds. ``options`` go to ``render()``: image options
    (``optimize_images``, ``jpeg_quality``, ``dpi``) only take effect there.
    """
    with layout_time_limit(time_limit):
        document = Typesetter(base_dir, roots, source, options).lay_out(html)
    refuse_attachments(document, source)
    return document


class Typesetter:
    """Lays out documents, or the parts of one, with one URL fetcher, one
    ``FontConfiguration`` and the stylesheets parsed once: what a build (or a session's
    builds) would otherwise do again for every part.

    A part is a standalone document that starts on a new page (see issue.html.j2); laid out
    alone, it knows only what it is told: its first page number and side. Laid out this way
    and put together with ``Document.copy``, the parts print the bytes of the whole
    document (tested for every edition).
    """

    def __init__(
        self,
        base_dir: Path,
        roots: list[Path],
        source: Path,
        options: dict[str, Any] | None = None,
        layout_dirs: tuple[Path, ...] = (),
        fonts: Callable[[], Mapping[bytes, bytes | None]] | None = None,
    ) -> None:
        """``fonts``: see ``ProjectFetcher``."""
        self._base_url = base_dir.resolve().as_uri() + "/"
        self._fetcher = ProjectFetcher(roots, fonts=fonts)
        self._source = source
        self._options = dict(options or {})
        self._layout_dirs = layout_dirs
        self._font_config = FontConfiguration()
        self._profiles: dict[str, Any] = {}
        self._digest = ""
        self._sheets: list[weasyprint.CSS] = []
        self._starts: dict[int, weasyprint.CSS] = {}
        self._files: dict[Path, tuple[tuple[int, int, int], bytes]] = {}
        #: The temporary folders WeasyPrint wrote fonts to, for ``close``.
        self._folders: set[Path] = set()

    def close(self) -> None:
        """Remove the temporary folders the font configurations wrote the fonts to (5 MB a
        build). WeasyPrint removes one in its finalizer, which runs when the configuration
        is freed, but not at the interpreter's exit: every build process left one in /tmp.
        Documents laid out with this typesetter must not be written afterwards."""
        self._remember_folder()
        for folder in self._folders:
            shutil.rmtree(folder, ignore_errors=True)
        self._folders.clear()

    def _remember_folder(self) -> None:
        folder = getattr(self._font_config, "_folder", None)  # WeasyPrint's, made on the first font
        if folder is not None:
            self._folders.add(Path(folder))

    def prepare(self, stylesheets: tuple[Path, ...], css: str) -> str:
        """Parse the stylesheets for the parts (the layout's files, then the issue's rules),
        again only when something they depend on changed, and return the digest of all that
        a part's layout depends on besides its HTML and first page: the stylesheets' bytes,
        every file of the layout's folders (fonts, colour profiles), the render options and
        the versions of WeasyPrint and Pango. Parts laid out under the same digest, HTML and
        first page are laid out the same.

        The stylesheets are parsed from the bytes hashed, so that a file saved meanwhile
        cannot be laid out under the old digest. Raises ``IssueError`` for a refused URL.
        """
        texts = [(sheet, _read(sheet)) for sheet in stylesheets]
        digest = hashlib.sha256(f"{_versions()}|{sorted(self._options.items())}|".encode())
        for sheet, data in texts:
            digest.update(sheet.name.encode() + b"\0" + data + b"\0")
        digest.update(css.encode("utf-8", "surrogatepass") + b"\0")
        for folder in self._layout_dirs:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    digest.update(str(path.relative_to(folder)).encode() + b"\0" + self._file_digest(path))
        key = digest.hexdigest()
        if key != self._digest:
            # A font or a colour profile is read once per FontConfiguration: start afresh
            # (parts laid out before keep theirs).
            font_config, profiles = FontConfiguration(), dict[str, Any]()
            shared = {"url_fetcher": self._fetcher, "font_config": font_config, "color_profiles": profiles}
            with self._refused():
                sheets = [
                    weasyprint.CSS(
                        string=data.decode("utf-8-sig", "replace"),
                        base_url=sheet.resolve().as_uri(),
                        **shared,
                    )
                    for sheet, data in texts
                ]
                sheets.append(weasyprint.CSS(string=css, base_url=self._base_url, **shared))
            for colour in profiles.values():
                _save_profile(colour)
            self._font_config, self._profiles, self._sheets, self._digest = font_config, profiles, sheets, key
            self._remember_folder()
        return key

    def _file_digest(self, path: Path) -> bytes:
        """The digest of a file of the layout, read again only when its size or time changed
        (the fonts are megabytes, read on every build otherwise)."""
        try:
            info = path.stat()
        except OSError:
            return b""
        stamp = (info.st_size, info.st_mtime_ns, info.st_ino)
        known = self._files.get(path)
        if known is None or known[0] != stamp:
            known = (stamp, hashlib.blake2b(_read(path), digest_size=16).digest())
            self._files[path] = known
        return known[1]

    def lay_out(self, html: str, start: int = 1, part: bool = False) -> weasyprint.Document:
        """Lay out one document: a whole one (with its own stylesheets), or a ``part`` (with
        the stylesheets of the last ``prepare``) whose first page is ``start``.

        Raises ``IssueError`` for a refused URL.
        """
        sheets = list(self._sheets) if part else []
        if start > 1:
            sheets.append(self._start(start))
        with self._refused():
            document = weasyprint.HTML(
                string=html, base_url=self._base_url, url_fetcher=self._fetcher
            ).render(
                font_config=self._font_config,
                color_profiles=self._profiles,
                stylesheets=sheets,
                **self._options,
            )
        # A whole document reads its own stylesheets, and their profiles, as it is laid out.
        for colour in self._profiles.values():
            _save_profile(colour)
        self._remember_folder()
        return document

    @contextmanager
    def _refused(self) -> Iterator[None]:
        try:
            yield
        except RefusedURL as exc:
            raise IssueError(
                [
                    error(
                        self._source,
                        f"refused to load {exc.url!r}: {exc.reason}",
                        rule="fetch",
                        hint=FETCH_HINT,
                    )
                ]
            ) from None

    def _start(self, page: int) -> weasyprint.CSS:
        """What a part starting on ``page`` must know: its number, and its side (recto for
        odd pages, as the document's first page, verso for even ones)."""
        if page not in self._starts:
            side = "recto" if page % 2 else "verso"
            self._starts[page] = weasyprint.CSS(
                string=f"html {{ break-before: {side} }} @page :nth(1) {{ counter-reset: page {page} }}"
            )
        return self._starts[page]


class _SavedProfile:
    """An ICC profile whose bytes are taken once, when it is read.

    LittleCMS writes a profile read from a file with its tags as they were the first time,
    and re-encodes them the second (issue 10's print profile grows from 120 176 to 120 332
    bytes): a session writing its kept parts again would embed another output intent than
    the one its photos were converted with, and than a cold build's.
    """

    def __init__(self, profile: Any) -> None:
        self._profile = profile
        self._bytes: bytes = bytes(profile.tobytes())

    def tobytes(self) -> bytes:
        """The profile's bytes, the same at every write."""
        return self._bytes

    def __getattr__(self, name: str) -> Any:
        if name == "_profile":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self._profile, name)


def _save_profile(colour: Any) -> None:
    """Make WeasyPrint's colour profile (``@color-profile``) give the same bytes each write."""
    inner = getattr(colour, "_profile", None)
    if inner is not None and not isinstance(inner, _SavedProfile):
        colour._profile = _SavedProfile(inner)


def _versions() -> str:
    """The versions of what lays out and shapes the text."""
    from weasyprint.text.ffi import pango

    return f"weasyprint {weasyprint.__version__}, pango {pango.pango_version()}"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""  # WeasyPrint reports the file it cannot read


def refuse_attachments(document: weasyprint.Document, source: Path) -> None:
    """Raise ``IssueError`` if the laid-out document would embed a file in the PDF.

    ``<link rel=attachment>`` and ``<a rel=attachment>`` would embed a file when the PDF is
    written; no issue asks for one, so both are refused here, before anything is written.
    """
    attached = [target for _, link_type, target in _links(document) if link_type == "attachment"]
    if document.metadata.attachments or attached:
        count = len(document.metadata.attachments) + len(attached)
        raise IssueError(
            [
                error(
                    source,
                    f"files may not be attached to the PDF ({count} attachment links)",
                    rule="fetch",
                    hint=FETCH_HINT,
                )
            ]
        )


def _links(document: weasyprint.Document) -> list[tuple[int, str, str]]:
    """Every link of the laid-out pages: (page, type, target)."""
    return [
        (number, link_type, str(target))
        for number, page in enumerate(document.pages, start=1)
        for link_type, target, _rect, _box in page.links
    ]


def describe(ref: PageRef) -> str:
    """What is wrong with a page reference, in words."""
    printed = " ".join(ref.printed.split())  # its no-break space shown as a space
    if ref.target_page is None:
        return f"reference to #{ref.target} points at an id that does not exist"
    if ref.ok:
        return f"reference to #{ref.target} prints {printed!r}, its target's page"
    return f"reference to #{ref.target} prints {printed!r} but its target is on page {ref.target_page}"


def page_references(document: weasyprint.Document) -> list[PageRef]:
    """Every internal link that prints a page number, with what it prints and where it points."""
    anchors = anchor_pages(document)
    return [
        PageRef(link.page, link.target, link.text, anchors.get(link.target))
        for link in internal_links(document)
        if "pageref" in link.classes
    ]
