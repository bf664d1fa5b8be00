"""Preflight rules: one fixture per rule that triggers it, and issue 10 clean under --strict."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pikepdf
import pytest
from conftest import FIXTURES, ISSUE_10, check_fixtures, edit, layout_copy, output_findings, spoil
from typer.testing import CliRunner

from newsletter import cli
from newsletter.build import DEFAULT_LAYOUT, build_issue, check_issue
from newsletter.check import RULES, guess_language
from newsletter.editions import EDITIONS
from newsletter.errors import Finding, IssueError
from newsletter.shipped import Layout

CHECK = FIXTURES / "check"

#: Fixture file -> (rule, severity, where: "line:col" of the field or "page N").
CONTENT_AND_LAYOUT = {
    "placeholder": ("error", "16:18"),
    "language": ("warning", "16:18"),
    "figure-alt": ("error", "13:9"),
    "stand-in": ("notice", "14:16"),
    "verify": ("notice", "14:17"),
    "image-file": ("error", "14:16"),
    "duplicate-id": ("error", "13:13"),
    "unknown-reference": ("error", "12:34"),
    "link-scheme": ("error", "12:25"),
    "unprintable": ("error", "12:9"),
    "empty-block": ("warning", "13:9"),
    "date-order": ("error", "16:18"),
    "agenda-dates": ("warning", "15:20"),
    "mail-subject": ("warning", "4:8"),
    "kept": ("warning", "10:12"),
    "format": ("error", "15:20"),
    # Layout findings name the page and the field of the issue file the box was made from.
    "overflow": ("error", "page 2 at 23:20"),
    "text-outside": ("error", "page 2 at 12:9"),
    "overfull-line": ("warning", "page 2 at 18:20"),
    "frame-overflow": ("error", "page 2 at 16:20"),
    "section-bleed": ("error", "page 2 at 21:18"),
    "empty-page": ("warning", "page 2"),
    "size-budget": ("error", ""),
}


def _findings(name: str, tmp_path: Path, layout: Layout = DEFAULT_LAYOUT) -> list[Finding]:
    folder = check_fixtures(tmp_path)
    return check_issue(folder / f"{name}.yaml", layout=layout)


@pytest.mark.parametrize("rule", sorted(CONTENT_AND_LAYOUT))
def test_fixture_triggers_its_rule(rule: str, tmp_path: Path) -> None:
    severity, where = CONTENT_AND_LAYOUT[rule]
    found = [f for f in _findings(rule, tmp_path) if f.rule == rule]
    assert found, f"{rule}.yaml did not trigger {rule}"
    finding = found[0]
    assert finding.severity == severity
    assert finding.hint
    if where.startswith("page"):
        assert finding.page == int(where.split()[1])
        if " at " in where:
            assert f"{finding.line}:{finding.col}" == where.split(" at ")[1], str(finding)
    elif where:
        assert f"{finding.line}:{finding.col}" == where


def test_placeholder_caption_of_the_original_is_caught_with_its_line(tmp_path: Path) -> None:
    found = [f for f in _findings("placeholder", tmp_path) if f.rule == "placeholder"]
    assert len(found) == 1
    assert str(found[0]).endswith(
        "placeholder.yaml:16:18: sections[0].blocks[1].caption: placeholder text "
        '"Légende accompagnant l\'illustration" in "Légende accompagnant l\'illustration." [placeholder]'
    )


def test_overflowing_key_figures_box_is_caught_with_its_page(tmp_path: Path) -> None:
    found = [f for f in _findings("overflow", tmp_path) if f.rule == "overflow"]
    assert found and found[0].page == 2
    assert "overflows its fixed-height frame" in found[0].message


def _layout(tmp_path: Path, css: str = "", labels: dict[str, str] | None = None) -> Layout:
    layout = layout_copy(tmp_path, css_after=css)
    for key, value in (labels or {}).items():
        edit(layout.labels_file, f"\n  {key}: ", f"\n  {key}: {value} ")
    return layout


def test_wrong_page_number_rule(minimal: Path, tmp_path: Path) -> None:
    # A layout that adds a digit after every page number prints wrong numbers whatever the
    # build sets: the check reads what is printed.
    findings = check_issue(minimal, layout=_layout(tmp_path, 'a.pageref::after { content: "9"; }'))
    assert any(
        f.rule == "page-reference" and f.page == 2 and "prints 'page 39'" in f.message for f in findings
    )


def test_heading_alone_rule(minimal: Path, tmp_path: Path) -> None:
    """A heading followed by a figure too tall for what is left of the page."""
    text = minimal.read_text(encoding="utf-8")
    filler = "      - " + "A paragraph of filler text to bring the heading down the page. " * 12 + "\n"
    heading = "      - type: heading\n        text: A heading left behind\n"
    text = text.replace("      - type: figure\n", filler * 3 + heading + "      - type: figure\n", 1)
    minimal.write_text(text, encoding="utf-8")
    # Our stylesheet keeps headings with what follows; a layout that forgets to must be caught.
    layout = _layout(
        tmp_path, "h2, h3, h4 { break-after: auto !important; } .figure { break-inside: avoid; }"
    )
    findings = check_issue(minimal, layout=layout)
    alone = [f for f in findings if f.rule == "heading-alone"]
    assert alone and alone[0].page == 2 and "A heading left behind" in alone[0].message
    assert not [f for f in check_issue(minimal) if f.rule == "heading-alone"]


def test_page_count_rule(minimal: Path) -> None:
    found = [f for f in check_issue(minimal) if f.rule == "page-count"]
    assert found and found[0].message == "3 pages is not a multiple of 4"


def test_glyphs_rule_covers_the_layouts_own_words(minimal: Path, tmp_path: Path) -> None:
    """A label the serif cannot print: found on the laid-out page, not in the issue."""
    layout = _layout(tmp_path, '.cover-lead::after { content: " \\2192"; }')
    found = [f for f in check_issue(minimal, layout=layout) if f.rule == "glyphs"]
    assert found and found[0].page == 1 and "Noto Serif cannot print '→' (U+2192)" in found[0].message


# Output rules run on a written PDF; each test spoils one thing in a good one.


@pytest.fixture
def output_context(minimal: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A written PDF with a link, and its issue: the output rules find nothing in it."""
    text = minimal.read_text(encoding="utf-8").replace(
        "A lead paragraph.", "A lead paragraph with [a link](https://example.org/)."
    )
    minimal.write_text(text, encoding="utf-8")
    result = build_issue(minimal, tmp_path / "out")
    assert result.pdf is not None
    assert not output_findings(result.pdf, minimal)
    return minimal, result.pdf


