"""Issue 23, item 1: no text adds or hides anything in a mail's headers, whatever its spelling.

A title written as an RFC 2047 encoded word (``=?utf-8?q?...=0D=0AReply-To:...?=``) is plain
ASCII as written, and used to pass ``check`` and reach the posts with a ``Reply-To`` of the
attacker's; a ``sender_name`` spelt so ended in exit 3, as did an issue file named with a
line feed, and ``a@b..example`` passed the recipients check. Each is now refused at its place
(``file:line:col``, or the file's path) with exit 1, by ``check`` as by ``send`` (with
``--dry-run``, ``--test`` or ``--yes``), before anything is built: the test server receives
nothing and no ``.eml`` is written. Where messages are composed, a header unsafe as decoded
is refused with our own error, never a crash.

The pure checks (every Python, without WeasyPrint) are in ``test_headers.py``.
"""

# The server and edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import email
import email.policy
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, edit
from mailkit import Faults, Handler, _recipients, send_args
from typer.testing import CliRunner, Result

from newsletter import cli
from newsletter.build import DEFAULT_LAYOUT
from newsletter.errors import IssueError
from newsletter.issue.headers import UnsafeHeader
from newsletter.send.compose import Composer, LanguageVersion, Outgoing
from newsletter.send.edition import email_edition
from newsletter.send.plan import dry_run, plan
from newsletter.send.recipients import Post, load_recipients
from newsletter.shipped import Layout

Server = tuple[Handler, int, Faults]
#: How each refusal is asked for: the check, and each kind of send.
MODES = ["check", "dry-run", "test", "yes"]
Q_REPLY_TO = "=?utf-8?q?Issue_news=0D=0AReply-To:_attacker@evil.example?="


def _run(mode: str, issue: Path, recipients: Path, out: Path, ca_file: Path) -> Result:
    """``check``, or ``send`` with ``--dry-run``, ``--test`` or ``--yes`` to the test server."""
    if mode == "check":
        args = ["check", str(issue), "--out", str(out)]
    elif mode == "dry-run":
        args = ["send", str(issue), "--to", str(recipients), "--out", str(out), "--dry-run"]
    elif mode == "test":
        args = [*send_args(issue, recipients, out, ca_file)[:-1], "--test", "editor@example.org"]
    else:
        args = send_args(issue, recipients, out, ca_file)
    return CliRunner().invoke(cli.app, args)


def _refused(
    mode: str, issue: Path, recipients: Path, tmp_path: Path, ca_file: Path, handler: Handler
) -> str:
    """Run ``mode``; assert exit 1, no traceback, nothing received, no ``.eml``; the output."""
    out = tmp_path / "out"
    result = _run(mode, issue, recipients, out, ca_file)
    assert result.exit_code == cli.EXIT_CONTENT, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert ("nothing was sent" in result.output) == (mode != "check")
    assert handler.received == [], "the server received a message"
    assert not list(out.rglob("*.eml")) and not list(out.rglob("*.pdf")), "nothing is written or built"
    return result.output


# ---------------------------------------------------------------------------------------
# The issue's title and series: refused by `check` and by every kind of `send`.


