"""The rule registry and what the rules of each stage may look at.

Each rule is one small function registered with ``@rule``; it yields ``Hit``s and the
registry turns them into ``Finding``s with a severity, the ``file:line:col`` of the field
(and the page, for what the layout shows), and a one-line fix hint. Rules run in three
stages, each on a context made when its stage starts; what it measures is measured when a
rule first asks, once (``fills``), and a warm process reuses what was measured on the files
and pages an earlier build kept (``per_file``, ``per_page``):

- ``content`` (``ContentContext``): on the validated issue, before layout;
- ``layout`` (``LayoutContext``): on the laid-out pages, before anything is written;
- ``output`` (``OutputContext``): on the written PDF, before it replaces the previous edition.

A rule registered with ``edition_only=True`` runs only for the editions that list it in
their ``rules`` (``editions.py``): each edition owns its rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

import pikepdf

from ..editions import Edition
from ..engine.laidout import Page
from ..engine.pagefill import PageFill, page_fill
from ..engine.typesetter import PageRef
from ..errors import FieldPath, Finding, IssueError, Severity
from ..issue.fonts import Coverage
from ..issue.load import Loaded, format_path, load_issue, sibling_paths
from ..issue.model import Issue
from ..shipped import DEFAULT_LAYOUT, Layout

Stage = Literal["content", "layout", "output"]
STAGES: tuple[Stage, ...] = ("content", "layout", "output")


@dataclass(frozen=True)
class Hit:
    """What a rule found: a message and the field path or page it is about."""

    message: str
    path: FieldPath | None = None
    page: int | None = None
    #: Text written inside the field that the finding is about (a link): located exactly.
    needle: str = ""


T = TypeVar("T")


@dataclass(frozen=True)
class ContentContext:
    """What content rules look at: the issue, the fonts, the edition."""

    loaded: Loaded
    fonts: Coverage
    edition: Edition
    #: The layout the issue is built with (its labels and settings).
    layout: Layout = field(default=DEFAULT_LAYOUT, kw_only=True, repr=False, compare=False)
    #: How an issue file is read (a warm process keeps the files that did not change).
    load: Callable[[Path], Loaded] = field(default=load_issue, kw_only=True, repr=False, compare=False)
    #: What content rules measured on files, by the files' bytes (a warm process keeps it).
    files_kept: dict[tuple[str, bytes], Any] | None = field(
        default=None, kw_only=True, repr=False, compare=False
    )

    def per_file(self, name: str, path: Path, measure: Callable[[], T]) -> T:
        """``measure()``, a measure of the file at ``path``, kept with its bytes: measured
        again only when the file changed."""
        if self.files_kept is None:
            return measure()
        try:
            digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
        except OSError:
            return measure()
        key = (f"{name}|{path}", digest)
        if key not in self.files_kept:
            if len(self.files_kept) > 1000:  # a long session that saw many files: start afresh
                self.files_kept.clear()
            self.files_kept[key] = measure()
        return self.files_kept[key]  # type: ignore[no-any-return]

    @property
    def issue(self) -> Issue:
        """The validated issue."""
        return self.loaded.issue

    @cached_property
    def siblings(self) -> tuple[Loaded, ...]:
        """The issue in its other languages, the files that load, read once for every rule
        (one that does not load is checked on its own build)."""
        found = []
        for path in sibling_paths(self.loaded.path):
            try:
                found.append(self.load(path))
            except IssueError:
                continue
        return tuple(found)


@dataclass(frozen=True)
class LayoutContext(ContentContext):
    """What layout rules look at besides: the laid-out pages and the page references."""

    pages: tuple[Page, ...]
    references: tuple[PageRef, ...]
    #: What was measured on pages laid out before, by measure and page (a warm process keeps
    #: the pages of the parts that did not change, and what was found on them).
    kept: dict[tuple[str, Any], Any] | None = field(default=None, kw_only=True, repr=False, compare=False)
    #: How full a page should be, 0 to 1 (the layout's ``fit.yaml``: ``fullness``).
    fullness: float = field(default=0.7, kw_only=True)

    def per_page(self, name: str, page: Page, measure: Callable[[Page], T]) -> T:
        """``measure(page)``, kept with the page: measured again only on a page laid out anew."""
        if self.kept is None or page.source is None:
            return measure(page)
        key = (name, page.source)
        if key not in self.kept:
            self.kept[key] = measure(page)
        return self.kept[key]  # type: ignore[no-any-return]

    @cached_property
    def fills(self) -> tuple[PageFill, ...]:
        """How full each page is and the sections on it, measured once for the copy-fit rule
        and the build's result."""
        return tuple(self.per_page("fill", page, lambda one: page_fill([one])[0]) for page in self.pages)


