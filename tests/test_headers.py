"""What may reach a mail header, judged as the ``email`` package reads it: pure checks.

This module imports only ``newsletter.issue.headers`` and ``newsletter.send.recipients`` (pydantic,
PyYAML, email-validator), never WeasyPrint nor the test suite's conftest, so that it runs on
every Python the tool supports, whose ``email`` packages differ (3.11 and 3.12.1 write a
decoded line break into a header; 3.13 encodes it again), e.g.::

    python3.13 -m pytest --noconftest tests/test_headers.py -q
"""

from __future__ import annotations

import base64
import email
import email.policy
import sys
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path

import pytest

from newsletter.errors import IssueError
from newsletter.issue.headers import (
    REFUSED_CHARACTERS,
    UnsafeHeader,
    address_problem,
    checked_bytes,
    file_name_problem,
    header_problem,
    header_problems,
    readings,
    set_header,
)
from newsletter.issue.load import load_issue
from newsletter.send.recipients import load_recipients

MAIL_ISSUE = Path(__file__).resolve().parent / "fixtures" / "mail" / "issue.yaml"
POLICY = email.policy.SMTP.clone(cte_type="7bit")

#: Encoded words that decode to a line break and a header of an attacker's.
INJECTIONS = {
    "q, Reply-To": "=?utf-8?q?Issue_news=0D=0AReply-To:_attacker@evil.example?=",
    "Q, Bcc": "=?UTF-8?Q?Issue_news=0D=0ABcc:_x@example.net?=",
    "b, Reply-To": "=?utf-8?b?SXNzdWUgbmV3cw0KUmVwbHktVG86IGF0dGFja2VyQGV2aWwuZXhhbXBsZQ==?=",
    "B, Bcc, LF only": "=?UTF-8?B?SXNzdWUKQmNjOiB4QGV4YW1wbGUubmV0?=",
    "latin-1, after text": "Issue =?iso-8859-1?q?news=0D=0ABcc:_x@example.net?=",
    "inside a word": "Issue=?utf-8?q?=0D=0ABcc:_x@example.net?=news",
    "two words": "=?utf-8?q?Issue=0D?= =?utf-8?q?=0ABcc:_x@example.net?=",
    "encoded twice": "=?utf-8?q?=3D=3Futf-8=3Fq=3Fa=3D0D=3D0ABcc:_x@example.net=3F=3D?=",
}