#: (written in the YAML, where, what the message shows).
ISSUE_FIELDS = {
    "q-encoded CR LF Reply-To in the title": (
        ("title: A small issue", f'title: "{Q_REPLY_TO}"'),
        (
            "5:8: title: '=?utf-8?q?Issue_news=0D=0AReply-To:_attacker@evil.examp...' reads "
            "'Issue news\\r\\nReply-To: attacker@evil.example' once its encoded words (=?...?=) are decoded, "
            "as mail programs decode them: U+000D (a control character) after 'Issue news' (and 1 more) "
            "cannot go into a mail's subject"
        ),
    ),
    "b-encoded CR LF Bcc in the title": (
        ("title: A small issue", 'title: "=?UTF-8?B?SXNzdWUgbmV3cw0KQmNjOiB4QGV4YW1wbGUubmV0?="'),
        (
            "5:8: title: '=?UTF-8?B?SXNzdWUgbmV3cw0KQmNjOiB4QGV4YW1wbGUubmV0?=' reads "
            "'Issue news\\r\\nBcc: x@example.net' once its encoded words"
        ),
    ),
    "encoded RLO in the title": (
        ("title: A small issue", 'title: "A small =?utf-8?q?=E2=80=AEeussi?="'),
        (
            "5:8: title: 'A small =?utf-8?q?=E2=80=AEeussi?=' reads 'A small \\u202eeussi' once its "
            "encoded words (=?...?=) are decoded, as mail programs decode them: U+202E (RIGHT-TO-LEFT OVERRIDE)"
        ),
    ),
    "RLO in the title": (
        ("title: A small issue", 'title: "A small \\u202eeussi"'),
        "5:8: title: U+202E (RIGHT-TO-LEFT OVERRIDE) after 'A small ' cannot go into a mail's subject",
    ),
    "zero-width space in the series": (
        ("series: Test series", 'series: "Test\\u200b series"'),
        "2:9: series: U+200B (ZERO WIDTH SPACE) after 'Test' cannot go into a mail's subject",
    ),
    "encoded zero-width space in the series": (
        ("series: Test series", "series: Test =?utf-8?b?4oCL?=series"),
        "2:9: series: 'Test =?utf-8?b?4oCL?=series' reads 'Test \\u200b series' once its encoded words",
    ),
    "encoded word that cannot be decoded in the series": (
        ("series: Test series", "series: Test =?x-unknown?q?series?="),
        (
            "2:9: series: 'Test =?x-unknown?q?series?=' holds an encoded word (=?...?=) that mail programs "
            "cannot decode (unknown encoding: x-unknown)"
        ),
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", ISSUE_FIELDS.values(), ids=ISSUE_FIELDS.keys())
def test_an_issue_field_that_would_add_or_hide_a_header_is_refused(
    issue: Path,
    tmp_path: Path,
    server: Server,
    ca_file: Path,
    mode: str,
    case: tuple[tuple[str, str], str],
) -> None:
    (old, new), shown = case
    edit(issue, old, new)
    handler, port, _ = server
    output = _refused(mode, issue, _recipients(tmp_path, 2, port, french_every=0), tmp_path, ca_file, handler)
    assert f"{issue}:{shown}" in output and "[mail-header]" in output
    assert "not an encoded word (=?charset?q?...?=)" in output  # the fix


# ---------------------------------------------------------------------------------------
# The recipients file: the sender's and the posts' names, the addresses.


#: (the recipients file's line replaced, its replacement, what the message shows).
RECIPIENT_FIELDS = {
    "encoded CR LF Bcc in sender_name": (
        "",
        'sender_name: "=?utf-8?q?Editors=0D=0ABcc:_x@evil.example?="',
        (
            "3:14: sender_name: '=?utf-8?q?Editors=0D=0ABcc:_x@evil.example?=' reads "
            "'Editors\\r\\nBcc: x@evil.example' once its encoded words (=?...?=) are decoded, as mail programs "
            "decode them: U+000D (a control character) after 'Editors' (and 1 more) cannot go into a mail header"
        ),
    ),
    "b-encoded CR LF Reply-To in sender_name": (
        "",
        "sender_name: =?utf-8?b?RWRpdG9ycw0KUmVwbHktVG86IGF0dGFja2VyQGV2aWwuZXhhbXBsZQ==?=",
        (
            "3:14: sender_name: '=?utf-8?b?RWRpdG9ycw0KUmVwbHktVG86IGF0dGFja2VyQGV2aWwuZ...' reads "
            "'Editors\\r\\nReply-To: attacker@evil.example'"
        ),
    ),
    "RLO in sender_name": (
        "",
        'sender_name: "Editors \\u202eevil"',
        "3:14: sender_name: U+202E (RIGHT-TO-LEFT OVERRIDE) after 'Editors '",
    ),
    "encoded zero-width space in sender_name": (
        "",
        "sender_name: Edi=?utf-8?q?=E2=80=8B?=tors",
        "3:14: sender_name: 'Edi=?utf-8?q?=E2=80=8B?=tors' reads 'Edi \\u200b tors'",
    ),
    "RLO in a post's name": (
        "  - name: Post 000",
        '  - name: "Post \\u202e000"',
        "5:11: posts[0].name: U+202E (RIGHT-TO-LEFT OVERRIDE) after 'Post '",
    ),
    "encoded zero-width space in a post's name": (
        "  - name: Post 000",
        "  - name: Post =?utf-8?q?=E2=80=8B?=000",
        "5:11: posts[0].name: 'Post =?utf-8?q?=E2=80=8B?=000' reads 'Post \\u200b 000'",
    ),
    "two periods in a row in an address": (
        "    addresses: [post000@example.org]",
        "    addresses: [a@b..example]",
        (
            "6:17: posts[0].addresses[0]: 'a@b..example' is not a valid email address: "
            "an email address cannot have two periods in a row"
        ),
    ),
    "an address starting with a period": (
        "    addresses: [post000@example.org]",
        "    addresses: [post000@example.org, .a@example.org]",
        (
            "6:38: posts[0].addresses[1]: '.a@example.org' is not a valid email address: "
            "an email address cannot start with a period"
        ),
    ),
}


@pytest.mark.parametrize("mode", ["dry-run", "test", "yes"])
@pytest.mark.parametrize("case", RECIPIENT_FIELDS.values(), ids=RECIPIENT_FIELDS.keys())
def test_a_recipients_field_that_would_add_or_hide_a_header_is_refused(
    issue: Path, tmp_path: Path, server: Server, ca_file: Path, mode: str, case: tuple[str, str, str]
) -> None:
    old, new, shown = case
    handler, port, _ = server
    path = _recipients(tmp_path, 2, port, french_every=0, extra=new if not old else "")
    if old:
        edit(path, old, new)
    output = _refused(mode, issue, path, tmp_path, ca_file, handler)
    assert f"{path}:{shown}" in output


def test_a_bad_test_address_is_a_wrong_use(
    issue: Path, tmp_path: Path, server: Server, ca_file: Path
) -> None:
    handler, port, _ = server
    recipients = _recipients(tmp_path, 1, port, french_every=0)
    args = [*send_args(issue, recipients, tmp_path / "out", ca_file)[:-1], "--test", "me@b..example"]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == cli.EXIT_USAGE, result.output
    assert "--test needs an email address such as you@example.org, not 'me@b..example'" in result.output
    assert handler.received == []


# ---------------------------------------------------------------------------------------
# The issue file's name: it names the PDF attached to every post's mail.


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("evil\nBcc: x@example.net.yaml", "U+000A (a control character) after 'evil'"),
        ("=?utf-8?q?evil=0D=0ABcc:_x@example.net?=.yaml", "U+000D (a control character) after 'evil'"),
        ("issue\u202elmth.yaml", "U+202E (RIGHT-TO-LEFT OVERRIDE) after 'issue'"),
    ],
    ids=["line feed", "encoded CR LF", "RLO"],
)
def test_an_issue_file_named_to_break_the_attachment_header_is_refused(
    issue: Path, tmp_path: Path, server: Server, ca_file: Path, mode: str, name: str, shown: str
) -> None:
    named = issue.rename(issue.with_name(name))
    handler, port, _ = server
    output = _refused(mode, named, _recipients(tmp_path, 2, port, french_every=0), tmp_path, ca_file, handler)
    assert f"{named}: the file's name {name!r}" in output and shown in output
    assert "cannot go into the name of the PDF attached to the mail" in output and "[mail-header]" in output


