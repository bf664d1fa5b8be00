"""Fitting: ``newsletter fit ISSUE`` tries what a typesetter would allow to fit each section
that ends badly to its pages, and with ``--write`` writes what it chose into the issue.

Input: an issue file and a layout, whose ``fit.yaml`` says how far fitting may go (tracking
of ±1 %, image sizes of ±10 %, a section's columns balanced or not, a section allowed to
start on the previous section's last page). Output: a ``Fitting``, the settings chosen per
section and what they do to the pages, and, when asked, the issue file with those settings
written as explicit ``fit:`` fields (and ``new_page: false``), every other line kept byte for
byte.

The search happens here only: ``build`` applies the ``fit:`` fields as written, so the same
file always gives the same bytes. Each try is a build of a copy of the issue in a temporary
folder (with its images), judged by the build's own ``copy-fit`` findings: a try is kept
when the section it was for no longer ends badly, no copy-fit finding is added, no error
appears and the page count does not grow. The least intrusive try that works is kept.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ..build import BuildOptions, BuildResult, Warm, run
from ..engine.fitbounds import FitBounds, bounds
from ..errors import EnvironmentFault, Finding, IssueError
from ..issue import rewrite
from ..issue.model import Figure, Fit, Issue, walk
from ..safeio import atomic_write, read_limited
from ..shipped import DEFAULT_LAYOUT, Layout

_SECTION_ID = re.compile(r"^sections\[(\d+)\]\.id$")


@dataclass(frozen=True)
class Setting:
    """What fitting sets on one section: its ``fit:`` and whether it starts on a new page."""

    fit: Fit | None
    new_page: bool

    def describe(self, before: Setting) -> str:
        """``tracking -0.5 %, images 95 %`` or ``starts on the previous section's last page``."""
        parts = []
        now, was = self.fit or Fit(), before.fit or Fit()
        if now.tracking != was.tracking:
            parts.append(f"tracking {now.tracking:+g} %")
        if now.images != was.images:
            parts.append(f"images at {now.images} %")
        if now.balance != was.balance:
            parts.append("columns " + ("balanced" if now.balance else "filled in turn"))
        if self.new_page != before.new_page:
            parts.append(
                "starts on the previous section's last page" if not self.new_page else "starts a new page"
            )
        return ", ".join(parts)


@dataclass(frozen=True)
class Problem:
    """A section that ends badly: the ``copy-fit`` finding's words."""

    section: int
    id: str
    message: str


@dataclass(frozen=True)
class Attempt:
    """One try: what it changed, and what came of it."""

    changes: dict[int, Setting]
    label: str
    kept: bool
    outcome: str


