"""Hostile input reaching a send: refused at its place with exit 1, never a traceback.

YAML with a NUL byte or nested 500 deep, inline markup nested 500 deep, characters that
break or hide in a mail header (in the issue's title, the sender's name, a post's name), an
address in two posts, terminal escapes in what ``status`` prints; and the fetcher, which
must not follow a folder swapped for a symlink, nor attach any file to the PDF.
"""

# The edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import email
import email.policy
import os
import threading
from pathlib import Path

import pytest
import weasyprint
from conftest import edit
from mailkit import _recipients
from typer.testing import CliRunner, Result

from newsletter import cli
from newsletter.engine.typesetter import ProjectFetcher, RefusedURL
from newsletter.issue.headers import header_problem, header_problems
from newsletter.issue.load import load_issue
from newsletter.send.ledger import Ledger


def _dry_run(issue: Path, recipients: Path, out: Path) -> Result:
    return CliRunner().invoke(
        cli.app, ["send", str(issue), "--to", str(recipients), "--out", str(out), "--dry-run"]
    )


def _refused(issue: Path, tmp_path: Path, recipients: Path | None = None) -> str:
    result = _dry_run(issue, recipients or _recipients(tmp_path, 2, 1, french_every=0), tmp_path / "out")
    assert result.exit_code == cli.EXIT_CONTENT, result.output
    assert "Traceback" not in result.output and "nothing was sent" in result.output
    assert not list((tmp_path / "out").rglob("*.eml"))
    return result.output


def test_a_nul_byte_in_the_issue(issue: Path, tmp_path: Path) -> None:
    edit(issue, "title: A small issue", "title: A small\0 issue")
    assert f"{issue}:5:15: the file contains a NUL character" in _refused(issue, tmp_path)


def test_yaml_nested_500_deep(issue: Path, tmp_path: Path) -> None:
    with issue.open("a", encoding="utf-8") as handle:
        handle.write("extra: " + "[" * 500 + "]" * 500 + "\n")
    output = _refused(issue, tmp_path)
    assert f"{issue}:21:" in output and "the file nests values more than 40 levels deep" in output


def test_emphasis_nested_500_deep(issue: Path, tmp_path: Path) -> None:
    edit(issue, "lead: A lead paragraph for the mail.", "lead: '" + "*a " * 500 + "x" + "*" * 500 + "'")
    output = _refused(issue, tmp_path)
    assert (
        f"{issue}:8:9: cover.lead: emphasis and links nest 500 levels deep here; at most 12 are allowed"
        in output
    )
    assert "[markup-depth]" in output


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("A small\\nissue", "U+000A (a control character) after 'A small'"),
        ("A small\\r\\nBcc: all@example.org", "character U+000D cannot be printed"),  # refused on load
        ("A small\\u200bissue", "U+200B (ZERO WIDTH SPACE)"),
        ("A small \\u202eeussi", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("A small\\u2028issue", "U+2028 (LINE SEPARATOR)"),
        ("A small\\u00adissue", "U+00AD (SOFT HYPHEN)"),
    ],
)
def test_a_title_that_would_break_or_hide_in_the_subject(
    issue: Path, tmp_path: Path, written: str, shown: str
) -> None:
    edit(issue, "title: A small issue", f'title: "{written}"')
    output = _refused(issue, tmp_path)
    assert f"{issue}:5:8: title: {shown}" in output
    assert (
        "cannot be printed" in shown
        or "cannot go into a mail's subject" in output
        and "[mail-header]" in output
    )


def test_no_break_spaces_stay_allowed_in_the_subject(issue: Path, tmp_path: Path) -> None:
    edit(issue, "title: A small issue", 'title: "Traite\\u00a0: la réponse\\u202f!"')
    result = _dry_run(issue, _recipients(tmp_path, 1, 1, french_every=0), tmp_path / "out")
    assert result.exit_code == 0, result.output
    (eml,) = (tmp_path / "out" / "mail" / "test-series-7").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"].endswith("Traite\u00a0: la réponse\u202f!")


def test_header_problems_is_pure_and_names_the_field(mail_issue: Path) -> None:
    issue = load_issue(mail_issue).issue
    assert header_problems(issue) == []
    bad = issue.model_copy(update={"title": "Two\nlines", "series": "Zero\u200bwidth"})
    assert [path for path, _ in header_problems(bad)] == [("series",), ("title",)]
    assert header_problem("Traite\u00a0: la réponse\u202f!") is None
    assert header_problem("tab\there") is not None


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("sender_name", '"Editors\\nBcc: everyone@example.org"', "sender_name"),
        ("post name", '"Post\\u200b 000"', "posts[0].name"),
    ],
)
def test_names_that_would_break_a_header_in_the_recipients_file(
    issue: Path, tmp_path: Path, field: str, value: str, where: str
) -> None:
    path = _recipients(
        tmp_path, 2, 1, french_every=0, extra=f"sender_name: {value}" if field == "sender_name" else ""
    )
    if field == "post name":
        path.write_text(
            path.read_text(encoding="utf-8").replace("name: Post 000", f"name: {value}"), encoding="utf-8"
        )
    output = _refused(issue, tmp_path, path)
    assert (
        f"{path}:" in output
        and f": {where}: U+" in output
        and "cannot go into a mail header or a report" in output
    )