# ---------------------------------------------------------------------------------------
# Where messages are composed: the defence in depth (the editions are the session's).


@pytest.fixture
def editions(mail_issue: Path, out: Path) -> dict[str, LanguageVersion]:
    return {"en": email_edition(mail_issue, out)}


def _post(*addresses: str) -> Post:
    # Built past validation, as a bug (or a future path around the recipients file) could.
    return Post.model_construct(name="Post", id="post", addresses=list(addresses), cc=[], groups=[])


@pytest.mark.parametrize(
    ("sender_name", "addresses", "references", "shown"),
    [
        ("=?utf-8?q?Ed=0D=0ABcc:_x@evil.example?=", ("a@example.org",), (), "its From header"),
        ("Editors\u200b", ("a@example.org",), (), "U+200B (ZERO WIDTH SPACE)"),
        (None, ("a@b..example", ".a@example.org"), (), "its To header"),
        (None, ("a@example.org",), ("<x@example.org>\r\nBcc: x@evil.example",), "its References header"),
    ],
    ids=[
        "encoded CR LF in the From name",
        "ZWSP in the From name",
        "bad To addresses",
        "CR LF in References",
    ],
)
def test_a_message_with_an_unsafe_header_is_not_composed(
    editions: dict[str, LanguageVersion],
    sender_name: str | None,
    addresses: tuple[str, ...],
    references: tuple[str, ...],
    shown: str,
) -> None:
    composer = Composer(editions, "newsletter@example.org", sender_name, DEFAULT_LAYOUT)
    item = Outgoing(_post(*addresses), "en", False, composer.message_id("post"), addresses, references)
    with pytest.raises(UnsafeHeader) as refused:
        composer.wire(item)
    (finding,) = refused.value.findings
    assert finding.rule == "mail-header" and shown in finding.message
    assert finding.message.startswith("refused to compose a message: its ")