@pytest.mark.parametrize("value", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_an_encoded_line_break_is_refused_as_decoded(value: str) -> None:
    assert value.isascii() and value.isprintable()  # nothing to see as written
    problem = header_problem(value, "a mail's subject")
    assert problem is not None
    assert "once its encoded words (=?...?=) are decoded, as mail programs decode them" in problem
    assert "U+000D (a control character)" in problem or "U+000A (a control character)" in problem
    assert problem.endswith("cannot go into a mail's subject: it breaks the header or cannot be seen")


def test_the_message_names_the_text_as_decoded() -> None:
    problem = header_problem(INJECTIONS["q, Reply-To"], "a mail's subject")
    assert problem == (
        "'=?utf-8?q?Issue_news=0D=0AReply-To:_attacker@evil.examp...' reads "
        "'Issue news\\r\\nReply-To: attacker@evil.example' once its encoded words (=?...?=) are "
        "decoded, as mail programs decode them: U+000D (a control character) after 'Issue news' "
        "(and 1 more) cannot go into a mail's subject: it breaks the header or cannot be seen"
    )


#: Every direction control and invisible character named by issue 23, and the line breaks.
REFUSED = sorted(REFUSED_CHARACTERS | {"\r", "\n", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"})


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_direction_and_invisible_characters_are_refused_as_written_and_encoded(char: str) -> None:
    as_written = header_problem(f"Issue{char}news")
    assert as_written is not None and as_written.startswith(f"U+{ord(char):04X} ")
    encoded = "Issue =?utf-8?b?" + base64.b64encode(char.encode()).decode() + "?= news"
    as_decoded = header_problem(encoded)
    assert as_decoded is not None and f": U+{ord(char):04X} " in as_decoded


def test_the_characters_issue_23_names_are_all_refused() -> None:
    named = [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]
    named += [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
    assert {chr(code) for code in named} <= REFUSED_CHARACTERS


@pytest.mark.parametrize(
    "value",
    [
        "Traite\u00a0: la réponse\u202f!",
        "=?utf-8?q?Trait=C3=A9=C2=A0:_la_r=C3=A9ponse=E2=80=AF!?=",  # the same, encoded
        "=?UTF-8?Q?Caf=C3=A9?=",
        "Lutte contre la traite des êtres humains – Numéro 10",
        "a=?b and ?= alone",
        "",
    ],
)
def test_safe_texts_pass_encoded_or_not(value: str) -> None:
    assert header_problem(value) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("=?x-unknown?q?abc?=", "unknown encoding: x-unknown"),
        ("=?utf-8?b?SXNzd?=", "Base64 decoding error"),
        ("=?utf-8?q?=FF?=", "'utf-8' codec can't decode byte 0xff"),
    ],
)
def test_an_encoded_word_that_cannot_be_decoded_is_refused(value: str, why: str) -> None:
    problem = header_problem(value)
    assert problem is not None
    assert "holds an encoded word (=?...?=) that mail programs cannot decode" in problem and why in problem


def test_encoded_words_nested_without_end_are_refused() -> None:
    text = "x"
    for _ in range(6):
        text = "=?utf-8?q?" + "".join(f"={b:02X}" for b in text.encode()) + "?="
    with pytest.raises(ValueError, match="hide in one another more than 4 deep"):
        readings(text)
    assert "more than 4 deep" in (header_problem(text) or "")


def test_header_problems_reads_the_issue_as_decoded() -> None:
    issue = load_issue(MAIL_ISSUE).issue
    assert header_problems(issue) == []
    bad = issue.model_copy(
        update={"title": INJECTIONS["b, Reply-To"], "series": "=?utf-8?q?Test_=E2=80=AEseries?="}
    )
    problems = dict(header_problems(bad))
    assert list(problems) == [("series",), ("title",)]
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE) after 'Test '" in problems[("series",)]
    assert "U+000D (a control character) after 'Issue news'" in problems[("title",)]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("evil\nBcc: x@example.net.yaml", "U+000A (a control character) after 'evil'"),
        ("=?utf-8?q?evil=0D=0ABcc:_x@example.net?=.yaml", "U+000D (a control character) after 'evil'"),
        ("issue-10\u202efdp.yaml", "U+202E (RIGHT-TO-LEFT OVERRIDE) after 'issue-10'"),
    ],
)
def test_a_file_name_that_would_break_the_attachment_header(name: str, shown: str) -> None:
    problem = file_name_problem(Path("/tmp") / name)
    assert problem is not None
    assert problem.startswith(f"the file's name {name!r}") and shown in problem
    assert "cannot go into the name of the PDF attached to the mail" in problem


def test_only_the_file_name_counts_not_its_folders() -> None:
    assert file_name_problem(Path("/tmp/odd\nfolder/numéro-10.fr.yaml")) is None


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("a@b..example", "an email address cannot have two periods in a row"),
        (".a@example.org", "an email address cannot start with a period"),
        ("a..b@example.org", "an email address cannot have two periods in a row"),
        ("a@-b.example.org", "cannot have a hyphen immediately after the @-sign"),
        ("a@b.invalid", "special-use or reserved name"),
    ],
)
def test_addresses_a_server_would_refuse(address: str, why: str) -> None:
    problem = address_problem(address)
    assert problem is not None
    assert problem.startswith(f"{address!r} is not a valid email address: ") and why in problem


