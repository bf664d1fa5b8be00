"""Signing: a finished edition + the ministry's key -> a signed copy (PAdES), stamped for a
post when it is one post's copy.

Input: the bytes of a built edition (email or archive), a ``SigningKey`` read from a
PKCS#12 file, and what the copy is (``CopyRecord``). Output: the copy's bytes: the edition's
own bytes unchanged, followed by one incremental update that holds the copy line on every
page (``copyline.py``), the copy's record in the document information dictionary, and the
signature, whose byte range covers the whole file.

The signature is PAdES baseline B-B (subfilter ``ETSI.CAdES.detached``, SHA-256, the
signer's certificate and chain embedded), B-T when a time-stamping authority is given. It is
invisible: its field's widget has an empty rectangle and is hidden from the structure of the
page, so the archive's PDF/UA-1 is kept (an invisible signature field is not content).
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps

from .copyline import CopyLineFont, draw_copy_line

#: The key in the document information dictionary that holds a copy's record (JSON).
RECORD_KEY = "/NewsletterCopy"
#: The signature field of a copy.
FIELD_NAME = "NewsletterSignature"
#: Bytes reserved for a time stamp in the signature container: the authority's token with
#: its certificates (about 6 KB for the common authorities).
TSA_RESERVE = 12_288
#: What assistive technology says of the (invisible) signature field.
SIGNATURE_WORDS = "Digital signature of the publisher"


class SigningError(Exception):
    """The key cannot be used, or a copy cannot be made with it: in plain words."""


@dataclass(frozen=True)
class CopyRecord:
    """What a copy is and for whom it was made: written into the copy, read back by ``verify``."""

    #: The issue's key in the ledger (``<series>-<number>``).
    issue: str
    #: The issue as readers name it, e.g. ``Trafficking in persons – Issue 10``.
    title: str
    edition: str
    language: str
    #: The post's name and id, empty for an edition signed for everyone (``build --sign``).
    post: str = ""
    post_id: str = ""
    #: The copy's number (N°), 0 for an edition signed for everyone.
    number: int = 0
    #: The day the copy was first made (ISO 8601), kept when a send is resumed.
    made: str = ""
    #: The copy line as printed, empty when there is none (``--no-copy-line``).
    line: str = ""

    def reason(self) -> str:
        """The signature's reason, as a PDF reader shows it beside the signature."""
        what = f"{self.title} ({self.edition} edition, {self.language})"
        if not self.post:
            return f"Authentic edition: {what}"
        return f"Authentic copy N° {self.number:04d} for {self.post}, {self.made}: {what}"

    def to_json(self) -> str:
        """The record as compact JSON (keys sorted: the same copy has the same bytes)."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> CopyRecord:
        """The record read back; ``ValueError`` when it is not one."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a copy record")  # noqa: TRY004 - read as a value: the file's content
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class SigningKey:
    """The ministry's signing key and certificate, loaded from a PKCS#12 file, and the
    time-stamping authority to ask, if any."""

    path: Path
    signer: signers.SimpleSigner
    tsa_url: str | None = None
    #: Bytes reserved in each copy for the signature container (see ``_reserve``).
    reserved: int = 16_384

    @property
    def subject(self) -> str:
        """Who signs, as the certificate names them."""
        cert = self.signer.signing_cert
        assert cert is not None
        return str(cert.subject.human_friendly)


def load_signing_key(path: Path, passphrase: str | None, tsa_url: str | None = None) -> SigningKey:
    """The key in the PKCS#12 file at ``path``; ``SigningError`` saying why it cannot be used
    (not PKCS#12, wrong passphrase, no private key, a certificate not made for signing)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signing certificate {path}: {exc.strerror or exc}") from None
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, secret)
    except ValueError:
        raise SigningError(
            f"cannot open {path}: the passphrase is wrong, or the file is not a PKCS#12 (.p12/.pfx) file"
        ) from None
    if key is None or cert is None:
        raise SigningError(f"{path} holds no private key with its certificate: export both to the .p12 file")
    from cryptography import x509

    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.content_commitment:
        raise SigningError(
            f"the certificate in {path} is not made for signing documents: its key usage lacks "
            "non-repudiation (content commitment); ask for a document-signing certificate"
        )
    loaded = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=secret)
    signer = _KeptKeySigner(
        signing_key=loaded.signing_key,
        signing_cert=loaded.signing_cert,
        cert_registry=loaded.cert_registry,
    )
    signer.kept_key = key if isinstance(key, RSAPrivateKey) else None
    return SigningKey(path, signer, tsa_url, _reserve(loaded))


class _MetadataKeptWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer, leaving the edition's metadata as it was built.

    pyHanko rewrites the XMP packet (and the information dictionary's producer and dates) on
    every write; its XML loses the PDF/A extension schemas' ``rdf:parseType="Resource"``
    entries, so that an archive that declares PDF/UA in its XMP fails seven PDF/A-3 rules
    after signing (measured with page-validation 0.11). The signature's own time is in its
    dictionary (/M); the copy's record is added to the information dictionary by us.
    """

    def _update_meta(self) -> None:
        pass


class _KeptKeySigner(signers.SimpleSigner):
    """pyHanko's signer, with an RSA key loaded once: pyHanko loads it again for every
    signature, and checking an RSA key costs 40 ms, as much as the rest of a copy."""

    kept_key: RSAPrivateKey | None = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if self.kept_key is None or mechanism.signature_algo != "rsassa_pkcs1v15":
            return bytes(super().sign_raw(data, digest_algorithm))
        hash_algo = getattr(hashes, digest_algorithm.upper().replace("-", "_"))()
        return self.kept_key.sign(data, PKCS1v15(), hash_algo)


