"""Error types shared by all stages.

A ``ContentError`` is the editor's fault and carries every problem found, each with the
place to fix it (``file:line:col`` and the field path). The checks' findings travel in
``build.CheckFailed``. Anything else that escapes a stage is an internal failure of the tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an issue, located in its source file."""

    file: Path
    line: int | None
    col: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class ContentError(Exception):
    """The issue (or a file it names) is wrong; every problem found is listed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
