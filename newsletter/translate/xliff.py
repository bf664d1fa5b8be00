"""XLIFF 1.2, the format professional translation tools import: written and read with lxml.

One ``<file>`` per export (``original`` names the source file, with its language and the
target's); one ``<trans-unit>`` per text, its ``id`` and ``resname`` the text's key, with
``<source>``, ``<target>`` when there is a translation (``state="translated"`` when it is up
to date, ``needs-review-translation`` when its source changed since) and a ``<note>`` (the
field, its kind and length, its state). Markup travels as XLIFF's inline elements, which
tools show as tags a translator moves but cannot break: ``<g>`` around emphasised words and
the words of a link, ``<x/>`` for a page reference or a line break.

A unit is read back as a translation unless its target is marked as still to translate or
review and is what the edition holds already (``importer.py`` decides).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

from ..issue.segments import Code, CodeKind, Segment, Words
from .units import Exchange, ReadUnit, Unit

NS = "urn:oasis:names:tc:xliff:document:1.2"
_E = ElementMaker(namespace=NS, nsmap={None: NS})
#: What each kind of code is called in XLIFF (``ctype``): the standard names where XLIFF has
#: one, an ``x-`` name where it has none.
CTYPES: dict[str, str] = {
    "em": "italic",
    "strong": "bold",
    "link": "link",
    "pageref": "x-page-reference",
    "break": "lb",
}
_KINDS: dict[str, CodeKind] = {ctype: kind for kind, ctype in CTYPES.items()}  # type: ignore[misc]
#: Target states that say the translation is not done (XLIFF 1.2's ``state`` values).
REVIEW_STATES = frozenset(
    {
        "new",
        "needs-translation",
        "needs-adaptation",
        "needs-l10n",
        "needs-review-translation",
        "needs-review-adaptation",
        "needs-review-l10n",
    }
)
_TARGET_STATE = {"current": "translated", "changed": "needs-review-translation"}


def write_xliff(units: list[Unit], original: str, source_language: str, target_language: str) -> bytes:
    """The XLIFF 1.2 document of ``units``, exported from the file named ``original``."""
    body = _E.body()
    for unit in units:
        element = _E("trans-unit", {"id": unit.key, "resname": unit.key})
        element.append(_inline(_E.source(), unit.source))
        if unit.target is not None:
            element.append(_inline(_E.target({"state": _TARGET_STATE[unit.state]}), unit.target))
        element.append(_E.note(unit.note, {"from": "newsletter"}))
        body.append(element)
    tool = _E.tool({"tool-id": "newsletter", "tool-name": "newsletter"})
    document = _E.xliff(
        _E.file(
            _E.header(tool),
            body,
            {
                "original": original,
                "source-language": source_language,
                "target-language": target_language,
                "datatype": "x-newsletter-yaml",
                "tool-id": "newsletter",
            },
        ),
        {"version": "1.2"},
    )
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _inline(element: Any, parts: list[Segment]) -> Any:
    """``element`` holding ``parts``: words as text, codes as ``<g>`` and ``<x/>``."""
    stack = [element]
    for part in parts:
        current = stack[-1]
        if isinstance(part, Words):
            if len(current):
                current[-1].tail = (current[-1].tail or "") + part.text
            else:
                current.text = (current.text or "") + part.text
        elif part.role == "open":
            child = etree.SubElement(current, f"{{{NS}}}g", {"id": str(part.id), "ctype": CTYPES[part.kind]})
            stack.append(child)
        elif part.role == "close":
            if len(stack) > 1:
                stack.pop()
        else:
            attributes = {"id": str(part.id), "ctype": CTYPES[part.kind]}
            if part.markup and part.kind == "pageref":
                attributes["equiv-text"] = part.markup
            etree.SubElement(current, f"{{{NS}}}x", attributes)
    return element


def read_xliff(path: Path, data: bytes) -> Exchange:
    """The units of the XLIFF document ``data`` (read from ``path``). Raises ``ValueError``
    with the reason when it is not XLIFF 1.2 as ``write_xliff`` writes it."""
    # A translator's file comes from outside: no entities expanded, nothing fetched.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    if root.tag != f"{{{NS}}}xliff" or root.get("version") != "1.2":
        raise ValueError(f"not an XLIFF 1.2 document (its root is <{etree.QName(root).localname}>)")
    files = root.findall(f"{{{NS}}}file")
    if len(files) != 1:
        raise ValueError(f"expected one <file> element, found {len(files)}")
    file = files[0]
    units = []
    for element in file.iter(f"{{{NS}}}trans-unit"):
        key = element.get("resname") or element.get("id") or ""
        source_element = element.find(f"{{{NS}}}source")
        target_element = element.find(f"{{{NS}}}target")
        problems: list[str] = []
        source = _segments(source_element, problems) if source_element is not None else []
        target = _segments(target_element, problems) if target_element is not None else None
        review = target_element is not None and target_element.get("state") in REVIEW_STATES
        units.append(ReadUnit(key, source, target, review, element.sourceline, "; ".join(problems)))
    return Exchange(
        file.get("original", ""), file.get("source-language", ""), file.get("target-language", ""), units
    )


def _segments(element: Any, problems: list[str]) -> list[Segment]:
    """The words and codes of a ``<source>`` or ``<target>``."""
    out: list[Segment] = []

    def words(text: str | None) -> None:
        if text:
            if out and isinstance(out[-1], Words):
                out[-1] = Words(out[-1].text + text)
            else:
                out.append(Words(text))

    def walk(node: Any) -> None:
        words(node.text)
        for child in node:
            if not isinstance(child.tag, str):  # a comment or processing instruction
                words(child.tail)
                continue
            name = etree.QName(child).localname
            number = _number(child.get("id"), name, problems)
            kind = _KINDS.get(child.get("ctype", ""), "em")
            if name == "g":
                out.append(Code(number, kind, "open"))
                walk(child)
                out.append(Code(number, kind, "close"))
            elif name == "x":
                out.append(Code(number, kind, "alone", child.get("equiv-text", "")))
            elif name == "mrk":  # a tool's marker (a segment, a comment): its words count
                walk(child)
            else:
                problems.append(f"<{name}> is not a code this file was written with (only <g> and <x/>)")
            words(child.tail)

    walk(element)
    return out


def _number(value: str | None, name: str, problems: list[str]) -> int:
    if value is not None and value.isdigit():
        return int(value)
    if name in ("g", "x"):
        problems.append(f"a <{name}> code has the id {value!r}, not one of the numbers exported")
    return 0
