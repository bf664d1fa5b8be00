"""A warm build engine for the editor's loop: ``Session(issue).rebuild()`` after each edit.

A session keeps what a cold build has to find again: the page of every id (so that page
references print the right numbers on the first layout pass: each page laid out once when
nothing moved) and what every page showed (so that it can say which pages an edit changed).
``newsletter build`` runs the same pipeline (``build.run``); a session only carries its state
from one build to the next, in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .build import DEFAULT_LAYOUT, BuildOptions, BuildResult, run
from .errors import Finding, IssueError
from .fonts import font_coverage
from .render import Layout


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild made: the result (None when the issue has errors), every finding, and
    the pages (1-based) that differ from the previous successful build, added pages included."""

    result: BuildResult | None
    findings: list[Finding]
    changed: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


class Session:
    """Builds one edition of one issue again and again, warm."""

    def __init__(
        self,
        issue_path: Path | str,
        variant: str = "email",
        out_dir: Path | str = "out",
        layout: Layout = DEFAULT_LAYOUT,
    ) -> None:
        self.issue_path = Path(issue_path)
        self.variant = variant
        self.out_dir = Path(out_dir)
        self.layout = layout
        self._pages: dict[str, int] | None = None
        self._prints: tuple[str, ...] = ()
        # The fonts do not change between edits: read once (about 0.15 s a build).
        self._fonts = font_coverage(layout.fonts)

    def rebuild(self, on_changed: Callable[[list[int]], None] | None = None) -> Rebuilt:
        """Read the issue again, lay it out, check it and write the PDF.

        ``on_changed`` is told the changed pages as soon as the layout is checked, before the
        PDF is written. On errors nothing is written and the previous state is kept.
        """
        previous = self._prints

        def laid_out(prints: tuple[str, ...]) -> None:
            if on_changed is not None:
                on_changed(_changed(previous, prints))

        options = BuildOptions(
            self.variant,
            self.layout,
            self.out_dir,
            pages=self._pages,
            on_layout=laid_out,
            fonts=self._fonts,
        )
        try:
            result = run(self.issue_path, options)
        except IssueError as failed:
            return Rebuilt(None, failed.findings)
        self._pages = result.page_map
        self._prints = result.fingerprints
        removed = list(range(len(result.fingerprints) + 1, len(previous) + 1))
        return Rebuilt(result, result.findings, _changed(previous, result.fingerprints), removed)


def _changed(before: tuple[str, ...], after: tuple[str, ...]) -> list[int]:
    return [i for i, page in enumerate(after, start=1) if i > len(before) or before[i - 1] != page]
