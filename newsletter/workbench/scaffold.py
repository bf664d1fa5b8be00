"""Starting the next issue: ``issue-10.yaml`` -> ``issue-11.yaml`` (and each language sibling).

The next issue keeps what stays from one issue to the next: the series, the author, the
language, the sections (ids, titles, kickers, running titles) and every block with its type,
id and settings, in the same order, so the issue in two languages stays in step. Every
text the editors write anew becomes a placeholder that ``check`` reports as an error
(``TODO: caption (about 20 words)``, the length of the previous text as a guide), every
image a generated stand-in marked ``stand_in: true``, every address ``https://example.org/TODO``.
The number goes up by one, the date by three months and the season to the next. The contact
block and the contents are kept as they are: they change rarely, and an editor sees them.

Nothing is overwritten: when any file to be made exists, nothing is written; each file is
written to a temporary file and linked to its name, which fails rather than replace one
made meanwhile; on any failure the files already made are removed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from ..errors import EnvironmentFault, FieldPath
from ..issue.load import Loaded, load_issue, sibling_paths
from ..issue.model import AgendaEntry, Contact, Contents, Figure, Issue, Paragraph, Quote, Section, figures
from ..issue.schema import schema_text
from ..issue.texts import RECORDS_COMMENT, in_step_records
from ..issue.typography import LANGUAGES
from ..safeio import write_new
from ..shipped import DEFAULT_LAYOUT, SCHEMA

#: Where the JSON Schema of the issue format is shipped (``newsletter schema`` writes it).
#: The schema's name beside issues kept outside the project's checkout (a wheel install).
SCHEMA_NAME = "issue.schema.json"
#: Months between two issues of a quarterly.
MONTHS_APART = 3
#: Stand-in for an external address still to be found.
PLACEHOLDER_URL = "https://example.org/TODO"

#: Fields kept as they are, on every model: structure and settings, not text.
_KEPT = {
    "type",
    "id",
    "style",
    "width",
    "place",
    "when",
    "new_page",
    "target",
    "language",
    "series",
    "author",
    "size_budget_mb",
    "translated",
}
#: Texts kept as they were, listed in ``kept:`` for ``check`` to list until an editor has
#: reviewed them: the newsletter's name and author, the issue's plan (the titles of the
#: regular sections).
_KEPT_TEXTS = {"series", "author"}
_KEPT_IN_SECTION = {"title", "kicker", "running_title"}
#: A date to write: never invented from the previous one.
_DATE_TO_WRITE = {"en": "TODO: date, YYYY-MM-DD", "fr": "TODO : date, AAAA-MM-JJ"}

_SEASONS = {
    "en": ("spring", "summer", "autumn", "winter"),
    "fr": ("printemps", "été", "automne", "hiver"),
}
_SEASON_ALIASES = {"fall": "autumn"}

#: What a placeholder calls a field, in English and French: by the model and the field's
#: name, else by the name alone, else the name itself.
_FIELD_WORDS: dict[tuple[str, str], tuple[str, str]] = {
    ("Paragraph", "text"): ("paragraph", "paragraphe"),
    ("Lead", "text"): ("lead", "chapeau"),
    ("Heading", "text"): ("heading", "intertitre"),
    ("Teaser", "text"): ("teaser", "accroche"),
    ("Quote", "text"): ("quotation", "citation"),
    ("Link", "text"): ("link text", "texte du lien"),
    ("Resolution", "text"): ("paragraph", "paragraphe"),
    ("AgendaEntry", "text"): ("event", "événement"),
    ("Issue", "title"): ("title of the issue", "titre du numéro"),
    ("Issue", "mail_title"): ("short title for the mail's subject", "titre court pour l'objet du courriel"),
    ("Cover", "lead"): ("lead of the editorial", "chapeau de l'éditorial"),
    ("", "text"): ("text", "texte"),
    ("", "alt"): ("alt text, what the image shows", "texte alternatif, ce que montre l'image"),
    ("", "caption"): ("caption", "légende"),
    ("", "credit"): ("credit", "crédit"),
    ("", "title"): ("title", "titre"),
    ("", "kicker"): ("kicker", "surtitre"),
    ("", "subtitle"): ("subtitle", "sous-titre"),
    ("", "question"): ("question", "question"),
    ("", "pull_quote"): ("pull quote", "exergue"),
    ("", "label"): ("label", "libellé"),
    ("", "value"): ("figure", "chiffre"),
    ("", "speaker"): ("speaker", "orateur"),
    ("", "role"): ("role", "fonction"),
    ("", "occasion"): ("occasion", "circonstance"),
    ("", "sponsor"): ("sponsor", "auteur"),
    ("", "symbol"): ("symbol", "cote"),
    ("", "place"): ("place", "lieu"),
    ("", "items"): ("item", "élément"),
    ("", "subject"): ("subject", "sujet"),
    ("", "keywords"): ("keywords", "mots-clés"),
    ("", "season"): ("season", "saison"),
}
_ABOUT = {"en": "about {n} words", "fr": "environ {n} mots"}


@dataclass(frozen=True)
class NewFile:
    """A file the next issue needs: where, and its bytes."""

    path: Path
    data: bytes


def next_issue(previous: Path) -> list[NewFile]:
    """Every file of the issue after ``previous`` and of its language siblings, stand-in
    images included; nothing is written. Raises ``IssueError`` when an edition does not load."""
    editions = [previous, *sibling_paths(previous)]
    loaded = [load_issue(path) for path in editions]
    DEFAULT_LAYOUT.require()
    images: dict[str, NewFile] = {}
    files = []
    schemas: dict[Path, NewFile] = {}
    blanks = [(e, _Plan(e, next_path(e.path, e.issue.number), images)) for e in loaded]
    datas = [plan.blank_issue() for _, plan in blanks]
    _in_step(datas)
    for (edition, plan), data in zip(blanks, datas, strict=True):
        target = plan.target
        reference = schema_reference(target)
        local = target.parent / reference
        if reference == SCHEMA_NAME and not (local.exists() or local.is_symlink()):
            schemas[local] = NewFile(local, schema_text().encode("utf-8"))
        files.append(NewFile(target, _issue_text(data, edition, target, reference).encode("utf-8")))
    return [*images.values(), *schemas.values(), *files]


def _in_step(datas: list[dict[str, Any]]) -> None:
    """The editions of the next issue in step: each sibling of the first records that its
    texts (placeholders as they are) are translations of the first's, so that ``check``
    reports them stale as soon as the first's are written. The records of the previous
    issue are dropped: they were of its texts."""
    for data in datas:
        data.pop("translated_from", None)
    source = _texts_only(datas[0])
    for data in datas[1:]:
        records = in_step_records(source, _texts_only(data))
        if records:
            data["translated_from"] = {source.language: records}


def _texts_only(data: dict[str, Any]) -> Issue:
    """The issue of ``data`` for its texts: a date left to write (not a text) stands in as
    the issue's date, so that the model takes it."""
    to_write = set(_DATE_TO_WRITE.values())

    def filled(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: filled(v) for k, v in value.items()}
        if isinstance(value, list):
            return [filled(v) for v in value]
        return data["date"] if value in to_write else value

    return Issue.model_validate(filled(data))


