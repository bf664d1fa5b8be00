"""The coordinator: load -> render -> typeset -> atomic write.

Nothing reaches ``out/`` until the laid-out document has passed its checks, and the PDF is
written to a temporary file beside its final name, synced, read back and only then moved
over the previous edition, so a failed or interrupted build never leaves a half-written PDF.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import weasyprint
from pypdf import PdfReader

from .errors import LayoutError
from .fonts import bundled_families, is_bundled, printable_characters
from .load import load_issue
from .model import Issue
from .render import Layout, render_html
from .typeset import PageRef, page_references, typeset

PROJECT = Path(__file__).resolve().parent.parent
#: The layout shipped with the project.
DEFAULT_LAYOUT = Layout(templates=PROJECT / "layouts", fonts=PROJECT / "fonts")
TMP_PREFIX = ".newsletter-tmp-"
#: A build that takes longer than this (seconds) is stopped: issue 10 takes about 1 s.
DEFAULT_TIME_LIMIT = 120.0


@dataclass(frozen=True)
class BuildResult:
    """What a build produced and how long each stage took (seconds)."""

    issue: Issue
    pdf: Path
    pages: int
    size: int
    references: list[PageRef] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def build_issue(
    source: Path,
    out_dir: Path,
    layout: Layout = DEFAULT_LAYOUT,
    write_html: bool = False,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> BuildResult:
    """Build the PDF of the issue at ``source`` into ``out_dir/<name>.pdf``.

    Raises ``ContentError`` for problems in the issue, ``LayoutError`` for problems in
    the laid-out pages and ``BuildTimeout`` past ``time_limit`` seconds of layout; in every
    case nothing is written.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    issue = load_issue(source, printable=printable_characters(layout.fonts))
    lap("load")
    html = render_html(issue, layout, image_base=source.parent)
    lap("render")
    roots = [source.parent, layout.templates, layout.fonts]
    document = typeset(html, base_dir=source.parent, roots=roots, source=source, time_limit=time_limit)
    lap("layout")

    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out_dir)
    target = out_dir / f"{source.stem}.pdf"
    if write_html:
        _atomic_write(target.with_suffix(".html"), html.encode("utf-8"))
    size = _write_pdf(document, target, len(document.pages), bundled_families(layout.fonts))
    lap("write")
    return BuildResult(issue, target, len(document.pages), size, page_references(document), timings)


def _write_pdf(
    document: weasyprint.Document, target: Path, expected_pages: int, families: frozenset[str]
) -> int:
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=".pdf", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            document.write_pdf(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); an edition is meant to be shared.
        tmp.chmod(0o644)
        reader = PdfReader(tmp)
        if len(reader.pages) != expected_pages:
            raise LayoutError([f"the written PDF has {len(reader.pages)} pages, the layout {expected_pages}"])
        foreign = sorted(
            {name for name in _font_names(reader) if not is_bundled(name, families)}
        )
        if foreign:
            raise LayoutError([f"the PDF uses fonts that are not bundled in fonts/: {', '.join(foreign)}"])
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def _font_names(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        fonts: Any = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object().get("/BaseFont", "")))
    return names


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=target.parent)
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


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_temporaries(out_dir: Path) -> None:
    """A build killed with SIGKILL cannot clean up; the next build does.

    Temporary names carry the writing process's id, so a build running beside this one
    (another variant, another editor) keeps its own.
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
