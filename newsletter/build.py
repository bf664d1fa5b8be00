"""The coordinator: load -> content checks -> render -> typeset -> layout checks -> write ->
output checks -> atomic replace, for one edition (``variants.py``) or all three at once.

Nothing reaches ``out/`` until the laid-out document and the written file have passed their
checks: the PDF is written to a temporary file beside its final name, synced, read back and
checked, and only then moved over the previous edition, so a failed or interrupted build
never leaves a half-written PDF. ``check_issue`` runs the same pipeline and keeps nothing.
"""

from __future__ import annotations

import calendar
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from .check import Context, run_checks
from .defaults import DEFAULT_TIME_LIMIT
from .errors import EnvironmentFault, Finding, IssueError, error, has_errors
from .fonts import font_coverage
from .load import load_issue
from .model import Issue
from .render import Layout, render_html
from .typeset import BuildTimeout, PageRef, page_references, typeset
from .variants import VARIANTS, Variant, cmyk_images, finisher

PROJECT = Path(__file__).resolve().parent.parent
#: The layout shipped with the project.
DEFAULT_LAYOUT = Layout(templates=PROJECT / "layouts", fonts=PROJECT / "fonts")
TMP_PREFIX = ".newsletter-tmp-"


@dataclass(frozen=True)
class BuildResult:
    """What a build produced, what its checks found, and how long each stage took (s)."""

    issue: Issue
    variant: str
    pdf: Path | None
    pages: int
    size: int
    references: list[PageRef] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def output_path(source: Path, out_dir: Path, variant: str) -> Path:
    """``out/<issue name>-<edition>.pdf``."""
    return out_dir / f"{source.stem}-{variant}.pdf"


def build_issue(
    source: Path,
    out_dir: Path,
    layout: Layout = DEFAULT_LAYOUT,
    variant: str = "email",
    write_html: bool = False,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    strict: bool = False,
) -> BuildResult:
    """Build one edition of the issue at ``source`` into ``out_dir/<name>-<variant>.pdf``.

    Raises ``IssueError`` when a check finds an error (with ``strict``, a warning too);
    nothing is written then.
    """
    return _pipeline(source, layout, variant, out_dir, write_html, time_limit, strict)


def build_all(
    source: Path,
    out_dir: Path,
    layout: Layout = DEFAULT_LAYOUT,
    variants: tuple[str, ...] = tuple(VARIANTS),
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    strict: bool = False,
    workers: int | None = None,
    write_html: bool = False,
) -> dict[str, BuildResult | IssueError | EnvironmentFault]:
    """Build several editions in parallel processes; each edition's result or failure.

    Layout is single-threaded Python, so processes (not threads) are what use the cores.
    """
    with ProcessPoolExecutor(max_workers=workers or min(len(variants), os.cpu_count() or 1)) as pool:
        futures = {
            name: pool.submit(build_issue, source, out_dir, layout, name, write_html, time_limit, strict)
            for name in variants
        }
        results: dict[str, BuildResult | IssueError | EnvironmentFault] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except (IssueError, EnvironmentFault) as failed:
                results[name] = failed
    return results


def check_issue(
    source: Path,
    layout: Layout = DEFAULT_LAYOUT,
    variant: str = "email",
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    strict: bool = False,
) -> list[Finding]:
    """Every finding of the preflight of one edition of ``source``; writes nothing that stays."""
    try:
        return _pipeline(source, layout, variant, None, False, time_limit, strict).findings
    except IssueError as failed:
        return failed.findings


def _pipeline(
    source: Path,
    layout: Layout,
    variant_name: str,
    out_dir: Path | None,
    write_html: bool,
    time_limit: float | None,
    strict: bool,
) -> BuildResult:
    variant = VARIANTS[variant_name]
    with tempfile.TemporaryDirectory(prefix="newsletter-") as work:
        return _stages(source, layout, variant, out_dir, write_html, time_limit, strict, Path(work))