def _reserve(signer: signers.SimpleSigner) -> int:
    """Bytes to reserve for a B-B signature container by ``signer``: its certificates, its
    signature, and room for the signed attributes; pyHanko would otherwise make a trial
    signature for every copy to measure it."""
    certs = [signer.signing_cert, *signer.cert_registry]
    size = sum(len(cert.dump()) for cert in certs if cert is not None)
    size += 4 * 1024 + 2 * (signer.signing_cert.public_key.bit_size // 8 if signer.signing_cert else 512)
    return -(-size // 1024) * 1024


def make_copy(
    edition: bytes,
    key: SigningKey,
    record: CopyRecord,
    font: CopyLineFont | None = None,
) -> bytes:
    """The signed copy of ``edition`` described by ``record``: its copy line (``record.line``,
    drawn in ``font``) on every page when it has one, its record in the document information,
    and a PAdES signature by ``key`` covering the whole file.

    Raises ``SigningError`` when the edition cannot be signed (already signed, damaged) or
    the time-stamping authority cannot be reached, and ``copyline.CopyLineError`` when the
    font cannot draw the line.
    """
    writer = _MetadataKeptWriter(io.BytesIO(edition), strict=False)
    if writer.prev.embedded_signatures:
        raise SigningError("the edition is already signed: sign the edition as built, once")
    if record.line:
        if font is None:
            raise ValueError("a copy line needs a font")
        draw_copy_line(writer, record.line, font)
    info_ref = writer.trailer_view.raw_get("/Info") if "/Info" in writer.trailer_view else None
    if info_ref is not None:
        info = info_ref.get_object()
        info[pdf_name(RECORD_KEY)] = generic.TextStringObject(record.to_json())
        writer.update_container(info)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=record.reason(),
        # PAdES: the signer's time is the dictionary's /M (pyHanko's clock), not a CMS attribute.
    )
    timestamper = timestamps.HTTPTimeStamper(key.tsa_url, timeout=20) if key.tsa_url else None
    fields.append_signature_field(
        writer, fields.SigFieldSpec(FIELD_NAME, box=None, readable_field_name=SIGNATURE_WORDS)
    )
    _tag_signature_field(writer)
    pdf_signer = signers.PdfSigner(meta, key.signer, timestamper=timestamper)
    output = io.BytesIO()
    try:
        pdf_signer.sign_pdf(
            writer,
            existing_fields_only=True,
            bytes_reserved=key.reserved + (TSA_RESERVE if key.tsa_url else 0),
            output=output,
        )
    except Exception as exc:  # pyHanko's errors (and aiohttp's) in the editor's words
        where = f" (time-stamping authority {key.tsa_url})" if key.tsa_url else ""
        raise SigningError(f"cannot sign the copy{where}: {exc}") from exc
    return output.getvalue()


def _tag_signature_field(writer: IncrementalPdfFileWriter) -> None:
    """Put the signature field's widget in the structure tree, in a ``Form`` element with an
    ``/Alt`` text (PDF/UA-1 7.18.4: every widget in a Form element), when the edition is
    tagged. An untagged edition (the email edition before it is tagged) is left as it is."""
    root = writer.root
    if "/StructTreeRoot" not in root:
        return
    widget_ref = next(
        ref
        for ref in root["/AcroForm"]["/Fields"]
        if isinstance(ref, generic.IndirectObject) and ref.get_object().get("/T") == FIELD_NAME
    )
    widget = widget_ref.get_object()
    tree = root["/StructTreeRoot"]
    parent_tree = tree["/ParentTree"]
    if "/Nums" not in parent_tree:  # a parent tree with /Kids: not what WeasyPrint writes
        raise SigningError("the edition's structure tree has a form this tool does not extend")
    nums = parent_tree["/Nums"]  # dereferenced, where .get would not
    keys = [int(nums[i]) for i in range(0, len(nums), 2)]
    next_key = max(int(tree.get("/ParentTreeNextKey", 0)), max(keys, default=-1) + 1)
    kids = tree.raw_get("/K")
    top_ref = kids[0] if isinstance(kids, generic.ArrayObject) else kids
    top = top_ref.get_object()
    page_ref = widget.raw_get("/P")
    element = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/StructElem"),
            pdf_name("/S"): pdf_name("/Form"),
            pdf_name("/P"): top_ref,
            pdf_name("/Pg"): page_ref,
            pdf_name("/Alt"): generic.TextStringObject(SIGNATURE_WORDS),
            pdf_name("/K"): generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/OBJR"),
                    pdf_name("/Obj"): widget_ref,
                    pdf_name("/Pg"): page_ref,
                }
            ),
        }
    )
    element_ref = writer.add_object(element)
    top_kids = top.raw_get("/K")
    if isinstance(top_kids, generic.ArrayObject):
        top_kids.append(element_ref)
    else:
        top[pdf_name("/K")] = generic.ArrayObject([top_kids, element_ref])
    writer.update_container(top)
    widget[pdf_name("/StructParent")] = generic.NumberObject(next_key)
    writer.update_container(widget)
    nums.append(generic.NumberObject(next_key))
    nums.append(element_ref)
    writer.update_container(parent_tree)
    tree[pdf_name("/ParentTreeNextKey")] = generic.NumberObject(next_key + 1)
    writer.update_container(tree)
