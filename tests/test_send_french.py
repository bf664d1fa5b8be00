"""Mail per language: the French posts get the French edition with a French subject and body
set in French typography; ids transliterate accents, and a post already in a ledger keeps
the id it has there (a resumed send must not go out again because an id changed)."""

from __future__ import annotations

import email
import email.policy
import shutil
from pathlib import Path

import pytest
from conftest import edit
from mailkit import _recipients

from newsletter.errors import IssueError
from newsletter.send.ledger import Ledger
from newsletter.send.plan import dry_run, plan
from newsletter.send.recipients import legacy_slug, load_recipients, slug


def _messages(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for p in sorted(folder.glob("*.eml"))
    ]


def test_a_french_post_gets_a_french_subject_and_body(mail_issue: Path, tmp_path: Path, out: Path) -> None:
    the_plan = plan(mail_issue, load_recipients(_recipients(tmp_path, 2, 25, french_every=2)), out)
    written = dry_run(the_plan, out)
    messages = {m["Content-Language"]: m for m in _messages(written[0].parent)}
    french, english = messages["fr"], messages["en"]
    assert french["Subject"] == "Numéro 7\u00a0: Un petit numéro"
    body = french.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Dans ce numéro\u00a0:" in body and "d’introduction" in body and "'" not in body
    assert "page\u00a0" in body
    assert english["Subject"] == "Issue 7: A small issue"
    assert "\u00a0:" not in english["Subject"]


def test_ids_transliterate_accented_letters() -> None:
    assert slug("Lutte contre la traite des êtres humains") == "lutte-contre-la-traite-des-etres-humains"
    assert slug("Ambassade de France à Sarajevo") == "ambassade-de-france-a-sarajevo"
    assert slug("Œuvre sociale") == "oeuvre-sociale"
    assert (
        legacy_slug("Lutte contre la traite des êtres humains") == "lutte-contre-la-traite-des-tres-humains"
    )


def test_a_resumed_send_keeps_the_ids_of_the_ledger(mail_issue: Path, tmp_path: Path, out: Path) -> None:
    """A ledger written when ids dropped accented letters: the post it holds is not sent again."""
    folder = tmp_path / "issue"
    shutil.copytree(mail_issue.parent, folder)
    source = folder / mail_issue.name
    edit(source, "series: Test series", "series: Traite des êtres humains")
    edit(source.with_name("issue.fr.yaml"), "series: Test series", "series: Traite des êtres humains")
    recipients_file = tmp_path / "recipients.yaml"
    recipients_file.write_text(
        "sender: newsletter@example.org\nposts:\n"
        "  - name: Ambassade de France à Sarajevo\n    addresses: [sarajevo@example.org]\n"
        "  - name: Ambassade de France à Skopje\n    addresses: [skopje@example.org]\n",
        encoding="utf-8",
    )
    old_issue, old_post = "traite-des-tres-humains-7", "ambassade-de-france-sarajevo"
    ledger_path = out / "mail" / "ledger.sqlite"
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(ledger_path) as ledger:
        ledger.register(
            old_issue,
            1,
            [
                (
                    old_post,
                    "Ambassade de France à Sarajevo",
                    "<old@example.org>",
                    "en",
                    "sarajevo@example.org",
                    "",
                )
            ],
        )
        ledger.mark(old_issue, 1, old_post, "sent", "250 OK")
    the_plan = plan(source, load_recipients(recipients_file), out)
    assert the_plan.key == old_issue
    keys = {o.post.name: o.post.key for o in the_plan.outgoing}
    # The post in the ledger keeps its old id; the other, new to the ledger, gets the new one.
    assert keys == {
        "Ambassade de France à Sarajevo": old_post,
        "Ambassade de France à Skopje": "ambassade-de-france-a-skopje",
    }
    with Ledger(ledger_path, create=False) as ledger:
        summary = the_plan.summary(ledger)
    assert "1 to send now (1 sent before)" in summary


def test_sending_the_french_file_sends_each_post_its_language(
    mail_issue: Path,
    tmp_path: Path,
    out: Path,
) -> None:
    """`send issue.fr.yaml` finds the English edition beside it, as the checks do: an English
    post gets English, French stays the fallback (the file named on the command line)."""
    recipients = tmp_path / "posts.yaml"
    recipients.write_text(
        "sender: newsletter@example.org\nposts:\n"
        "  - name: Embassy in London\n    addresses: [london@example.org]\n    language: en\n"
        "  - name: Ambassade à Skopje\n    addresses: [skopje@example.org]\n",
        encoding="utf-8",
    )
    the_plan = plan(mail_issue.with_name("issue.fr.yaml"), load_recipients(recipients), out)
    assert list(the_plan.languages) == ["fr", "en"]
    written = dry_run(the_plan, out)
    assert {m["Content-Language"] for m in _messages(written[0].parent)} == {"fr", "en"}


