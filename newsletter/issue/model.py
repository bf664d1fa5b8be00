"""The issue as typed, frozen data.

Names follow the editors' words (a ``Quote`` has a speaker, a ``Teaser`` points at a section).
Every text field marked *inline* accepts the light markup described in
``docs/issue-format.md``: ``*emphasis*``, ``**strong**``, ``[words](https://...)`` links and
page references ``[page](#target-id)``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ..errors import FieldPath


def _printable(value: str) -> str:
    """Refuse control and unassigned characters: they print as nothing or break the HTML."""
    for char in value:
        if char in "\n\t":
            continue
        if unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"}:
            raise ValueError(f"character U+{ord(char):04X} cannot be printed; remove it")
    return value


#: An anchor that page references and teasers can point at.
Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
#: A line of inline text (see module docstring); never empty.
Inline = Annotated[str, StringConstraints(min_length=1, max_length=20_000), AfterValidator(_printable)]
#: A plain, single-line label without markup.
Plain = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_printable)]
#: The one home of what a link may be: a web page, a mail address, or (in inline text) an
#: anchor of the issue. Anything else (``file:``, ``javascript:``, ``data:``) is refused.
WEB_LINK = r"https?://[^\s<>\"]+|mailto:[^\s<>\"@]+@[^\s<>\"]+"
INTERNAL_LINK = r"#[a-z][a-z0-9-]*(?:,#[a-z][a-z0-9-]*)*"
#: How the allowed links are named in messages.
LINK_KINDS = "https://, http://, mailto: or #id"
#: An external address a reader can follow.
Url = Annotated[str, StringConstraints(pattern=rf"^({WEB_LINK})$")]


#: Fields that hold no text of the editors': never marked ``kept``.
_NOT_KEPT = frozenset({"type", "id", "verify", "kept"})


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    #: A passage (quotation, title of an official text) translated here, not the official
    #: words: ``check`` and ``send`` list it until an editor has checked it and removed the mark.
    verify: bool = False
    #: Fields ``newsletter new`` carried over from the previous issue (a section's title, the
    #: contact block) or set itself (the date): ``check`` lists each until an editor has
    #: reviewed it and removed its name.
    kept: list[str] = []

    @field_validator("kept")
    @classmethod
    def _kept_fields(cls, names: list[str]) -> list[str]:
        fields = [name for name in cls.model_fields if name not in _NOT_KEPT]
        for name in names:
            if name not in fields:
                raise ValueError(f"{name!r} is not a field here; the fields are: {', '.join(fields)}")
        return names


def _paragraph_shorthand(value: Any) -> Any:
    """A bare string in a list of blocks is a paragraph: editors write prose as prose."""
    if isinstance(value, list):
        return [{"type": "paragraph", "text": v} if isinstance(v, str) else v for v in value]
    return value


class Link(_Data):
    """Words that lead to an external address."""

    text: Plain
    url: Url


class Paragraph(_Data):
    """A paragraph of running text (inline)."""

    type: Literal["paragraph"]
    text: Inline
    id: Id | None = None


class Lead(_Data):
    """A section's introduction, set larger than running text (inline)."""

    type: Literal["lead"]
    text: Inline
    id: Id | None = None


class Heading(_Data):
    """A heading inside a section (inline); ``kicker`` is a small line above it."""

    type: Literal["heading"]
    text: Inline
    kicker: Plain | None = None
    id: Id | None = None


class BulletList(_Data):
    """A list of short items (inline). ``tiles`` sets them as a row of small boxes."""

    type: Literal["list"]
    items: Annotated[list[Inline], Field(min_length=1)]
    style: Literal["bullets", "tiles"] = "bullets"
    id: Id | None = None


class Figure(_Data):
    """An image with its caption and alt text.

    ``stand_in: true`` marks an image that only holds the place of the real photo, so that
    tools can list what editors still have to supply. ``translated: true`` marks an image
    that differs by language on purpose (a chart with words in it): each language's file
    names its own image, and the check of the two languages compares all but the file.
    """

    type: Literal["figure"]
    image: Plain
    alt: Plain | None = None
    caption: Inline
    credit: Plain | None = None
    stand_in: bool = False
    #: The image differs by language on purpose (its words are translated): the languages'
    #: files name different images, and the sibling check does not compare them.
    translated: bool = False
    width: Literal["full", "half", "third"] = "full"
    place: Literal["inline", "right", "left"] = "inline"
    id: Id | None = None


