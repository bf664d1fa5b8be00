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
import subprocess
import sys
import tempfile
import time
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


def run(argv: list[str]) -> tuple[float, float, float, int]:
    """Run ``argv`` in a child: its peak RSS in MB, wall time and CPU time (user + system) in
    s, exit code. CPU time is what the work costs when the machine is shared (its wall time
    then includes waiting for a core)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        assert child.stderr is not None
        sys.stderr.write(child.stderr.read().decode(errors="replace")[-2000:])
    return usage.ru_maxrss / 1024, took, usage.ru_utime + usage.ru_stime, code


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
            plain_peak, plain, plain_cpu, _ = run(dry_run(ROOT, posts, out))
            shutil.rmtree(out / "mail")
            signed_peak, signed, signed_cpu, status = run([*dry_run(ROOT, posts, out), "--sign", str(p12)])
            added = added_bytes(out)
            shutil.rmtree(out / "mail")
            beyond, beyond_cpu = signed - plain, signed_cpu - plain_cpu
            verdict = f"target for 200 copies: {TARGET_S:.0f} s" + (
                "" if count != 200 else ("; met" if beyond <= TARGET_S else "; NOT met")
            )
            print(
                f"{count:>4} posts: unsigned {plain:5.1f} s ({plain_cpu:.1f} s CPU, peak {plain_peak:4.0f} MB); "
                f"signed {signed:5.1f} s ({signed_cpu:.1f} s CPU, peak {signed_peak:4.0f} MB, exit {status}): "
                f"the copies {beyond:4.1f} s ({1000 * beyond / count:.0f} ms each; {verdict}), "
                f"{beyond_cpu:.1f} s CPU; each copy adds {statistics.mean(added) / 1024:.1f} KB "
                f"(from {min(added) / 1024:.1f} to {max(added) / 1024:.1f})"
            )


if __name__ == "__main__":
    main()
