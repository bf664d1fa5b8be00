"""The two languages kept in step: the translator's round trip on issue 10 (export, import,
again: the same bytes), a changed English paragraph exported as changed and reported stale
until a new translation is imported, broken codes refused, the files read back by second,
independent readers (the standard library's XML reader; gettext's ``msgfmt --check``).

No package ships the XLIFF 1.2 schema (``xliff-core-1.2-strict.xsd``): translate-toolkit
keeps only the 1.1 schema, among the tests of its repository, and Debian's
``translate-toolkit`` and ``python3-translate`` install no XSD. The XLIFF is read
with ``xml.etree`` instead, and its structure checked as the 1.2 specification writes it.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ISSUE_10, ROOT, edit
from mailkit import run_cli

from newsletter.check import ContentContext, run_checks
from newsletter.editions import EDITIONS
from newsletter.errors import Finding
from newsletter.issue.fonts import font_coverage
from newsletter.issue.load import load_issue
from newsletter.issue.texts import text_hash, texts
from newsletter.translate.export import export_texts
from newsletter.translate.importer import import_texts

NS = {"x": "urn:oasis:names:tc:xliff:document:1.2"}
RULES = ("translation-stale", "untranslated")
#: A paragraph of the English editorial, and its words changed by an editor.
OLD = "both of which boast advanced activity and"
NEW = "both of which run advanced activity and"
EDITORIAL = "sections[editorial].blocks[0].text"


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Writable copies of issue 10 in English and French, with their images."""
    folder = tmp_path / "issues"
    shutil.copytree(ISSUE_10.parent, folder, ignore=shutil.ignore_patterns("*.md"))
    return folder / "issue-10.yaml", folder / "issue-10.fr.yaml"


def findings(issue: Path) -> list[Finding]:
    """The findings of the translation rules on ``issue``."""
    context = ContentContext(load_issue(issue), font_coverage(ROOT / "fonts"), EDITIONS["email"])
    return [f for f in run_checks("content", context) if f.rule in RULES]


def round_trip(source: Path, target: Path, form: str, out: Path) -> None:
    language = load_issue(target).issue.language
    exported = export_texts(source, language, form, everything=True, out=out)  # type: ignore[arg-type]
    imported = import_texts(target, exported.path)
    assert not imported.refused, imported.refused


@pytest.mark.parametrize("form", ["xliff", "po"])
def test_a_second_round_trip_leaves_both_files_byte_identical(
    pair: tuple[Path, Path], form: str, tmp_path: Path
) -> None:
    english, french = pair
    before = english.read_bytes(), french.read_bytes()
    assert findings(english) == [] and findings(french) == []  # no records: in step
    # The first round trip, both ways, writes the records and nothing else.
    round_trip(english, french, form, tmp_path / f"fr.{form}")
    round_trip(french, english, form, tmp_path / f"en.{form}")
    for path, old in zip((english, french), before, strict=True):
        new = path.read_bytes()
        assert new.startswith(old) and b"\ntranslated_from:\n" in new[len(old) :], path
    records = load_issue(french).issue.translated_from["en"]
    assert len(records) == len(texts(load_issue(english).issue)) == 191  # with issue 10's mail_title
    assert findings(english) == [] and findings(french) == []
    # The second changes nothing, in either direction.
    written = english.read_bytes(), french.read_bytes()
    round_trip(english, french, form, tmp_path / f"fr2.{form}")
    round_trip(french, english, form, tmp_path / f"en2.{form}")
    assert (english.read_bytes(), french.read_bytes()) == written