def start_next_issue(previous: Path) -> list[Path]:
    """Write the issue after ``previous`` (and its siblings) beside it; the paths written.

    Raises ``EnvironmentFault`` when one of the files exists already (nothing is written) or
    cannot be written (what was written is removed).
    """
    files = next_issue(previous)
    existing = [f.path for f in files if f.path.exists() or f.path.is_symlink()]
    if existing:
        more = f" (and {len(existing) - 1} more of the files it would make)" if len(existing) > 1 else ""
        raise EnvironmentFault(
            f"exists already{more}: `newsletter new` never overwrites a file",
            existing[0],
            "edit the existing issue, or move it away and run `newsletter new` again",
        )
    written: list[Path] = []
    try:
        for new in files:
            _write_new(new)
            written.append(new.path)
    except BaseException:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        for folder in sorted({p.parent for p in written}, key=lambda p: len(p.parts), reverse=True):
            _remove_if_empty(folder)
        raise
    return written


def next_path(path: Path, number: int) -> Path:
    """``issue-10.yaml`` -> ``issue-11.yaml``, ``issue-10.fr.yaml`` -> ``issue-11.fr.yaml``;
    a name without the number gets it: ``issue.yaml`` (number 1) -> ``issue-2.yaml``."""
    base, tag = _split_name(path)
    new = str(number + 1)
    found = list(re.finditer(rf"(?<!\d){number}(?!\d)", base))
    if found:
        last = found[-1]
        base = base[: last.start()] + new + base[last.end() :]
    else:
        base = f"{base}-{new}"
    return path.with_name(f"{base}.{tag}.yaml" if tag else f"{base}.yaml")


