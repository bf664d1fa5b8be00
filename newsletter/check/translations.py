"""Translations kept in step with their sources: each text of an issue compared with the
same text of its siblings in the other languages (``issue-10.yaml``, ``issue-10.fr.yaml``).

- ``translation-stale``: a translation made from a source text that changed since. The
  target file records, per text, a hash of the source it was translated from
  (``translated_from:``, written by ``newsletter translate import`` and ``newsletter new``);
  a text with no record counts as in step, so an issue without records reports nothing.
  Checked on either language: the translation is located where it is written and names its
  source, the source names the translation that lags behind it.
- ``untranslated``: a text one edition has and the other lacks (an optional field such as a
  kicker, an item more in a list), where both have the block: a block one lacks whole is
  the ``sibling`` rule's.

Both are warnings, as the ``sibling`` rule's: one edition often ships first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import FieldPath
from ..issue.load import Loaded
from ..issue.markup import Inline
from ..issue.texts import Text, containers, in_step, records, text_hash, texts
from .registry import ContentContext, Hit, rule


@dataclass(frozen=True)
class _Edition:
    """One edition's texts, their hashes and the places where a text may be added."""

    loaded: Loaded
    texts: dict[str, Text]
    containers: dict[str, FieldPath]
    hashes: dict[str, str]

    def records(self, source_language: str) -> dict[str, str]:
        return records(self.loaded.issue, source_language)

    def where(self, path: FieldPath) -> str:
        line, col = self.loaded.where(path)
        return f"{self.loaded.path}:{line}:{col}" if line is not None else str(self.loaded.path)


def _edition(ctx: ContentContext, loaded: Loaded, parser: Inline) -> _Edition:
    """``loaded``'s texts, read once per file's bytes in a warm process (the preview checks
    both files after every save)."""

    def measure() -> _Edition:
        found = texts(loaded.issue)
        hashes = {key: text_hash(t.value, t.inline, parser) for key, t in found.items()}
        return _Edition(loaded, found, containers(loaded.issue), hashes)

    summary = ctx.per_file("translation-texts", loaded.path, measure)
    # Kept by the file's bytes: the issue read from those very bytes, its positions included.
    return summary if summary.loaded.located.text == loaded.located.text else measure()


def stale(target: _Edition, source: _Edition) -> Iterator[str]:
    """The keys of the texts of ``target`` translated from an older text of ``source``.

    (``texts.in_step``: a text with no record is in step)."""
    records = target.records(source.loaded.issue.language)
    back = source.records(target.loaded.issue.language)
    for key, recorded in records.items():
        if key not in target.texts or key not in source.hashes:
            continue
        if not in_step(recorded, source.hashes[key], back.get(key), target.hashes[key]):
            yield key


def missing(mine: _Edition, theirs: _Edition) -> Iterator[tuple[str, str]]:
    """The texts ``mine`` has and ``theirs`` lacks while it has their block or list: each key
    with the key of the block or list in ``theirs``."""
    for key in mine.texts:
        if key in theirs.texts:
            continue
        parent = key.rsplit("[", 1)[0] if key.endswith("]") else key.rsplit(".", 1)[0]
        if parent in theirs.containers:
            yield key, parent


def _pairs(ctx: ContentContext) -> Iterator[tuple[_Edition, _Edition]]:
    others = [other for other in ctx.siblings if other.issue.language != ctx.issue.language]
    if not others:  # an issue in one language: its texts are not even listed
        return
    parser = Inline(page_label="page")
    mine = _edition(ctx, ctx.loaded, parser)
    for other in others:
        yield mine, _edition(ctx, other, parser)


@rule(
    "translation-stale",
    "content",
    "warning",
    "translate the source's text again (newsletter translate export, then import), or correct the source",
)
def _stale(ctx: ContentContext) -> Iterator[Hit]:
    for mine, theirs in _pairs(ctx):
        for key in stale(mine, theirs):
            there = theirs.where(theirs.texts[key].path)
            yield Hit(f"translated from an older text of {there}", mine.texts[key].path)
        for key in stale(theirs, mine):
            there = theirs.where(theirs.texts[key].path)
            yield Hit(f"changed since {there} was translated from it", mine.texts[key].path)


@rule(
    "untranslated",
    "content",
    "warning",
    "translate it (newsletter translate export lists it), or remove it from the edition that has it",
)
def _untranslated(ctx: ContentContext) -> Iterator[Hit]:
    for mine, theirs in _pairs(ctx):
        name = theirs.loaded.path.name
        for key, parent in missing(mine, theirs):
            there = theirs.where(theirs.containers[parent])
            yield Hit(f"never translated: {name} has no {key} ({there})", mine.texts[key].path)
        for key, parent in missing(theirs, mine):
            there = theirs.where(theirs.texts[key].path)
            yield Hit(f"lacks the translation of {there} ({key})", mine.containers[parent])
