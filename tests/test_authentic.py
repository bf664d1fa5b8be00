"""Authentic copies: each post's copy stamped with its copy line and signed (PAdES), checked by
pyHanko's own validation and by ``newsletter verify``; tampered, re-saved and forged copies
refused; the archive's PDF/A-3u and PDF/UA-1 kept (the outside validator ``page``); the
copy's SHA-256 in the ledger, and a resumed send making the same copy signed anew.

A test CA and its document-signing certificate are made here, with ``cryptography``.
"""

# The server and edition fixtures come from test_mail and are used as parameters:

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import http.server
import io
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from mailkit import Faults, Handler, _recipients, run_cli, send_args, send_killed_after
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from newsletter import cli
from newsletter.authentic.copyline import CopyLineFont
from newsletter.authentic.sign import CopyRecord, load_signing_key, make_copy
from newsletter.build import build_issue
from newsletter.check import conformance
from newsletter.shipped import DEFAULT_LAYOUT

PASSPHRASE = "correct horse"
Server = tuple[Handler, int, Faults]


@dataclass(frozen=True)
class Pki:
    """A test CA (its certificate in PEM), a document-signing certificate (PKCS#12) and a
    time-stamping authority's certificate and key (DER), all issued by the CA."""

    ca: Path
    p12: Path
    tsa_cert: bytes = b""
    tsa_key: bytes = b""