def _split_name(path: Path) -> tuple[str, str]:
    """``issue-10.fr.yaml`` -> ``("issue-10", "fr")``; ``issue-10.yaml`` -> ``("issue-10", "")``."""
    stem = path.name.removesuffix(".yaml")
    base, _, tag = stem.rpartition(".")
    return (base, tag) if base and tag in LANGUAGES else (stem, "")


def next_date(date: dt.date, months: int = MONTHS_APART) -> dt.date:
    """``date`` moved ``months`` later, on the same day or the month's last (31 Nov is 30 Nov)."""
    month = date.month - 1 + months
    year, month = date.year + month // 12, month % 12 + 1
    return date.replace(year=year, month=month, day=min(date.day, calendar.monthrange(year, month)[1]))


def next_season(season: str, language: str) -> str | None:
    """``Summer 2018`` -> ``Autumn 2018``, ``Hiver 2018`` -> ``Printemps 2019``; None when
    ``season`` names no season."""
    names = _SEASONS.get(language, _SEASONS["en"])
    words = "|".join([*names, *_SEASON_ALIASES])
    match = re.search(rf"\b({words})\b", season, re.IGNORECASE)
    if match is None:
        return None
    name = _SEASON_ALIASES.get(match.group(1).lower(), match.group(1).lower())
    index = names.index(name)
    following = names[(index + 1) % len(names)]
    word = following.capitalize() if match.group(1)[0].isupper() else following
    text = season[: match.start()] + word + season[match.end() :]
    if index == len(names) - 1:  # after winter comes the spring of the next year
        text = re.sub(r"\b(\d{4})\b", lambda m: str(int(m.group(1)) + 1), text, count=1)
    return text


def placeholder(field: str, previous: str, language: str, model: str = "") -> str:
    """``TODO: caption (about 20 words)``: a text ``check`` reports, saying what to write and
    how long the previous issue's was. ``model`` names the model of the field (``Teaser``)."""
    words_for = _FIELD_WORDS.get((model, field)) or _FIELD_WORDS.get(("", field))
    word = (words_for[1] if language == "fr" else words_for[0]) if words_for else field.replace("_", " ")
    words = len(previous.split())
    length = f" ({_ABOUT.get(language, _ABOUT['en']).format(n=words)})" if words >= 5 else ""
    separator = " :" if language == "fr" else ":"
    return f"TODO{separator} {word}{length}"


