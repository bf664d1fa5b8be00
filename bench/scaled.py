"""A longer issue for the benches: an issue's sections repeated under new ids (issue 10 four
times is 49 pages)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml


def _renamed(value: Any, suffix: str) -> Any:
    """``value`` with every ``id:`` in it given ``suffix`` (its references keep their targets)."""
    if isinstance(value, dict):
        return {k: (f"{v}{suffix}" if k == "id" else _renamed(v, suffix)) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, suffix) for v in value]
    return value


def scaled_issue(issue: Path, folder: Path, times: int) -> Path:
    """``issue`` with its sections repeated ``times`` times under new ids, in ``folder``
    with its images."""
    data = yaml.safe_load(issue.read_text(encoding="utf-8"))
    sections = data["sections"]
    data["sections"] = sections + [_renamed(s, f"-{n}") for n in range(2, times + 1) for s in sections]
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(issue.parent / "images", folder / "images", dirs_exist_ok=True)
    path = folder / f"issue-x{times}.yaml"
    dumper = type("NoAliases", (yaml.SafeDumper,), {"ignore_aliases": lambda self, data: True})
    path.write_text(
        yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8"
    )
    return path