@dataclass
class Fitting:
    """What ``fit`` found and chose."""

    source: Path
    pages_before: int
    problems_before: list[Problem]
    pages_after: int = 0
    problems_after: list[Problem] = field(default_factory=list)
    #: Section index -> its setting before and after, for the sections that change.
    chosen: dict[int, tuple[Setting, Setting]] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    section_ids: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything is to be written."""
        return bool(self.chosen)

    def describe(self) -> str:
        """The report ``fit`` prints: each problem, what was tried, what it would change."""
        lines = []
        if not self.problems_before:
            lines.append(
                f"{self.source}: every section fits its pages ({self.pages_before} pages); nothing to change"
            )
            return "\n".join(lines)
        lines.append(f"{self.source}: {len(self.problems_before)} section ending(s) to fit")
        for problem in self.problems_before:
            lines.append(f"  {problem.message}")
        lines.append("tried (least intrusive first):")
        for attempt in self.attempts:
            mark = "kept" if attempt.kept else "no"
            lines.append(f"  [{mark}] {attempt.label}: {attempt.outcome}")
        if self.chosen:
            lines.append("changes:")
            for index, (before, after) in sorted(self.chosen.items()):
                lines.append(f"  sections[{index}] `{self.section_ids[index]}`: {after.describe(before)}")
        else:
            lines.append(
                "no fitting within the layout's bounds helps: cut or add words as the copy-fit findings say"
            )
        lines.append(
            f"pages: {self.pages_before} -> {self.pages_after}; sections ending badly: "
            f"{len(self.problems_before)} -> {len(self.problems_after)}"
        )
        for problem in self.problems_after:
            lines.append(f"  still: {problem.message}")
        return "\n".join(lines)


def fit_issue(
    source: Path,
    layout: Layout = DEFAULT_LAYOUT,
    edition: str = "email",
    write: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Fitting:
    """Find the fitting of every section of ``source`` that ends badly; with ``write``, write
    the chosen settings into ``source``. Raises ``IssueError`` when the issue has errors."""
    limits = bounds(layout)
    text = _read(source)
    with tempfile.TemporaryDirectory(prefix="newsletter-fit-") as work:
        trial = _Trial(source, text, Path(work), BuildOptions(edition, layout))
        try:
            fitting = _fitted(source, trial, limits, progress)
        finally:
            assert trial.options.warm is not None
            trial.options.warm.close()
    if write and fitting.changed:
        _write(source, text, {i: after for i, (_, after) in fitting.chosen.items()})
    return fitting


def _fitted(source: Path, trial: _Trial, limits: Any, progress: Callable[[str], None] | None) -> Fitting:
    """The fitting found by trying settings on ``trial``'s copy of ``source``."""
    result = trial.build({})
    if result is None:
        # Said of the editor's file, not of the copy that was built.
        raise IssueError(
            [replace(f, file=source) if f.file == trial.path else f for f in trial.last_findings]
        )
    issue = result.issue
    current = {i: Setting(s.fit, s.new_page) for i, s in enumerate(issue.sections)}
    fitting = Fitting(source, result.pages, _problems(result), section_ids=[s.id for s in issue.sections])
    best: dict[int, Setting] = {}
    best_result = result
    for problem in list(fitting.problems_before):
        if all(p.section != problem.section for p in _problems(best_result)):
            continue  # an earlier change fitted it too
        for label, changes in _candidates(problem, issue, {**current, **best}, limits):
            if progress is not None:
                progress(f"{problem.id}: {label}")
            tried = trial.build({**best, **changes})
            kept, outcome = _judge(problem, best_result, tried, trial.last_findings)
            fitting.attempts.append(Attempt(changes, f"`{problem.id}`: {label}", kept, outcome))
            if kept and tried is not None:
                best, best_result = {**best, **changes}, tried
                break
    fitting.pages_after = best_result.pages
    fitting.problems_after = _problems(best_result)
    fitting.chosen = {
        i: (current[i], setting) for i, setting in sorted(best.items()) if setting != current[i]
    }
    return fitting


def _read(source: Path) -> str:
    try:
        # A regular file within the size limit, read without blocking (``read_limited``).
        return read_limited(source).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EnvironmentFault(
            f"cannot read the issue: {exc}", source, "name a readable issue file"
        ) from None


def _problems(result: BuildResult) -> list[Problem]:
    """The sections that end badly, as the build's ``copy-fit`` rule found them."""
    found = []
    for finding in result.findings:
        # A page under the layout's fullness (page-fill) is tried like a section that ends badly.
        match = _SECTION_ID.match(finding.field) if finding.rule in ("copy-fit", "page-fill") else None
        if match is not None:
            index = int(match.group(1))
            found.append(Problem(index, result.issue.sections[index].id, finding.message))
    return found


def _judge(
    problem: Problem, before: BuildResult, after: BuildResult | None, findings: list[Finding]
) -> tuple[bool, str]:
    """Whether a try fits ``problem`` without harm, and what came of it, in words."""
    if after is None:
        first = next((f for f in findings if f.severity == "error"), None)
        return False, f"the issue would have an error ({first.message if first else 'see check'})"
    still = [p for p in _problems(after) if p.section == problem.section]
    now, was = _problems(after), _problems(before)
    pages = f"{after.pages} pages"
    if still:
        return False, f"still: {still[0].message}"
    if len(now) >= len(was):
        return False, f"moves the problem elsewhere ({now[0].message if now else ''})"
    if after.pages > before.pages:
        return False, f"adds a page ({pages})"
    # Judged by the count of warnings: running a section on clears the empty-page warnings of
    # the page it left, and may bring one of its own (a page count not a multiple of 4).
    warned = [f.message for f in after.findings if f.severity == "warning"]
    was_warned = [f.message for f in before.findings if f.severity == "warning"]
    added = sorted(set(warned) - set(was_warned))
    if len(warned) > len(was_warned):
        return False, f"adds a warning: {added[0] if added else ''}"
    also = f"; new warning: {added[0]}" if added else ""
    return True, f"fits ({pages}; warnings {len(was_warned)} -> {len(warned)}{also})"


def _has(issue: Issue, index: int, kind: type) -> bool:
    return any(isinstance(value, kind) for _, value in walk(issue.sections[index]))