def _pki(folder: Path, name: str) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])

    def usage(**on: bool) -> x509.KeyUsage:
        flags = dict.fromkeys(
            (
                "digital_signature",
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "key_cert_sign",
                "crl_sign",
                "encipher_only",
                "decipher_only",
            ),
            False,
        )
        return x509.KeyUsage(**(flags | on))

    def issued(
        subject: x509.Name, key: rsa.RSAPrivateKey, *extensions: x509.ExtensionType
    ) -> x509.Certificate:
        """A certificate for ``key``, signed by the CA, valid from yesterday for a month."""
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
        )
        for extension in extensions:
            builder = builder.add_extension(extension, critical=True)
        return builder.sign(ca_key, hashes.SHA256())

    def named(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_cert = issued(
        ca_name,
        ca_key,
        x509.BasicConstraints(ca=True, path_length=None),
        usage(digital_signature=True, key_cert_sign=True, crl_sign=True),
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = issued(named(f"{name} newsletter"), key, usage(digital_signature=True, content_commitment=True))
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = issued(
        named(f"{name} time stamps"),
        tsa_key,
        usage(digital_signature=True),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
    )
    pki = Pki(
        folder / "ca.pem",
        folder / "sign.p12",
        tsa_cert.public_bytes(serialization.Encoding.DER),
        tsa_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    encryption = serialization.BestAvailableEncryption(PASSPHRASE.encode())
    pki.p12.write_bytes(
        pkcs12.serialize_key_and_certificates(b"newsletter", key, cert, [ca_cert], encryption)
    )
    return pki


@pytest.fixture(scope="module")
def ministry(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return _pki(tmp_path_factory.mktemp("ministry"), "Ministry")


@pytest.fixture(scope="module")
def forger(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return _pki(tmp_path_factory.mktemp("forger"), "Forger")


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SIGN_PASSPHRASE", PASSPHRASE)


def _pyhanko_verdict(data: bytes, pki: Pki) -> tuple[bool, str]:
    """pyHanko's own validation: trusted, intact, valid and covering the whole file."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    signatures = reader.embedded_signatures
    if len(signatures) != 1:
        return False, f"{len(signatures)} signatures"
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(pki.ca))], allow_fetching=False)
    status = validate_pdf_signature(signatures[0], context)
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    return status.bottom_line and whole, status.summary()


def _attachments(folder: Path) -> dict[str, bytes]:
    """Each .eml's attached PDF, by post id."""
    found = {}
    for eml in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        (part,) = list(message.iter_attachments())  # type: ignore[attr-defined]
        found[eml.stem] = part.get_content()
    return found


def _page_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        # pdfium reports the line's spaces as no-break spaces: compared as plain spaces.
        return [
            document[i].get_textpage().get_text_range().replace("\xa0", " ") for i in range(len(document))
        ]
    finally:
        document.close()


def _dry_run(mail_issue: Path, tmp_path: Path, out: Path, pki: Pki, *more: object) -> dict[str, bytes]:
    recipients = tmp_path / "recipients.yaml"
    recipients.write_text(
        "sender: newsletter@example.org\nposts:\n"
        "  - {name: Embassy of France in Serbia, addresses: [belgrade@example.org]}\n"
        "  - {name: Ambassade de France en Croatie, addresses: [zagreb@example.org], language: fr}\n"
        "  - {name: Embassy in Sarajevo, id: sarajevo, addresses: [sarajevo@example.org]}\n",
        encoding="utf-8",
    )
    result = run_cli(
        "send", mail_issue, "--to", recipients, "--out", out, "--dry-run", "--sign", pki.p12, *more
    )
    assert result.exit_code == 0, result.output
    (folder,) = (out / "mail").iterdir()
    return _attachments(folder)


def test_every_copy_is_signed_stamped_and_verified_and_tampering_is_refused(
    mail_issue: Path, tmp_path: Path, out: Path, ministry: Pki, forger: Pki
) -> None:
    copies = _dry_run(mail_issue, tmp_path, out, ministry)
    today = dt.date.today().isoformat()
    lines = {
        "embassy-of-france-in-serbia": f"Copy for Embassy of France in Serbia · {today} · N° 0001",
        "ambassade-de-france-en-croatie": f"Exemplaire : Ambassade de France en Croatie · {today} · N° 0002",
        "sarajevo": f"Copy for Embassy in Sarajevo · {today} · N° 0003",
    }
    assert copies.keys() == lines.keys()
    for post, data in copies.items():
        ok, summary = _pyhanko_verdict(data, ministry)
        assert ok, f"{post}: {summary}"
        texts = _page_texts(data)
        assert all(lines[post] in text for text in texts), (post, texts[-1][-200:])
        copy = tmp_path / f"{post}.pdf"
        copy.write_bytes(data)
        verdict = run_cli("verify", copy, "--trust", ministry.ca)
        assert verdict.exit_code == 0, verdict.output
        assert verdict.output.startswith(f"authentic: {copy}"), verdict.output
        assert "email edition, in " + ("fr" if "croatie" in post else "en") in verdict.output
        name = {"sarajevo": "Embassy in Sarajevo"}.get(post, lines[post].split(" · ")[0].split(" ", 2)[2])
        assert f"for {name}, made {today}" in verdict.output, verdict.output

    data = copies["sarajevo"]
    # One byte changed, in the edition's own bytes (a digit of a content stream's length).
    spot = data.index(b"/Length ") + len(b"/Length ")
    changed = data[:spot] + (b"8" if data[spot : spot + 1] != b"8" else b"7") + data[spot + 1 :]
    # Re-saved by another tool (qpdf, through pikepdf), nothing else changed.
    with pikepdf.open(io.BytesIO(data)) as pdf:
        resaved_buffer = io.BytesIO()
        pdf.save(resaved_buffer)
    # Signed by another certificate, with a copy record that claims to be the ministry's.
    forged = make_copy(
        (out / "issue-email.pdf").read_bytes(),
        load_signing_key(forger.p12, PASSPHRASE),
        CopyRecord(
            "x-1", "Forged", "email", "en", "Embassy in Sarajevo", "sarajevo", 3, today, "Copy for you"
        ),
        CopyLineFont(DEFAULT_LAYOUT.fonts / "lato" / "Lato-Regular.ttf"),
    )
    for name, bad, reason in [
        ("changed", changed, "changed after it was signed"),
        ("resaved", resaved_buffer.getvalue(), "changed after it was signed"),
        ("forged", forged, "Forger newsletter, whose certificate is not from a trusted authority"),
        ("unsigned", (out / "issue-email.pdf").read_bytes(), "the file is not signed"),
    ]:
        ok, summary = _pyhanko_verdict(bad, ministry)
        assert not ok, f"pyHanko accepted the {name} copy: {summary}"
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(bad)
        verdict = run_cli("verify", path, "--trust", ministry.ca)
        assert verdict.exit_code == cli.EXIT_CONTENT, (name, verdict.output)
        assert verdict.output.startswith(f"NOT authentic: {path}"), verdict.output
        assert reason in verdict.output, (name, verdict.output)


def test_no_copy_line_signs_the_edition_as_it_is(
    mail_issue: Path, tmp_path: Path, out: Path, ministry: Pki
) -> None:
    copies = _dry_run(mail_issue, tmp_path, out, ministry, "--no-copy-line")
    for data in copies.values():
        assert _pyhanko_verdict(data, ministry)[0]
        assert not any("Copy for" in text or "Exemplaire" in text for text in _page_texts(data))


@pytest.mark.parametrize(("edition", "claims"), [("archive", ["3u", "ua1"]), ("email", ["ua1"])])
def test_a_signed_copy_keeps_the_editions_standards(
    mail_issue: Path, tmp_path: Path, ministry: Pki, edition: str, claims: list[str]
) -> None:
    """The archive passes the outside validator as PDF/A-3u and PDF/UA-1 and the email edition
    as PDF/UA-1 (issue 25), and each still does once stamped and signed (pyHanko's own rewrite
    of the XMP lost the archive's PDF/A extension schema: seven PDF/A rules failed; the
    signature's widget sits in a Form element). The validator runs in a process of its own
    (``conformance.judge``): its threads would hang a test process that forks afterwards."""
    result = build_issue(mail_issue, tmp_path, edition=edition)
    assert result.pdf is not None
    record = CopyRecord(
        "issue-1",
        "Issue 1",
        edition,
        "en",
        "Embassy in Sarajevo",
        "sarajevo",
        7,
        "2026-12-06",
        "Copy for Sarajevo · N° 0007",
    )
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(
        make_copy(
            result.pdf.read_bytes(),
            load_signing_key(ministry.p12, PASSPHRASE),
            record,
            CopyLineFont(DEFAULT_LAYOUT.fonts / "lato" / "Lato-Regular.ttf"),
        )
    )
    assert _pyhanko_verdict(signed.read_bytes(), ministry)[0]
    passed = {profile: [] for profile in claims}
    assert conformance.judge(result.pdf, claims) == passed
    assert conformance.judge(signed, claims) == passed


def _ledger_copies(out: Path) -> dict[str, tuple[int, str, str]]:
    with sqlite3.connect(out / "mail" / "ledger.sqlite") as db:
        return {row[0]: tuple(row[1:]) for row in db.execute("SELECT post, number, made, sha256 FROM copies")}


def test_the_ledger_holds_each_copy_hash_and_a_killed_send_resumes_with_the_same_copies_signed_again(
    server: Server, mail_issue: Path, tmp_path: Path, out: Path, ca_file: Path, ministry: Pki
) -> None:
    handler, port, faults = server
    faults.delay = 0.05
    recipients = _recipients(tmp_path, 8, port, french_every=0)
    command = [*send_args(mail_issue, recipients, out, ca_file), "--sign", str(ministry.p12)]
    send_killed_after(command, handler, 3)
    assert 3 <= len(handler.received) < 8, "the run was not killed half way"
    before = _ledger_copies(out)
    assert sorted(before) == [f"post-{i:03d}" for i in range(8)], "every post numbered when the send starts"
    with sqlite3.connect(out / "mail" / "ledger.sqlite") as db:
        sent = {row[0] for row in db.execute("SELECT post FROM messages WHERE state = 'sent'")}
    first_copies = {m["To"]: _pdf(m) for m in handler.received}
    for post in sent:  # the ledger holds the hash of the copy each post received
        assert (
            before[post][2]
            == hashlib.sha256(first_copies[post.replace("-", "") + "@example.org"]).hexdigest()
        )

    faults.delay = 0.0
    resumed = run_cli(*command)
    assert resumed.exit_code == 0, resumed.output
    after = _ledger_copies(out)
    last = {m["To"]: _pdf(m) for m in handler.received}  # the last copy each post received
    unsent = sorted(set(before) - sent)
    assert unsent, "nothing was left to resume"
    for post in unsent:
        copy = last[post.replace("-", "") + "@example.org"]
        assert after[post][:2] == before[post][:2], "the same N° and day"
        assert after[post][2] == hashlib.sha256(copy).hexdigest(), "the ledger records the new copy's hash"
        if before[post][2]:  # made before the kill (in flight): made again, signed anew
            assert after[post][2] != before[post][2]
        number, made = after[post][0], after[post][1]
        label = post.replace("post-", "Post ")
        assert f"Copy for {label} · {made} · N° {number:04d}" in _page_texts(copy)[0]
        assert _pyhanko_verdict(copy, ministry)[0]
    assert {p: after[p] for p in sent} == {p: before[p] for p in sent}, "the posts sent are untouched"
    status = run_cli("status", mail_issue, "--out", out)
    number, made, sha = after["post-000"]
    assert f"(signed copy N° {number:04d} of {made}, SHA-256 {sha})" in status.output, status.output


def _pdf(message: email.message.Message) -> bytes:
    (part,) = list(message.iter_attachments())  # type: ignore[attr-defined]
    return part.get_content()  # type: ignore[no-any-return]


def test_the_resume_command_keeps_the_signing() -> None:
    from newsletter.commands.send import _resume_command

    words = _resume_command(
        Path("i.yaml"),
        Path("r.yaml"),
        None,
        1,
        Path("out"),
        None,
        None,
        None,
        None,
        None,
        None,
        False,
        (Path("m.p12"), "http://tsa.example/", False),
    ).split()
    assert words[-6:] == ["--sign", "m.p12", "--tsa", "http://tsa.example/", "--no-copy-line", "--yes"]


def test_a_post_whose_copy_line_cannot_be_drawn_stops_the_send_before_anything_goes(
    mail_issue: Path, tmp_path: Path, out: Path, ministry: Pki
) -> None:
    recipients = tmp_path / "recipients.yaml"
    recipients.write_text(
        "sender: newsletter@example.org\nposts:\n"
        "  - {name: Посольство в Белграде, id: beograd, addresses: [beograd@example.org]}\n",
        encoding="utf-8",
    )
    result = run_cli(
        "send", mail_issue, "--to", recipients, "--out", out, "--dry-run", "--sign", ministry.p12
    )
    assert result.exit_code == cli.EXIT_CONTENT, result.output
    assert "the copy line of 'Посольство в Белграде' cannot be drawn" in result.output
    assert "'П' (U+041F)" in result.output
    assert not (out / "mail").exists()
    unsigned = run_cli(
        "send",
        mail_issue,
        "--to",
        recipients,
        "--out",
        out,
        "--dry-run",
        "--sign",
        ministry.p12,
        "--no-copy-line",
    )
    assert unsigned.exit_code == 0, unsigned.output


def test_build_sign_signs_the_archive_for_every_reader(
    mail_issue: Path, tmp_path: Path, ministry: Pki
) -> None:
    result = run_cli("build", mail_issue, "--variant", "archive", "--out", tmp_path, "--sign", ministry.p12)
    assert result.exit_code == 0, result.output
    assert "signed " in result.output
    archive = tmp_path / "issue-archive.pdf"
    assert _pyhanko_verdict(archive.read_bytes(), ministry)[0]
    verdict = run_cli("verify", archive, "--trust", ministry.ca)
    assert verdict.exit_code == 0, verdict.output
    assert "archive edition, in en" in verdict.output
    assert "the edition for every reader" in verdict.output


@pytest.fixture
def tsa(ministry: Pki) -> Iterator[str]:
    """A time-stamping authority on 127.0.0.1 (RFC 3161 over HTTP), answering with pyHanko's
    test time stamper and the ministry CA's time-stamping certificate: no network."""
    from asn1crypto import keys, tsp
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    stamper = DummyTimeStamper(
        asn1_x509.Certificate.load(ministry.tsa_cert), keys.PrivateKeyInfo.load(ministry.tsa_key)
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_time_stamping_authority_makes_the_copies_pades_b_t(
    mail_issue: Path, tmp_path: Path, out: Path, ministry: Pki, tsa: str
) -> None:
    copies = _dry_run(mail_issue, tmp_path, out, ministry, "--tsa", tsa)
    data = copies["sarajevo"]
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(ministry.ca))], allow_fetching=False)
    status = validate_pdf_signature(reader.embedded_signatures[0], context, ts_validation_context=context)
    assert status.bottom_line and status.timestamp_validity is not None
    assert status.timestamp_validity.trusted, "the time stamp chains to the ministry's CA"
    copy = tmp_path / "stamped.pdf"
    copy.write_bytes(data)
    verdict = run_cli("verify", copy, "--trust", ministry.ca)
    assert verdict.exit_code == 0, verdict.output
    assert "(time-stamped by an authority)" in verdict.output


def test_the_recipients_file_names_the_certificate_and_the_trust_anchors(
    mail_issue: Path, tmp_path: Path, out: Path, ministry: Pki
) -> None:
    recipients = tmp_path / "posts.yaml"
    recipients.write_text(
        "sender: newsletter@example.org\n"
        f"signing: {{certificate: {ministry.p12}, trust: [{ministry.ca}]}}\n"
        "posts:\n  - {name: Embassy in Sarajevo, id: sarajevo, addresses: [sarajevo@example.org]}\n",
        encoding="utf-8",
    )
    result = run_cli("send", mail_issue, "--to", recipients, "--out", out, "--dry-run")
    assert result.exit_code == 0, result.output
    (folder,) = (out / "mail").iterdir()
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(_attachments(folder)["sarajevo"])
    verdict = run_cli("verify", copy, "--to", recipients)
    assert verdict.exit_code == 0, verdict.output
    assert "copy N° 0001 for Embassy in Sarajevo" in verdict.output
    no_trust = run_cli("verify", copy)
    assert no_trust.exit_code == cli.EXIT_USAGE
    assert "name the certificate the signer must chain to: --trust CA.pem" in no_trust.output


def test_the_passphrase_comes_from_the_environment_or_a_terminal_and_a_wrong_one_is_named(
    mail_issue: Path, tmp_path: Path, out: Path, ministry: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipients = tmp_path / "posts.yaml"
    recipients.write_text(
        "sender: n@example.org\nposts:\n  - {name: A post, addresses: [a@example.org]}\n", encoding="utf-8"
    )
    command = ["send", mail_issue, "--to", recipients, "--out", out, "--dry-run", "--sign", ministry.p12]
    monkeypatch.delenv("NEWSLETTER_SIGN_PASSPHRASE")
    unasked = run_cli(*command)  # the runner's input is not a terminal
    assert unasked.exit_code == cli.EXIT_USAGE, unasked.output
    assert f"the passphrase of {ministry.p12} is needed: set NEWSLETTER_SIGN_PASSPHRASE" in unasked.output
    monkeypatch.setenv("NEWSLETTER_SIGN_PASSPHRASE", "wrong")
    wrong = run_cli(*command)
    assert wrong.exit_code == cli.EXIT_USAGE, wrong.output
    assert f"cannot open {ministry.p12}: the passphrase is wrong" in wrong.output
    assert not (out / "mail").exists(), "nothing built into messages"


def test_a_copy_put_into_its_language_message_is_the_message_the_email_package_writes(
    mail_issue: Path, tmp_path: Path, out: Path, ministry: Pki
) -> None:
    """Each post's message is its language's message, checked once, with the copy's base64 in
    place of a stand-in: the same bytes as composing it whole (boundaries aside)."""
    import re

    from newsletter.send.compose import Composer
    from newsletter.send.copies import Signing
    from newsletter.send.plan import plan
    from newsletter.send.recipients import load_recipients

    recipients = _recipients(tmp_path, 3, 25, french_every=2)
    the_plan = plan(
        mail_issue,
        load_recipients(recipients),
        out,
        signing=Signing(load_signing_key(ministry.p12, PASSPHRASE)),
    )
    composer = the_plan.composer
    assert composer.copies is not None
    boundary = re.compile(rb"=+\d+==")
    for item in the_plan.outgoing:
        copy = composer.copies.copy_for(item)
        body = composer._body(item.language)
        spliced = composer._with_copy(body, copy).data
        whole = Composer._with_pdf(body, copy).data
        assert boundary.sub(b"-", spliced) == boundary.sub(b"-", whole), item.language
        parsed = email.message_from_bytes(b"Subject: x\r\n" + spliced, policy=email.policy.default)
        assert _pdf(parsed) == copy


def test_verify_never_hangs_on_a_pipe_or_a_device(tmp_path: Path, ministry: Pki) -> None:
    fifo = tmp_path / "copy.pdf"
    os.mkfifo(fifo)
    for given in (fifo, Path("/dev/zero")):
        verdict = run_cli("verify", given, "--trust", ministry.ca)
        assert verdict.exit_code == cli.EXIT_USAGE, verdict.output
        assert "is not a regular file (a pipe or a device cannot be a PDF file)" in verdict.output
