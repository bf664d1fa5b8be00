"""Any text in any text field: the build succeeds or fails with our error, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from conftest import FIXTURES
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from newsletter.build import build_issue
from newsletter.errors import IssueError

OUR_ERRORS = (IssueError,)

# Text as editors paste it (prose, quotes, markup, stray HTML) and text as anything at all.
editor_text = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,;:!?'\"“”’«»…–—€$%&<>/\\[]()*_#`\n")
    ),
    min_size=1,
    max_size=120,
).filter(lambda s: s.strip())
any_text = st.text(max_size=60)


def _issue(t: list[str]) -> dict[str, object]:
    return {
        "series": t[0],
        "number": 1,
        "date": "2020-01-01",
        "title": t[1],
        "author": t[2],
        "cover": {"lead": t[3], "teasers": [{"text": t[4], "target": "first"}]},
        "sections": [
            {
                "id": "first",
                "title": t[5],
                "kicker": t[6],
                "blocks": [
                    t[7],
                    {"type": "figure", "image": "photo.png", "alt": t[8], "caption": t[9]},
                    {
                        "type": "quote",
                        "speaker": t[10],
                        "role": t[11],
                        "occasion": t[12],
                        "date": "2019-05-01",
                        "text": t[13],
                        "link": {"text": t[14], "url": "https://example.org/"},
                    },
                    {
                        "type": "agenda",
                        "when": "past",
                        "entries": [
                            {"start": "2019-04-01", "place": t[15], "text": t[16]},
                        ],
                    },
                ],
            }
        ],
    }


def _build_or_refuse(
    values: list[str], allowed: tuple[type[Exception], ...] = OUR_ERRORS, content_only: bool = False
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "photo.png").write_bytes((FIXTURES / "minimal" / "photo.png").read_bytes())
        source = folder / "issue.yaml"
        text = yaml.safe_dump(_issue(values), allow_unicode=True, sort_keys=False)
        source.write_text(
            text.replace("'2020-01-01'", "2020-01-01")
            .replace("'2019-05-01'", "2019-05-01")
            .replace("'2019-04-01'", "2019-04-01"),
            encoding="utf-8",
        )
        try:
            result = build_issue(source, folder / "out", time_limit=60)
        except allowed as exc:
            assert str(exc)  # a message to show
            if content_only:  # the layout's own checks must never trip on pasted text
                assert all(f.line is not None for f in exc.findings if f.severity == "error"), str(exc)
            event(f"refused: {type(exc).__name__}")
            return
        event("built")
        assert result.pdf.read_bytes().startswith(b"%PDF-")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(editor_text, min_size=17, max_size=17))
def test_editor_text_builds_or_fails_cleanly(values: list[str]) -> None:
    # Text an editor could paste must never trip the layout's own checks (e.g. backticks
    # once made <code>, which asked for a system monospace font).
    _build_or_refuse(values, allowed=(IssueError,), content_only=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(editor_text, min_size=17, max_size=17), st.integers(0, 16), any_text)
def test_any_text_in_any_field_builds_or_fails_cleanly(values: list[str], field: int, text: str) -> None:
    values[field] = text
    _build_or_refuse(values)
