"""PO (gettext), for translators who work in Poedit, Weblate or a text editor: written and
read with Babel (``babel.messages``), which the project has for its dates already.

One message per text: ``msgctxt`` is the text's key, ``msgid`` the source, ``msgstr`` the
current translation (empty when there is none), an extracted comment (``#.``) the field,
its kind and length, and its state; a translation whose source changed since is marked
``fuzzy``, as gettext's own tools mark a message whose source changed. Markup travels as
numbered tags (PO has no inline elements; ``import`` checks them): ``<1>words</1>`` around
emphasised words and a link's words, ``<2/>`` for a page reference or a line break. A text
that holds such a tag as words would be misread: none of the project's does. The header
comment says which file and language the texts come from.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po

from ..issue.segments import Code, Segment, Words
from .units import Exchange, ReadUnit, Unit

_TAG = re.compile(r"<(/?)(\d+)(/?)>")
_SOURCE = re.compile(r"^# source: (?P<original>\S+) \((?P<language>[a-z]{2})\)$", re.MULTILINE)


def write_po_file(
    units: list[Unit], original: str, source_language: str, target_language: str, date: dt.date
) -> bytes:
    """The PO file of ``units`` exported from ``original``; dated with the issue (the same
    texts give the same bytes)."""
    moment = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)
    catalog = Catalog(
        locale=target_language,
        fuzzy=False,
        project="newsletter",
        version=original,
        creation_date=moment,
        revision_date=moment,
        header_comment=(
            f"# Texts of {original} to translate into {target_language}: `newsletter translate export`.\n"
            f"# source: {original} ({source_language})\n"
            f"# Keep the numbered tags (<1>...</1>, <2/>): they are the emphasis, links and page\n"
            f"# references. Import with `newsletter translate import ISSUE FILE.po`."
        ),
    )
    for unit in units:
        catalog.add(
            tags(unit.source),
            tags(unit.target) if unit.target is not None else "",
            auto_comments=[unit.note],
            flags=["fuzzy"] if unit.state == "changed" else [],
            context=unit.key,
        )
    out = io.BytesIO()
    write_po(out, catalog, width=96, omit_header=False, sort_output=False)
    return out.getvalue()


def tags(parts: list[Segment]) -> str:
    """Segments as PO text: words, and each code as a numbered tag."""
    out = []
    for part in parts:
        if isinstance(part, Words):
            out.append(part.text)
        elif part.role == "open":
            out.append(f"<{part.id}>")
        elif part.role == "close":
            out.append(f"</{part.id}>")
        else:
            out.append(f"<{part.id}/>")
    return "".join(out)


def untag(text: str) -> list[Segment]:
    """PO text as segments: each numbered tag a code (its kind unknown: the source says it)."""
    out: list[Segment] = []
    last = 0
    for match in _TAG.finditer(text):
        if match.start() > last:
            out.append(Words(text[last : match.start()]))
        closing, number, alone = match.groups()
        role = "close" if closing else "alone" if alone else "open"
        out.append(Code(int(number), "em", role))  # type: ignore[arg-type]
        last = match.end()
    if last < len(text):
        out.append(Words(text[last:]))
    return out


def read_po_file(path: Path, data: bytes) -> Exchange:
    """The units of the PO file ``data`` (read from ``path``). Raises ``ValueError`` with the
    reason when it cannot be read."""
    try:
        catalog = read_po(io.BytesIO(data), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a PO file Babel can read: {exc}") from None
    source = _SOURCE.search(catalog.header_comment or "")
    units = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue  # the header, or a plural message (none is exported)
        translated = message.string if isinstance(message.string, str) else ""
        units.append(
            ReadUnit(
                message.context or "",
                untag(message.id),
                untag(translated) if translated else None,
                message.fuzzy,
                message.lineno,
            )
        )
    return Exchange(
        source.group("original") if source else "",
        source.group("language") if source else "",
        str(catalog.locale) if catalog.locale else "",
        units,
    )