class _Plan:
    """The next issue's data for one edition, and the stand-in images it names."""

    def __init__(self, edition: Loaded, target: Path, images: dict[str, NewFile]) -> None:
        self.edition = edition
        self.language = edition.issue.language
        self.target = target
        self.images = images
        self.image_folder = f"images/{_split_name(target)[0]}"

    def blank_issue(self) -> dict[str, Any]:
        """The next issue as YAML data, in the order the previous one was written."""
        issue = self.edition.issue
        data: dict[str, Any] = self._blank(issue, self.edition.located.data, ())
        data["number"] = issue.number + 1
        # The date a quarterly comes out next, and its season: set here, so listed to check.
        data["date"] = next_date(issue.date)
        if issue.season is not None:
            data["season"] = next_season(issue.season, issue.language) or placeholder(
                "season", "", self.language
            )
        kept = [key for key in data if key in _KEPT_TEXTS | {"date", "season"}]
        return _with_kept(data, kept)

    def _blank(self, model: BaseModel, raw: Any, path: FieldPath) -> Any:
        if isinstance(model, Paragraph) and isinstance(raw, str):
            return placeholder("text", raw, self.language, "Paragraph")  # a bare string stays one
        if isinstance(model, Contents):
            return _plain(raw)
        if isinstance(model, Contact) and isinstance(raw, dict):
            # Kept whole (it changes rarely), every text of it listed for review.
            contact = {k: _plain(v) for k, v in raw.items() if k not in ("kept", "verify")}
            return _with_kept(contact, [k for k in contact if k not in ("type", "id")])
        keys = (
            list(raw)
            if isinstance(raw, dict)
            else [k for k in type(model).model_fields if k in model.model_fields_set]
        )
        in_section = _KEPT_IN_SECTION if isinstance(model, Section) else set()
        kept_texts = (_KEPT_TEXTS if isinstance(model, Issue) else set()) | in_section
        out: dict[str, Any] = {}
        for key in keys:
            if key in ("verify", "kept"):
                continue  # the new text is not a translation to verify, nor reviewed, yet
            value, written = getattr(model, key), raw.get(key) if isinstance(raw, dict) else None
            if isinstance(model, (Quote, AgendaEntry)) and key == "end":
                continue  # a meeting's last day: written with its first, if there is one
            # `place` is a figure's side (a setting) but an event's town (a text to write).
            setting = key in _KEPT and not (key == "place" and not isinstance(model, Figure))
            if setting or key in kept_texts:
                out[key] = _plain(written)
            else:
                out[key] = self._field(model, key, value, written, (*path, key))
        if isinstance(model, Figure):
            out["image"] = self._stand_in(model, path)
            out["stand_in"] = True
        return _with_kept(out, [k for k in out if k in in_section]) if in_section else out

    def _field(self, owner: BaseModel, key: str, value: Any, raw: Any, path: FieldPath) -> Any:
        if isinstance(value, BaseModel):
            return self._blank(value, raw, path)
        if isinstance(value, list):
            if key == "keywords":
                return [placeholder(key, "", self.language)] if value else []
            raws = raw if isinstance(raw, list) else [None] * len(value)
            return [
                self._field(owner, key, v, r, (*path, i))
                for i, (v, r) in enumerate(zip(value, raws, strict=True))
            ]
        if isinstance(value, dt.date):
            # The day a quotation was said or an event takes place: never invented (the old
            # date three months on was a day nobody said anything on).
            return _DATE_TO_WRITE.get(self.language, _DATE_TO_WRITE["en"])
        if key == "url":
            return PLACEHOLDER_URL
        if isinstance(value, str):
            return placeholder(key, value, self.language, type(owner).__name__)
        return _plain(raw)

    def _stand_in(self, figure: Figure, path: FieldPath) -> str:
        """The stand-in's name (``images/issue-11/ccpcj-2.jpg``), made once for every edition:
        siblings share their images."""
        section: Section = self.edition.issue.sections[int(path[1])]
        in_section = [p for p, _ in figures(self.edition.issue) if p[:2] == path[:2]]
        number = in_section.index(path) + 1
        name = f"{self.image_folder}/{section.id}-{number}.jpg"
        if name not in self.images:
            size = _image_size(self.edition.path.parent / figure.image)
            self.images[name] = NewFile(
                self.target.parent / name, stand_in_image(size, f"{section.id}-{number}")
            )
        return name


def _with_kept(data: dict[str, Any], kept: list[str]) -> dict[str, Any]:
    """``data`` with ``kept:`` listing the fields carried over, before its blocks (where an
    editor reads them); as it is when there are none."""
    if not kept:
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("blocks", "cover", "sections") and "kept" not in out:
            out["kept"] = _Flow(kept)
        out[key] = value
    out.setdefault("kept", _Flow(kept))
    return out


class _Flow(list[str]):
    """A short list written on one line: ``kept: [title, kicker]``."""


