"""`newsletter diff`: two proofs compared page by page; exit 0 identical, 1 different, 2 for a
wrong use or an input that cannot be read."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import ISSUE_10, BuiltPdf, edit
from PIL import Image
from typer.testing import CliRunner

from newsletter import cli
from newsletter.build import BuildResult, build_issue
from newsletter.engine.typesetter import PageRef
from newsletter.workbench.diff import Difference, compare, words_changed

runner = CliRunner()

#: One paragraph of the HTMSS section (page 8) made longer: its last lines run onto a page
#: of their own, and every later page moves on by one.
PARAGRAPH_END = "        preventing and responding to these crimes.\n"
LONGER = (
    "        preventing and responding to these crimes. In the last two years its experts have also\n"
    "        trained the judges, prosecutors and police officers of more than thirty countries to\n"
    "        recognise the signs of trafficking, to question victims without harming them again and to\n"
    "        work with their counterparts abroad from the first day of an investigation. Several of\n"
    "        these courses were held in South-East Europe, where the section now works with the national\n"
    "        training academies so that the same modules are taught to every new officer and magistrate,\n"
    "        and where France has offered to host the next regional meeting of the trainers.\n"
)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """Issue 10 with one paragraph made longer, built once."""
    folder = tmp_path_factory.mktemp("edited") / "issues"
    shutil.copytree(ISSUE_10.parent, folder)
    (folder / "issue-10.fr.yaml").unlink()  # its sibling warnings are not what is compared here
    edit(folder / "issue-10.yaml", PARAGRAPH_END, LONGER)
    return build_issue(folder / "issue-10.yaml", folder.parent / "out")


@pytest.fixture(scope="module")
def difference(
    issue10: BuiltPdf, edited: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Difference:
    assert edited.pdf is not None
    return compare(issue10.path, edited.pdf, tmp_path_factory.mktemp("diff") / "images")


def _moved(before: list[PageRef], after: list[PageRef]) -> set[tuple[str, int, int, int]]:
    """The references the builds themselves say print another number: (target, page, was, is)."""

    def numbered(refs: list[PageRef]) -> dict[tuple[str, int], PageRef]:
        seen: Counter[str] = Counter()
        found = {}
        for ref in refs:
            seen[ref.target] += 1
            found[(ref.target, seen[ref.target])] = ref
        return found

    old, new = numbered(before), numbered(after)
    return {
        (key[0], ref.page, old[key].printed_number or 0, ref.printed_number or 0)
        for key, ref in new.items()
        if key in old and old[key].printed_number != ref.printed_number
    }


def test_a_one_paragraph_edit_names_the_changed_pages_and_the_moved_references(
    issue10: BuiltPdf, edited: BuildResult, difference: Difference
) -> None:
    htmss = next(r.target_page for r in issue10.result.references if r.target == "htmss")
    assert htmss is not None
    moved = _moved(issue10.result.references, edited.references)
    assert moved, "the edit was meant to move references"
    found = {(r.target, r.new_page, r.old_number, r.new_number) for r in difference.references}
    assert found == moved
    # The page edited, and every page holding a reference that moved; the spilt lines' page.
    assert {c.new for c in difference.changed} == {htmss} | {page for _, page, _, _ in moved}
    assert difference.added == (htmss + 1,) and difference.removed == ()
    assert (difference.old_pages, difference.new_pages) == (issue10.result.pages, issue10.result.pages + 1)
    # The pages between, moved on by one with nothing else changed, are only renumbered.
    assert difference.renumbered and all(new == old + 1 for old, new in difference.renumbered)
    accounted = (
        {c.new for c in difference.changed} | set(difference.added) | {n for _, n in difference.renumbered}
    )
    unchanged = set(range(1, difference.new_pages + 1)) - accounted
    assert all(page < htmss for page in unchanged)
    edited_page = next(c for c in difference.changed if c.new == htmss)
    assert any(words.startswith("In the last two years its experts") for words in edited_page.added)


def test_each_changed_page_has_a_picture_of_the_difference(difference: Difference, issue10: BuiltPdf) -> None:
    assert difference.folder is not None
    for change in difference.changed:
        assert change.image is not None and change.image.parent == difference.folder
        with Image.open(change.image) as image:
            assert image.format == "PNG" and image.width > 2 * image.height  # old | new | difference
    assert sorted(p.name for p in difference.folder.iterdir()) == sorted(
        c.image.name for c in difference.changed if c.image
    )


def test_the_difference_as_json(
    issue10: BuiltPdf, edited: BuildResult, difference: Difference, tmp_path: Path
) -> None:
    result = runner.invoke(
        cli.app, ["diff", str(issue10.path), str(edited.pdf), "--format", "json", "--out", str(tmp_path)]
    )
    assert result.exit_code == cli.EXIT_CONTENT, result.output
    data = json.loads(result.stdout)
    assert data["identical"] is False
    assert data["new"]["pages"] == data["old"]["pages"] + 1
    assert data["added"] == list(difference.added) and data["removed"] == []
    assert [c["new_page"] for c in data["changed"]] == [c.new for c in difference.changed]
    assert [r["target"] for r in data["references"]] == [r.target for r in difference.references]
    assert all(Path(c["image"]).is_file() for c in data["changed"])


def test_a_proof_against_itself_is_identical(issue10: BuiltPdf, tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["diff", str(issue10.path), str(issue10.path), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "identical" in result.output
    assert not (tmp_path / "diff").exists()


def test_an_issue_against_its_last_build(minimal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    missing = runner.invoke(cli.app, ["diff", str(minimal), "--out", str(out)])
    assert missing.exit_code == cli.EXIT_USAGE and "no last build" in missing.output
    assert runner.invoke(cli.app, ["build", str(minimal), "--out", str(out)]).exit_code == 0
    same = runner.invoke(cli.app, ["diff", str(minimal), "--out", str(out)])
    assert same.exit_code == 0, same.output
    edit(minimal, "A lead paragraph.", "A lead paragraph, a little longer.")
    changed = runner.invoke(cli.app, ["diff", str(minimal), "--out", str(out)])
    assert changed.exit_code == cli.EXIT_CONTENT, changed.output
    assert "page 1: changed" in changed.output and "+ 'paragraph, a little longer.'" in changed.output
    assert (out / "diff" / "issue-email" / "page-01.png").is_file()


def test_inputs_that_cannot_be_compared_exit_2(minimal: Path, tmp_path: Path, issue10: BuiltPdf) -> None:
    not_pdf = tmp_path / "notes.pdf"
    not_pdf.write_text("not a PDF")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnothing else")
    edit(minimal, "title: A minimal issue", "titel: A minimal issue")
    for args in (
        [str(tmp_path / "missing.pdf"), str(issue10.path)],
        [str(not_pdf), str(issue10.path)],
        [str(broken), str(issue10.path)],
        [str(tmp_path), str(issue10.path)],
        [str(issue10.path)],
        [str(minimal), str(issue10.path)],
        [str(issue10.path), str(issue10.path), "--variant", "all"],
    ):
        result = runner.invoke(cli.app, ["diff", *args, "--out", str(tmp_path / "out")])
        assert result.exit_code == cli.EXIT_USAGE, (args, result.output)
        assert "nothing was compared" in result.output


def test_words_added_and_removed() -> None:
    added, removed = words_changed("one two three four", "one two 3 four five")
    assert (added, removed) == (["3", "five"], ["three"])