@pytest.mark.parametrize(
    "address", ["post000@example.org", "chancellerie@sarajevo.example", "A.B-c+d@Example.ORG"]
)
def test_ordinary_addresses_pass(address: str) -> None:
    assert address_problem(address) is None


# ---------------------------------------------------------------------------------------
# The recipients file: refused at its line and column.


def _recipients(tmp_path: Path, sender_name: str = "", post: str = "Post 000", addresses: str = "") -> Path:
    path = tmp_path / "recipients.yaml"
    lines = [
        "sender: newsletter@example.org",
        f"sender_name: {sender_name}" if sender_name else "",
        "posts:",
        f"  - name: {post}",
        f"    addresses: [{addresses or 'post000@example.org'}]",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _refused(path: Path) -> list[str]:
    with pytest.raises(IssueError) as refused:
        load_recipients(path)
    return [str(finding) for finding in refused.value.findings]


def test_a_sender_name_with_an_encoded_line_break_is_refused_at_its_place(tmp_path: Path) -> None:
    path = _recipients(tmp_path, sender_name='"=?utf-8?q?Editors=0D=0ABcc:_x@evil.example?="')
    (finding,) = _refused(path)
    assert finding.startswith(
        f"{path}:2:14: sender_name: '=?utf-8?q?Editors=0D=0ABcc:_x@evil.example?=' reads "
        "'Editors\\r\\nBcc: x@evil.example' once its encoded words (=?...?=) are decoded"
    )
    assert "U+000D (a control character) after 'Editors'" in finding


@pytest.mark.parametrize(
    ("field", "written", "shown"),
    [
        ("sender_name", '"Editors \\u202e"', "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("sender_name", '"Edi\\u200btors"', "U+200B (ZERO WIDTH SPACE)"),
        ("sender_name", "=?utf-8?q?Edi=E2=80=8Btors?=", "U+200B (ZERO WIDTH SPACE)"),
        ("post", '"Post \\u202e000"', "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("post", '"Post\\u200b 000"', "U+200B (ZERO WIDTH SPACE)"),
        ("post", "=?utf-8?b?UG9zdCDigK4wMDA=?=", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ],
)
def test_names_with_direction_or_invisible_characters(
    tmp_path: Path, field: str, written: str, shown: str
) -> None:
    path = _recipients(tmp_path, **{"sender_name" if field == "sender_name" else "post": written})
    (finding,) = _refused(path)
    where = f"{path}:2:14: sender_name: " if field == "sender_name" else f"{path}:4:11: posts[0].name: "
    assert finding.startswith(where) and shown in finding
    assert "cannot go into a mail header or a report" in finding


def test_bad_addresses_are_refused_at_their_line_and_column(tmp_path: Path) -> None:
    path = _recipients(tmp_path, addresses="a@b..example, .a@example.org")
    assert _refused(path) == [
        (
            f"{path}:5:17: posts[0].addresses[0]: 'a@b..example' is not a valid email address: "
            "an email address cannot have two periods in a row [format]"
        ),
        (
            f"{path}:5:31: posts[0].addresses[1]: '.a@example.org' is not a valid email address: "
            "an email address cannot start with a period [format]"
        ),
    ]


def test_a_bad_sender_address_is_refused_at_its_place(tmp_path: Path) -> None:
    path = _recipients(tmp_path)
    path.write_text(path.read_text().replace("newsletter@example.org", "news..letter@example.org"))
    (finding,) = _refused(path)
    assert finding.startswith(f"{path}:1:9: sender: 'news..letter@example.org' is not a valid email address")


# ---------------------------------------------------------------------------------------
# The defence in depth where headers are set.


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("Subject", INJECTIONS["q, Reply-To"], "U+000D"),
        ("Subject", "Issue\r\nBcc: x@example.net", "U+000D"),
        ("From", formataddr(("=?utf-8?q?Ed=0D=0ABcc:_x@evil.example?=", "n@example.org")), "U+000D"),
        ("From", formataddr(("Editors\u202e", "n@example.org")), "U+202E"),
        ("To", "a@b..example, .a@example.org", "To header"),  # 3.11's parser: a TypeError
        ("To", "a@b..example", "'a@b..example', read as '<>': expected an email address"),
        ("Cc", ".a@example.org", "cannot start with a period"),
        ("References", "<a@example.org>\r\nBcc: x@example.net", "U+000D"),
    ],
)
def test_set_header_refuses_what_is_unsafe_with_our_error(name: str, value: str, shown: str) -> None:
    message = EmailMessage(policy=POLICY)
    with pytest.raises(UnsafeHeader) as refused:
        set_header(message, name, value)
    assert isinstance(refused.value, IssueError)  # exit 1, never a crash (exit 3)
    (finding,) = refused.value.findings
    assert (
        finding.rule == "mail-header"
        and f"refused to compose a message: its {name} header" in finding.message
    )
    assert shown in finding.message
    assert name not in message


def test_set_header_keeps_safe_values_as_the_email_package_writes_them() -> None:
    message = EmailMessage(policy=POLICY)
    set_header(message, "Subject", "Traite\u00a0: la réponse\u202f!")
    set_header(message, "From", formataddr(("Lutte contre la traite, Europe du Sud-Est", "n@example.org")))
    set_header(message, "To", "a@example.org, b@example.org")
    back = email.message_from_bytes(checked_bytes(message), policy=email.policy.default)
    assert back["Subject"] == "Traite\u00a0: la réponse\u202f!"
    assert back["From"].addresses[0].display_name == "Lutte contre la traite, Europe du Sud-Est"
    assert list(back.keys()) == ["Subject", "From", "To"]


def test_checked_bytes_refuses_a_header_set_past_set_header() -> None:
    # The email package itself: 3.11 and 3.12.1 write the decoded line break (a Bcc of the
    # attacker's); 3.13 encodes it again. Read back, it is refused on each.
    message = EmailMessage(policy=POLICY)
    message["Subject"] = INJECTIONS["Q, Bcc"]
    with pytest.raises(UnsafeHeader) as refused:
        checked_bytes(message, read_back=True)
    injected = sys.version_info < (3, 13)
    (finding,) = refused.value.findings
    assert ("a value made the header 'bcc'" in finding.message) == injected or "U+000D" in finding.message


def test_checked_bytes_refuses_an_attachment_name_with_a_line_break() -> None:
    message = EmailMessage(policy=POLICY)
    message.set_content("text")
    message.add_attachment(
        b"%PDF",
        maintype="application",
        subtype="pdf",
        filename="=?utf-8?q?evil=0D=0ABcc:_x@example.net?=.pdf",
    )
    with pytest.raises(UnsafeHeader, match="U+000D|a value made the header"):
        checked_bytes(message, read_back=True)


NAME_WITH_COMMA = "Lutte contre la traite des êtres humains, Europe du Sud-Est"


def test_a_from_name_with_a_comma_and_an_accent_reads_back_as_one_address() -> None:
    message = EmailMessage(policy=POLICY)
    set_header(message, "From", Address(NAME_WITH_COMMA, addr_spec="n@example.org"))
    back = email.message_from_bytes(checked_bytes(message), policy=email.policy.default)
    assert [(a.display_name, a.addr_spec) for a in back["From"].addresses] == [
        (NAME_WITH_COMMA, "n@example.org")
    ]


def test_a_from_line_the_email_package_would_split_is_refused() -> None:
    # formataddr encodes the whole name; the package then folds it with its comma bare, and
    # the From line reads back as two addresses (on 3.11 to 3.13).
    message = EmailMessage(policy=POLICY)
    set_header(message, "From", formataddr((NAME_WITH_COMMA, "n@example.org")))
    with pytest.raises(UnsafeHeader, match="its From header .*: written out, it reads as \\[\\(''"):
        checked_bytes(message)
