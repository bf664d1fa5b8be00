"""The JSON Schema of the issue format: made from the models, shipped up to date, and as strict
as the loader on the form of an issue (validated here with the `jsonschema` package)."""

from __future__ import annotations

import datetime as dt
import json
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, ISSUE_10, ISSUE_10_FR, ROOT
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from newsletter import cli
from newsletter.issue.model import Block
from newsletter.issue.schema import issue_schema, schema_text

SHIPPED = ROOT / "docs" / "issue.schema.json"
runner = CliRunner()


def _as_the_editor_sees_it(path: Path) -> Any:
    """The issue as a YAML language server reads it: dates are text written YYYY-MM-DD."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.isoformat() if isinstance(value, dt.date) else value

    return plain(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SHIPPED.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_shipped_schema_is_up_to_date_with_the_models() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == schema_text(), (
        "docs/issue.schema.json is out of date: run `newsletter schema --out docs/issue.schema.json`"
    )


@pytest.mark.parametrize(
    "issue", [ISSUE_10, ISSUE_10_FR, FIXTURES / "minimal" / "issue.yaml"], ids=lambda p: p.name
)
def test_issue_10_and_the_minimal_issue_are_valid(issue: Path, validator: Draft202012Validator) -> None:
    errors = [e.message for e in validator.iter_errors(_as_the_editor_sees_it(issue))]
    assert errors == []


def test_a_misspelt_block_type_is_refused_at_its_block(validator: Draft202012Validator) -> None:
    data = _as_the_editor_sees_it(ISSUE_10)
    block = next(b for b in data["sections"][3]["blocks"] if isinstance(b, dict) and b["type"] == "heading")
    block["type"] = "headng"
    errors = list(validator.iter_errors(data))
    assert len(errors) == 1
    assert list(errors[0].absolute_path)[:3] == ["sections", 3, "blocks"]


def test_a_misspelt_field_and_a_bad_id_are_refused(validator: Draft202012Validator) -> None:
    data = _as_the_editor_sees_it(ISSUE_10)
    data["sections"][0]["titel"] = "Editorial"
    data["sections"][1]["id"] = "Perspectives"
    messages = [e.message for e in validator.iter_errors(data)]
    assert any("'titel' was unexpected" in m for m in messages), messages
    assert any("does not match" in m for m in messages), messages


def test_a_section_needs_a_title_or_a_running_title(validator: Draft202012Validator) -> None:
    data = _as_the_editor_sees_it(ISSUE_10)
    del data["sections"][0]["title"]
    assert list(validator.iter_errors(data))
    data["sections"][0]["running_title"] = "Editorial"
    assert not list(validator.iter_errors(data))


def test_every_field_is_described_and_every_block_type_is_there() -> None:
    schema = issue_schema()
    models = {**schema["$defs"], "Issue": schema}
    for name, model in models.items():
        for field, spec in model.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field} has no description"
    block_types = {
        typing.get_args(m.model_fields["type"].annotation)[0]
        for m in typing.get_args(typing.get_args(Block)[0])
    }
    blocks = schema["$defs"]["Section"]["properties"]["blocks"]["items"]["anyOf"]
    assert blocks[0]["type"] == "string"  # a bare text is a paragraph
    assert set(blocks[1]["discriminator"]["mapping"]) == block_types


def test_schema_command_prints_it_and_writes_it(tmp_path: Path) -> None:
    printed = runner.invoke(cli.app, ["schema"])
    assert printed.exit_code == 0 and printed.stdout == schema_text()
    target = tmp_path / "docs" / "issue.schema.json"
    written = runner.invoke(cli.app, ["schema", "--out", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8") == schema_text()
    assert runner.invoke(cli.app, ["schema", "--out", str(tmp_path)]).exit_code == cli.EXIT_USAGE


def test_the_schema_and_the_loader_agree_on_plain_numbers(
    validator: Draft202012Validator, minimal: Path
) -> None:
    """`value: 12` and `title: No` are valid for both (texts taken as written); a bare number
    where a paragraph goes is refused by both."""
    from conftest import edit

    from newsletter.errors import IssueError
    from newsletter.issue.load import load_issue

    edit(minimal, "title: First section", "title: No")
    edit(
        minimal,
        "      - type: figure\n",
        "      - type: key_figures\n        figures:\n          - value: 12\n            label: units\n      - type: figure\n",
    )
    assert not list(validator.iter_errors(_as_the_editor_sees_it(minimal)))
    load_issue(minimal)
    edit(minimal, "      - type: key_figures\n", "      - 42\n      - type: key_figures\n")
    assert list(validator.iter_errors(_as_the_editor_sees_it(minimal)))
    with pytest.raises(IssueError):
        load_issue(minimal)
