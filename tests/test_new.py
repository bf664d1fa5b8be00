"""`newsletter new`: the next issue beside the previous one, in every language, its text as
placeholders that `check` reports, its images as stand-ins; never over an existing file."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ISSUE_10, ROOT
from jsonschema import Draft202012Validator
from PIL import Image
from pydantic import BaseModel
from typer.testing import CliRunner

from newsletter import cli
from newsletter.build import check_issue
from newsletter.issue.load import FormatErrors, load_issue
from newsletter.issue.model import Figure, Issue, walk
from newsletter.workbench.scaffold import next_date, next_path, next_season, placeholder

runner = CliRunner()
#: Blocks `new` keeps as they are.
KEPT = {"contact", "contents"}


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Issue 10 and its French sibling copied, and issue 11 started from them (once)."""
    folder = tmp_path_factory.mktemp("new") / "issues"
    shutil.copytree(ISSUE_10.parent, folder)
    result = runner.invoke(cli.app, ["new", str(folder / "issue-10.yaml")])
    assert result.exit_code == 0, result.output
    return folder


def _started(path: Path) -> Issue:
    """A started issue as the content rules see it: its dates are still to write (TODO), and
    stand in as the issue's date."""
    with pytest.raises(FormatErrors) as failed:
        load_issue(path)
    assert failed.value.salvaged is not None
    assert {f.rule for f in failed.value.findings} == {"placeholder"}, failed.value.findings
    return failed.value.salvaged[0].issue


def _shape(issue: Issue) -> list[tuple[object, ...]]:
    """The plan of an issue: every model's place, type and id (the text left out)."""
    return [
        (path, getattr(value, "type", type(value).__name__), getattr(value, "id", None))
        for path, value in walk(issue)
        if isinstance(value, BaseModel)
    ]


@pytest.mark.parametrize("name", ["issue-11.yaml", "issue-11.fr.yaml"])
def test_the_next_issue_keeps_the_plan_and_moves_on(started: Path, name: str) -> None:
    previous = load_issue(started / name.replace("11", "10")).issue
    issue = _started(started / name)
    assert (issue.number, issue.date) == (11, dt.date(2018, 12, 1))
    assert issue.season == ("Autumn 2018" if issue.language == "en" else "Automne 2018")
    assert (issue.series, issue.author, issue.language) == (
        previous.series,
        previous.author,
        previous.language,
    )
    assert _shape(issue) == _shape(previous)
    for mine, theirs in zip(issue.sections, previous.sections, strict=True):
        assert (mine.id, mine.title, mine.kicker, mine.running_title) == (
            theirs.id,
            theirs.title,
            theirs.kicker,
            theirs.running_title,
        )
    assert [t.target for t in issue.cover.teasers] == [t.target for t in previous.cover.teasers]


@pytest.mark.parametrize("name", ["issue-11.yaml", "issue-11.fr.yaml"])
def test_check_reports_every_placeholder_and_nothing_else(started: Path, name: str) -> None:
    findings = check_issue(started / name)
    errors = [f for f in findings if f.severity == "error"]
    assert errors and {f.rule for f in errors} == {"placeholder"}
    issue = _started(started / name)
    # Every section has something left to write, but one of the kept contact and contents.
    written = {
        f"sections[{i}]" for i, s in enumerate(issue.sections) if any(b.type not in KEPT for b in s.blocks)
    }
    assert {f.field.split(".")[0] for f in errors if f.field.startswith("sections")} == written
    # Every text kept as it was is a warning naming its field (issue 26: "Three questions to...
    # Mr Yuri Fedotov" went through unflagged), and so is the date `new` set.
    warnings = [f for f in findings if f.severity == "warning"]
    assert {f.rule for f in warnings} == {"kept"}, [str(f) for f in warnings]
    kept = {f.field for f in warnings if f.rule == "kept"}
    assert {"series", "author", "date", "season"} <= kept
    for i, section in enumerate(issue.sections):
        for field in ("title", "kicker", "running_title"):
            assert (getattr(section, field) is not None) == (f"sections[{i}].{field}" in kept)
    contact = next(
        f"sections[{i}].blocks[{j}]"
        for i, s in enumerate(issue.sections)
        for j, b in enumerate(s.blocks)
        if b.type == "contact"
    )
    assert {f"{contact}.{field}" for field in ("name", "role", "email", "social", "offices")} <= kept
    stand_ins = [f for f in findings if f.rule == "stand-in"]
    assert len(stand_ins) == sum(1 for _, v in walk(issue) if isinstance(v, Figure))


