"""Markings, embargo and release: a distribution marking in every page's footer, on the cover,
in the mail and in the PDF's keywords; a protection level refused by check and send; the
embargo on the cover and in the mail; the release holding send (exit 1 naming it) until it
has come, --test and --dry-run allowed before; status showing both."""

# The server and edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
from conftest import edit
from mailkit import Faults, Handler, _recipients, run_cli, send_args

from newsletter import cli

Server = tuple[Handler, int, Faults]


def _texts(pdf: Path) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [
            document[i].get_textpage().get_text_range().replace("\r\n", "\n") for i in range(len(document))
        ]
    finally:
        document.close()


def test_a_marking_and_an_embargo_are_printed_on_every_page_the_cover_the_mail_and_the_metadata(
    issue: Path, tmp_path: Path
) -> None:
    edit(issue, "date: 2020-01-01", "date: 2020-01-01\nmarking: internal\nembargo: 2026-12-10T09:00:00+01:00")
    out = tmp_path / "out"
    built = run_cli("build", issue, "--out", out)
    assert built.exit_code == 0, built.output
    pdf = out / "issue-email.pdf"
    pages = _texts(pdf)
    embargo = "Not to be published before 2026-12-10 09:00 UTC+0100"
    assert "Internal: not for publication" in pages[0] and embargo in pages[0], pages[0][:300]
    for number, text in enumerate(pages[1:], start=2):
        assert "Internal: not for publication" in text, f"page {number} has no marking in its footer"
    with pikepdf.open(pdf) as document:
        assert "Internal: not for publication" in str(document.docinfo["/Keywords"])

    recipients = tmp_path / "posts.yaml"
    recipients.write_text(
        "sender: n@example.org\nposts:\n  - {name: A post, addresses: [a@example.org]}\n", encoding="utf-8"
    )
    dry = run_cli("send", issue, "--to", recipients, "--out", out, "--dry-run")
    assert dry.exit_code == 0, dry.output
    (eml,) = (out / "mail").rglob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, html):
        assert "Internal: not for publication" in body and embargo in body, body[:400]


def test_a_protection_level_is_refused_by_check_and_send(issue: Path, tmp_path: Path) -> None:
    edit(issue, "date: 2020-01-01", "date: 2020-01-01\nmarking: Diffusion Restreinte")
    checked = run_cli("check", issue)
    assert checked.exit_code == cli.EXIT_CONTENT, checked.output
    assert (
        "marking: 'Diffusion Restreinte' is a protection level: it needs approved encryption"
        in checked.output
    )
    assert "[marking]" in checked.output
    recipients = tmp_path / "posts.yaml"
    recipients.write_text(
        "sender: n@example.org\nposts:\n  - {name: A post, addresses: [a@example.org]}\n", encoding="utf-8"
    )
    sent = run_cli("send", issue, "--to", recipients, "--out", tmp_path / "out", "--dry-run")
    assert sent.exit_code == cli.EXIT_CONTENT, sent.output
    assert "is a protection level" in sent.output
    assert not (tmp_path / "out" / "mail").exists(), "nothing written"


def test_an_unknown_marking_names_the_known_ones(issue: Path) -> None:
    edit(issue, "date: 2020-01-01", "date: 2020-01-01\nmarking: internl")
    checked = run_cli("check", issue)
    assert checked.exit_code == cli.EXIT_CONTENT, checked.output
    assert "unknown marking 'internl'; did you mean 'internal'?" in checked.output


def test_a_release_without_its_offset_is_refused_in_plain_words(issue: Path) -> None:
    edit(issue, "date: 2020-01-01", "date: 2020-01-01\nrelease: 2026-12-10T09:00:00")
    checked = run_cli("check", issue)
    assert checked.exit_code == cli.EXIT_CONTENT, checked.output
    assert "release: expected a date and time with its offset from UTC" in checked.output


def test_the_release_holds_send_until_it_has_come(
    server: Server, issue: Path, tmp_path: Path, ca_file: Path
) -> None:
    handler, port, _ = server
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(microsecond=0)
    edit(
        issue,
        "date: 2020-01-01",
        f"date: 2020-01-01\nembargo: {soon.isoformat()}\nrelease: {soon.isoformat()}",
    )
    out = tmp_path / "out"
    recipients = _recipients(tmp_path, 2, port, french_every=0)
    held = run_cli(*send_args(issue, recipients, out, ca_file))
    assert held.exit_code == cli.EXIT_CONTENT, held.output
    assert f"release: the issue is held until its release, {soon.isoformat()} (in 1 h 59 min)" in held.output
    assert not handler.received
    test = run_cli(
        "send", issue, "--to", recipients, "--out", out, "--ca-file", ca_file, "--test", "me@example.org"
    )
    assert test.exit_code == 0, test.output
    assert len(handler.received) == 1, "a test send is allowed before the release"
    status = run_cli("status", issue, "--out", out)
    assert f"embargo: not to be published before {soon.isoformat()}" in status.output
    assert f"release: {soon.isoformat()} (still to come: send holds it)" in status.output

    past = soon - dt.timedelta(hours=3)
    edit(issue, f"release: {soon.isoformat()}", f"release: {past.isoformat()}")
    sent = run_cli(*send_args(issue, recipients, out, ca_file))
    assert sent.exit_code == 0, sent.output
    assert len(handler.received) == 3
    assert "(passed: it may be sent)" in run_cli("status", issue, "--out", out).output
