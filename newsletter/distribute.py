"""The coordinator of sending: email editions (built, or reused when up to date) -> messages
-> the posts (or ``.eml`` files for a dry run).

An issue's edition in another language is the file beside it named ``<name>.<lang>.yaml``
(``issue-10.fr.yaml`` for ``issue-10.yaml``); a post asking for a language that has no
edition gets the issue's own language, and the report says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .build import DEFAULT_LAYOUT, atomic_write, build_issue, output_path
from .errors import IssueError, did_you_mean, error
from .images import check_image
from .ledger import Ledger
from .load import format_path, load_issue, walk
from .mail import Edition, Outcome, Outgoing, Retry, Settings, compose, issue_key, send, write_eml
from .model import Figure
from .recipients import Post, RecipientList
from .render import Layout

PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Plan:
    """What a send would do: the editions and one message per post."""

    key: str
    editions: dict[str, Edition]
    outgoing: list[Outgoing]


def edition_sources(source: Path) -> dict[str, Path]:
    """Language -> issue file: the issue itself and its ``<name>.<lang>.yaml`` siblings."""
    found: dict[str, Path] = {load_issue(source).issue.language: source}
    for sibling in sorted(source.parent.glob(f"{source.stem}.*.yaml")):
        language = sibling.suffixes[-2].lstrip(".")
        if language not in found:
            found[language] = sibling
    return found


def email_edition(source: Path, out_dir: Path, layout: Layout = DEFAULT_LAYOUT) -> Edition:
    """The email edition of ``source``, rebuilt only when an input changed.

    A stamp beside the PDF records a digest of every input (the issue, its images, the
    layout, the fonts, the code) and of the PDF itself; a matching stamp means the PDF is
    the one a build would make, and that it passed its checks when it was made.
    """
    pdf = output_path(source, out_dir, "email")
    stamp = pdf.with_suffix(".pdf.json")
    digest = _inputs_digest(source, layout)
    recorded = _read_stamp(stamp) if pdf.exists() else None
    if recorded is not None and recorded.get("inputs") == digest and recorded.get("pdf") == _sha256(pdf):
        issue = load_issue(source).issue
        return Edition(issue.language, issue, pdf, recorded["pages"], recorded["teasers"])
    result = build_issue(source, out_dir, layout, variant="email")
    assert result.pdf is not None
    teasers = {ref.target: ref.target_page for ref in result.references if ref.page == 1 and ref.target_page}
    stamp_data = {"inputs": digest, "pdf": _sha256(result.pdf), "pages": result.pages, "teasers": teasers}
    atomic_write(stamp, json.dumps(stamp_data).encode("utf-8"))
    return Edition(result.issue.language, result.issue, result.pdf, result.pages, teasers)


def _read_stamp(stamp: Path) -> dict[str, Any] | None:
    """The stamp's record, or None when it is missing or unreadable: a cache is rebuilt."""
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    valid = (
        isinstance(recorded, dict)
        and isinstance(recorded.get("pages"), int)
        and isinstance(recorded.get("teasers"), dict)
    )
    return recorded if valid else None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _inputs_digest(source: Path, layout: Layout) -> str:
    """A digest of every input of the edition; each image is checked before it is read."""
    loaded = load_issue(source)
    issue = loaded.issue
    refused = []
    for path, value in walk(issue):
        message = check_image(source.parent, value.image) if isinstance(value, Figure) else None
        if message:
            line, col = loaded.where((*path, "image"))
            refused.append(error(source, message, line=line, col=col, field=format_path((*path, "image")), rule="image-file"))
    if refused:
        raise IssueError(refused)
    files = [source]
    files += sorted({source.parent / v.image for _, v in walk(issue) if isinstance(v, Figure)})
    for folder in (layout.templates, layout.fonts, PACKAGE):
        files += sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.name).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def plan(source: Path, recipients: RecipientList, out_dir: Path, group: str | None = None,
         layout: Layout = DEFAULT_LAYOUT) -> Plan:
    """Build (or reuse) the editions the posts need and compose their messages."""
    posts: list[Post] = recipients.posts(group)
    if not posts:
        groups = {g for p in recipients.posts() for g in p.groups}
        message = f"no post is in the group {group!r}{did_you_mean(group or '', groups)}" if group else "the recipients file lists no post"
        raise IssueError([error(recipients.path, message, rule="recipients", hint="see docs/recipients-format.md; --group names a group of the recipients file")])
    sources = edition_sources(source)
    main_language = next(iter(sources))
    needed = {post.language or main_language for post in posts} | {main_language}
    editions = {lang: email_edition(sources[lang], out_dir, layout) for lang in sources if lang in needed}
    # The issue's own language first: it is the fallback.
    editions = {main_language: editions[main_language], **editions}
    outgoing = compose(editions, recipients, posts, layout)
    return Plan(issue_key(editions[main_language].issue), editions, outgoing)


def dry_run(the_plan: Plan, out_dir: Path) -> list[Path]:
    """Write every message as ``.eml`` under ``out/mail/<issue>/``; no server, no ledger."""
    return write_eml(the_plan.outgoing, out_dir / "mail" / the_plan.key)


def deliver(
    the_plan: Plan,
    recipients: RecipientList,
    settings: Settings,
    ledger_path: Path,
    rate_per_minute: float | None = None,
    retry: Retry | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Send the plan's messages, recording each in the ledger at ``ledger_path``."""
    with Ledger(ledger_path) as ledger:
        return send(
            the_plan.outgoing, ledger, the_plan.key, settings, recipients.recipients.sender,
            rate_per_minute or recipients.recipients.rate_per_minute, retry,
            progress,
        )