class KeyFigure(_Data):
    """One figure: the number, large, and what it counts."""

    value: Plain
    label: Inline


class KeyFigureGroup(_Data):
    """A titled list inside the key-figures box (e.g. where staff are deployed)."""

    title: Plain
    items: Annotated[list[Inline], Field(min_length=1)]


class KeyFigures(_Data):
    """The key-figures sidebar. Its heading is the edition's "Key figures" label."""

    type: Literal["key_figures"]
    subtitle: Plain | None = None
    figures: Annotated[list[KeyFigure], Field(min_length=1)]
    groups: list[KeyFigureGroup] = []
    id: Id | None = None


class Quote(_Data):
    """A quote callout: who said it, in which role, where, when, and the full speech.

    ``end`` is the last day of a meeting of several days (printed ``14–15 May 2018``).
    """

    type: Literal["quote"]
    speaker: Plain
    role: Inline
    occasion: Inline
    date: dt.date
    end: dt.date | None = None
    text: Inline
    link: Link | None = None
    id: Id | None = None


class Question(_Data):
    """One question of an interview, its answer, and an optional pull quote set beside it."""

    question: Inline
    answer: Annotated[list[Block], BeforeValidator(_paragraph_shorthand), Field(min_length=1)]
    pull_quote: Inline | None = None


class Interview(_Data):
    """Questions and answers, numbered in order."""

    type: Literal["interview"]
    questions: Annotated[list[Question], Field(min_length=1)]
    id: Id | None = None


class Resolution(_Data):
    """A resolution box: who sponsored it, its symbol linked to the document, title, text."""

    sponsor: Plain
    symbol: Plain
    url: Url
    title: Plain
    text: Annotated[list[Inline], Field(min_length=1)]


class Resolutions(_Data):
    """Resolution boxes set side by side."""

    type: Literal["resolutions"]
    items: Annotated[list[Resolution], Field(min_length=1, max_length=4)]
    id: Id | None = None


class NumberedPoint(_Data):
    """A numbered point: a letter-spaced title and its blocks."""

    title: Plain
    blocks: Annotated[list[Block], BeforeValidator(_paragraph_shorthand), Field(min_length=1)]
    id: Id | None = None


class NumberedPoints(_Data):
    """Points numbered 1, 2, 3..., each with a title and text."""

    type: Literal["numbered_points"]
    points: Annotated[list[NumberedPoint], Field(min_length=1)]
    id: Id | None = None


class AgendaEntry(_Data):
    """A dated entry: from ``start`` to ``end`` (same day when omitted), where, and what."""

    start: dt.date
    end: dt.date | None = None
    place: Plain
    text: Inline


class Agenda(_Data):
    """Dated entries. ``when`` picks the edition's heading: "In brief" or "Upcoming"."""

    type: Literal["agenda"]
    when: Literal["past", "upcoming"]
    entries: Annotated[list[AgendaEntry], Field(min_length=1)]
    id: Id | None = None


class Office(_Data):
    """An office in the contact block."""

    name: Plain
    address: Plain
    social: list[Plain] = []


class Contact(_Data):
    """The contact block. Its heading is the edition's "Contact" label."""

    type: Literal["contact"]
    name: Plain
    role: Inline
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+\.[a-z]{2,}$")]
    social: list[Plain] = []
    offices: list[Office] = []
    id: Id | None = None


class Contents(_Data):
    """The list of the issue's titled sections with their computed page numbers."""

    type: Literal["contents"]
    id: Id | None = None


class Box(_Data):
    """A framed group of blocks with a title, e.g. a parallel event or a focus."""

    type: Literal["box"]
    title: Inline | None = None
    kicker: Plain | None = None
    blocks: Annotated[list[Block], BeforeValidator(_paragraph_shorthand), Field(min_length=1)]
    style: Literal["plain", "tinted", "focus"] = "plain"
    id: Id | None = None


class Columns(_Data):
    """Blocks set in two columns, balanced."""

    type: Literal["columns"]
    blocks: Annotated[list[Block], BeforeValidator(_paragraph_shorthand), Field(min_length=1)]
    id: Id | None = None


Block = Annotated[
    Paragraph
    | Lead
    | Heading
    | BulletList
    | Figure
    | KeyFigures
    | Quote
    | Interview
    | Resolutions
    | NumberedPoints
    | Agenda
    | Contact
    | Contents
    | Box
    | Columns,
    Field(discriminator="type"),
]


