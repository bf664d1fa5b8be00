"""Errors in the editors' words: each mistake an editor or a new user makes, with its exit
code, its located message and the fix it suggests."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, layout_copy
from typer.testing import CliRunner

from newsletter import __version__, cli
from newsletter.errors import Finding
from newsletter.issue.load import load_issue

runner = CliRunner()

MINIMAL = (FIXTURES / "minimal" / "issue.yaml").read_text(encoding="utf-8")


def _issue(tmp_path: Path, text: str) -> Path:
    """The minimal issue with ``text`` in place of its own, its image beside it."""
    folder = tmp_path / "issue"
    folder.mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "minimal" / "photo.png", folder / "photo.png")
    path = folder / "issue.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _build(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["build", *args])
    return result.exit_code, result.output


# ---------------------------------------------------------------------------------------
# YAML traps, explained with the line and a caret


YAML_TRAPS = {
    # An unquoted ": " in a text, as French typography writes before a colon.
    "colon": (
        MINIMAL.replace(
            "title: A minimal issue", "title: Traite des êtres humains : la réponse de la France"
        ),
        "5:33",
        'a second ": " on this line',
        "put the whole text in quotes",
    ),
    # A field indented one space off.
    "indent": (
        MINIMAL.replace("    title: Second section", "     title: Second section"),
        "23:11",
        "indented further than the field above it",
        "the same number of spaces",
    ),
    "dedent": (
        MINIMAL.replace("    title: Second section", "   title: Second section"),
        "23:4",
        "this line is not indented like the lines around it",
        "the same number of spaces",
    ),
    "tab": (
        MINIMAL.replace("  lead: A lead", "\tlead: A lead"),
        "8:1",
        "a tab character",
        "replace the tab with spaces",
    ),
    "quote": (
        MINIMAL.replace("title: A minimal issue", 'title: "A minimal issue'),
        "5:8",
        "the quote opened here is never closed",
        "end the text with the same quote",
    ),
}


@pytest.mark.parametrize("name", sorted(YAML_TRAPS))
def test_yaml_traps_in_plain_words_with_caret(name: str, tmp_path: Path) -> None:
    text, where, message, hint = YAML_TRAPS[name]
    path = _issue(tmp_path, text)
    code, output = _build(str(path), "--out", str(tmp_path / "out"))
    assert code == cli.EXIT_CONTENT, output
    assert f"{path}:{where}" in output, output
    assert message in output and hint in output, output
    # The line is shown, and a caret under the column.
    line, col = where.split(":")[0], where.split(":")[1]
    shown = re.search(rf"^\s+{line} \| (.*)\n\s+\| ( *)\^$", output, re.MULTILINE)
    assert shown, output
    if col:
        assert len(shown.group(2)) == int(col) - 1
    assert "mapping values" not in output and "block end" not in output
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------
# Did you mean...


def test_misspelt_block_type_suggests_the_type(tmp_path: Path) -> None:
    text = MINIMAL.replace("type: figure", "type: figur")
    code, output = _build(str(_issue(tmp_path, text)), "--out", str(tmp_path / "out"))
    assert code == cli.EXIT_CONTENT
    assert "blocks[1].type: unknown block type 'figur'; did you mean 'figure'?" in output
    assert "Input tag" not in output


def test_misspelt_key_figures_suggests_key_figures(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "      - type: figure\n",
        "      - type: key_figure\n        figures: [{value: '1', label: one}]\n      - type: figure\n",
    )
    code, output = _build(str(_issue(tmp_path, text)), "--out", str(tmp_path / "out"))
    assert code == cli.EXIT_CONTENT
    assert re.search(
        r":17:15: sections\[0\]\.blocks\[1\]\.type: unknown block type 'key_figure'; did you mean 'key_figures'\?",
        output,
    )


def test_misspelt_field_suggests_the_field(tmp_path: Path) -> None:
    text = MINIMAL.replace("caption: A caption.", "captoin: A caption.")
    code, output = _build(str(_issue(tmp_path, text)), "--out", str(tmp_path / "out"))
    assert code == cli.EXIT_CONTENT
    assert "unknown field 'captoin'; did you mean 'caption'?" in output


def test_unknown_reference_suggests_the_id_and_points_at_the_link(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "      - A paragraph that refers to the second section on [page](#second).",
        "      - >-\n        A paragraph that runs over two lines\n        and refers to the second section on [page](#secnd).",
    )
    path = _issue(tmp_path, text)
    code, output = _build(str(path), "--out", str(tmp_path / "out"))
    assert code == cli.EXIT_CONTENT
    # The link is on the third line of the paragraph, at its column: not the paragraph's start.
    line = text.splitlines().index("        and refers to the second section on [page](#secnd).") + 1
    col = "        and refers to the second section on [page](".index("(") + 2
    assert (
        f"{path}:{line}:{col}: sections[0].blocks[0].text: page reference to unknown id 'secnd'; did you mean 'second'?"
        in output
    )


def test_missing_image_suggests_the_file(tmp_path: Path) -> None:
    text = MINIMAL.replace("image: photo.png", "image: photo.jpg")
    code, output = _build(str(_issue(tmp_path, text)), "--out", str(tmp_path / "out"))
    assert code == cli.EXIT_CONTENT
    assert "image file not found: 'photo.jpg'; did you mean 'photo.png'?" in output


# ---------------------------------------------------------------------------------------
# Pydantic's wording replaced


def test_empty_list_and_missing_field_in_plain_words(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("  lead: A lead paragraph.\n", "")
        .replace("      - Back to the first section, [page](#first).", "      []")
        .replace("    blocks:\n      []", "    blocks: []")
    )
    code, output = _build(str(_issue(tmp_path, text)), "--out", str(tmp_path / "out"))
    assert code == cli.EXIT_CONTENT
    assert "cover.lead: this required field is missing" in output
    assert "sections[1].blocks: this list is empty: write at least one item" in output
    assert "Value should have" not in output and "after validation" not in output


# ---------------------------------------------------------------------------------------
# The command line: exit codes 2 and 4, flags, version


def test_out_naming_a_file_exits_4(minimal: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    code, output = _build(str(minimal), "--out", str(a_file))
    assert code == cli.EXIT_ENVIRONMENT, output
    assert f"error: {a_file}: the output folder is a file" in output
    assert "this is a bug" not in output
    code, output = _build(str(minimal), "--out", str(a_file / "sub"))
    assert code == cli.EXIT_ENVIRONMENT, output
    assert "is a file, so the folder cannot be made" in output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder_exits_4(minimal: Path, tmp_path: Path) -> None:  # pragma: no cover
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, output = _build(str(minimal), "--out", str(locked / "out"))
    assert code == cli.EXIT_ENVIRONMENT, output


def test_full_disk_while_writing_exits_4(
    minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import newsletter.build

    real = newsletter.build._write_pdf

    def full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "out" / "x.pdf"))

    monkeypatch.setattr(newsletter.build, "_write_pdf", full)
    code, output = _build(str(minimal), "--out", str(tmp_path / "out"))
    monkeypatch.setattr(newsletter.build, "_write_pdf", real)
    assert code == cli.EXIT_ENVIRONMENT, output
    assert "cannot write: No space left on device" in output
    assert "this is a bug" not in output


def test_folder_instead_of_issue_exits_2_and_names_a_file(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "minimal" / "issue.yaml", tmp_path / "issue-11.yaml")
    code, output = _build(str(tmp_path))
    assert code == cli.EXIT_USAGE
    assert (
        f"{tmp_path} is a folder, not an issue file: name one of its files, e.g. {tmp_path / 'issue-11.yaml'}"
        in output
    )


def test_missing_issue_file_exits_4(tmp_path: Path) -> None:
    code, output = _build(str(tmp_path / "missing.yaml"))
    assert code == cli.EXIT_ENVIRONMENT
    assert "no such issue file" in output


def test_time_limit_must_be_positive(minimal: Path) -> None:
    for value in ("0", "-1"):
        code, output = _build(str(minimal), "--time-limit", value)
        assert code == cli.EXIT_USAGE, output
        assert "greater than 0" in output


def test_label_missing_from_a_language_is_located_in_labels_yaml(minimal: Path, tmp_path: Path) -> None:
    layout = layout_copy(tmp_path).templates
    labels = layout / "labels.yaml"
    labels.write_text(
        labels.read_text(encoding="utf-8").replace("  contents: Sommaire\n", ""), encoding="utf-8"
    )
    code, output = _build(str(minimal), "--layout", str(layout), "--out", str(tmp_path / "out"))
    assert code == cli.EXIT_CONTENT, output
    # The English issue fails too: every language an issue may use is checked at once.
    fr_line = labels.read_text(encoding="utf-8").splitlines().index("fr:") + 1
    assert (
        f"{labels}:{fr_line}:1: fr.contents: the label 'contents' is missing for 'fr'; the layout prints it [labels]"
        in output
    )
    assert "UndefinedError" not in output and "this is a bug" not in output


def test_language_missing_from_labels_is_located(minimal: Path, tmp_path: Path) -> None:
    layout = layout_copy(tmp_path).templates
    labels = layout / "labels.yaml"
    text = labels.read_text(encoding="utf-8")
    labels.write_text(text[: text.index("fr:")], encoding="utf-8")
    code, output = _build(str(minimal), "--layout", str(layout), "--out", str(tmp_path / "out"))
    assert code == cli.EXIT_CONTENT, output
    assert f"{labels}:1:1: fr: no labels for the language 'fr' [labels]" in output


def test_version() -> None:
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"newsletter {__version__}"


@pytest.mark.parametrize("command", ["build", "check", "send"])
def test_flags_show_no_value_placeholder(command: str) -> None:
    result = runner.invoke(cli.app, [command, "--help"])
    assert result.exit_code == 0
    assert "<bool>" not in result.output
    flags = re.findall(r"^\s+(--[a-z-]+)(.*)$", result.output, re.MULTILINE)
    for flag, rest in flags:
        if flag in ("--help", "--strict", "--html", "--dry-run"):
            assert not rest.strip() or not rest.strip().startswith("<"), (flag, rest)


def test_help_imports_neither_weasyprint_nor_pikepdf() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from newsletter import cli\n"
        "try:\n    cli.app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('weasyprint', 'pikepdf', 'rich') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]"), done.stdout


def test_html_with_every_edition(minimal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = _build(str(minimal), "--variant", "all", "--html", "--out", str(out))
    assert code == 0, output
    for edition in ("email", "print", "archive"):
        assert "<html" in (out / f"issue-{edition}.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------
# One finding type


def test_findings_print_one_way(tmp_path: Path) -> None:
    finding = Finding("overflow", "error", "it overflows", "shorten it", tmp_path / "x.yaml", 3, 5, "a.b", 2)
    assert str(finding) == f"{tmp_path / 'x.yaml'}:3:5: a.b: it overflows (page 2) [overflow]"
    page_only = Finding("empty-page", "warning", "page 2 is empty", "", tmp_path / "x.yaml", page=2)
    assert str(page_only) == f"{tmp_path / 'x.yaml'}: page 2: page 2 is empty [empty-page]"


def test_loaded_issue_finds_text_inside_a_value(tmp_path: Path) -> None:
    path = _issue(tmp_path, MINIMAL)
    loaded = load_issue(path)
    line, col = loaded.where(("sections", 0, "blocks", 0, "text"), "#second")
    assert (line, col) == (16, MINIMAL.splitlines()[15].index("#second") + 1)
    assert loaded.where(("sections", 0, "blocks", 0, "text")) == (16, 9)