def test_an_address_in_two_posts_is_a_warning_and_gets_one_copy(issue: Path, tmp_path: Path) -> None:
    path = tmp_path / "recipients.yaml"
    path.write_text(
        "sender: newsletter@example.org\n"
        "posts:\n"
        "  - name: Rome\n    addresses: [x@example.org]\n"
        "  - name: Oslo\n    addresses: [X@example.org, y@example.org]\n"
        "  - name: Riga\n    addresses: [x@example.org]\n    cc: [x@example.org]\n",
        encoding="utf-8",
    )
    result = _dry_run(issue, path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (
        f"{path}:6:17: posts[1].addresses[0]: X@example.org is also in posts[0] ('Rome'): it receives one copy"
        in result.output
    )
    assert (
        f"{path}:8:17: posts[2].addresses[0]" in result.output
        and f"{path}:9:10: posts[2].cc[0]" in result.output
    )
    assert "'Riga' has no address of its own: nothing is sent to it" in result.output
    written = {
        p.stem: email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in (tmp_path / "out" / "mail" / "test-series-7").glob("*.eml")
    }
    assert {key: m["To"] for key, m in written.items()} == {"rome": "x@example.org", "oslo": "y@example.org"}


def test_status_shows_control_characters_escaped(mail_issue: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Ledger(out / "mail" / "ledger.sqlite") as ledger:  # as a ledger of an older tool may hold
        ledger.register(
            "test-series-7", 1, [("evil", "Post \x1b[2J\x1b]0;pwned\x07", "<x@y>", "en", "a@b.org", "")]
        )
        ledger.mark("test-series-7", 1, "evil", "failed", "550 \x1b[31mred\u202e", "a@b.org: 550 \x1b[0m")
    result = CliRunner().invoke(cli.app, ["status", str(mail_issue), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not any(ch in result.output for ch in "\x1b\x07\u202e")
    assert "Post \\x1b[2J\\x1b]0;pwned\\x07" in result.output and "550 \\x1b[31mred\\u202e" in result.output


# ---------------------------------------------------------------------------------------
# The fetcher


@pytest.fixture
def swapped(tmp_path: Path) -> tuple[Path, Path]:
    """An allowed root with ``sub/a.css``, and a folder outside holding a secret ``a.css``."""
    root = tmp_path / "allowed"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.css").write_text("p {}", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.css").write_text("SECRET", encoding="utf-8")
    return root, outside


def test_the_fetcher_never_follows_a_folder_swapped_for_a_symlink_after_its_check(
    swapped: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside = swapped
    fetcher = ProjectFetcher([root])
    url = (root / "sub" / "a.css").as_uri()
    assert fetcher.fetch(url).read() == b"p {}"
    checked = ProjectFetcher._resolve

    def then_swapped(path: Path, url: str) -> Path:
        resolved = checked(path, url)  # the path is checked: inside the root
        (root / "sub").rename(root / "sub-real")
        (root / "sub").symlink_to(outside)  # ... and a folder on it becomes a symlink
        return resolved

    monkeypatch.setattr(ProjectFetcher, "_resolve", staticmethod(then_swapped))
    with pytest.raises(RefusedURL, match="a symlink took the place of a folder or file of the path"):
        fetcher.fetch(url)


def test_the_fetcher_under_a_swapping_race_reads_no_file_outside(swapped: tuple[Path, Path]) -> None:
    root, outside = swapped
    fetcher = ProjectFetcher([root])
    url = (root / "sub" / "a.css").as_uri()
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            (root / "sub").rename(root / "sub-real")
            (root / "sub").symlink_to(outside)
            (root / "sub").unlink()
            (root / "sub-real").rename(root / "sub")

    swapper = threading.Thread(target=swap)
    swapper.start()
    tries, leaked, served = 3000, 0, 0
    try:
        for _ in range(tries):
            try:
                body = fetcher.fetch(url).read()
            except RefusedURL:
                continue
            leaked += body == b"SECRET"
            served += body == b"p {}"
    finally:
        stop.set()
        swapper.join()
    assert leaked == 0, f"{leaked} of {tries} fetches read the file outside"
    print(
        f"\n[figure] fetcher race: {leaked} of {tries} fetches followed the swapped symlink ({served} served the real file)"
    )


def test_the_fetcher_refuses_special_files_and_loops(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.css")
    (tmp_path / "loop.css").symlink_to(tmp_path / "loop.css")
    fetcher = ProjectFetcher([tmp_path])
    with pytest.raises(RefusedURL, match="not a regular file"):
        fetcher.fetch((tmp_path / "fifo.css").as_uri())  # opened without blocking, then refused
    with pytest.raises(RefusedURL, match="symlink loop"):
        fetcher.fetch((tmp_path / "loop.css").as_uri())
    with pytest.raises(RefusedURL, match="a folder"):
        fetcher.fetch(tmp_path.as_uri())


@pytest.mark.parametrize("href", ["inside.txt", "data:text/plain,attached"])
def test_an_attachment_is_refused_whatever_its_url(tmp_path: Path, href: str) -> None:
    (tmp_path / "inside.txt").write_text("attached", encoding="utf-8")
    html = f'<html><body><p><a rel="attachment" href="{href}">the file</a></p></body></html>'
    document = weasyprint.HTML(
        string=html, base_url=tmp_path.as_uri() + "/", url_fetcher=ProjectFetcher([tmp_path])
    ).render()
    with pytest.raises(RefusedURL, match="files may not be attached to the PDF"):
        document.write_pdf()