class Teaser(_Data):
    """A cover teaser: a short text ending with "page N" of the section it points at."""

    text: Inline
    target: Id


class Cover(_Data):
    """The cover page: the lead of the editorial and the teasers."""

    lead: Inline
    teasers: list[Teaser] = []


class Fit(BaseModel):
    """How a section is fitted to its pages, within the bounds a typesetter allows.

    ``newsletter fit --write`` writes the settings it chose here; an editor may write them
    too. Every build applies them as written: nothing is searched during a build, so the
    same file always gives the same pages.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Letter-spacing of the section's text, in percent of the type size: -1 sets it 1 %
    #: tighter (the layout lets ``fit`` go as far as ``layouts/fit.yaml`` says).
    tracking: Annotated[float, Field(ge=-5, le=5)] = 0
    #: The size of the section's images, in percent of their set size (95: five percent
    #: lower, and narrower in proportion).
    images: Annotated[int, Field(ge=50, le=150)] = 100
    #: Whether the section's two-column blocks are balanced; ``false`` fills the first column
    #: before the second.
    balance: bool = True


class Section(_Data):
    """A section starts on a new page with its heading.

    ``kicker`` is the small line above the title ("Three questions to..."), ``subtitle`` the
    line under it (date, place), ``running_title`` what the page footer shows (the title when
    omitted). ``new_page: false`` lets it start on the previous section's last page.
    """

    id: Id
    title: Inline | None = None
    kicker: Plain | None = None
    subtitle: Plain | None = None
    running_title: Plain | None = None
    new_page: bool = True
    #: How the section is fitted to its pages (tracking, image sizes, column balancing), as
    #: ``newsletter fit --write`` chose it; none: as the layout sets it.
    fit: Fit | None = None
    blocks: Annotated[list[Block], BeforeValidator(_paragraph_shorthand), Field(min_length=1)]

    @model_validator(mode="after")
    def _named(self) -> Section:
        if self.title is None and self.running_title is None:
            raise ValueError("a section without a title needs a running_title for the page footer")
        return self


class Issue(_Data):
    """One issue of the newsletter."""

    series: Plain
    number: Annotated[int, Field(ge=1, le=9999)]
    date: dt.date
    season: Plain | None = None
    language: Literal["en", "fr"] = "en"
    title: Plain
    author: Plain
    subject: Plain | None = None
    mail_title: Plain | None = None
    keywords: list[Plain] = []
    size_budget_mb: Annotated[float, Field(gt=0, le=100)] | None = None
    #: A distribution marking that is not a protection level: a key of ``markings`` in the
    #: layout's labels.yaml (e.g. ``internal``), printed in every page's footer, on the cover,
    #: in the mail, and set in the PDF's keywords. A protection level ("Diffusion Restreinte")
    #: is refused: it needs approved encryption.
    marking: Plain | None = None
    #: Not to be published before this date and time (with its offset, e.g.
    #: 2026-12-10T09:00:00+01:00): printed on the cover and in the mail.
    embargo: AwareDatetime | None = None
    #: ``send`` holds the issue until this date and time (with its offset); ``--test`` and
    #: ``--dry-run`` are allowed before.
    release: AwareDatetime | None = None
    cover: Cover
    sections: Annotated[list[Section], Field(min_length=1)]
    #: What each text was translated from, per source language: the text's key (its field,
    #: with sections and blocks named by id, e.g. ``sections[editorial].blocks[0].text``) and
    #: a short hash of the source text it was made from. Written by ``newsletter translate
    #: import`` and ``newsletter new``; ``check`` reports a text whose source changed since.
    #: A text with no record counts as in step. Leave it to the tools.
    translated_from: dict[
        Literal["en", "fr"],
        dict[
            Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*(?:\.[a-z_]+|\[[a-z0-9-]+\])*$")],
            Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}$")],
        ],
    ] = {}


for _model in (Question, NumberedPoint, Box, Columns):
    _model.model_rebuild()


def walk(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every model, list item and scalar below ``value``, with its path in the file."""
    yield path, value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from walk(getattr(value, name), (*path, name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, (*path, i))


def figures(issue: Issue) -> Iterator[tuple[FieldPath, Figure]]:
    """Every figure of the issue, with its path, in reading order."""
    for path, value in walk(issue):
        if isinstance(value, Figure):
            yield path, value
