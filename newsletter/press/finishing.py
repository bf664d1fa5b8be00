"""The work that sets the editions apart (their data is in ``editions.py``): images
converted to the print profile, and the finisher that makes the XMP reproducible and, for
the press, finishes the PDF (marks, slug, overprint, no annotations: ``finish.py``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zlib
from pathlib import Path
from typing import Any

import pydyf
from PIL import Image, ImageCms

from ..editions import Edition, Press, stable_id
from ..issue.model import Issue, figures
from .finish import finish_for_press
from .tagged import mend_structure

#: The print edition's output profile, in the layout folder (see layouts/icc/README.md).
CMYK_PROFILE = Press().profile


#: The PDF/UA identification, and the PDF/A extension schema that declares it: PDF/A allows
#: in its XMP only the properties of XMP's own schemas and of schemas declared in it (ISO
#: 19005-3, 6.6.2.3.1), and ``pdfuaid`` is newer than PDF/A-3's list.
PDFUA_DECLARATION = b"""<rdf:Description xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" \
rdf:about=""><pdfuaid:part>1</pdfuaid:part></rdf:Description>"""
PDFUA_EXTENSION_SCHEMA = b"""<rdf:Description rdf:about="" \
xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">\
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">\
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>\
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">\
<pdfaProperty:name>part</pdfaProperty:name>\
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>\
<pdfaProperty:category>internal</pdfaProperty:category>\
<pdfaProperty:description>Indicates which part of ISO 14289 standard is followed</pdfaProperty:description>\
</rdf:li></rdf:Seq></pdfaSchema:property>\
</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"""


def finisher(edition: Edition, issue: Issue, slug: str = "") -> Any:
    """A ``write_pdf`` finisher that makes the XMP metadata reproducible and complete.

    WeasyPrint writes a random ``xmpMM:DocumentID`` for PDF/X-4 and declares one PDF variant
    only; this rewrites the first and adds the PDF/UA-1 identification for the archive, with
    the extension schema PDF/A asks for it. The XMP is left unfiltered, as PDF/A asks (ISO
    19005-3, 6.6.2.1) and any tool can read it. A tagged edition's structure tree is mended
    (``tagged.mend_structure``); an edition for the press is finished for it
    (``finish.finish_for_press``), its slug line in the words of ``slug`` (the ``print_slug``
    label of the issue's language).
    """
    did = f"xmp.did:{stable_id(issue, edition.name)}"

    def finish(document: Any, pdf: Any) -> None:
        for obj in pdf.objects:
            extra = getattr(obj, "extra", None)
            if not isinstance(extra, dict) or extra.get("Type") != "/Metadata":
                continue
            xmp = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in obj.stream)
            xmp = re.sub(rb"xmp\.did:[0-9a-f-]{36}", did.encode(), xmp)
            if edition.declare_pdfua:
                declaration = PDFUA_DECLARATION
                if (edition.pdf_variant or "").startswith("pdf/a"):
                    declaration += PDFUA_EXTENSION_SCHEMA
                xmp = xmp.replace(b"</rdf:RDF>", declaration + b"</rdf:RDF>", 1)
            obj.stream = [xmp]
            obj.compress = False
        if "StructTreeRoot" in pdf.catalog:
            mend_structure(document, pdf)
        _no_data_ends_in_cr(pdf)
        if edition.press is not None:
            finish_for_press(pdf, issue, edition.name, edition.press, slug)

    return finish


def _no_data_ends_in_cr(pdf: Any) -> None:
    """No compressed stream of ours whose data ends with a carriage return.

    A Flate stream ends with the Adler-32 of its content, so one in 256 ends with CR (0Dh);
    written before ``LF endstream``, a validator may read ``CR LF`` as the end-of-line and
    count one byte less than ``/Length`` (PDF/A's 6.1.7.1: page-validation does; the file is
    right, the ``/Length`` bytes being followed by an EOL). Such a stream's content is given
    a newline more (harmless after content, and after a font program, which its tables'
    offsets never reach), and its checksum ends otherwise. Images and colour
    profiles are left as they are: their data has an exact length. The object and
    cross-reference streams ``pydyf`` makes while writing cannot be reached here:
    ``check/conformance.py`` knows that case.
    """
    for obj in pdf.objects:
        if not isinstance(obj, pydyf.Stream) or not obj.compress:
            continue
        extra = obj.extra
        if extra.get("Subtype") == "/Image" or "N" in extra:
            continue
        # pydyf's own join: the bytes it will compress, to the byte (finish.stream_bytes is
        # near enough for parsing content, not for a checksum).
        data = b"\n".join(pydyf._to_bytes(item) for item in obj.stream)
        while zlib.adler32(data) & 0xFF == 0x0D:
            # A newline: the checksum's last byte is the sum of the bytes (mod 65521), so a
            # zero byte would leave it as it is.
            data += b"\n"
            obj.stream = [data]
            if "Length1" in extra:
                extra["Length1"] = len(data)


def cmyk_images(
    issue: Issue,
    image_base: Path,
    layout_dir: Path,
    profile: str = CMYK_PROFILE,
    kept: dict[bytes, str] | None = None,
) -> dict[str, str]:
    """Convert every figure image to a CMYK JPEG for the output profile; name -> data: URL.

    Colour management is done here, with the same profile as the output intent, rather than
    left to the print shop's RIP: the PDF/X-4 then holds no RGB at all. The profile (a file
    of the layout folder) goes into each JPEG, so that the finisher can tag the image with it
    and the ``print-intent`` rule can check it is the output intent's. The result is a
    ``data:`` URL because WeasyPrint names an image by the MD5 of its URL: a file in a
    temporary folder would make every build's bytes different.

    ``kept`` holds conversions already made, by the digest of the image and the profile (a
    warm process converts only the images that changed); on return, this issue's only.
    """
    profile_bytes = (layout_dir / profile).read_bytes()
    before = dict(kept) if kept is not None else {}
    done: dict[bytes, str] = {}
    transform: Any = None
    converted: dict[str, str] = {}
    for _, figure in figures(issue):
        if figure.image in converted:
            continue
        data = (image_base / figure.image).read_bytes()
        key = hashlib.blake2b(data + b"\0" + profile_bytes, digest_size=16).digest()
        if key not in before:
            if transform is None:
                transform = ImageCms.buildTransform(
                    ImageCms.createProfile("sRGB"),
                    ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes)),
                    "RGB",
                    "CMYK",
                    renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                )
            with Image.open(io.BytesIO(data)) as img:
                rgb = img.convert("RGB")
            cmyk_image = ImageCms.applyTransform(rgb, transform)
            assert cmyk_image is not None  # None only when converting in place
            buffer = io.BytesIO()
            cmyk_image.save(buffer, "JPEG", quality=92, icc_profile=profile_bytes)
            before[key] = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
        done[key] = converted[figure.image] = before[key]
    if kept is not None:
        kept.clear()
        kept.update(done)
    return converted
