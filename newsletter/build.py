"""The coordinator: load -> content checks -> render -> typeset -> layout checks -> write ->
output checks -> atomic replace, for one edition (``editions.py``) or all three at once.

Nothing reaches ``out/`` until the laid-out document and the written file have passed their
checks: the PDF is written to a temporary file beside its final name, synced, read back and
checked, and only then moved over the previous edition, so a failed or interrupted build
never leaves a half-written PDF. ``check_issue`` runs the same pipeline and keeps nothing.
"""

from __future__ import annotations

import calendar
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pikepdf

from .aside import Aside, aside, single_threaded
from .check import SIBLING_RULES, ContentContext, LayoutContext, OutputContext, run_checks, run_rules
from .check.conformance import Judge, validator_installed
from .defaults import DEFAULT_TIME_LIMIT
from .editions import EDITION_NAMES, EDITIONS, Edition, output_path
from .engine.fitbounds import bounds
from .engine.laidout import fingerprint, images_restored
from .engine.laidout import pages as laid_out_pages
from .engine.nbsp import kept_fonts, patched_fonts
from .engine.pagefill import PageFill
from .engine.paginate import Memo, Paginated, memo_path, paginate, read_memo, write_memo
from .engine.render import RenderCache, Rendered, image_urls, issue_renderer, labels_for
from .engine.typesetter import (
    FETCH_HINT,
    BuildTimeout,
    PageRef,
    RefusedURL,
    Typesetter,
    layout_time_limit,
    page_references,
    refuse_attachments,
)
from .engine.weasy import fonts_dated
from .errors import EnvironmentFault, Finding, IssueError, error, has_errors
from .issue.fonts import Coverage, font_coverage
from .issue.kept import keep, read_kept
from .issue.load import FormatErrors, Loaded, format_path, load_issue, load_kept
from .issue.model import Issue
from .issue.typography import typeset_issue
from .press.finishing import CMYK_PROFILE, cmyk_images, finisher
from .safeio import atomic_write, prepare_folder, remove_stale_temporaries, write_checked, writing
from .shipped import DEFAULT_LAYOUT, Layout
from .verdicts import Inputs, inputs_key, record_path, recorded_check, write_record