def _output_rules(source: Path, pdf: Path) -> set[str]:
    return {f.rule for f in output_findings(pdf, source)}


def test_metadata_rule(output_context: tuple[Path, Path]) -> None:
    source, pdf = output_context

    def drop(doc: pikepdf.Pdf) -> None:
        del doc.docinfo["/Title"]
        del doc.Root["/Lang"]

    spoil(pdf, drop)
    messages = [f.message for f in output_findings(pdf, source) if f.rule == "metadata"]
    assert messages == ["the PDF has no title in its metadata", "the PDF does not say its language"]


def test_link_uri_rule(output_context: tuple[Path, Path]) -> None:
    source, pdf = output_context

    def drop(doc: pikepdf.Pdf) -> None:
        for annot in doc.pages[0].Annots:
            if "/A" in annot:
                del annot.A["/URI"]

    spoil(pdf, drop)
    assert _output_rules(source, pdf) == {"link-uri"}


def test_fonts_embedded_rule(output_context: tuple[Path, Path]) -> None:
    source, pdf = output_context

    def whole(doc: pikepdf.Pdf) -> None:
        font = next(iter(doc.pages[0].Resources.Font.values()))
        font.BaseFont = pikepdf.Name("/" + str(font.BaseFont).split("+", 1)[1])

    spoil(pdf, whole)
    found = [f for f in output_findings(pdf, source) if f.rule == "fonts-embedded"]
    assert found and "embedded whole, not subset" in found[0].message