def test_a_changed_paragraph_is_exported_as_changed_and_stale_until_translated_again(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    english, french = pair
    round_trip(english, french, "xliff", tmp_path / "first.xlf")
    assert export_texts(english, "fr", out=tmp_path / "none.xlf").units == []
    edit(english, OLD, NEW)

    # Reported on either language, a warning naming both places.
    [stale] = findings(french)
    assert (stale.rule, stale.severity, stale.field) == (
        "translation-stale",
        "warning",
        "sections[0].blocks[0].text",
    )
    assert stale.file == french and stale.line is not None and stale.col is not None
    english_line = next(
        i for i, line in enumerate(english.read_text().splitlines(), 1) if "This issue focuses" in line
    )
    assert stale.message == f"translated from an older text of {english}:{english_line - 1}:9"
    [changed] = findings(english)
    assert changed.file == english and changed.message.startswith("changed since ")
    assert f"{french}:{stale.line}:{stale.col} was translated from it" in changed.message

    # Exported alone, as changed, with the translation it had.
    exported = export_texts(english, "fr", out=tmp_path / "changed.xlf")
    assert [(u.key, u.state) for u in exported.units] == [(EDITORIAL, "changed")]
    tree = ET.parse(exported.path)
    [unit] = tree.getroot().iterfind(".//x:trans-unit", NS)
    target = unit.find("x:target", NS)
    assert unit.get("id") == EDITORIAL and target is not None
    assert target.get("state") == "needs-review-translation"
    assert "run advanced activity" in "".join(unit.find("x:source", NS).itertext())  # type: ignore[union-attr]
    note = unit.find("x:note", NS)
    assert note is not None and "Paragraph.text" in (note.text or "") and "changed since" in (note.text or "")

    # Imported as it came back untouched: still to review, nothing written, still stale.
    untouched = french.read_bytes()
    imported = import_texts(french, exported.path)
    assert imported.waiting == [EDITORIAL] and not imported.changed
    assert french.read_bytes() == untouched and [f.rule for f in findings(french)] == ["translation-stale"]

    # Translated again: written in the French file, in its style, and in step.
    text = exported.path.read_text(encoding="utf-8")
    retranslated = text.replace("qui disposent", "qui gèrent").replace(
        "needs-review-translation", "translated"
    )
    assert retranslated != text
    exported.path.write_text(retranslated, encoding="utf-8")
    imported = import_texts(french, exported.path)
    assert imported.written == [EDITORIAL] and imported.changed
    assert findings(french) == [] and findings(english) == []
    written = french.read_text(encoding="utf-8")
    assert "qui gèrent" in written and "qui disposent" not in written
    # Folded as it was: the lines before the change as they were, the rest wrapped anew.
    changed = [
        line
        for line in difflib.unified_diff(
            untouched.decode().splitlines(), written.splitlines(), lineterm="", n=0
        )
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed[:2] == [
        "-        international pour le développement des politiques migratoires (CIDPM), qui disposent",
        "+        international pour le développement des politiques migratoires (CIDPM), qui gèrent",
    ]
    # And the record of the source it was translated from.
    assert [line[:1] + line[5:].split(":")[0] for line in changed[2:]] == [f"-{EDITORIAL}", f"+{EDITORIAL}"]
    assert written.count("\n#") == untouched.decode().count("\n#")  # every comment kept


def test_broken_codes_are_refused_and_located(pair: tuple[Path, Path], tmp_path: Path) -> None:
    english, french = pair
    exported = export_texts(english, "fr", everything=True, out=tmp_path / "all.xlf")
    text = exported.path.read_text(encoding="utf-8")
    # A page reference dropped from one translation, and an unknown code added to another.
    key = "sections[since-2010].blocks[expert-meetings].text"
    start = text.index(f'<trans-unit id="{key}"')
    target = text.index("<target", start)
    dropped = re.sub(r'<x id="1"[^>]*/>', "", text[target : text.index("</target>", target)], count=1)
    text = text[:target] + dropped + text[text.index("</target>", target) :]
    text = text.replace(
        ">Éditorial</target>", '>Éditorial <x id="7" ctype="x-page-reference"/></target>', 1
    ).replace(">Lutte contre la traite", ">Lutte contre la traite humaine", 1)
    exported.path.write_text(text, encoding="utf-8")
    before = french.read_bytes()
    imported = import_texts(french, exported.path)
    refused = {f.field: f for f in imported.refused}
    assert set(refused) == {key, "sections[editorial].title"}
    assert "the code 1 of the source is missing" in refused[key].message
    assert "<7/> is not a code of the source" in refused["sections[editorial].title"].message
    line = text[: text.index(f'<trans-unit id="{key}"')].count("\n") + 1
    assert refused[key].where == f"{exported.path}:{line}:1"
    # The other units are written: the series' new words, not the refused ones.
    assert imported.written == ["series"] and french.read_bytes() != before
    assert "traite humaine" in french.read_text(encoding="utf-8")
    result = run_cli("translate", "import", french, exported.path)
    assert result.exit_code == 1 and "the code 1 of the source is missing" in result.output


def test_a_broken_tag_in_a_po_file_is_refused(pair: tuple[Path, Path], tmp_path: Path) -> None:
    english, french = pair
    exported = export_texts(english, "fr", "po", everything=True, out=tmp_path / "all.po")
    text = exported.path.read_text(encoding="utf-8")
    assert '(Détails <1/>)"' in text or "<1/>" in text
    broken = re.sub(r'(msgstr ".*?)<1/>', r"\1<1>", text, count=1)
    exported.path.write_text(broken, encoding="utf-8")
    imported = import_texts(french, exported.path)
    assert [f.message for f in imported.refused] == ["<1> is written as a pair, not as in the source"]
    assert imported.refused[0].line is not None


def test_a_unit_whose_key_is_gone_is_refused(pair: tuple[Path, Path], tmp_path: Path) -> None:
    english, french = pair
    exported = export_texts(english, "fr", everything=True, out=tmp_path / "all.xlf")
    text = exported.path.read_text(encoding="utf-8").replace(
        '"sections[editorial].title"', '"sections[gone].title"'
    )
    exported.path.write_text(text, encoding="utf-8")
    refused = import_texts(french, exported.path).refused
    assert [f.field for f in refused] == ["sections[gone].title"]
    assert "issue-10.yaml has no text sections[gone].title" in refused[0].message


def test_an_untranslated_kicker_is_reported_exported_as_new_and_imported(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    english, french = pair
    edit(english, "    title: Editorial\n", "    title: Editorial\n    kicker: From the expert\n")
    [mine] = findings(english)
    assert mine.rule == "untranslated" and mine.field == "sections[0].kicker"
    assert "issue-10.fr.yaml has no sections[editorial].kicker" in mine.message
    [theirs] = findings(french)
    assert theirs.rule == "untranslated" and theirs.field == "sections[0]" and f"{english}:" in theirs.message
    exported = export_texts(english, "fr", out=tmp_path / "new.xlf")
    assert [(u.key, u.state, u.target) for u in exported.units] == [
        ("sections[editorial].kicker", "new", None)
    ]
    text = exported.path.read_text(encoding="utf-8")
    exported.path.write_text(
        text.replace(
            "<source>From the expert</source>",
            "<source>From the expert</source><target>De l'experte</target>",
        ),
        encoding="utf-8",
    )
    imported = import_texts(french, exported.path)
    assert imported.written == ["sections[editorial].kicker"]
    assert "    title: Éditorial\n    kicker: De l'experte\n" in french.read_text(encoding="utf-8")
    assert findings(french) == [] and findings(english) == []


def test_the_xliff_read_by_a_second_reader(pair: tuple[Path, Path], tmp_path: Path) -> None:
    """The standard library's XML reader, on XLIFF 1.2 as its specification writes it."""
    english, _ = pair
    exported = export_texts(english, "fr", everything=True, out=tmp_path / "all.xlf")
    root = ET.parse(exported.path).getroot()
    assert root.tag == "{urn:oasis:names:tc:xliff:document:1.2}xliff" and root.get("version") == "1.2"
    [file] = root.findall("x:file", NS)
    assert (file.get("original"), file.get("source-language"), file.get("target-language")) == (
        "issue-10.yaml",
        "en",
        "fr",
    )
    assert file.get("datatype", "").startswith("x-")  # not one of XLIFF's own: an x- name
    assert [child.tag.split("}")[1] for child in file] == ["header", "body"]
    units = file.findall("x:body/x:trans-unit", NS)
    assert len(units) == 191 and len({u.get("id") for u in units}) == 191  # with issue 10's mail_title
    english_texts = texts(load_issue(english).issue)
    codes = 0
    for unit in units:
        children = [child.tag.split("}")[1] for child in unit]
        assert children == ["source", "target", "note"], children  # the order the schema wants
        source = unit.find("x:source", NS)
        assert source is not None
        for code in source.iter():
            if code is not source:
                assert code.tag.split("}")[1] in ("g", "x") and (code.get("id") or "").isdigit()
                codes += 1
        # The words are the English text's words, the codes apart.
        words = " ".join("".join(source.itertext()).split())
        text = english_texts[unit.get("id") or ""].value
        plain = re.sub(r"\[(?:page|pages)?\]\(#[^)]*\)", "", text).replace("*", "")
        assert words.replace(" ", "") == re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", plain).replace(" ", "")
    assert codes >= 6  # issue 10's page references travel as codes


@pytest.mark.tool("gettext")
def test_the_po_file_passes_msgfmt_check(pair: tuple[Path, Path], tmp_path: Path) -> None:
    english, _ = pair
    edit(english, OLD, NEW)
    exported = export_texts(english, "fr", "po", everything=True, out=tmp_path / "all.po")
    done = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "all.mo"), str(exported.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # gettext counts what it reads: every text translated (issue 10 has its French).
    assert "191 translated messages" in done.stderr, done.stderr


def test_new_starts_both_editions_in_step(pair: tuple[Path, Path]) -> None:
    from newsletter.workbench.scaffold import start_next_issue

    english, _ = pair
    written = start_next_issue(english)
    next_english, next_french = (p for p in written if p.name in ("issue-11.yaml", "issue-11.fr.yaml"))
    for path, to_write in (
        (next_english, "TODO: date, YYYY-MM-DD"),
        (next_french, "TODO : date, AAAA-MM-JJ"),
    ):
        path.write_text(path.read_text(encoding="utf-8").replace(to_write, "2018-12-01"), encoding="utf-8")
    records = load_issue(next_french).issue.translated_from["en"]
    source = load_issue(next_english).issue
    assert records == {key: text_hash(t.value, t.inline) for key, t in texts(source).items()}
    assert findings(next_french) == [] and findings(next_english) == []
    edit(next_english, "TODO: title of the issue", "A title at last")
    assert [f.rule for f in findings(next_french)] == ["translation-stale"]


def test_the_command_line(pair: tuple[Path, Path], tmp_path: Path) -> None:
    english, french = pair
    out = tmp_path / "cli.xlf"
    result = run_cli("translate", "export", english, "--to", "fr", "--all", "--out", out)
    assert result.exit_code == 0 and f"wrote {out}: 191 text(s)" in result.output
    result = run_cli("translate", "import", french, out)
    assert result.exit_code == 0 and "191 recorded as translated from issue-10.yaml" in result.output
    result = run_cli("translate", "export", english, "--to", "fr", "--out", out)
    assert result.exit_code == 0 and "nothing to translate" in result.output
    result = run_cli("translate", "export", english, "--to", "en")
    assert result.exit_code == 4 and "written in 'en' already" in result.output
    # Without --to, into the issue's other language: the French edition's English.
    result = run_cli("translate", "export", french, "--format", "po", "--out", tmp_path / "en.po")
    assert result.exit_code == 0 and "text(s) of" not in result.output  # in step: nothing to translate
    assert f"{english} is in step with {french}" in result.output


def _view(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/view", timeout=10) as answer:
        view: dict[str, Any] = json.load(answer)
    return view


def _wait(url: str, done: Callable[[dict[str, Any]], bool], seconds: float = 90) -> dict[str, Any]:
    end = time.monotonic() + seconds
    while True:
        view = _view(url)
        if view["status"] == "ready" and done(view):
            return view
        assert time.monotonic() < end, view
        time.sleep(0.2)


def _beside(view: dict[str, Any], rule: str) -> list[tuple[int, str]]:
    return [(p["page"], f["text"]) for p in view["pages"] for f in p["findings"] if f["rule"] == rule]


def test_the_live_preview_shows_a_stale_translation_beside_its_page(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """Previewing the French edition, the English is saved: the stale text is shown beside the
    page where it prints without laying out again; a new translation clears it."""
    from newsletter.workbench.liveview import ServeOptions
    from newsletter.workbench.serve import serving

    english, french = pair
    round_trip(english, french, "xliff", tmp_path / "first.xlf")
    with serving(ServeOptions(french, port=0)) as url:
        first = _wait(url, lambda view: bool(view["pages"]))
        assert _beside(first, "translation-stale") == []
        edit(english, OLD, NEW)
        shown = _wait(url, lambda view: bool(_beside(view, "translation-stale")))
        [(page, text)] = _beside(shown, "translation-stale")
        assert page == 2 and f"translated from an older text of {english}:" in text  # the editorial's page
        assert [p["version"] for p in shown["pages"]] == [p["version"] for p in first["pages"]]
        exported = export_texts(english, "fr", out=tmp_path / "again.xlf")
        text = exported.path.read_text(encoding="utf-8")
        exported.path.write_text(text.replace("needs-review-translation", "translated"), encoding="utf-8")
        assert import_texts(french, exported.path).recorded == [EDITORIAL]
        _wait(
            url,
            lambda view: view["generation"] > shown["generation"] and not _beside(view, "translation-stale"),
        )


def test_the_records_are_in_the_schema_as_strict_as_the_loader(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    import yaml
    from jsonschema import Draft202012Validator
    from test_schema import SHIPPED, _as_the_editor_sees_it

    from newsletter.errors import IssueError

    english, french = pair
    round_trip(english, french, "xliff", tmp_path / "all.xlf")
    validator = Draft202012Validator(json.loads(SHIPPED.read_text(encoding="utf-8")))
    assert list(validator.iter_errors(_as_the_editor_sees_it(french))) == []
    edit(french, f"    {EDITORIAL}: ", "    sections[editorial].blocks[0].Text: ")
    assert list(
        validator.iter_errors(yaml.safe_load(french.read_text(encoding="utf-8")) | {"date": "2018-09-01"})
    )
    with pytest.raises(IssueError) as failed:
        load_issue(french)
    [problem] = failed.value.findings
    assert problem.field.startswith("translated_from.en") and problem.line is not None, problem
    assert "expected the key of a text" in problem.message, problem


SEGMENTS = [
    # inline text, its PO form, the markup written back from its segments
    ("plain words", "plain words", "plain words"),
    ("an *emphasis* and **strong**", "an <1>emphasis</1> and <2>strong</2>", "an *emphasis* and **strong**"),
    ("_under_ and __lines__", "<1>under</1> and <2>lines</2>", "_under_ and __lines__"),
    ("[the *site*](https://x.org/a_b)", "<1>the <2>site</2></1>", "[the *site*](https://x.org/a_b)"),
    ("see [page](#ccpcj) and [](#htmss)", "see <1/> and <2/>", "see [page](#ccpcj) and [](#htmss)"),
    ("[pages](#a,#b)", "<1/>", "[pages](#a,#b)"),
    (r"a \*star\* and snake\_case", "a *star* and snake_case", r"a \*star\* and snake\_case"),
    ("1\u202f830\u00a0000 €", "1\u202f830\u00a0000 €", "1\u202f830\u00a0000 €"),
]


@pytest.mark.parametrize(("text", "po", "markup"), SEGMENTS)
def test_markup_as_codes_and_back(text: str, po: str, markup: str) -> None:
    from newsletter.issue.segments import canonical, segments, to_markup
    from newsletter.translate.po import tags, untag

    parts = segments(text)
    assert tags(parts) == po
    assert to_markup(parts) == markup
    assert canonical(segments(to_markup(parts))) == canonical(parts) == canonical(untag(po))


def test_a_record_is_of_the_words_and_codes_not_of_their_writing() -> None:
    assert text_hash("a *b*\n  c") == text_hash("a _b_ c") == text_hash(" a *b* c ")
    assert text_hash("a *b* c") != text_hash("a *b* d")
    assert text_hash("a *b* c") != text_hash("a b c")
    assert text_hash("1 000") != text_hash("1\u202f000")  # a no-break space is a choice


def test_list_items_are_added_in_order(pair: tuple[Path, Path], tmp_path: Path) -> None:
    english, french = pair
    edit(english, "South-East Europe]", "South-East Europe, Vienna, Belgrade]")
    exported = export_texts(english, "fr", "po", out=tmp_path / "new.po")
    assert [(u.key, u.state) for u in exported.units] == [("keywords[6]", "new"), ("keywords[7]", "new")]
    text = exported.path.read_text(encoding="utf-8")
    only_second = text.replace('msgid "Belgrade"\nmsgstr ""', 'msgid "Belgrade"\nmsgstr "Belgrade"')
    exported.path.write_text(only_second, encoding="utf-8")
    imported = import_texts(french, exported.path)
    assert [f.field for f in imported.refused] == ["keywords[7]"] and not imported.changed
    exported.path.write_text(
        only_second.replace('msgid "Vienna"\nmsgstr ""', 'msgid "Vienna"\nmsgstr "Vienne"')
    )
    imported = import_texts(french, exported.path)
    assert imported.written == ["keywords[6]", "keywords[7]"] and not imported.refused
    assert "Europe du Sud-Est, Vienne, Belgrade]" in french.read_text(encoding="utf-8")


def test_a_translation_the_model_would_refuse_is_refused(pair: tuple[Path, Path], tmp_path: Path) -> None:
    english, french = pair
    exported = export_texts(english, "fr", everything=True, out=tmp_path / "all.xlf")
    text = exported.path.read_text(encoding="utf-8")
    exported.path.write_text(
        text.replace(">Éditorial</target>", ">Édito\u0085rial</target>", 1), encoding="utf-8"
    )
    before = french.read_bytes()
    [refused] = import_texts(french, exported.path).refused
    assert refused.field == "sections[editorial].title" and "U+0085 cannot be printed" in refused.message
    assert b"Edito" not in french.read_bytes() and french.read_bytes().startswith(before)


def test_the_round_trip_loads_no_weasyprint(pair: tuple[Path, Path], tmp_path: Path) -> None:
    from test_cli_light import _loaded

    english, french = pair
    out = tmp_path / "all.xlf"
    exported = _loaded("translate", "export", str(english), "--all", "--out", str(out), cwd=tmp_path)
    assert exported == "loaded: False False exit: 0"
    assert (
        _loaded("translate", "import", str(french), str(out), cwd=tmp_path) == "loaded: False False exit: 0"
    )