@dataclass(frozen=True)
class BuildResult:
    """What a build produced, what its checks found, and how long each stage took (s)."""

    issue: Issue
    edition: str
    pdf: Path | None
    pages: int
    size: int
    references: list[PageRef] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: How many passes the page numbers took to settle (each pass lays out only the parts
    #: not seen before).
    passes: int = 1
    #: How many pages were laid out (the others were kept from an earlier build).
    laid_out: int = 0
    #: The page of every id, as laid out.
    page_map: dict[str, int] = field(default_factory=dict)
    #: The HTML the PDF was made from.
    html: str = ""
    #: What each page shows, as a digest: a page whose digest changed is a changed page.
    fingerprints: tuple[str, ...] = ()
    #: How full each page is, and the sections on it (measured on the laid-out pages).
    fills: tuple[PageFill, ...] = ()


#: Writes the pages numbered (1-based) of a laid-out document alone, as PDF bytes.
Proof = Callable[[Sequence[int]], bytes]


def _proof(document: Any, edition: Edition) -> Proof:
    """A PDF of some pages of ``document`` alone, written before the whole (the preview
    shows a changed page before the PDF of every page is written): with the edition's image
    settings, without its tags and finishing, which change no pixel of an edition without a
    press. The document's images are put back after, so the whole PDF is the same bytes."""

    def proof(numbers: Sequence[int]) -> bytes:
        pages = [document.pages[n - 1] for n in numbers]
        with images_restored(document):
            data: bytes = document.copy(pages).write_pdf(**edition.render_options)
        return data

    return proof


@dataclass
class Warm:
    """What a warm process keeps from one build of an edition to the next: what the fonts
    can print (read once), the layout engine (fonts and stylesheets loaded once) and the
    parts laid out (``paginate.Memo``). Filled in by the first build."""

    fonts: Coverage | None = None
    #: The fonts' folder as it was when ``fonts`` was read (names, sizes, times).
    fonts_seen: tuple[tuple[str, int, int], ...] = ()
    typesetter: Typesetter | None = None
    memo: Memo = field(default_factory=Memo)
    #: The issue files read, with the text they were read from.
    loaded: dict[Path, Loaded] = field(default_factory=dict)
    #: The photos converted to CMYK (a print edition), by the digest of image and profile.
    cmyk: dict[bytes, str] = field(default_factory=dict)
    #: What the content rules measured on files (``per_file``: images decoded once).
    files: dict[tuple[str, bytes], Any] = field(default_factory=dict)
    #: What the layout rules found on pages kept from an earlier build (``per_page``).
    measured: dict[tuple[str, Any], Any] = field(default_factory=dict)
    #: Texts typeset, templates compiled, label tables read.
    typeset: dict[tuple[str, str], str] = field(default_factory=dict)
    rendering: RenderCache = field(default_factory=RenderCache)

    def close(self) -> None:
        """Remove the layout engine's temporary files (its fonts); what was laid out with it
        must not be written afterwards."""
        if self.typesetter is not None:
            self.typesetter.close()


@dataclass(frozen=True)
class BuildOptions:
    """How to build: which edition, with which layout, where to, how strictly."""

    edition: str = "email"
    layout: Layout = DEFAULT_LAYOUT
    #: The folder the PDF goes to; None to check only (the PDF is written, checked and removed).
    out_dir: Path | None = None
    #: Also write the HTML the PDF is made from, beside it.
    write_html: bool = False
    #: Seconds the layout may take; None for no limit.
    time_limit: float | None = DEFAULT_TIME_LIMIT
    #: Warnings count as errors.
    strict: bool = False
    #: What a warm process keeps between builds (``Session``); None: a cold build, which
    #: reads the parts' outcomes from the file beside the PDF (and writes them there).
    warm: Warm | None = None
    #: Told the fingerprint of every page once the layout is checked, before the PDF is
    #: written, with a way to write some pages alone first (``Proof``; None for an edition
    #: whose finishing changes what a page shows): the live preview shows changed pages first.
    on_layout: Callable[[tuple[str, ...], Proof | None], None] | None = None
    #: Print a colour bar in the slug of an edition for the press (others have no slug).
    colour_bar: bool = False
    #: When checking only (no ``out_dir``): the output folder whose memo of the parts may be
    #: read, never written (a check after a build lays out each page once).
    memo_from: Path | None = None
    #: Run the checks (and the fonts' mending) in forked children beside the layout and the
    #: writing, where forking is safe (``aside.py``). ``build_all`` turns it off: its editions'
    #: processes already use every core, and the children only slowed them (5.0 s against
    #: 5.7 s for issue 10's three editions) and added to the memory.
    aside: bool = True


def build_issue(
    source: Path,
    out_dir: Path,
    layout: Layout = DEFAULT_LAYOUT,
    edition: str = "email",
    write_html: bool = False,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    strict: bool = False,
    colour_bar: bool = False,
) -> BuildResult:
    """Build one edition of the issue at ``source`` into ``out_dir/<name>-<edition>.pdf``.

    Raises ``IssueError`` when a check finds an error (with ``strict``, a warning too);
    nothing is written then.
    """
    options = BuildOptions(edition, layout, out_dir, write_html, time_limit, strict, colour_bar=colour_bar)
    return run(source, options)


def build_all(
    source: Path,
    out_dir: Path,
    layout: Layout = DEFAULT_LAYOUT,
    editions: tuple[str, ...] = EDITION_NAMES,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    strict: bool = False,
    workers: int | None = None,
    write_html: bool = False,
    colour_bar: bool = False,
) -> dict[str, BuildResult | IssueError | EnvironmentFault]:
    """Build several editions in parallel processes; each edition's result or failure.

    Layout is single-threaded Python, so processes (not threads) are what use the cores.
    """
    options = BuildOptions(
        layout=layout,
        out_dir=out_dir,
        write_html=write_html,
        time_limit=time_limit,
        strict=strict,
        colour_bar=colour_bar,
        aside=False,
    )
    with ProcessPoolExecutor(
        max_workers=workers or min(len(editions), os.cpu_count() or 1), mp_context=_worker_context()
    ) as pool:
        futures = {name: pool.submit(run, source, replace(options, edition=name)) for name in editions}
        results: dict[str, BuildResult | IssueError | EnvironmentFault] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except (IssueError, EnvironmentFault) as failed:
                results[name] = failed
    return results


def _worker_context() -> multiprocessing.context.BaseContext | None:
    """How the editions' processes start: forked, sharing this process's imports (the
    fastest), when this process has no other thread; else from a fork server. A thread
    holding a lock when the process forks leaves it held in the child for good (a test
    runner's or a server's threads, a library's thread pool): Python 3.12 warns of it, and
    3.14 no longer forks by default. None: the platform's own way (spawn on Windows, macOS)."""
    method = "fork" if single_threaded() else "forkserver"
    if sys.platform != "linux" or method not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context(method)


def check_issue(
    source: Path,
    layout: Layout = DEFAULT_LAYOUT,
    edition: str = "email",
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    strict: bool = False,
    memo_from: Path | None = None,
) -> list[Finding]:
    """Every finding of the preflight of one edition of ``source``; writes nothing that stays.
    ``memo_from``: the folder of the last build, whose memo of the parts may be read (see
    ``BuildOptions``), and whose findings are given as they are when nothing they depend on
    changed since (``verdicts.py``)."""
    options = BuildOptions(edition, layout, None, False, time_limit, strict, memo_from=memo_from)
    if memo_from is not None:
        recorded = recorded_check(_inputs(source, options), memo_from)
        if recorded is not None:
            return recorded.findings
    try:
        return run(source, options).findings
    except IssueError as failed:
        return failed.findings


def run(source: Path, options: BuildOptions) -> BuildResult:
    """The pipeline for one edition: every stage, each checked before the next starts.

    In a cold build, the content rules run aside (``aside.py``) while the issue is laid out,
    and the layout rules while the PDF is written; the PDF is kept only once both have
    answered, and their findings are listed as if they had run in turn: the content's first,
    and on an error of the content only those (what the layout then did is not reported).
    A warm process (``Session``) runs them in turn, keeping what they measured.
    """
    options.layout.require()
    edition = EDITIONS[options.edition]
    if options.colour_bar and edition.press is not None:
        edition = replace(edition, press=replace(edition.press, colour_bar=True))
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    # The validator's process loads on the other core meanwhile (``conformance.Judge``).
    # What the findings depend on, taken before anything is read (``verdicts.py``).
    key = inputs_key(_inputs(source, options), options.out_dir) if options.out_dir is not None else None
    judge = Judge.started() if edition.claims and validator_installed() else None
    warm = options.warm if options.warm is not None else Warm()
    if warm.typesetter is None:  # its fonts mended from the cache, else aside meanwhile (``nbsp.py``)
        kept = kept_fonts(options.layout.fonts)
        fonts: Callable[[], Mapping[bytes, bytes | None]] = (
            Aside(patched_fonts, (options.layout.fonts,), fork=options.aside).result
            if kept is None
            else partial(dict, kept)
        )
        warm.typesetter = _typesetter(source, options, edition, fonts)
    # The issue as loaded and typeset by an earlier process, for the text it holds now.
    earlier = read_kept(source) if options.warm is None else None
    try:
        try:
            content = _load(source, options, edition, earlier[0] if earlier is not None else None)
        except FormatErrors as failed:
            # The content rules still run on what validates: one mistake hides no other.
            raise IssueError(failed.findings + _salvaged_findings(failed, options, edition)) from None
        checked = _Pending(content, options)
        lap("load")
        if options.warm is None:
            warm.memo = _read_memo(source, options)
        try:
            render, typeset = _render(content, options, earlier[1] if earlier is not None else None)
            if options.warm is None and earlier is None:
                keep(source, content.loaded, typeset)
            lap("render")
            laid_out, paginated = _layout(content, render, options, warm, checked.raise_if_failed)
        except IssueError as exc:
            raise IssueError(checked.findings() + exc.findings) from None
        except Exception:
            checked.findings()  # an error of the content is what the layout failed on: said instead
            raise
        findings = checked.findings()
        document, html = paginated.document, paginated.rendered.html
        prints = tuple(fingerprint(page) for page in laid_out.pages)
        layout_checks = _layout_checks(laid_out, options)
        if options.warm is not None:  # known already: a layout with errors is not shown
            _checked(findings + layout_checks.result()[0], [])
        if options.on_layout is not None:
            # Told before the PDF is written: the layout's own findings come with the result.
            options.on_layout(prints, _proof(document, edition) if edition.press is None else None)
        lap("layout")
        with tempfile.TemporaryDirectory(prefix="newsletter-") as work:
            target, size = _write(
                content, document, html, options, findings, Path(work), layout_checks, judge
            )
        fills = layout_checks.result()[1]
        if options.out_dir is not None:
            _write_memo(source, options, warm.memo)
        if options.out_dir is not None and key is not None:
            with writing(options.out_dir):
                write_record(
                    record_path(source, options.out_dir, edition.name),
                    key,
                    target,
                    findings,
                    [fill.as_dict() for fill in fills],
                )
        lap("write")
    finally:
        if judge is not None:
            judge.close()
        if options.warm is None:
            warm.close()  # its fonts' temporary folder
    return BuildResult(
        content.issue,
        edition.name,
        target if options.out_dir is not None else None,
        len(document.pages),
        size,
        list(laid_out.references),
        findings,
        timings,
        paginated.passes,
        paginated.laid_out,
        paginated.page_map,
        html,
        prints,
        fills,
    )


class _Pending:
    """The content rules' findings, computed aside in a cold build (``aside.py``) or in
    turn in a warm one (where they are known, and checked, before the layout starts)."""

    def __init__(self, content: ContentContext, options: BuildOptions) -> None:
        forked = options.warm is None and options.aside
        self._aside = aside(run_checks, "content", content, options.strict) if forked else None
        self._found = run_checks("content", content, options.strict) if self._aside is None else None
        if self._found is not None:
            _checked(self._found, [])

    def findings(self) -> list[Finding]:
        """The content rules' findings; ``IssueError`` with them when one is an error."""
        if self._found is None:
            assert self._aside is not None
            self._found = self._aside.result()
        return _checked(self._found, [])

    def raise_if_failed(self) -> None:
        """``IssueError`` now if the content rules have answered, with an error: the layout
        stops at its next part instead of going on for nothing."""
        if self._found is None and self._aside is not None and self._aside.ready():
            self.findings()


def _layout_checks(
    laid_out: LayoutContext, options: BuildOptions
) -> Aside[tuple[list[Finding], tuple[PageFill, ...]]]:
    """The layout rules' findings and the pages' fullness: aside in a cold build (the PDF is
    written meanwhile), else now, keeping what they measured on each page."""

    def measured() -> tuple[list[Finding], tuple[PageFill, ...]]:
        return run_checks("layout", laid_out, options.strict), laid_out.fills

    return Aside(measured, (), fork=options.warm is None and options.aside)


def sibling_findings(source: Path, options: BuildOptions) -> list[Finding]:
    """The findings of the rules that compare ``source`` with its other languages
    (``check.SIBLING_RULES``), without laying it out: what a save of a sibling changes.
    Raises ``IssueError`` when the issue has errors."""
    edition = EDITIONS[options.edition]
    return run_rules(list(SIBLING_RULES), _load(source, options, edition))


def _checked(found: list[Finding], before: list[Finding]) -> list[Finding]:
    """The findings so far; ``IssueError`` with all of them when one is an error."""
    findings = before + found
    if has_errors(findings):
        raise IssueError(findings)
    return findings


def _load(
    source: Path, options: BuildOptions, edition: Edition, kept: Loaded | None = None
) -> ContentContext:
    """Stage 1: the issue, validated, and what the content rules need (a warm process reads
    again only what changed: the fonts never, an issue file when its text changed; a cold one
    takes the issue as an earlier process loaded it from the same text, when ``kept``)."""
    warm = options.warm
    if warm is None:
        return ContentContext(
            kept if kept is not None else load_issue(source),
            font_coverage(options.layout.fonts),
            edition,
            layout=options.layout,
        )
    fonts_seen = _folder_stamp(options.layout.fonts)
    if warm.fonts is None or warm.fonts_seen != fonts_seen:
        warm.fonts, warm.fonts_seen = font_coverage(options.layout.fonts), fonts_seen
    load = partial(load_kept, kept=warm.loaded)
    return ContentContext(
        load(source), warm.fonts, edition, layout=options.layout, load=load, files_kept=warm.files
    )


def _salvaged_findings(failed: FormatErrors, options: BuildOptions, edition: Edition) -> list[Finding]:
    """What the content rules find in an issue with errors of form, on the issue mended
    where it is wrong (``issue/salvage.py``), but what they find about the mended values."""
    if failed.salvaged is None:
        return []
    loaded, mended = failed.salvaged
    warm = options.warm
    fonts = warm.fonts if warm is not None and warm.fonts is not None else font_coverage(options.layout.fonts)
    context = ContentContext(loaded, fonts, edition, layout=options.layout)
    try:
        found = run_checks("content", context, options.strict)
    except IssueError as exc:  # the layout's own files (labels, mail.yaml): said as they are
        found = exc.findings
    fields = {format_path(path) for path in mended.mended}
    known = {(f.line, f.col) for f in failed.findings}

    def about_mended(finding: Finding) -> bool:
        field = finding.field
        under = any(field == f or field.startswith((f + ".", f + "[")) for f in fields)
        return under or (finding.line, finding.col) in known

    return [f for f in found if not about_mended(f)]


def _folder_stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file of ``folder`` with its size and time: changes when a file is replaced."""
    stamp = []
    for path in sorted(folder.rglob("*")):
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(stamp)


def _render(
    content: ContentContext, options: BuildOptions, typeset: Issue | None = None
) -> tuple[Callable[[Mapping[str, int]], Rendered], Issue]:
    """Stage 2: the HTML of the edition for given page numbers (a pass of the layout sets
    them), its text typeset by the rules of its language (the content rules have read it as
    typed; ``typeset``: as an earlier process typeset it), its images converted first when
    it asks. Everything but the numbers is done once. Also returns the issue as typeset.
    """
    edition, source = content.edition, content.loaded.path
    layout = options.layout
    images: dict[str, str] = {}
    if edition.cmyk_images:
        # Converted with the edition's own output profile, the one its output intent names.
        profile = edition.press.profile if edition.press is not None else CMYK_PROFILE
        kept = options.warm.cmyk if options.warm is not None else None
        images = cmyk_images(content.issue, source.parent, layout.templates, profile, kept)
    stylesheets = (edition.stylesheet,) if edition.stylesheet else ()
    warm = options.warm
    if typeset is None:
        typeset = typeset_issue(content.issue, warm.typeset if warm is not None else None)
    if not images:
        images = image_urls(content.issue, source.parent)
    cache = warm.rendering if warm is not None else None
    return issue_renderer(typeset, layout, source.parent, stylesheets, images, cache), typeset


#: Layout passes at most: the numbers settle in two (three when a target moves).
MAX_PASSES = 4


def _layout(
    content: ContentContext,
    render: Callable[[Mapping[str, int]], Rendered],
    options: BuildOptions,
    warm: Warm,
    before_part: Callable[[], None],
) -> tuple[LayoutContext, Paginated]:
    """Stage 3: the laid-out document (``paginate``), and the context the layout rules
    look at. Page references print ordinary text, settled by ``paginate``; a number that
    moves its own target is never looped on, and the ``page-reference`` rule reports it.
    """
    source, edition = content.loaded.path, content.edition
    assert warm.typesetter is not None
    try:
        with layout_time_limit(options.time_limit):
            paginated = paginate(render, warm.typesetter, warm.memo, MAX_PASSES, before_part)
        # Keep only the parts this layout used, whether its checks pass or not: a session
        # whose issue keeps failing must not hold every part it ever laid out.
        warm.memo.keep_used()
        refuse_attachments(paginated.document, source)
    except BuildTimeout as exc:
        raise IssueError(
            [error(source, str(exc), rule="time-limit", hint="look for a very long text or table")]
        ) from None
    except RecursionError:
        raise IssueError(
            [
                error(
                    source,
                    "the layout nests too deeply to be laid out",
                    rule="layout-depth",
                    hint="look for a block or emphasis nested in itself many times",
                )
            ]
        ) from None
    except OSError as exc:  # WeasyPrint's temporary font files on a full disk, say
        raise EnvironmentFault(
            f"the layout could not write its temporary files: {exc.strerror or exc}",
            None,
            "free some space in the temporary folder (TMPDIR)",
        ) from None
    document = paginated.document
    if options.warm is not None:
        # Keep what was measured on the pages of this layout only.
        current = {id(page) for page in document.pages}
        warm.measured = {key: value for key, value in warm.measured.items() if id(key[1]) in current}
    context = LayoutContext(
        content.loaded,
        content.fonts,
        edition,
        tuple(laid_out_pages(document)),
        tuple(page_references(document)),
        layout=content.layout,
        kept=warm.measured if options.warm is not None else None,
        fullness=bounds(options.layout).fullness / 100,
    )
    return context, paginated


def _inputs(source: Path, options: BuildOptions) -> Inputs:
    """What a build's findings depend on besides the files (``verdicts.Inputs``)."""
    layout = options.layout
    return Inputs(
        source,
        layout.templates,
        layout.fonts,
        options.edition,
        options.strict,
        options.time_limit,
        options.colour_bar,
    )


def _typesetter(
    source: Path,
    options: BuildOptions,
    edition: Edition,
    fonts: Callable[[], Mapping[bytes, bytes | None]] | None = None,
) -> Typesetter:
    """The layout engine of ``edition``, reading the issue's folder and the layout's."""
    layout = options.layout
    return Typesetter(
        source.parent,
        [source.parent, layout.templates, layout.fonts],
        source,
        edition.render_options,
        (layout.templates, layout.fonts),
        fonts,
    )


def _read_memo(source: Path, options: BuildOptions) -> Memo:
    """The outcomes of the previous build's parts: beside the PDF, else in ``memo_from``."""
    return read_memo(
        memo_path(source, folder, options.edition) for folder in (options.out_dir, options.memo_from)
    )


def _write_memo(source: Path, options: BuildOptions, memo: Memo) -> None:
    path = memo_path(source, options.out_dir, options.edition)
    if path is not None:
        with writing(path.parent):
            write_memo(path, memo)


def _write(
    content: ContentContext,
    document: Any,
    html: str,
    options: BuildOptions,
    findings: list[Finding],
    work: Path,
    layout_checks: Aside[tuple[list[Finding], tuple[PageFill, ...]]],
    judge: Judge | None,
) -> tuple[Path, int]:
    """Stage 4: the PDF, written beside its target, read back and checked, then moved over
    it (or removed, when only checking); the layout rules' findings (``layout_checks``, run
    while it is written) and the output rules' are added to ``findings``."""
    source, edition, issue = content.loaded.path, content.edition, content.issue
    folder = options.out_dir if options.out_dir is not None else work
    prepare_folder(folder)
    remove_stale_temporaries(folder)
    target = output_path(source, folder, edition.name)
    write_options = edition.write_options(issue)
    # The slug's words are the edition language's (labels.yaml), like every word it prints.
    slug = labels_for(options.layout, issue.language)["print_slug"] if edition.press is not None else ""
    finish = finisher(edition, issue, slug)

    def check_output(pdf: Path, opened: pikepdf.Pdf) -> None:
        findings.extend(layout_checks.result()[0])
        if has_errors(findings):
            raise IssueError(findings)
        output = OutputContext(
            content.loaded, content.fonts, edition, pdf, opened, layout=content.layout, judge=judge
        )
        findings.extend(run_checks("output", output, options.strict))
        if has_errors(findings):
            raise IssueError(findings)

    with (
        fonts_dated(calendar.timegm(issue.date.timetuple())),
        writing(folder),
        images_restored(document),
    ):
        try:
            size = _write_pdf(
                lambda handle: document.write_pdf(handle, finisher=finish, **write_options),
                target,
                len(document.pages),
                check_output,
                keep=options.out_dir is not None,
                # The validator reads the file while it is read back here (``Judge.ask``).
                written=(lambda pdf: judge.ask(pdf, edition.claims)) if judge is not None else None,
            )
        except RefusedURL as exc:  # a file the layout asked for while writing (an attachment)
            raise IssueError(
                findings
                + [error(source, f"refused to load {exc.url!r}: {exc.reason}", rule="fetch", hint=FETCH_HINT)]
            ) from None
        if options.write_html and options.out_dir is not None:
            atomic_write(target.with_suffix(".html"), html.encode("utf-8"))
    return target, size


def _write_pdf(
    write: Callable[[object], object],
    target: Path,
    expected_pages: int,
    check: Callable[[Path, pikepdf.Pdf], None],
    keep: bool,
    written: Callable[[Path], None] | None = None,
) -> int:
    """Write the PDF through a temporary file (``safeio.write_checked``), read it back and
    check it; it replaces ``target`` when ``keep``. ``written`` is told the file's path
    once it is written whole, before it is read back."""

    def read_back(path: Path) -> None:
        if written is not None:
            written(path)
        with pikepdf.open(path) as opened:
            pages = len(opened.pages)
            if pages != expected_pages:
                raise RuntimeError(f"the written PDF has {pages} pages, the layout {expected_pages}")
            check(path, opened)

    return write_checked(write, target, read_back, keep)