def test_fonts_bundled_rule(output_context: tuple[Path, Path]) -> None:
    source, pdf = output_context

    def foreign(doc: pikepdf.Pdf) -> None:
        font = next(iter(doc.pages[0].Resources.Font.values()))
        font.BaseFont = pikepdf.Name("/ABCDEF+DejaVuSans")

    spoil(pdf, foreign)
    found = [f for f in output_findings(pdf, source) if f.rule == "fonts-bundled"]
    assert found and found[0].message == "font ABCDEF+DejaVuSans is not bundled in fonts/"


def test_every_rule_has_a_test() -> None:
    """Each registered rule has a fixture named after it, or a test that asserts its name."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    fixtures = {p.stem for p in CHECK.glob("*.yaml")}
    untested = {
        name
        for name in RULES
        if name not in fixtures
        and not re.search(rf"[\"'\[]{re.escape(name)}[:\"'\]]", sources.replace(f'"{name}",', ""))
    }
    assert not untested, f"rules without a fixture or a test naming them: {untested}"
    assert fixtures <= set(RULES) | {"format"}, f"fixtures of no rule: {fixtures - set(RULES)}"


def test_edition_rules_belong_to_editions() -> None:
    """Every edition-only rule is claimed by an edition, and every rule an edition claims exists."""
    claimed = {name for edition in EDITIONS.values() for name in edition.rules}
    edition_only = {name for name, r in RULES.items() if r.edition_only}
    assert claimed == edition_only


def test_issue_10_is_clean_under_strict() -> None:
    findings = check_issue(ISSUE_10, strict=True)
    assert {f.severity for f in findings} <= {"notice"}, "\n".join(map(str, findings))
    # Its pages under the layout's fullness are notices, as intended (issue 26).
    assert {f.rule for f in findings} == {"stand-in", "page-fill"}


def test_a_long_subject_is_a_warning_with_its_length(tmp_path: Path) -> None:
    """The subject of issue 10 with its long title alone, as before its `mail_title:`."""
    copy = tmp_path / "issue-10.yaml"
    copy.write_text(ISSUE_10.read_text(encoding="utf-8").replace("mail_title:", "subject:"), encoding="utf-8")
    for image in ISSUE_10.parent.glob("images"):
        shutil.copytree(image, tmp_path / "images")
    found = [f for f in check_issue(copy) if f.rule == "mail-subject"]
    assert [(f.severity, f.field) for f in found] == [("warning", "title")]
    assert "81 characters long, more than the 78" in found[0].message


def test_kept_names_fields_of_its_model(tmp_path: Path) -> None:
    folder = check_fixtures(tmp_path)
    edit(folder / "kept.yaml", "kept: [title]", "kept: [titel]")
    errors = [f for f in check_issue(folder / "kept.yaml") if f.severity == "error"]
    assert [(f.rule, f.field, f.line) for f in errors] == [("format", "sections[0].kept", 11)]
    assert "'titel' is not a field here; the fields are: title, kicker" in errors[0].message


@pytest.mark.parametrize(("limit", "found"), [(78, True), (140, False)])
def test_the_layout_sets_the_subject_limit(limit: int, found: bool, tmp_path: Path) -> None:
    layout = layout_copy(tmp_path)
    (layout.templates / "mail.yaml").write_text(f"subject_limit: {limit}\n", encoding="utf-8")
    rules = [f.rule for f in _findings("mail-subject", tmp_path, layout)]
    assert ("mail-subject" in rules) is found


def test_a_malformed_mail_yaml_is_a_located_error(tmp_path: Path) -> None:
    layout = layout_copy(tmp_path)
    (layout.templates / "mail.yaml").write_text("subject_limit: 5\n", encoding="utf-8")
    errors = [f for f in _findings("mail-subject", tmp_path, layout) if f.severity == "error"]
    assert errors and errors[0].file == layout.templates / "mail.yaml" and errors[0].line == 1


def test_language_guess() -> None:
    assert guess_language("Légende accompagnant l'illustration.") == "fr"
    assert guess_language("Members of Les amis du bus des femmes presenting their work") is None
    assert guess_language("The French NGO presented its work on the protection of victims") == "en"


# The command


runner = CliRunner()


def test_check_command_groups_findings_and_ends_with_a_summary(tmp_path: Path) -> None:
    folder = check_fixtures(tmp_path)
    result = runner.invoke(cli.app, ["check", str(folder / "placeholder.yaml")])
    assert result.exit_code == cli.EXIT_CONTENT
    lines = result.output.strip().splitlines()
    assert lines[0] == "error (1):"
    assert lines.index("error (1):") < next(i for i, line in enumerate(lines) if line.startswith("warning"))
    assert any(line.strip().startswith("fix: write the real text") for line in lines)
    # Layout checks wait until the content has no errors: the placeholder stops them here.
    assert lines[-1] == "1 error, 1 warning, 0 notices"


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    folder = check_fixtures(tmp_path)
    issue = str(folder / "language.yaml")
    assert runner.invoke(cli.app, ["check", issue]).exit_code == 0
    strict = runner.invoke(cli.app, ["check", issue, "--strict"])
    assert strict.exit_code == cli.EXIT_CONTENT
    assert strict.output.strip().splitlines()[-1] == "1 error, 0 warnings, 0 notices"


def test_json_format(tmp_path: Path) -> None:
    folder = check_fixtures(tmp_path)
    result = runner.invoke(cli.app, ["check", str(folder / "unknown-reference.yaml"), "--format", "json"])
    assert result.exit_code == cli.EXIT_CONTENT
    data = json.loads(result.output)
    assert data["summary"] == "1 error, 0 warnings, 0 notices"
    (finding,) = data["findings"]
    assert finding["rule"] == "unknown-reference" and finding["line"] == 12 and finding["col"] == 34
    assert finding["field"] == "sections[0].blocks[0].text" and finding["hint"]


def test_build_refuses_on_errors_and_writes_nothing(tmp_path: Path) -> None:
    folder = check_fixtures(tmp_path)
    with pytest.raises(IssueError) as info:
        build_issue(folder / "overflow.yaml", tmp_path / "out")
    assert [f.rule for f in info.value.findings if f.severity == "error"] == ["overflow"]
    assert not (tmp_path / "out" / "overflow-email.pdf").exists()


def test_build_strict_refuses_on_warnings(tmp_path: Path) -> None:
    folder = check_fixtures(tmp_path)
    built = build_issue(folder / "language.yaml", tmp_path / "out")
    assert built.pdf is not None and any(f.rule == "language" for f in built.findings)
    built.pdf.unlink()
    with pytest.raises(IssueError):
        build_issue(folder / "language.yaml", tmp_path / "out", strict=True)
    assert not (tmp_path / "out" / "language-email.pdf").exists()


def test_check_writes_nothing(tmp_path: Path) -> None:
    folder = check_fixtures(tmp_path)
    before = sorted(p.name for p in folder.iterdir())
    assert runner.invoke(cli.app, ["check", str(folder / "stand-in.yaml")]).exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == before
    assert not Path("out/stand-in-email.pdf").exists()


def test_a_cut_figure_counts_only_the_letters_of_its_own_text(tmp_path: Path) -> None:
    """What CSS adds to a figure (a stand-in's label, set over the frame) is not counted as
    printed text, so it cannot hide letters cut off: with and without the label, the same
    letters are missing."""
    source = check_fixtures(tmp_path) / "section-bleed.yaml"
    edit(source, "        alt: A portrait\n", "        alt: A portrait\n        stand_in: true\n")
    unlabelled = layout_copy(tmp_path, ".figure.stand-in .frame::after { content: none !important; }")

    def missing(layout: Layout) -> list[str]:
        found = [f.message for f in check_issue(source, layout=layout) if f.rule == "section-bleed"]
        return [m.rsplit(" does not fit", 1)[1] for m in found]

    labelled = missing(DEFAULT_LAYOUT)
    assert labelled and labelled == missing(unlabelled)