def _stages(
    source: Path,
    layout: Layout,
    variant: Variant,
    out_dir: Path | None,
    write_html: bool,
    time_limit: float | None,
    strict: bool,
    work: Path,
) -> BuildResult:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    loaded = load_issue(source)
    coverage = font_coverage(layout.fonts)
    context = Context(
        loaded,
        coverage.common,
        coverage.families,
        coverage.by_family,
        size_budget_mb=loaded.issue.size_budget_mb or variant.size_budget_mb,
        variant=variant.name,
    )
    findings = run_checks("content", context, strict)
    _stop_on_errors(findings)
    lap("load")

    images = cmyk_images(loaded.issue, source.parent, layout.templates) if variant.cmyk_images else {}
    stylesheets = (variant.stylesheet,) if variant.stylesheet else ()
    html = render_html(loaded.issue, layout, source.parent, stylesheets, images)
    lap("render")
    try:
        context.document = typeset(
            html, base_dir=source.parent, roots=[source.parent, layout.templates, layout.fonts],
            source=source, time_limit=time_limit, options=variant.render_options,
        )
    except IssueError as exc:
        raise IssueError(findings + exc.findings) from None
    except BuildTimeout as exc:
        raise IssueError(findings + [error(source, str(exc), rule="time-limit", hint="look for a very long text or table")]) from None
    except RecursionError:
        raise IssueError(
            findings + [error(source, "the layout nests too deeply to be laid out", rule="layout-depth",
                              hint="look for a block or emphasis nested in itself many times")]
        ) from None
    findings += run_checks("layout", context, strict)
    _stop_on_errors(findings)
    lap("layout")

    folder = out_dir if out_dir is not None else work
    prepare_folder(folder)
    _remove_stale_temporaries(folder)
    target = output_path(source, folder, variant.name)
    document = context.document
    options = variant.write_options(loaded.issue)
    finish = finisher(variant, loaded.issue)

    def check_output(pdf: Path) -> None:
        context.pdf = pdf
        findings.extend(run_checks("output", context, strict))
        _stop_on_errors(findings)

    with _fonts_dated(calendar.timegm(loaded.issue.date.timetuple())), _environment(folder):
        size = _write_pdf(
            lambda handle: document.write_pdf(handle, finisher=finish, **options),
            target, len(document.pages), check_output, keep=out_dir is not None,
        )
        if write_html and out_dir is not None:
            atomic_write(target.with_suffix(".html"), html.encode("utf-8"))
    lap("write")
    return BuildResult(
        loaded.issue, variant.name, target if out_dir is not None else None, len(document.pages), size,
        page_references(document), findings, timings,
    )


def check_folder(folder: Path) -> None:
    """Raise ``EnvironmentFault`` now if ``folder`` could not be made or written to later.

    Nothing is created: a build that fails its checks leaves no trace.
    """
    hint = "name another folder with --out, or change its permissions"
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "the output folder is a file" if existing == folder else f"{existing} is a file, so the folder cannot be made"
        raise EnvironmentFault(what, folder, "name a folder with --out")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "the output folder cannot be written to" if existing == folder else f"{existing} cannot be written to, so the folder cannot be made"
        raise EnvironmentFault(what, folder, hint)


def prepare_folder(folder: Path) -> None:
    """Make the output folder; ``EnvironmentFault`` when it is a file or cannot be made."""
    check_folder(folder)
    with _environment(folder):
        folder.mkdir(parents=True, exist_ok=True)


@contextmanager
def _environment(folder: Path) -> Iterator[None]:
    """Failures of the file system while writing (permissions, a full disk) as ``EnvironmentFault``."""
    try:
        yield
    except OSError as exc:
        where = Path(exc.filename) if isinstance(exc.filename, str) else folder
        reason = exc.strerror or str(exc)
        raise EnvironmentFault(f"cannot write: {reason}", where, "free some space or choose another folder with --out") from None


@contextmanager
def _fonts_dated(epoch: int) -> Iterator[None]:
    """Date the subset fonts' ``head.modified`` from the issue, not the clock.

    Where the system's HarfBuzz has no subsetter (``libharfbuzz-subset0`` missing),
    WeasyPrint subsets with fontTools, which stamps every subset font with the current
    time unless ``SOURCE_DATE_EPOCH`` is set: two builds a second apart then differ. The
    variable is set only while the PDF is written and restored after, so nothing else in
    the process sees it.
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def _stop_on_errors(findings: list[Finding]) -> None:
    if has_errors(findings):
        raise IssueError(findings)


def _write_pdf(
    write: Callable[[object], object],
    target: Path,
    expected_pages: int,
    check: Callable[[Path], None],
    keep: bool,
) -> int:
    """Write through a temporary file; check it; move it over ``target`` when ``keep``."""
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=".pdf", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); an edition is meant to be shared.
        tmp.chmod(0o644)
        with pikepdf.open(tmp) as written:
            pages = len(written.pages)
        if pages != expected_pages:
            raise RuntimeError(f"the written PDF has {pages} pages, the layout {expected_pages}")
        check(tmp)
        size = tmp.stat().st_size
        if keep:
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        else:
            tmp.unlink()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size


def atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` whole or not at all (temporary file, fsync, rename)."""
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
