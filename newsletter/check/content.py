"""Content rules: on the validated issue, before layout. Each is located at its field."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from functools import partial

from markupsafe import Markup
from pydantic import BaseModel

from ..engine.render import labels_for, mail_settings
from ..errors import FieldPath, did_you_mean
from ..issue.headers import HINT as HEADER_HINT
from ..issue.headers import file_name_problem, header_problems, mail_subject
from ..issue.images import MAX_IMAGE_BYTES, check_image, resolve_image
from ..issue.markup import PAGE_WORDS, Inline
from ..issue.model import LINK_KINDS, Agenda, AgendaEntry, Box, Issue, Quote, Teaser, figures, walk
from ..issue.typography import smarten
from .registry import ContentContext, Hit, rule


def _texts(issue: BaseModel) -> Iterator[tuple[FieldPath, str]]:
    for path, value in walk(issue):
        if isinstance(value, str) and "kept" not in path:  # `kept:` names fields, not text
            yield path, value


_PLACEHOLDERS = re.compile(
    r"Légende accompagnant l.illustration|Lorem ipsum|\bTODO\b|\bXXX\b|\[caption\]|\bTBD\b|\bFIXME\b",
    re.IGNORECASE,
)


@rule("placeholder", "content", "error", "write the real text in place of the placeholder")
def _placeholder(ctx: ContentContext) -> Iterator[Hit]:
    for path, text in _texts(ctx.issue):
        match = _PLACEHOLDERS.search(text)
        if match:
            yield Hit(f"placeholder text {match.group(0)!r} in {text[:60]!r}", path)


_STOPWORDS = {
    "en": {
        "the",
        "of",
        "and",
        "to",
        "in",
        "on",
        "for",
        "with",
        "is",
        "are",
        "was",
        "by",
        "at",
        "from",
        "this",
        "that",
        "as",
        "an",
        "its",
        "their",
        "which",
        "be",
    },
    "fr": {
        "le",
        "la",
        "les",
        "des",
        "du",
        "de",
        "et",
        "est",
        "un",
        "une",
        "au",
        "aux",
        "pour",
        "avec",
        "sur",
        "dans",
        "par",
        "qui",
        "que",
        "ce",
        "cette",
        "son",
        "sa",
        "ses",
        "l",
        "d",
    },
}
#: Fields where a label or caption is expected: they must be in the issue's language.
_LABEL_FIELDS = {"caption", "alt", "title", "kicker", "subtitle", "running_title", "sponsor"}


def guess_language(text: str) -> str | None:
    """The language (``en`` or ``fr``) ``text`` reads as, or None when unsure."""
    words = re.findall(r"[a-zà-ÿ]+", text.lower().replace("’", "'").replace("'", " "))
    scores = {lang: sum(word in stops for word in words) for lang, stops in _STOPWORDS.items()}
    scores["fr"] += sum(1 for ch in text.lower() if ch in "éèêàçùâîôû")
    best = max(scores, key=lambda lang: scores[lang])
    other = min(scores.values())
    # Names in the other language ("Les amis du bus des femmes") are common in captions:
    # only a clear majority counts.
    return best if scores[best] >= 2 * other + 1 else None


@rule("language", "content", "warning", "translate it, or move words of another language into the text")
def _language(ctx: ContentContext) -> Iterator[Hit]:
    for path, text in _texts(ctx.issue):
        if path and path[-1] in _LABEL_FIELDS:
            found = guess_language(text)
            if found is not None and found != ctx.issue.language:
                yield Hit(f"{text[:60]!r} reads as {found!r}, the edition is {ctx.issue.language!r}", path)


@rule(
    "figure-alt", "content", "error", "add `alt:` saying what the image shows, for readers who cannot see it"
)
def _figure_alt(ctx: ContentContext) -> Iterator[Hit]:
    for path, figure in figures(ctx.issue):
        if not figure.alt:
            yield Hit(f"image {figure.image!r} has no alt text", path)


@rule("stand-in", "content", "notice", "replace the stand-in with the real image and remove `stand_in: true`")
def _stand_in(ctx: ContentContext) -> Iterator[Hit]:
    for path, figure in figures(ctx.issue):
        if figure.stand_in:
            yield Hit(f"image {figure.image!r} is a stand-in", (*path, "image"))


@rule(
    "image-file",
    "content",
    "error",
    "put a PNG or JPEG inside the issue's folder and name it relative to the issue file",
)
def _image_file(ctx: ContentContext) -> Iterator[Hit]:
    folder = ctx.loaded.path.parent
    for path, figure in figures(ctx.issue):
        target = resolve_image(folder, figure.image)
        check = partial(check_image, folder, figure.image)
        # Decoding every pixel is the costly part: a warm process does it again only for a
        # file whose bytes changed.
        readable = target is not None and target.is_file() and target.stat().st_size <= MAX_IMAGE_BYTES
        message = ctx.per_file("image-file", target, check) if readable and target else check()
        if message:
            yield Hit(message, (*path, "image"))


def anchors(issue: Issue) -> dict[str, list[FieldPath]]:
    """Every id written in the issue and where."""
    found: dict[str, list[FieldPath]] = {}
    for path, value in walk(issue):
        anchor = getattr(value, "id", None)
        if isinstance(anchor, str) and isinstance(value, BaseModel):
            found.setdefault(anchor, []).append((*path, "id"))
    return found


@rule("duplicate-id", "content", "error", "give each block its own id")
def _duplicate_id(ctx: ContentContext) -> Iterator[Hit]:
    for anchor, paths in anchors(ctx.issue).items():
        for path in paths[1:]:
            first = ctx.loaded.where(paths[0])[0]
            yield Hit(f"duplicate id {anchor!r} (first used at line {first})", path)


@rule(
    "unknown-reference",
    "content",
    "error",
    "point the reference at an id that exists (see `id:` of sections and blocks)",
)
def _unknown_reference(ctx: ContentContext) -> Iterator[Hit]:
    ids = anchors(ctx.issue)
    inline = Inline(page_label="page")
    for path, value in walk(ctx.issue):
        if isinstance(value, Teaser) and value.target not in ids:
            yield Hit(
                f"teaser points at unknown id {value.target!r}{did_you_mean(value.target, ids)}",
                (*path, "target"),
            )
        elif isinstance(value, str):
            for link in inline.links(value):
                if not inline.is_safe(link.href):
                    continue
                for target in link.internal_targets:
                    if target not in ids:
                        yield Hit(
                            f"page reference to unknown id {target!r}{did_you_mean(target, ids)}",
                            path,
                            needle=f"#{target}",
                        )


@rule("link-scheme", "content", "error", f"links may be {LINK_KINDS}")
def _link_scheme(ctx: ContentContext) -> Iterator[Hit]:
    inline = Inline(page_label="page")
    for path, text in _texts(ctx.issue):
        for link in inline.links(text):
            if not inline.is_safe(link.href):
                yield Hit(f"link {link.href!r} is not allowed: use {LINK_KINDS}", path, needle=link.href)
            elif len(link.internal_targets) > 1 and link.text.lower() not in PAGE_WORDS | {""}:
                yield Hit(
                    f"a link to several ids ({link.href}) prints page numbers: write [pages]({link.href})",
                    path,
                    needle=link.href,
                )


@rule(
    "unprintable",
    "content",
    "error",
    "replace the characters with ones the bundled fonts have, or remove them",
)
def _unprintable(ctx: ContentContext) -> Iterator[Hit]:
    printable = ctx.fonts.common
    for path, text in _texts(ctx.issue):
        missing = sorted({c for c in text if ord(c) not in printable})
        if missing:
            shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing[:5])
            yield Hit(f"the bundled fonts cannot print {shown}; replace or remove them", path)


@functools.lru_cache(maxsize=16384)
def _prints_nothing(text: str) -> bool:
    """Whether ``text`` renders to no visible word and no page reference (asked again after
    each save in a warm session, for texts that mostly did not change)."""
    rendered = Inline(page_label="").render(text)
    return not Markup(rendered).striptags().strip() and "pageref" not in rendered


@rule("empty-block", "content", "warning", "write the block's text or remove the block")
def _empty_block(ctx: ContentContext) -> Iterator[Hit]:
    for path, value in walk(ctx.issue):
        if isinstance(value, str) and path and path[-1] in {"text", "caption", "question", "lead"}:
            if _prints_nothing(value):
                yield Hit("this text prints nothing", path)
        elif isinstance(value, Box) and not value.title and not value.blocks:
            yield Hit("this box is empty", path)  # pragma: no cover - the schema requires blocks


@rule("date-order", "content", "error", "check the start and end dates")
def _date_order(ctx: ContentContext) -> Iterator[Hit]:
    for path, value in walk(ctx.issue):
        if isinstance(value, AgendaEntry) and value.end is not None and value.end < value.start:
            yield Hit(f"the end date {value.end} is before the start date {value.start}", (*path, "end"))
        elif isinstance(value, Quote) and value.end is not None and value.end < value.date:
            yield Hit(f"the end date {value.end} is before the date {value.date}", (*path, "end"))


@rule(
    "agenda-dates",
    "content",
    "warning",
    "move the entry to the other agenda, or correct its date or the issue's date",
)
def _agenda_dates(ctx: ContentContext) -> Iterator[Hit]:
    issued = ctx.issue.date
    for path, value in walk(ctx.issue):
        if not isinstance(value, Agenda):
            continue
        for i, entry in enumerate(value.entries):
            end = entry.end or entry.start
            if value.when == "upcoming" and entry.start < issued:
                yield Hit(
                    f"an upcoming event on {entry.start} is before the issue's date {issued}",
                    (*path, "entries", i, "start"),
                )
            elif value.when == "past" and end > issued:
                yield Hit(
                    f"a past event ending {end} is after the issue's date {issued}",
                    (*path, "entries", i, "start"),
                )


@rule(
    "verify", "content", "notice", "check the passage against the official text, then remove `verify: true`"
)
def _verify(ctx: ContentContext) -> Iterator[Hit]:
    for path, value in walk(ctx.issue):
        if isinstance(value, BaseModel) and getattr(value, "verify", False):
            words = next((t for p, t in _texts(value) if p and p[-1] not in ("type", "id")), "")
            yield Hit(f"translated passage to verify: {words[:60]!r}", (*path, "verify"))


@rule(
    "kept",
    "content",
    "warning",
    "check that it is right for this issue, then remove its name from `kept:`",
)
def _kept(ctx: ContentContext) -> Iterator[Hit]:
    for path, value in walk(ctx.issue):
        if isinstance(value, BaseModel) and getattr(value, "kept", None):
            for name in value.kept:  # type: ignore[attr-defined]
                shown = _shown(getattr(value, name))
                yield Hit(f"written by `newsletter new`, not by an editor: {shown}", (*path, name))


def _shown(value: object) -> str:
    """A kept value in a few words: a text, a date, or what a group or list holds."""
    if isinstance(value, BaseModel):
        value = next((t for _, t in _texts(value) if t), type(value).__name__)
    elif isinstance(value, list):
        value = ", ".join(_shown(v).strip("'") for v in value[:2]) + (", ..." if len(value) > 2 else "")
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


@rule("mail-header", "content", "error", HEADER_HINT)
def _mail_header(ctx: ContentContext) -> Iterator[Hit]:
    for path, message in header_problems(ctx.issue):
        yield Hit(message, path)
    # The email edition's PDF, attached to the mail, is named after the file.
    problem = file_name_problem(ctx.loaded.path)
    if problem:
        yield Hit(problem)


@rule(
    "mail-subject",
    "content",
    "warning",
    "give the issue a shorter `mail_title:` for the subject, or raise subject_limit in the layout's mail.yaml",
)
def _mail_subject(ctx: ContentContext) -> Iterator[Hit]:
    issue, language = ctx.issue, ctx.issue.language
    labels = labels_for(ctx.layout, language)
    # As the mail sets it: the series and the title typeset by the rules of their language.
    typeset = issue.model_copy(
        update={
            "series": smarten(issue.series, language),
            "title": smarten(issue.title, language),
            "mail_title": smarten(issue.mail_title, language) if issue.mail_title else None,
        }
    )
    subject = mail_subject(str(labels["mail_subject"]), str(labels["issue"]), typeset)
    limit = mail_settings(ctx.layout).subject_limit
    if len(subject) > limit:
        yield Hit(
            f"the mail's subject is {len(subject)} characters long, more than the {limit} mail "
            f"clients show in their lists: they cut it after '...{subject[max(0, limit - 30) : limit]}'",
            ("mail_title",) if issue.mail_title else ("title",),
        )


@rule("markup-depth", "content", "error", "write the emphasis once, not nested in itself")
def _markup_depth(ctx: ContentContext) -> Iterator[Hit]:
    inline = Inline(page_label="page")
    for path, text in _texts(ctx.issue):
        problem = inline.nesting_problem(text)
        if problem:
            yield Hit(problem, path)


#: Protection levels (France's IGI 1300, the EU's and NATO's classifications, the UK's): they
#: need approved encryption from end to end, which a mailed PDF does not have.
PROTECTION_LEVELS = (
    "diffusion restreinte",
    "confidentiel",
    "confidentiel defense",
    "secret",
    "secret defense",
    "tres secret",
    "restreint ue",
    "eu restricted",
    "confidentiel ue",
    "eu confidential",
    "secret ue",
    "eu secret",
    "tres secret ue",
    "eu top secret",
    "nato restricted",
    "nato confidential",
    "nato secret",
    "cosmic top secret",
    "official sensitive",
    "top secret",
    "restricted",
    "confidential",
    "classified",
)


def protection_level(text: str) -> str | None:
    """The protection level ``text`` names, if it names one (accents, case and punctuation aside)."""
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    words = f" {' '.join(re.findall(r'[a-z0-9]+', plain))} "
    return next((level for level in PROTECTION_LEVELS if f" {level} " in words), None)


@rule(
    "marking",
    "content",
    "error",
    "name a marking of labels.yaml (markings:); a protection level cannot be sent by this tool",
)
def _marking(ctx: ContentContext) -> Iterator[Hit]:
    marking = ctx.issue.marking
    if marking is None:
        return
    level = protection_level(marking)
    if level is not None:
        yield Hit(
            f"{marking!r} is a protection level: it needs approved encryption, which this tool does not "
            "provide (a mailed PDF is not protected); such an issue cannot be built or sent here",
            ("marking",),
        )
        return
    from ..engine.render import labels_for
    from ..shipped import DEFAULT_LAYOUT

    known = labels_for(DEFAULT_LAYOUT, ctx.issue.language).get("markings") or {}
    if marking not in known:
        choices = ", ".join(sorted(known)) or "none"
        yield Hit(
            f"unknown marking {marking!r}{did_you_mean(marking, known) or ';'} the markings are: {choices}",
            ("marking",),
        )
