"""HTML rendering: labels come from the edition's language, text can never become markup."""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path

import jinja2
import pytest
from conftest import edit, layout_copy

from newsletter.build import DEFAULT_LAYOUT
from newsletter.engine import render
from newsletter.engine.render import issue_renderer
from newsletter.issue.load import load_issue
from newsletter.issue.model import Issue
from newsletter.shipped import Layout
from newsletter.usercache import cache_folder


def render_html(issue: Issue, layout: Layout, image_base: Path) -> str:
    """The issue as one HTML document, every page reference printing 0."""
    return issue_renderer(issue, layout, image_base)({}).html


KEY_FIGURES = """      - type: key_figures
        figures:
          - value: "42"
            label: things counted
"""


def test_labels_follow_the_edition_language(minimal: Path) -> None:
    edit(minimal, "      - type: figure\n", KEY_FIGURES + "      - type: figure\n")
    english = render_html(load_issue(minimal).issue, DEFAULT_LAYOUT, minimal.parent)
    assert '<html lang="en">' in english and "Key figures" in english

    edit(minimal, "author: Test editors\n", "author: Test editors\nlanguage: fr\n")
    french = render_html(load_issue(minimal).issue, DEFAULT_LAYOUT, minimal.parent)
    assert '<html lang="fr">' in french
    assert "Chiffres clés" in french and "Key figures" not in french
    assert "Dans ce numéro" in french


def test_text_cannot_inject_markup(minimal: Path) -> None:
    edit(
        minimal,
        "A lead paragraph.",
        "'<link rel=attachment href=file:///etc/hostname><script>x</script> *fine*'",
    )
    html = render_html(load_issue(minimal).issue, DEFAULT_LAYOUT, minimal.parent)
    assert "&lt;link rel=attachment" in html and "&lt;script&gt;" in html
    assert "<link rel=attachment" not in html and "<script>" not in html
    # The paragraph's last letters are set unhyphenated (markup.set_text), inside the emphasis.
    assert '<em><span class="tail">fine</span></em>' in html


def test_every_block_type_has_its_macro() -> None:
    """One macro per member of the block union, found by the block's type: a new block type
    without a macro fails here, not silently in a PDF."""
    import typing

    import jinja2

    from newsletter.issue.model import Block

    members = typing.get_args(typing.get_args(Block)[0])
    tags = {typing.get_args(m.model_fields["type"].annotation)[0] for m in members}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(DEFAULT_LAYOUT.templates))
    env.filters.update(inline=str, display=str, date=str, dates=str, asset=str, address=str, page=str)
    module = env.get_template("blocks.html.j2").module
    dispatch = module.BLOCKS  # type: ignore[attr-defined]
    assert set(dispatch) == tags
    assert all(callable(macro) for macro in dispatch.values())


def test_a_block_type_without_a_macro_fails_loudly(minimal: Path) -> None:
    import jinja2
    import pytest

    layout = layout_copy(minimal.parent)
    edit(layout.templates / "blocks.html.j2", '  "figure": figure,\n', "")
    with pytest.raises(jinja2.UndefinedError, match="figure"):
        render_html(load_issue(minimal).issue, layout, minimal.parent)


def _no_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a template was compiled")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)


def test_compiled_templates_are_kept_for_the_next_process(
    minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    layout = layout_copy(tmp_path)
    issue = load_issue(minimal).issue
    first = render_html(issue, layout, minimal.parent)
    folder = tmp_path / "cache" / "newsletter" / "templates"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(list(folder.glob("*.cache"))) >= 2  # issue.html.j2, issue.css.j2 (and what they import)
    with monkeypatch.context() as inside:
        _no_compiling(inside)
        assert render_html(issue, layout, minimal.parent) == first
        # A template changed since: compiled again, never run as it was.
        page = layout.templates / "issue.html.j2"
        page.write_text(
            page.read_text(encoding="utf-8").replace("<body", "<body data-edited"), encoding="utf-8"
        )
        with pytest.raises(AssertionError, match="compiled"):
            render_html(issue, layout, minimal.parent)
    assert "data-edited" in render_html(issue, layout, minimal.parent)


@pytest.mark.parametrize("spoil", ["open to all", "a file", "cannot be made", "spoiled entries"])
def test_a_cache_that_cannot_be_trusted_or_used_changes_nothing(
    spoil: str, minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = load_issue(minimal).issue
    expected = render_html(issue, DEFAULT_LAYOUT, minimal.parent)
    cache = tmp_path / "cache"
    folder = cache / "newsletter" / "templates"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    if spoil == "open to all":
        folder.mkdir(parents=True)
        folder.chmod(0o777)
    elif spoil == "a file":
        folder.parent.mkdir(parents=True)
        folder.write_text("not a folder")
    elif spoil == "cannot be made":
        monkeypatch.setenv("XDG_CACHE_HOME", str(minimal / "below-a-file"))
    else:
        render_html(issue, DEFAULT_LAYOUT, minimal.parent)
        for entry in folder.glob("*.cache"):
            entry.write_bytes(entry.read_bytes()[:40] + b"\x00" * 40)
    assert cache_folder("templates") is None or spoil == "spoiled entries"
    assert render_html(issue, DEFAULT_LAYOUT, minimal.parent) == expected
    if spoil == "open to all":
        assert not list(folder.iterdir())


def test_the_labels_the_templates_read_are_kept_by_their_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    layout = layout_copy(tmp_path)
    wanted = render._template_labels(layout.templates)
    assert "key_figures" in wanted
    render._labels_read.cache_clear()  # as in a new process
    with monkeypatch.context() as inside:
        inside.setattr(jinja2.Environment, "parse", lambda *a, **k: pytest.fail("parsed again"))
        assert render._template_labels(layout.templates) == wanted
    # A template that reads one more label: parsed again, and the label is wanted.
    page = layout.templates / "issue.html.j2"
    page.write_text(page.read_text(encoding="utf-8") + "{{ labels.brand_new }}", encoding="utf-8")
    render._labels_read.cache_clear()
    assert render._template_labels(layout.templates) == wanted | {"brand_new"}


def test_a_filter_on_a_literal_runs_at_every_render(
    minimal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layout's template that applies a filter to a literal (its own logo, say) gives each
    issue its own answer: compiled templates are kept between processes, and Jinja would
    otherwise have folded the first issue's answer into them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    layout = layout_copy(tmp_path)
    page = layout.templates / "issue.html.j2"
    page.write_text(
        page.read_text(encoding="utf-8").replace(
            "<body", '<meta name="logo" content="{{ "photo.png" | asset }}"><body', 1
        ),
        encoding="utf-8",
    )
    other = tmp_path / "other"
    shutil.copytree(minimal.parent, other)
    (other / "photo.png").write_bytes((minimal.parent / "photo.png").read_bytes() + b"\0" * 7)
    first = render_html(load_issue(minimal).issue, layout, minimal.parent)
    render._labels_read.cache_clear()
    second = render_html(load_issue(other / "issue.yaml").issue, layout, other)
    logo = re.compile(r'<meta name="logo" content="([^"]+)"')
    assert logo.search(first) and logo.search(second)
    assert logo.search(first)[1] != logo.search(second)[1]