def _has_columns(issue: Issue, index: int) -> bool:
    return any(
        getattr(value, "type", None) in ("columns", "interview") for _, value in walk(issue.sections[index])
    )


def _candidates(
    problem: Problem, issue: Issue, settings: dict[int, Setting], limits: FitBounds
) -> Iterator[tuple[str, dict[int, Setting]]]:
    """The tries for ``problem``, least intrusive first: tracking, image sizes, columns, then
    letting the next section start on this one's last page. A spill wants less room; a last
    page under half full wants more (or the next section beside it)."""
    index = problem.section
    base = settings[index]
    fit = base.fit or Fit()
    spill = " onto page " in problem.message
    sign = -1 if spill else 1

    def with_fit(**changes: Any) -> dict[int, Setting]:
        return {index: replace(base, fit=fit.model_copy(update=changes))}

    steps = [limits.tracking / 2, limits.tracking] if limits.tracking else []
    for step in steps:
        yield f"tracking {sign * step:+g} %", with_fit(tracking=sign * step)
    if limits.images and _has(issue, index, Figure):
        sizes = [limits.images // 2, limits.images] if limits.images >= 2 else [limits.images]
        for step in sizes:
            yield f"images at {100 + sign * step} %", with_fit(images=100 + sign * step)
        if steps:
            yield (
                f"tracking {sign * steps[-1]:+g} % and images at {100 + sign * sizes[-1]} %",
                with_fit(tracking=sign * steps[-1], images=100 + sign * sizes[-1]),
            )
    if limits.balance_columns and _has_columns(issue, index):
        yield "columns filled in turn", with_fit(balance=not fit.balance)
    following = index + 1
    if limits.run_on and following < len(issue.sections) and settings[following].new_page:
        yield (
            f"`{issue.sections[following].id}` starts on this section's last page",
            {following: replace(settings[following], new_page=False)},
        )


class _Trial:
    """Builds copies of the issue with settings changed, in a folder of its own with the
    issue's images (a build reads images from the issue's folder only)."""

    def __init__(self, source: Path, text: str, work: Path, options: BuildOptions) -> None:
        self.text = text
        self.folder = work / "issue"
        self.path = self.folder / source.name
        self.out = work / "out"
        # Warm: a try lays out again only the parts its settings change.
        self.options = replace(options, out_dir=self.out, warm=Warm())
        self.last_findings: list[Finding] = []
        self.folder.mkdir()
        self.out.mkdir()
        issue_folder = source.parent
        # The images the issue names, at the same relative places.
        for _, value in walk(_loaded_issue(source)):
            if isinstance(value, Figure):
                _link_or_copy(issue_folder / value.image, self.folder / value.image)

    def build(self, settings: dict[int, Setting]) -> BuildResult | None:
        """The build of the issue with ``settings``; None when it has errors."""
        self.path.write_text(apply(self.text, settings), encoding="utf-8")
        try:
            result = run(self.path, self.options)
        except IssueError as failed:
            self.last_findings = failed.findings
            return None
        self.last_findings = result.findings
        return result


def _loaded_issue(source: Path) -> Issue:
    from ..issue.load import load_issue

    return load_issue(source).issue


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _fit_value(fit: Fit | None) -> dict[str, Any] | None:
    """The ``fit:`` to write, only what differs from the layout; None when nothing does."""
    if fit is None or fit == Fit():
        return None
    value: dict[str, Any] = {}
    defaults = Fit()
    for name in ("tracking", "images", "balance"):
        setting_value = getattr(fit, name)
        if setting_value != getattr(defaults, name):
            # -1 rather than -1.0: as an editor would write it.
            if isinstance(setting_value, float) and setting_value.is_integer():
                setting_value = int(setting_value)
            value[name] = setting_value
    return value


def _flow(value: dict[str, Any]) -> str:
    """``{tracking: -0.5, balance: false}``: one line, as an editor writes it."""
    shown = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in value.items())
    return f"{{{shown}}}"


def apply(text: str, settings: dict[int, Setting]) -> str:
    """The issue ``text`` with each section's setting written in: a ``fit:`` field (in flow
    style, before ``blocks``; removed when it is the layout's own setting) and ``new_page``.

    Only the lines of ``fit:`` and ``new_page:`` are written, inserted or removed; every other
    line stays byte for byte (a text folded over several lines, comments, quotes). The
    result is read back and compared with what was meant; a section this cannot edit line by
    line (written in flow style) is written through ruamel.yaml instead.
    """
    if not settings:
        return text
    expected = yaml.safe_load(text)
    for index, setting in settings.items():
        section = expected["sections"][index]
        fit = _fit_value(setting.fit)
        section.pop("fit", None)
        section.pop("new_page", None)
        if fit is not None:
            section["fit"] = fit
        if not setting.new_page:
            section["new_page"] = False
    edited = _edit_lines(text, settings)
    if edited is not None and yaml.safe_load(edited) == expected:
        return edited
    return _apply_round_trip(text, settings)


