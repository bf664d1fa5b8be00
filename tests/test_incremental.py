"""A warm session reads again only the section an edit is in (``issue/incremental.py``), and
gets exactly what reading the whole file gives: the issue, every position, every span."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from conftest import ISSUE_10, ISSUE_10_FR

from newsletter.errors import IssueError
from newsletter.issue import load
from newsletter.issue.incremental import reloaded
from newsletter.issue.load import Loaded, load_issue, load_kept


def _same(a: Loaded, b: Loaded) -> None:
    assert a.issue == b.issue
    assert a.located.data == b.located.data
    assert a.located.values == b.located.values
    assert a.located.keys == b.located.keys
    assert a.located.spans == b.located.spans
    assert a.located.text == b.located.text
    assert a.located.problems == b.located.problems


def _edited(text: str, rng: random.Random) -> str:
    """``text`` with one edit of an editor's kind at a random line: a word, a line copied or
    removed, a character typed (some break the YAML), a line indented, a field added."""
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    kind = rng.choice(["word", "copy", "remove", "char", "indent", "field"])
    if kind == "word":
        lines[i] = lines[i].replace("the", "a", 1)
    elif kind == "copy":
        lines.insert(i, lines[i])
    elif kind == "remove":
        del lines[i]
    elif kind == "char" and lines[i]:
        j = rng.randrange(len(lines[i]))
        lines[i] = lines[i][:j] + rng.choice("x :-\"'#[") + lines[i][j:]
    elif kind == "indent":
        lines[i] = " " + lines[i]
    else:
        lines.insert(i, " " * (len(lines[i]) - len(lines[i].lstrip())) + "kept: [title]")
    return "\n".join(lines)


@pytest.mark.parametrize("source", [ISSUE_10, ISSUE_10_FR], ids=["en", "fr"])
def test_a_section_read_alone_gives_what_the_whole_file_gives(source: Path, tmp_path: Path) -> None:
    folder = tmp_path / "issues"
    shutil.copytree(source.parent, folder)
    path = folder / source.name
    text = path.read_text(encoding="utf-8")
    previous = load_issue(path)
    rng = random.Random(10)
    read_alone = 0
    for _ in range(80):
        edited = _edited(text, rng)
        path.write_text(edited, encoding="utf-8")
        try:
            whole: Loaded | None = load_issue(path)
        except IssueError:
            whole = None
        alone = reloaded(previous, edited)
        if alone is None:
            continue
        assert whole is not None, "read alone, a section hid an error of the file"
        _same(alone, whole)
        read_alone += 1
    assert read_alone > 30


def test_a_session_reads_the_edited_section_only(issue_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept: dict[Path, Loaded] = {}
    before = load_kept(issue_copy, kept)
    text = issue_copy.read_text(encoding="utf-8")
    issue_copy.write_text(text.replace("this abject crime", "this heinous crime", 1), encoding="utf-8")

    def whole_file(*args: object) -> None:
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(load, "read_yaml", whole_file)
    after = load_kept(issue_copy, kept)
    changed = [i for i, (a, b) in enumerate(zip(before.issue.sections, after.issue.sections)) if a is not b]
    assert len(changed) == 1, "the other sections are kept as they were"
    assert "heinous" in str(after.issue.sections[changed[0]])
    monkeypatch.undo()
    _same(after, load_issue(issue_copy))


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("title: France’s multilateral", "title: France’s new multilateral", "the issue's own fields"),
        ("\n    blocks:\n", "\n    blocks: []\n    blocks:\n", "a key written twice in a section"),
        ("  - id: ", "  - id: x\n  - id: ", "a section added"),
    ],
)
def test_what_one_section_cannot_tell_is_read_whole(
    issue_copy: Path, old: str, new: str, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept: dict[Path, Loaded] = {}
    load_kept(issue_copy, kept)
    text = issue_copy.read_text(encoding="utf-8")
    assert old in text, why
    issue_copy.write_text(text.replace(old, new, 1), encoding="utf-8")
    read: list[Path] = []
    real = load.read_yaml
    monkeypatch.setattr(load, "read_yaml", lambda path, *a: read.append(path) or real(path, *a))
    try:
        load_kept(issue_copy, kept)
    except IssueError as failed:
        assert all(f.line for f in failed.findings if f.severity == "error"), "errors located in the file"
    assert read == [issue_copy], why
