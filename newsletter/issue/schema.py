"""The issue format as a JSON Schema, for editors' editors.

Made from the pydantic models (``model.py``), so that it cannot drift from what ``load``
accepts: every field with its description, every block type by its ``type``, unknown fields
refused. An editor that speaks the YAML language server (VS Code's YAML extension, and the
many editors that use it) completes and validates an issue that starts with::

    # yaml-language-server: $schema=../docs/issue.schema.json

``newsletter new`` writes that line; ``newsletter schema --out docs/issue.schema.json`` writes
the schema shipped in the repository (a test keeps it up to date with the models).

What the schema cannot say is left to ``check``: references to ids that exist, images that
exist, placeholders, the layout. It sees dates as the language server reads them: text
written YYYY-MM-DD.
"""

from __future__ import annotations

import json
from typing import Any

from .model import Issue

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: Fields that mean the same on every model.
_COMMON = {
    "verify": "Translated here, not the official words: check the passage against the official text, "
    "then remove this mark (`check` lists it until then).",
    "kept": "Fields `newsletter new` carried over from the previous issue or set itself (a title, the "
    "contact block, the date): review each, then remove its name (`check` lists them until then).",
    "type": "The block type.",
    "id": "An id that page references ([page](#id)) and teasers can point at: lowercase letters, "
    "digits and dashes, starting with a letter.",
}

_INLINE = " Inline markup: *emphasis*, **strong**, [words](https://...), [page](#id)."

#: Each field's description, by model; ``_COMMON`` for the rest.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "Issue": {
        "series": "The newsletter's name, printed on the cover.",
        "number": "The issue's number.",
        "date": "Publication date, YYYY-MM-DD (also the PDF's date).",
        "season": "Printed on the cover, e.g. Summer 2018.",
        "language": "en or fr: the words the layout prints and the typography of the text.",
        "title": "The issue's title, on the cover and in the PDF's metadata.",
        "author": "The PDF's author.",
        "subject": "The PDF's subject.",
        "mail_title": "A shorter title for the mail's subject, when the title makes it too long to read in a mail list.",
        "keywords": "The PDF's keywords.",
        "size_budget_mb": "The largest PDF accepted, in MB (else email 1.5, archive 7, print 100).",
        "marking": "A distribution marking, one of labels.yaml's markings (e.g. internal); never a protection level.",
        "embargo": "Not to be published before this date and time, with its offset (2026-12-10T09:00:00+01:00).",
        "release": "send holds the issue until this date and time, with its offset; --test may send before.",
        "cover": "The cover: the lead of the editorial and the teasers.",
        "sections": "The sections in order; each starts on a new page unless it says new_page: false.",
        "translated_from": (
            "Written by the tools (newsletter translate import, newsletter new): per source language, "
            "each text's key and a short hash of the source text it was translated from; check reports "
            "a text whose source changed since. Leave it to the tools."
        ),
    },
    "Cover": {
        "lead": "The first paragraph of the editorial, printed large on the cover." + _INLINE,
        "teasers": "Short texts, each ending with the page of the section it points at.",
    },
    "Teaser": {
        "text": "The teaser; the layout adds “page N” of its target." + _INLINE,
        "target": "The id of the section (or block) it points at.",
    },
    "Section": {
        "title": "The section's heading; a section without one needs a running_title." + _INLINE,
        "kicker": "A small line above the title, e.g. Three questions to…",
        "subtitle": "A line under the title (dates, place).",
        "running_title": "What the page footer shows (the title when omitted).",
        "new_page": "Start on a new page (the default); false lets the section follow on.",
        "fit": "How the section is fitted to its pages, as `newsletter fit --write` chose it; builds apply it as written.",
        "blocks": "The section's blocks; a bare text is a paragraph.",
    },
    "Fit": {
        "tracking": "Letter-spacing of the section's text in percent of the type size: -1 sets it 1 % tighter.",
        "images": "The size of the section's images in percent of their set size (95: five percent lower).",
        "balance": "Balance the section's two-column blocks (the default); false fills the first column first.",
    },
    "Paragraph": {"text": "A paragraph of running text." + _INLINE},
    "Lead": {"text": "A section's introduction, set larger than running text." + _INLINE},
    "Heading": {"text": "A heading inside a section." + _INLINE, "kicker": "A small line above the heading."},
    "BulletList": {
        "items": "The items." + _INLINE,
        "style": "bullets, or tiles: a row of small boxes.",
    },
    "Figure": {
        "image": "A PNG or JPEG file inside the issue's folder, named relative to the issue file.",
        "alt": "What the image shows, for readers who cannot see it (check requires it).",
        "caption": "The caption." + _INLINE,
        "credit": "The credit line, e.g. © UNODC.",
        "stand_in": "true while the image only holds the place of the real one (check lists it).",
        "translated": "true when the image differs by language on purpose (a chart with words in it): "
        "each language names its own image, and the check of the two languages does not compare them.",
        "width": "full (the default), half or third of the text width.",
        "place": "inline (the default), left or right: text flows beside it.",
    },
    "KeyFigures": {
        "subtitle": "A line under the edition's “Key figures” heading.",
        "figures": "The figures: each a value and what it counts.",
        "groups": "Titled lists under the figures (e.g. where staff are deployed).",
    },
    "KeyFigure": {
        "value": "The number, printed large, in the edition's notation (€1,830,000; 1 830 000 €).",
        "label": "What it counts." + _INLINE,
    },
    "KeyFigureGroup": {"title": "The list's title.", "items": "The list's items." + _INLINE},
    "Quote": {
        "speaker": "Who said it.",
        "role": "The speaker's role." + _INLINE,
        "occasion": "Where and when it was said." + _INLINE,
        "date": "The day it was said, YYYY-MM-DD; the first day of a meeting of several days.",
        "end": "Optional: the last day of a meeting of several days, YYYY-MM-DD (printed 14–15 May 2018).",
        "text": "The quotation." + _INLINE,
        "link": "Where to read or hear the whole of it.",
    },
    "Link": {"text": "The link's words.", "url": "An https://, http:// or mailto: address."},
    "Interview": {"questions": "The questions and their answers, numbered 1, 2, 3... in order."},
    "Question": {
        "question": "The question." + _INLINE,
        "answer": "The answer's blocks (paragraphs, lists, figures); a bare text is a paragraph.",
        "pull_quote": "A passage of the answer set large after it." + _INLINE,
    },
    "Resolutions": {"items": "Up to 4 resolution boxes set side by side."},
    "Resolution": {
        "sponsor": "Who sponsored it, e.g. Franco-Romanian resolution.",
        "symbol": "The document's symbol, printed as a link to url.",
        "url": "Where the document is: an https:// or http:// address.",
        "title": "The resolution's title.",
        "text": "Paragraphs about it." + _INLINE,
    },
    "NumberedPoints": {"points": "The points, numbered 1, 2, 3... in order."},
    "NumberedPoint": {
        "title": "Printed in letter-spaced capitals after its number.",
        "blocks": "The point's blocks; a bare text is a paragraph.",
    },
    "Agenda": {
        "when": "past (headed “In brief”) or upcoming (headed “Upcoming”).",
        "entries": "The dated entries, in order.",
    },
    "AgendaEntry": {
        "start": "The first day, YYYY-MM-DD.",
        "end": "The last day, when it lasts several, YYYY-MM-DD.",
        "place": "Where.",
        "text": "What." + _INLINE,
    },
    "Contact": {
        "name": "The contact's name.",
        "role": "The contact's role." + _INLINE,
        "email": "The contact's email address.",
        "social": "Social media accounts, e.g. @RP_France_OSCE.",
        "offices": "The offices, each with its address.",
    },
    "Office": {
        "name": "The office's name.",
        "address": "Its postal address.",
        "social": "Its social media accounts.",
    },
    "Contents": {},
    "Box": {
        "title": "The box's title." + _INLINE,
        "kicker": "A small line above the title, e.g. Parallel event.",
        "blocks": "The box's blocks; a bare text is a paragraph.",
        "style": "plain, tinted, or focus (headed “Focus on…”).",
    },
    "Columns": {"blocks": "Paragraphs and lists set in two balanced columns; a bare text is a paragraph."},
}

