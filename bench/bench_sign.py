"""Benchmark: signed copies (``send --sign``) for 50 and 200 posts of issue 10.

Each run is a whole ``newsletter send --dry-run`` in a child process (its peak resident
memory from ``os.wait4``, as ``bench_send.py`` reads it), once without ``--sign`` and once
with it, the editions built by a first run and reused. The difference of the two times is
what stamping and signing cost beyond the build: each post's copy line drawn, the copy
signed at PAdES B-B with an RSA-2048 key (no time-stamping authority). Targets: 200 copies
in at most 10 s beyond the build; memory flat in the number of posts (a copy is made, sent
and dropped). Also reported: the bytes each copy adds to its edition.

Run: .venv/bin/python bench/bench_sign.py [--posts 50 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from bench_send import ROOT, dry_run, peak_of, recipients
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

TARGET_S = 10.0
PASSPHRASE = "bench"


def certificate(folder: Path) -> Path:
    """A self-signed RSA-2048 document-signing certificate and its key, as a .p12 file."""
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench ministry")])
    usage = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / "sign.p12"
    encryption = serialization.BestAvailableEncryption(PASSPHRASE.encode())
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"bench", key, cert, None, encryption))
    return path


def added_bytes(out: Path) -> list[int]:
    """For each message written, the bytes its attached copy adds to the edition it was made from."""
    editions = {p.name: p.stat().st_size for p in out.glob("*-email.pdf")}
    added = []
    for eml in (out / "mail").rglob("*.eml"):
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        for part in message.iter_attachments():  # type: ignore[attr-defined]
            added.append(len(part.get_content()) - editions[part.get_filename()])
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[50, 200])
    args = parser.parse_args()
    os.environ["NEWSLETTER_SIGN_PASSPHRASE"] = PASSPHRASE
    with tempfile.TemporaryDirectory(prefix="bench-sign-") as name:
        work = Path(name)
        p12 = certificate(work)
        out = work / "out"
        peak, took, status = peak_of(dry_run(ROOT, recipients(work / "posts-1.yaml", 1), out), ROOT)
        print(f"1 post, editions built: peak {peak:5.0f} MB, {took:5.1f} s (exit {status})")
        for count in args.posts:
            posts = recipients(work / f"posts-{count}.yaml", count)
            plain_peak, plain, _ = peak_of(dry_run(ROOT, posts, out), ROOT)
            shutil.rmtree(out / "mail")
            signed_peak, signed, status = peak_of([*dry_run(ROOT, posts, out), "--sign", str(p12)], ROOT)
            added = added_bytes(out)
            shutil.rmtree(out / "mail")
            beyond = signed - plain
            verdict = "ok" if beyond <= TARGET_S * count / 200 else "over the target"
            print(
                f"{count:>4} posts: unsigned {plain:5.1f} s (peak {plain_peak:4.0f} MB); signed {signed:5.1f} s "
                f"(peak {signed_peak:4.0f} MB, exit {status}): {beyond:4.1f} s for the copies "
                f"({1000 * beyond / count:.0f} ms each; {verdict}); each copy adds "
                f"{statistics.mean(added) / 1024:.1f} KB (from {min(added) / 1024:.1f} to {max(added) / 1024:.1f})"
            )


if __name__ == "__main__":
    main()
