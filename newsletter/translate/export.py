"""``newsletter translate export``: the texts of one edition for a translator into another.

Input: the source edition's file (``issues/issue-11.yaml``), the target language and the
format. Output: an ``Exported``, the translator's file (XLIFF 1.2 or PO) with one unit per
text the target lacks or whose source changed since it was translated (every text with
``everything``), written to ``out/translate/issue-11.fr.xlf`` unless told where.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import EnvironmentFault
from ..issue.load import ISSUE_LANGUAGES, Loaded, load_issue, sibling_paths
from ..safeio import atomic_write, prepare_folder, writing
from .po import write_po_file
from .units import Unit, units
from .xliff import write_xliff

Format = Literal["xliff", "po"]
#: The file name ending of each format.
SUFFIXES: dict[str, str] = {"xliff": "xlf", "po": "po"}


@dataclass(frozen=True)
class Exported:
    """What ``export`` wrote."""

    path: Path
    source: Path
    target: Path
    units: list[Unit]

    def describe(self) -> str:
        """``wrote out/translate/issue-10.fr.xlf: 3 texts (1 new, 2 changed)``."""
        counts = Counter(unit.state for unit in self.units)
        parts = ", ".join(f"{counts[s]} {s}" for s in ("new", "changed", "current") if counts[s])
        if not self.units:
            return (
                f"{self.target} is in step with {self.source}: nothing to translate; wrote {self.path} "
                "without a text (--all exports every text)"
            )
        return f"wrote {self.path}: {len(self.units)} text(s) of {self.source} for {self.target} ({parts})"


def edition_in(issue: Loaded, language: str) -> Loaded:
    """The edition of ``issue`` in ``language``: the file beside it whose ``language:`` it is.
    Raises ``EnvironmentFault`` when there is none."""
    for path in sibling_paths(issue.path):
        sibling = load_issue(path)
        if sibling.issue.language == language:
            return sibling
    raise EnvironmentFault(
        f"no edition in {language!r} beside this issue",
        issue.path,
        "start the other language's file beside it (issue-11.fr.yaml for issue-11.yaml), e.g. with newsletter new",
    )


def export_texts(
    source_path: Path,
    language: str | None = None,
    form: Format = "xliff",
    everything: bool = False,
    out: Path | None = None,
) -> Exported:
    """Write the texts of ``source_path`` to translate into ``language`` (None: the issue's
    other language, English's French and French's English); raises
    ``IssueError`` when an edition has errors, ``EnvironmentFault`` when there is no edition
    in ``language`` or the file cannot be written."""
    source = load_issue(source_path)
    if language is None:
        language = next(lang for lang in ISSUE_LANGUAGES if lang != source.issue.language)
    if source.issue.language == language:
        raise EnvironmentFault(
            f"this issue is written in {language!r} already",
            source_path,
            "name the language to translate into",
        )
    target = edition_in(source, language)
    chosen = units(source, target, everything)
    original = source_path.name
    if form == "po":
        data = write_po_file(chosen, original, source.issue.language, language, source.issue.date)
    else:
        data = write_xliff(chosen, original, source.issue.language, language)
    base = target.path.name.removesuffix(".yaml").removesuffix(f".{language}")
    path = out or Path("out") / "translate" / f"{base}.{language}.{SUFFIXES[form]}"
    prepare_folder(path.parent)
    with writing(path.parent):
        atomic_write(path, data)
    return Exported(path, source_path, target.path, chosen)