_PARAGRAPH_SHORTHAND = {
    "type": "string",
    "minLength": 1,
    "description": "A paragraph: a bare text stands for {type: paragraph, text: ...}." + _INLINE,
}


def issue_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of an issue file, from the models."""
    schema = Issue.model_json_schema(mode="validation")
    models: dict[str, dict[str, Any]] = dict(schema["$defs"])
    models["Issue"] = schema
    for name, model in models.items():
        for field, spec in model.get("properties", {}).items():
            spec.pop("title", None)  # "Size Budget Mb": the description says it better
            described = DESCRIPTIONS.get(name, {}).get(field) or _COMMON.get(field)
            if described is None:
                raise KeyError(f"no description for {name}.{field}: add one to schema.DESCRIPTIONS")
            spec["description"] = described
            _allow_plain_values(spec)
            _allow_paragraph_shorthand(spec)  # after: a bare paragraph is a text, not a number
    # A record's key has the form of a key, as ``load`` wants it (pydantic writes the form
    # as patternProperties, which would let any other key through).
    records = models["Issue"]["properties"]["translated_from"]["additionalProperties"]
    records["additionalProperties"] = False
    # A section without a title needs a running title for its pages' footer.
    models["Section"]["anyOf"] = [{"required": ["title"]}, {"required": ["running_title"]}]
    top = {"$schema": SCHEMA_DIALECT, "title": "Newsletter issue"}
    # The issue's own fields first, the models they use after: the order a reader wants.
    rest = {key: value for key, value in schema.items() if key not in ("title", "$defs")}
    return {**top, **rest, "$defs": schema["$defs"]}


def _allow_paragraph_shorthand(spec: dict[str, Any]) -> None:
    """A list of blocks also takes bare texts (paragraphs), as ``load`` does."""
    items = spec.get("items")
    if isinstance(items, dict) and items.get("discriminator", {}).get("propertyName") == "type":
        spec["items"] = {"anyOf": [_PARAGRAPH_SHORTHAND, items]}


def _allow_plain_values(spec: Any) -> None:
    """A text may be written as a number, a date or yes/no (``value: 12``): ``load`` takes it
    as written. Texts with a form of their own (ids, addresses, dates) are left as they are."""
    if isinstance(spec, list):
        for item in spec:
            _allow_plain_values(item)
        return
    if not isinstance(spec, dict):
        return
    if spec.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(spec):
        spec["type"] = ["string", "number", "boolean"]
    for key in ("anyOf", "oneOf", "items"):
        if key in spec:
            _allow_plain_values(spec[key])


def schema_text() -> str:
    """The schema as written to ``docs/issue.schema.json``: indented, UTF-8, a final newline."""
    return json.dumps(issue_schema(), indent=2, ensure_ascii=False) + "\n"
