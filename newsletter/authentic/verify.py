"""Verifying: a PDF + trusted certificates -> whether it is an authentic edition, and for whom
it was made.

Input: the file's bytes and the trust anchors (PEM or DER certificates: the ministry's CA).
Output: a ``Verdict``: authentic or not, the reasons in plain words, the copy's record (issue,
edition, language, post, N°, day), who signed and when.

Authentic means all of: exactly one signature; PAdES (``ETSI.CAdES.detached``); intact (the
bytes it covers are those signed); covering the whole file (nothing added after it, not even
an incremental update); made with a certificate that chains to a trust anchor and may sign
documents (non-repudiation). Revocation is checked when the certificates say where (soft
fail: no network is not a reason to refuse).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from ..safeio import read_limited
from .sign import RECORD_KEY, CopyRecord

PADES = "/ETSI.CAdES.detached"


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found."""

    authentic: bool
    #: Why not, in plain words (empty when authentic).
    reasons: tuple[str, ...] = ()
    record: CopyRecord | None = None
    #: The signer as its certificate names them.
    signer: str = ""
    #: When it was signed: the signer's own clock, or the time stamp when there is one.
    signed_at: dt.datetime | None = None
    timestamped: bool = False
    #: What was checked and held, for the report.
    checks: tuple[str, ...] = field(default=())


def load_trust(paths: list[Path]) -> list[object]:
    """The certificates in the files at ``paths`` (PEM, several per file, or DER);
    ``ValueError`` naming a file that holds none."""
    certs: list[object] = []
    for path in paths:
        found = list(load_certs_from_pemder([str(path)]))
        if not found:
            raise ValueError(f"{path} holds no certificate (expected PEM or DER)")
        certs += found
    return certs


def verify_copy(data: bytes, trust: list[object]) -> Verdict:
    """Judge the PDF ``data`` against the trust anchors ``trust`` (see ``load_trust``)."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, IndexError) as exc:
        return Verdict(False, (f"this is not a readable PDF file ({exc})",))
    if not signatures:
        return Verdict(False, ("the file is not signed: it is not an authentic edition",))
    record = _record(reader)
    if len(signatures) > 1:
        return Verdict(
            False,
            (f"the file holds {len(signatures)} signatures; an edition is signed once",),
            record,
        )
    signature = signatures[0]
    context = ValidationContext(trust_roots=trust, allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(signature, context, ts_validation_context=context)
    except Exception as exc:  # noqa: BLE001 - a damaged signature is a verdict, not a crash
        return Verdict(False, (f"the signature cannot be read ({exc})",), record)
    reasons = []
    subfilter = str(signature.sig_object.get("/SubFilter", ""))
    if subfilter != PADES:
        reasons.append(f"the signature is not PAdES ({subfilter or 'no subfilter'}, expected {PADES[1:]})")
    if not status.intact:
        reasons.append(
            "the file was changed after it was signed: its content no longer matches the signature"
        )
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        reasons.append(
            "something was added to the file after it was signed: the signature does not cover the whole file"
        )
    if not status.valid:
        reasons.append("the signature itself is not valid (its cryptography does not check out)")
    signer = _name(status.signing_cert)
    if status.valid and status.intact and not status.trusted:
        problem = status.trust_problem_indic
        why = f" ({str(problem).split('.')[-1].replace('_', ' ').lower()})" if problem else ""
        reasons.append(
            f"it was signed by {signer}, whose certificate is not from a trusted authority{why}: "
            "a copy signed by someone else"
        )
    timestamp = status.timestamp_validity
    if timestamp is not None and not (timestamp.intact and timestamp.valid):
        reasons.append("its time stamp does not check out: the time it claims is not proven")
    signed_at = timestamp.timestamp if timestamp is not None else status.signer_reported_dt
    if record is None and not reasons:
        reasons.append(
            "the signature holds, but the file carries no copy record: it was not made by this tool"
        )
    return Verdict(
        not reasons,
        tuple(reasons),
        record,
        signer,
        signed_at,
        timestamp is not None,
        (status.summary(),),
    )


def _name(cert: object) -> str:
    """The signer's name: the certificate's common name and organisation, else its subject."""
    if cert is None:
        return "an unknown signer"
    subject = cert.subject  # type: ignore[attr-defined]
    names = subject.native
    parts = [names.get("common_name"), names.get("organization_name")]
    return ", ".join(str(p) for p in parts if p) or str(subject.human_friendly)


def _record(reader: PdfFileReader) -> CopyRecord | None:
    """The copy's record in the document information dictionary, if it holds one."""
    try:
        info = reader.trailer["/Info"]
        text = str(info[RECORD_KEY])
        return CopyRecord.from_json(text)
    except (KeyError, ValueError, TypeError, PdfError):
        return None


#: The largest file ``verify`` reads: an edition's budget is at most 100 MB.
MAX_PDF_BYTES = 200_000_000


def verify_file(path: Path, trust: list[object]) -> Verdict:
    """``verify_copy`` of the file at ``path``, read as a regular file of at most
    ``MAX_PDF_BYTES`` (``IssueError`` otherwise: a named pipe or ``/dev/zero`` given as the
    copy never hangs the command)."""
    return verify_copy(read_limited(path, MAX_PDF_BYTES), trust)
