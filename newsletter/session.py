"""A warm build engine for the editor's loop: ``Session(issue).rebuild()`` after each edit.

A session keeps what a cold build has to do again: the fonts and stylesheets loaded, the
parts of the issue laid out (``paginate``: after an edit, only the parts whose content or
printed page numbers changed are laid out again) and what every page showed (so that it can
say which pages an edit changed). ``newsletter build`` runs the same pipeline (``build.run``)
and gets the same bytes; a session only carries its state from one build to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from .build import BuildOptions, BuildResult, Proof, Warm, run, sibling_findings
from .errors import Finding, IssueError
from .shipped import DEFAULT_LAYOUT, Layout


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
        edition: str = "email",
        out_dir: Path | str = "out",
        layout: Layout = DEFAULT_LAYOUT,
    ) -> None:
        self.issue_path = Path(issue_path)
        self.edition = edition
        self.out_dir = Path(out_dir)
        self.layout = layout
        self._prints: tuple[str, ...] = ()
        # The fonts, the stylesheets and the parts laid out, kept from one build to the next.
        self._warm = Warm()

    def rebuild(
        self,
        on_changed: Callable[[list[int]], None] | None = None,
        on_proof: Callable[[list[int], Proof], None] | None = None,
    ) -> Rebuilt:
        """Read the issue again, lay it out, check it and write the PDF.

        ``on_changed`` is told the changed pages as soon as the layout is checked, before the
        PDF is written; then ``on_proof`` is told them with a way to write some of them alone
        (``build.Proof``), when the edition's pages can be shown so (not the print edition's).
        On errors nothing is written and the previous state is kept.
        """
        previous = self._prints

        def laid_out(prints: tuple[str, ...], proof: Proof | None) -> None:
            changed = _changed(previous, prints)
            if on_changed is not None:
                on_changed(changed)
            if on_proof is not None and proof is not None and changed:
                on_proof(changed, proof)

        options = BuildOptions(
            self.edition,
            self.layout,
            self.out_dir,
            on_layout=laid_out,
            warm=self._warm,
        )
        try:
            result = run(self.issue_path, options)
        except IssueError as failed:
            return Rebuilt(None, failed.findings)
        self._prints = result.fingerprints
        removed = list(range(len(result.fingerprints) + 1, len(previous) + 1))
        return Rebuilt(result, result.findings, _changed(previous, result.fingerprints), removed)

    def close(self) -> None:
        """Remove the session's temporary files (the fonts its layout engine wrote out)."""
        self._warm.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sibling_findings(self) -> list[Finding]:
        """The findings that compare the issue with its other languages, made again from the
        files as they are (a sibling was saved); the issue is not laid out. Raises
        ``IssueError`` when the issue has errors."""
        options = BuildOptions(self.edition, self.layout, self.out_dir, warm=self._warm)
        return sibling_findings(self.issue_path, options)


def _changed(before: tuple[str, ...], after: tuple[str, ...]) -> list[int]:
    return [i for i, page in enumerate(after, start=1) if i > len(before) or before[i - 1] != page]