#: Values that are settings or names, not text: never stale.
SETTINGS = {"type", "id", "target", "image", "style", "width", "when", "language", "kept"}


@pytest.mark.parametrize("name", ["issue-11.yaml", "issue-11.fr.yaml"])
def test_nothing_is_kept_silently(started: Path, name: str) -> None:
    """Every text of the started issue is a placeholder or is listed in a `kept:` above it;
    every date of a quotation or an event is left to write, never the old one moved on."""
    issue = _started(started / name)
    listed = {
        (*path, field)
        for path, value in walk(issue)
        if isinstance(value, BaseModel)
        for field in getattr(value, "kept", [])
    }
    for path, value in walk(issue):
        if (
            not isinstance(value, str)
            or SETTINGS & set(map(str, path))
            or value == "https://example.org/TODO"
        ):
            continue
        if path[-1] == "place" and value in ("inline", "left", "right"):
            continue  # a figure's side
        kept = any(path[: len(field)] == field for field in listed)
        assert kept or "TODO" in value, (path, value)
    raw = yaml.safe_load((started / name).read_text(encoding="utf-8"))
    dates = [
        (path, value)
        for path, value in walk_raw(raw)
        if path and path[-1] in ("date", "start", "end") and len(path) > 1
    ]
    assert dates and all(isinstance(v, str) and v.startswith("TODO") and p[-1] != "end" for p, v in dates), (
        dates
    )