def _plain(raw: Any) -> Any:
    """A fresh copy of YAML data: the writer never sees one object twice (no aliases)."""
    if isinstance(raw, dict):
        return {k: _plain(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_plain(v) for v in raw]
    return raw


def _image_size(path: Path) -> tuple[int, int]:
    """The previous image's size in pixels (only its header is read), so the layout stays."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, ValueError):
        return 1200, 800
    return max(64, width), max(64, height)


def stand_in_image(size: tuple[int, int], label: str) -> bytes:
    """A flat JPEG that cannot be mistaken for a photo: a crossed frame and ``label`` (the
    figure's section and number, an id). No word in any language: the editions of an issue
    share their images, and the layout says "stand-in" in each edition's own words
    (``stand_in`` in labels.yaml).

    JPEG, as a real photo would be: WeasyPrint embeds JPEG data as it is.
    """
    from PIL import Image, ImageDraw, ImageFont

    width, height = size
    image = Image.new("RGB", size, (233, 241, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(185, 201, 211), width=max(2, width // 200))
    draw.line((0, 0, width - 1, height - 1), fill=(185, 201, 211), width=max(1, width // 400))
    draw.line((0, height - 1, width - 1, 0), fill=(185, 201, 211), width=max(1, width // 400))
    lato = DEFAULT_LAYOUT.fonts / "lato"
    big = ImageFont.truetype(str(lato / "Lato-Black.ttf"), max(12, min(width // 14, height // 7)))
    draw.text((width / 2, height / 2), label, font=big, fill=(21, 54, 95), anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, never an alias (the reader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_Dumper.add_representer(
    _Flow, lambda dumper, value: dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)
)

_HEADER = {
    "en": (
        "# Issue {number}, started from {previous} by `newsletter new`: the sections, ids and blocks of\n"
        "# issue {old}, every text a TODO placeholder and every image a stand-in.\n"
        "# `newsletter check {name}` lists what is left to write. Format: docs/issue-format.md.\n"
    ),
    "fr": (
        "# Numéro {number}, commencé d'après {previous} par `newsletter new` : les sections, les ids et\n"
        "# les blocs du numéro {old}, chaque texte à écrire marqué TODO et chaque image provisoire.\n"
        "# `newsletter check {name}` liste ce qui reste à écrire. Format : docs/issue-format.md.\n"
    ),
}


def _issue_text(data: dict[str, Any], edition: Loaded, target: Path, schema: str) -> str:
    """The YAML of the next issue, after a header: the schema for the editor's editor, and
    what to do."""
    body = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=96, default_flow_style=False
    )
    header = _HEADER.get(edition.issue.language, _HEADER["en"]).format(
        number=data["number"], previous=edition.path.name, old=edition.issue.number, name=target
    )
    records = "".join(f"# {line}\n" for line in RECORDS_COMMENT.splitlines())
    body = body.replace("\ntranslated_from:\n", f"\n\n{records}translated_from:\n", 1)
    return f"# yaml-language-server: $schema={schema}\n{header}\n{body}"


def schema_reference(issue: Path) -> str:
    """How the issue at ``issue`` names the schema, always relatively (it moves with the
    folder): the project's ``docs/issue.schema.json`` for an issue inside the project's
    checkout; else ``issue.schema.json`` beside the issue, which ``new`` writes there when it
    is missing (an absolute path into an installed package would break at its next upgrade)."""
    folder = issue.parent.resolve()
    # The folder that holds docs/: a checkout's top, or the package's own files in a wheel.
    if folder.is_relative_to(SCHEMA.parent.parent):
        return Path(os.path.relpath(SCHEMA, folder)).as_posix()
    return SCHEMA_NAME


def _write_new(new: NewFile) -> None:
    """Write ``new`` whole under its name, never over an existing file."""
    new.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_new(new.path, new.data)
    except FileExistsError:
        raise EnvironmentFault(
            "was made meanwhile; `newsletter new` never overwrites a file", new.path, "run it again"
        ) from None
    except OSError as exc:
        raise EnvironmentFault(
            f"cannot write: {exc.strerror or exc}", new.path, "check the folder's permissions and free space"
        ) from None


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