def test_two_editions_in_one_language_are_refused_before_anything_goes_out(
    mail_issue: Path,
    tmp_path: Path,
) -> None:
    import pytest

    from newsletter.errors import IssueError

    folder = tmp_path / "issue"
    shutil.copytree(mail_issue.parent, folder)
    edit(folder / "issue.fr.yaml", "language: fr", "language: en")
    with pytest.raises(IssueError) as info:
        plan(folder / "issue.yaml", load_recipients(_recipients(tmp_path, 2, 25)), tmp_path / "out")
    (finding,) = info.value.findings
    assert finding.file == folder / "issue.fr.yaml" and finding.field == "language" and finding.line
    assert "issue.yaml" in finding.message


def test_either_file_names_the_same_send(mail_issue: Path, tmp_path: Path, out: Path) -> None:
    """The ledger key and the Message-IDs do not depend on which edition's file is named: a
    send started from one and resumed from the other does not go out twice."""
    recipients = load_recipients(_recipients(tmp_path, 3, 25, french_every=2))
    english = plan(mail_issue, recipients, out)
    french = plan(mail_issue.with_name("issue.fr.yaml"), recipients, out)
    assert english.key == french.key
    assert {o.post.key: o.message_id for o in english.outgoing} == {
        o.post.key: o.message_id for o in french.outgoing
    }


def test_a_broken_edition_stops_only_the_sends_that_need_it(
    mail_issue: Path,
    tmp_path: Path,
    out: Path,
) -> None:
    import pytest

    from newsletter.errors import IssueError

    folder = tmp_path / "issue"
    shutil.copytree(mail_issue.parent, folder)
    edit(folder / "issue.fr.yaml", "language: fr", "language: fr\nlangauge: fr")
    english_only = load_recipients(_recipients(tmp_path, 2, 25, french_every=0))
    assert list(plan(folder / "issue.yaml", english_only, out).languages) == ["en"]
    with pytest.raises(IssueError) as info:
        plan(folder / "issue.yaml", load_recipients(_recipients(tmp_path, 2, 25, french_every=2)), out)
    assert any(f.file == folder / "issue.fr.yaml" for f in info.value.findings)


SENDER_NAMES = {
    # the recipients file's sender_name: the From name of the (en, fr) messages
    "one name": ('"Traite des êtres humains"', ("Traite des êtres humains", "Traite des êtres humains")),
    "per language": (
        "{en: Fight against human trafficking, fr: Lutte contre la traite}",
        ("Fight against human trafficking", "Lutte contre la traite"),
    ),
    "French only": ("{fr: Lutte contre la traite}", ("", "Lutte contre la traite")),
    "English only": ("{en: Fight against human trafficking}", ("Fight against human trafficking",) * 2),
}


@pytest.mark.parametrize("kind", sorted(SENDER_NAMES))
def test_each_language_gets_its_sender_name(mail_issue: Path, tmp_path: Path, out: Path, kind: str) -> None:
    written, (english_name, french_name) = SENDER_NAMES[kind]
    recipients = _recipients(tmp_path, 2, 25, french_every=2, extra=f"sender_name: {written}")
    written_files = dry_run(plan(mail_issue, load_recipients(recipients), out), out)
    messages = {m["Content-Language"]: m for m in _messages(written_files[0].parent)}
    # Before: one name for every language, the French posts got the English From.
    assert messages["fr"]["From"].addresses[0].display_name == french_name
    assert messages["en"]["From"].addresses[0].display_name == english_name
    assert messages["fr"]["From"].addresses[0].addr_spec == "newsletter@example.org"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("{de: Menschenhandel}", "3:15: sender_name.de: unknown field 'de'; the fields here are: en, fr"),
        ('{fr: "Traite\\u200b"}', "3:19: sender_name.fr: U+200B (ZERO WIDTH SPACE)"),
        ("{}", "3:14: sender_name: give the sender's name in at least one language"),
    ],
)
def test_a_sender_name_per_language_is_checked_like_the_others(
    tmp_path: Path, written: str, expected: str
) -> None:
    path = _recipients(tmp_path, 1, 25, extra=f"sender_name: {written}")
    with pytest.raises(IssueError) as failed:
        load_recipients(path)
    assert any(expected in str(f) for f in failed.value.findings), failed.value.findings