@dataclass(frozen=True)
class OutputContext(ContentContext):
    """What output rules look at besides: the written PDF, opened once by the caller."""

    pdf_path: Path
    pdf: pikepdf.Pdf
    #: The validator's process, started by the build beforehand (``conformance.Judge``);
    #: None: the ``conformance`` rule starts it when it runs.
    judge: object | None = field(default=None, kw_only=True, repr=False, compare=False)


@dataclass(frozen=True)
class Rule:
    """A registered check."""

    name: str
    stage: Stage
    severity: Severity
    hint: str
    run: Callable[[Any], Iterator[Hit]]
    #: Runs only for the editions that list it in their ``rules``.
    edition_only: bool = False
    #: Runs after the others of its stage (its findings keep their place): a rule that waits
    #: for another process's answer, which works meanwhile.
    last: bool = False


#: Every rule, by name, in the order registered (the order findings are listed in).
RULES: dict[str, Rule] = {}
C = TypeVar("C", bound=ContentContext)


def rule(
    name: str, stage: Stage, severity: Severity, hint: str, edition_only: bool = False, last: bool = False
) -> Callable[[Callable[[C], Iterator[Hit]]], Callable[[C], Iterator[Hit]]]:
    """Register a check; its function takes the context of ``stage`` and yields ``Hit``s
    (``last``: see ``Rule.last``)."""

    def register(func: Callable[[C], Iterator[Hit]]) -> Callable[[C], Iterator[Hit]]:
        if name in RULES:
            raise ValueError(f"two rules named {name!r}")
        RULES[name] = Rule(name, stage, severity, hint, func, edition_only, last)
        return func

    return register


def page_rule(
    name: str, severity: Severity, hint: str, edition_only: bool = False
) -> Callable[
    [Callable[[LayoutContext, Page], Iterator[Hit]]], Callable[[LayoutContext, Page], Iterator[Hit]]
]:
    """Register a layout rule that looks at one page at a time, ``func(ctx, page)``: what it
    finds on a page is kept with the page (``LayoutContext.per_page``)."""

    def register(
        func: Callable[[LayoutContext, Page], Iterator[Hit]],
    ) -> Callable[[LayoutContext, Page], Iterator[Hit]]:
        def run(ctx: LayoutContext) -> Iterator[Hit]:
            for page in ctx.pages:
                yield from ctx.per_page(name, page, lambda one: tuple(func(ctx, one)))

        rule(name, "layout", severity, hint, edition_only)(run)
        return func

    return register


def applies(checker: Rule, edition: Edition) -> bool:
    """Whether ``checker`` runs for ``edition``."""
    return not checker.edition_only or checker.name in edition.rules


def run_checks(stage: Stage, context: ContentContext, strict: bool = False) -> list[Finding]:
    """Every finding of the rules of ``stage``; with ``strict``, warnings become errors."""
    chosen = [r for r in RULES.values() if r.stage == stage and applies(r, context.edition)]
    return _findings(chosen, context, strict)


def run_rules(names: list[str], context: ContentContext) -> list[Finding]:
    """The findings of the rules named (``send`` runs the ones that guard a mail's headers
    before anything is built)."""
    return _findings([RULES[name] for name in names], context, strict=False)


def _findings(rules: list[Rule], context: ContentContext, strict: bool) -> list[Finding]:
    found: dict[str, list[Finding]] = {}
    for checker in sorted(rules, key=lambda r: r.last):  # stable: the others in their order
        found[checker.name] = findings = []
        for hit in checker.run(context):
            severity: Severity = "error" if strict and checker.severity == "warning" else checker.severity
            line, col = context.loaded.where(hit.path, hit.needle) if hit.path is not None else (None, None)
            findings.append(
                Finding(
                    checker.name,
                    severity,
                    hit.message,
                    checker.hint,
                    context.loaded.path,
                    line,
                    col,
                    format_path(hit.path) if hit.path else "",
                    hit.page,
                )
            )
    return [finding for checker in rules for finding in found[checker.name]]