def walk_raw(value: object, path: tuple[object, ...] = ()) -> list[tuple[tuple[object, ...], object]]:
    """Every value of YAML data with its path."""
    found: list[tuple[tuple[object, ...], object]] = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += walk_raw(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += walk_raw(item, (*path, i))
    return found


def test_every_image_is_a_generated_stand_in_shared_by_both_languages(started: Path) -> None:
    english, french = (_started(started / n) for n in ("issue-11.yaml", "issue-11.fr.yaml"))
    figures = [v for _, v in walk(english) if isinstance(v, Figure)]
    assert figures and all(f.stand_in and f.image.startswith("images/issue-11/") for f in figures)
    assert [f.image for f in figures] == [v.image for _, v in walk(french) if isinstance(v, Figure)]
    for figure in figures:
        with Image.open(started / figure.image) as image:
            assert image.format == "JPEG"
    # The same size as the image it stands in for, so the layout stays as it was.
    before = [v for _, v in walk(load_issue(started / "issue-10.yaml").issue) if isinstance(v, Figure)]
    with Image.open(started / before[0].image) as old, Image.open(started / figures[0].image) as new:
        assert old.size == new.size


def test_the_new_files_start_with_the_schema_for_the_editors_editor(started: Path) -> None:
    for name in ("issue-11.yaml", "issue-11.fr.yaml"):
        first = (started / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        # Outside the project's checkout: a copy beside the issues, named relatively.
        assert first == "# yaml-language-server: $schema=issue.schema.json"
        schema = started / "issue.schema.json"
        assert schema.read_bytes() == (ROOT / "docs" / "issue.schema.json").read_bytes()
        data = yaml.safe_load((started / name).read_text(encoding="utf-8"))
        plain = json.loads(json.dumps(data, default=lambda d: d.isoformat()))
        assert not list(
            Draft202012Validator(json.loads(schema.read_text(encoding="utf-8"))).iter_errors(plain)
        )


def test_new_never_overwrites_and_writes_all_or_nothing(started: Path, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in started.rglob("*") if p.is_file()}
    again = runner.invoke(cli.app, ["new", str(started / "issue-10.yaml")])
    assert again.exit_code == cli.EXIT_ENVIRONMENT
    assert "exists already" in again.output and "nothing was written" in again.output
    assert {p: p.read_bytes() for p in started.rglob("*") if p.is_file()} == before

    # One file of the next issue in the way: none of the others is written either.
    folder = tmp_path / "issues"
    shutil.copytree(ISSUE_10.parent, folder)
    (folder / "issue-11.fr.yaml").write_text("# mine\n", encoding="utf-8")
    refused = runner.invoke(cli.app, ["new", str(folder / "issue-10.fr.yaml")])
    assert refused.exit_code == cli.EXIT_ENVIRONMENT
    assert not (folder / "issue-11.yaml").exists() and not (folder / "images" / "issue-11").exists()
    assert (folder / "issue-11.fr.yaml").read_text(encoding="utf-8") == "# mine\n"


def test_new_from_an_issue_without_a_sibling(minimal: Path) -> None:
    result = runner.invoke(cli.app, ["new", str(minimal)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in minimal.parent.glob("*.yaml")) == ["issue-2.yaml", "issue.yaml"]
    assert load_issue(minimal.parent / "issue-2.yaml").issue.number == 2


def test_new_from_an_issue_with_errors_writes_nothing(minimal: Path) -> None:
    minimal.write_text(minimal.read_text(encoding="utf-8").replace("title: A minimal", "titel: A minimal"))
    result = runner.invoke(cli.app, ["new", str(minimal)])
    assert result.exit_code == cli.EXIT_CONTENT
    assert "titel" in result.output and "nothing was written" in result.output
    assert sorted(p.name for p in minimal.parent.iterdir()) == ["issue.yaml", "photo.png"]


@pytest.mark.parametrize(
    ("name", "number", "expected"),
    [
        ("issue-10.yaml", 10, "issue-11.yaml"),
        ("issue-10.fr.yaml", 10, "issue-11.fr.yaml"),
        ("2018-issue-9.yaml", 9, "2018-issue-10.yaml"),
        ("issue.yaml", 1, "issue-2.yaml"),
        ("issue-100.yaml", 10, "issue-100-11.yaml"),
    ],
)
def test_next_name(name: str, number: int, expected: str) -> None:
    assert next_path(Path("issues") / name, number) == Path("issues") / expected


@pytest.mark.parametrize(
    ("season", "language", "expected"),
    [
        ("Summer 2018", "en", "Autumn 2018"),
        ("Autumn 2018", "en", "Winter 2018"),
        ("Fall 2018", "en", "Winter 2018"),
        ("Winter 2018", "en", "Spring 2019"),
        ("Été 2018", "fr", "Automne 2018"),
        ("Hiver 2018", "fr", "Printemps 2019"),
        ("n° 10, summer 2018", "en", "n° 10, autumn 2018"),
        ("Quarterly", "en", None),
    ],
)
def test_next_season(season: str, language: str, expected: str | None) -> None:
    assert next_season(season, language) == expected


def test_next_date_keeps_the_day_or_takes_the_months_last() -> None:
    assert next_date(dt.date(2018, 9, 1)) == dt.date(2018, 12, 1)
    assert next_date(dt.date(2018, 11, 30)) == dt.date(2019, 2, 28)
    assert next_date(dt.date(2019, 11, 30)) == dt.date(2020, 2, 29)


def test_placeholders_say_what_to_write_in_the_editions_language() -> None:
    assert placeholder("caption", "one two three four five six", "en") == "TODO: caption (about 6 words)"
    assert (
        placeholder("text", "Un deux trois quatre cinq.", "fr", "Paragraph")
        == "TODO : paragraphe (environ 5 mots)"
    )
    assert placeholder("value", "€1,830,000", "en") == "TODO: figure"
