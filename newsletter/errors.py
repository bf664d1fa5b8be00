"""What went wrong, in one vocabulary for every stage and every command.

A ``Finding`` is one thing to fix: where (the file, line and column of the field, its path,
and the page when the layout shows it there), which rule found it, how serious it is, and
how to fix it. Loading, rendering, layout, output checks, sending and the command line all
speak in findings; ``IssueError`` carries the findings of an issue that cannot be built or
sent (exit 1). ``EnvironmentFault`` is the machine's side: a folder that cannot be written, a
file named on the command line that cannot be read, a broken state file (exit 4). Anything
else that escapes a command is a bug of the tool (exit 3).

Severities: an *error* stops the build; a *warning* is printed (and stops it under
``--strict``); a *notice* is something to act on before the final edition, never blocking.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

#: A position in an issue file: field names and list indexes, e.g. ``("sections", 2, "blocks", 0)``.
FieldPath = tuple[str | int, ...]
Severity = Literal["error", "warning", "notice"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "notice")

#: The hint of findings about the form of an issue file.
FORMAT_HINT = "see docs/issue-format.md for the fields and block types"


@dataclass(frozen=True)
class Finding:
    """One thing to fix, where to fix it, and how."""

    rule: str
    severity: Severity
    message: str
    hint: str = ""
    file: Path | None = None
    line: int | None = None
    col: int | None = None
    #: The field's path in the file, e.g. ``sections[0].blocks[1].text``.
    field: str = ""
    #: The page of the laid-out edition where the layout shows the problem.
    page: int | None = None
    #: The source line, with a caret under the column, when the line itself is the problem.
    excerpt: str = ""

    @property
    def where(self) -> str:
        """``file:line:col``, ``file: page N`` or ``file:line:col (page N)``."""
        if self.file is None:
            return f"page {self.page}" if self.page is not None else ""
        if self.line is None:
            return f"{self.file}: page {self.page}" if self.page is not None else str(self.file)
        return f"{self.file}:{self.line}:{self.col or 1}"

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        field = f"{self.field}: " if self.field else ""
        page = f" (page {self.page})" if self.page is not None and self.line is not None else ""
        return f"{where}{field}{self.message}{page} [{self.rule}]"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "file": str(self.file) if self.file else None,
            "line": self.line,
            "col": self.col,
            "field": self.field or None,
            "page": self.page,
        }


def error(
    file: Path | None,
    message: str,
    *,
    line: int | None = None,
    col: int | None = None,
    field: str = "",
    rule: str = "format",
    hint: str = FORMAT_HINT,
    excerpt: str = "",
) -> Finding:
    """An error finding (the common case outside the check rules)."""
    return Finding(rule, "error", message, hint, file, line, col, field, None, excerpt)


class IssueError(Exception):
    """The issue (or a file it names) has errors: ``findings`` lists every finding.

    Raised by every stage: loading, rendering, layout and output checks, sending.
    """

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("\n".join(str(f) for f in findings if f.severity == "error"))

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses process boundaries (``--variant all``) with its findings intact.
        return (IssueError, (self.findings,))


class EnvironmentFault(Exception):
    """The machine, not the issue: an unwritable or full folder, an unreadable file named on
    the command line, a broken state file. ``path`` is the file or folder concerned."""

    def __init__(self, message: str, path: Path | None = None, hint: str = "") -> None:
        self.message = message
        self.path = path
        self.hint = hint
        super().__init__(f"{path}: {message}" if path is not None else message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (EnvironmentFault, (self.message, self.path, self.hint))


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding stops the build."""
    return any(f.severity == "error" for f in findings)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'key_figures'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def excerpt(text: str, line: int, col: int) -> str:
    """Line ``line`` (1-based) of ``text`` and a caret under column ``col``."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    shown = lines[line - 1].replace("\t", " ")
    if len(shown) > 100:
        start = max(0, col - 60)
        shown, col = shown[start : start + 100], col - start
    return f"{line:>5} | {shown}\n      | {' ' * (col - 1)}^"


def format_findings(findings: list[Finding], hidden: Collection[Severity] = ()) -> str:
    """Findings grouped by severity, each with its source line and fix hint, then a summary.

    The findings of a ``hidden`` severity are not listed but still counted in the summary, so
    that the counts a command prints always agree (``build`` lists warnings, counts notices).
    """
    lines = []
    for severity in SEVERITIES:
        group = [f for f in findings if f.severity == severity]
        if group and severity not in hidden:
            lines.append(f"{severity}s ({len(group)}):" if len(group) != 1 else f"{severity} (1):")
            for finding in group:
                lines.append(f"  {finding}")
                if finding.excerpt:
                    lines.extend(f"    {row}" for row in finding.excerpt.splitlines())
                if finding.hint:
                    lines.append(f"      fix: {finding.hint}")
    lines.append(summary(findings))
    return "\n".join(lines)


def merge_editions(per_edition: Mapping[str, Iterable[Finding]]) -> list[Finding]:
    """The findings of several editions of one issue, each once, in the order first found.

    A finding that only some of the editions have says which (``... (email and web
    editions)``): the same warning three times over for ``--variant all`` hid the one that
    differed.
    """
    editions: dict[Finding, list[str]] = {}
    for name, findings in per_edition.items():
        for finding in findings:
            names = editions.setdefault(finding, [])
            if name not in names:
                names.append(name)
    merged = []
    for finding, names in editions.items():
        if len(names) < len(per_edition):
            listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
            edition = "edition" if len(names) == 1 else "editions"
            finding = replace(finding, message=f"{finding.message} ({listed} {edition})")
        merged.append(finding)
    return merged


def summary(findings: list[Finding]) -> str:
    """``2 errors, 1 warning, 0 notices``."""
    parts = []
    for severity in SEVERITIES:
        count = sum(f.severity == severity for f in findings)
        parts.append(f"{count} {severity}{'' if count == 1 else 's'}")
    return ", ".join(parts)