def test_a_dry_run_of_an_unsafe_message_writes_no_eml(mail_issue: Path, out: Path, tmp_path: Path) -> None:
    recipients = load_recipients(_recipients(tmp_path, 2, 25, french_every=0))
    the_plan = plan(mail_issue, recipients, out)
    unsafe = '"Ed" <a@example.org>\r\nBcc: x@evil.example'  # past every check
    the_plan.composer.sender_address = lambda language: unsafe  # type: ignore[method-assign,assignment,return-value]
    with pytest.raises(UnsafeHeader, match="its From header"):
        dry_run(the_plan, out)
    assert not list(out.rglob("*.eml")) and not list(out.rglob("*.eml.tmp"))


def test_a_layout_word_that_would_break_the_subject_is_refused_in_its_labels_file(
    editions: dict[str, LanguageVersion], tmp_path: Path
) -> None:
    templates = tmp_path / "layout"
    shutil.copytree(ROOT / "layouts", templates)
    labels = templates / "labels.yaml"
    edit(
        labels,
        "  issue: Issue\n",
        '  issue: Issue\n  mail_test: "=?utf-8?q?[TEST]=0D=0ABcc:_x@evil.example?= "\n',
    )
    composer = Composer(editions, "newsletter@example.org", None, Layout(templates, ROOT / "fonts"))
    with pytest.raises(IssueError) as refused:
        composer.test_wire("en", "editor@example.org")
    (finding,) = refused.value.findings
    assert finding.file == labels and finding.field == "en.mail_test" and finding.rule == "mail-header"
    assert "reads '[TEST]\\r\\nBcc: x@evil.example '" in finding.message


def test_a_sender_name_with_a_comma_and_accents_stays_one_from_address(
    issue: Path, out: Path, tmp_path: Path
) -> None:
    name = "Lutte contre la traite des êtres humains, Europe du Sud-Est"
    recipients = _recipients(tmp_path, 1, 25, french_every=0, extra=f'sender_name: "{name}"')
    result = CliRunner().invoke(
        cli.app, ["send", str(issue), "--to", str(recipients), "--out", str(out), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    (eml,) = (out / "mail" / "test-series-7").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert [(a.display_name, a.addr_spec) for a in message["From"].addresses] == [
        (name, "newsletter@example.org")
    ]