def _edit_lines(text: str, settings: dict[int, Setting]) -> str | None:
    """``apply`` by lines: each section's ``fit:`` and ``new_page:`` lines replaced, removed
    or inserted (before ``blocks:``), nothing else touched; None where a section is not
    written one field a line."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if text.endswith("\r\n") or "\r\n" in text[:200] else "\n"
    sections = _mapping(root).get("sections")
    if not isinstance(sections, yaml.SequenceNode):
        return None
    # (first line, last line, new lines): applied from the end, so earlier lines keep their numbers.
    edits: list[tuple[int, int, list[str]]] = []
    for index, setting in settings.items():
        node = sections.value[index] if index < len(sections.value) else None
        if not isinstance(node, yaml.MappingNode) or node.flow_style or not node.value:
            return None
        keys = _keyed(node)
        first_key = node.value[0][0]
        indent = " " * first_key.start_mark.column
        fit = _fit_value(setting.fit)
        wanted = {
            "fit": f"{indent}fit: {_flow(fit)}{newline}" if fit is not None else None,
            "new_page": None if setting.new_page else f"{indent}new_page: false{newline}",
        }
        inserted = []
        for name in ("fit", "new_page"):
            line = wanted[name]
            if name in keys:
                key, value = keys[name]
                if key is first_key or not lines[key.start_mark.line][: key.start_mark.column].isspace():
                    return None  # "- fit: ..." carries the section's dash: not a line of its own
                last = _last_line(text, value)
                edits.append((key.start_mark.line, last, [line] if line is not None else []))
            elif line is not None:
                inserted.append(line)
        if inserted:
            blocks = keys.get("blocks")
            if blocks is not None and blocks[0] is not first_key:
                at = blocks[0].start_mark.line
            else:  # after the section's last field
                at = _last_line(text, node.value[-1][1]) + 1
            edits.append((at, at - 1, inserted))
    for first, last, new in sorted(edits, key=lambda edit: edit[0], reverse=True):
        lines[first : last + 1] = new
    return "".join(lines)


def _mapping(node: Any) -> dict[str, Any]:
    return {k.value: v for k, v in node.value} if isinstance(node, yaml.MappingNode) else {}


def _keyed(node: yaml.MappingNode) -> dict[str, tuple[Any, Any]]:
    return {k.value: (k, v) for k, v in node.value}


def _last_line(text: str, node: Any) -> int:
    """The 0-based number of the last line that holds a character of ``node``'s value (a
    block value's end mark is already on the next field's line)."""
    written = text[node.start_mark.index : node.end_mark.index].rstrip()
    return text.count("\n", 0, node.start_mark.index + len(written))


def _apply_round_trip(text: str, settings: dict[int, Setting]) -> str:
    """``apply`` through ruamel.yaml's round trip: for a section in flow style."""
    from ruamel.yaml.comments import CommentedMap

    data = rewrite.load(text)
    sections = data["sections"]
    for index, setting in settings.items():
        section = sections[index]
        keys = list(section.keys())
        at = keys.index("blocks") if "blocks" in keys else len(keys)
        fit = _fit_value(setting.fit)
        if fit is None:
            section.pop("fit", None)
        else:
            value = CommentedMap(fit)
            value.fa.set_flow_style()
            if "fit" in section:
                section["fit"] = value
            else:
                section.insert(at, "fit", value)
                at += 1
        if setting.new_page:
            section.pop("new_page", None)
        elif "new_page" in section:
            section["new_page"] = False
        else:
            section.insert(at, "new_page", False)
    return rewrite.dump(data)


def _write(source: Path, text: str, settings: dict[int, Setting]) -> None:
    """Write the chosen settings into the issue, whole or not at all."""
    if _read(source) != text:
        raise EnvironmentFault(
            "the issue changed while fit was trying settings", source, "run newsletter fit again"
        )
    try:
        atomic_write(source, apply(text, settings).encode("utf-8"))
    except OSError as exc:
        raise EnvironmentFault(
            f"cannot write: {exc.strerror or exc}", source, "check the file's permissions"
        ) from None
