"""What the live preview shows and how it follows the issue: the *view* (``View``, the pages
with a version each, how full each is, the findings beside the pages they concern), the
``Engine`` that rebuilds the edition after a save in one warm ``Session`` and renders the
pages that changed (the first changed page first), and the message a post receives in each
language (``mail_views``). ``serve.py`` serves them to the browser.
"""

from __future__ import annotations

import email
import hashlib
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from email.message import Message
from functools import partial
from pathlib import Path
from typing import Any, Literal

from ..build import Proof
from ..check import SIBLING_RULES
from ..defaults import DEFAULT_TIME_LIMIT
from ..engine.pagefill import PageFill
from ..errors import EnvironmentFault, Finding, IssueError
from ..session import Rebuilt, Session
from ..shipped import DEFAULT_LAYOUT, Layout
from .pageimages import page_pngs

DEFAULT_PORT = 8000
#: The sender the mail preview is composed with (the recipients file names the real one).
PREVIEW_SENDER = "editors@example.org"
_SECTION_FIELD = re.compile(r"^sections\[(\d+)\]")

Status = Literal["starting", "building", "ready", "error"]


@dataclass(frozen=True)
class ServeOptions:
    """What to serve and how."""

    issue: Path
    edition: str = "email"
    layout: Layout = DEFAULT_LAYOUT
    port: int = DEFAULT_PORT
    #: Resolution of the page images (96: a page at 100 % on most screens).
    dpi: float = 96.0
    time_limit: float | None = DEFAULT_TIME_LIMIT


@dataclass(frozen=True)
class PageView:
    """One page as the browser shows it."""

    number: int
    #: A digest of the page's image: a new version is a page that looks different.
    version: str
    full: float | None
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class View:
    """Everything the page shows; a new one after each change, pushed whole to the browser."""

    issue: str
    edition: str
    status: Status = "starting"
    generation: int = 0
    pages: tuple[PageView, ...] = ()
    #: Findings that concern no page in particular.
    findings: tuple[Finding, ...] = ()
    #: The errors of the last save, shown over the last good pages until a good save.
    errors: tuple[Finding, ...] = ()
    #: Pages being rebuilt (the layout says they changed; their new image is on its way).
    stale: tuple[int, ...] = ()
    #: Seconds the last rebuild took.
    seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as the browser reads it (``newsletter/workbench/web/app.js``)."""
        return {
            "issue": self.issue,
            "edition": self.edition,
            "status": self.status,
            "generation": self.generation,
            "pages": [
                {
                    "page": p.number,
                    "version": p.version,
                    "url": f"/pages/{p.number}.png?v={p.version}",
                    "full": None if p.full is None else round(p.full, 2),
                    "findings": [finding_dict(f) for f in p.findings],
                }
                for p in self.pages
            ],
            "findings": [finding_dict(f) for f in self.findings],
            "errors": [finding_dict(f) for f in self.errors],
            "stale": list(self.stale),
            "seconds": None if self.seconds is None else round(self.seconds, 2),
        }


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as the browser reads it."""
    return {**finding.as_dict(), "where": finding.where, "text": str(finding), "excerpt": finding.excerpt}


def place_findings(
    findings: Sequence[Finding], fills: Sequence[PageFill], section_ids: Sequence[str]
) -> tuple[dict[int, list[Finding]], list[Finding]]:
    """The findings by page, and those of no page.

    A layout finding names its page. A content finding names a field: a field of a section
    goes beside the section's first page, a field of the cover or the issue's metadata beside
    page 1, so that an editor sees the finding where the text prints.
    """
    first_page: dict[str, int] = {}
    for fill in fills:
        for part in fill.sections:
            first_page.setdefault(part.id, fill.page)
    pages = {fill.page for fill in fills}
    by_page: dict[int, list[Finding]] = {}
    loose: list[Finding] = []
    for finding in findings:
        page = finding.page
        if page is None and finding.field:
            match = _SECTION_FIELD.match(finding.field)
            if match is None:
                page = 1
            elif int(match.group(1)) < len(section_ids):
                page = first_page.get(section_ids[int(match.group(1))])
        if page is not None and page in pages:
            by_page.setdefault(page, []).append(finding)
        else:
            loose.append(finding)
    return by_page, loose


@dataclass
class Rendered:
    """The pages of the last good build: each page's PNG and version, how full each is."""

    images: dict[int, bytes] = field(default_factory=dict)
    versions: dict[int, str] = field(default_factory=dict)
    fills: tuple[PageFill, ...] = ()
    findings: tuple[Finding, ...] = ()
    section_ids: tuple[str, ...] = ()


def _version(png: bytes) -> str:
    return hashlib.blake2b(png, digest_size=6).hexdigest()


class Engine:
    """Rebuilds the edition after a save and renders the pages that changed.

    Runs in one worker thread at a time (the server awaits each rebuild before the next);
    ``publish`` is how it tells the server what to show, from that thread.
    """

    def __init__(self, options: ServeOptions, work: Path, publish: Callable[[View, Rendered], None]) -> None:
        self.options = options
        # Held while a rebuild runs: the server, stopping, waits for it before it removes the
        # rebuild's folder (a rebuild the stop abandoned still writes there).
        self._busy = threading.Lock()
        self.session = Session(options.issue, options.edition, work, options.layout)
        self._publish = publish
        self.rendered = Rendered()
        self.view = View(str(options.issue), options.edition)

    def rebuild(self, everything: bool = False) -> View:
        """Build again and publish the new view; ``everything`` renders every page again (an
        image or the layout changed: the layout's fingerprints may not see a new photo)."""
        with self._busy:
            return self._rebuild(everything)

    def close(self, timeout: float = 30.0) -> None:
        """Wait (at most ``timeout`` s) for a rebuild still running, then remove the session's
        temporary files."""
        if self._busy.acquire(timeout=timeout):
            try:
                self.session.close()
            finally:
                self._busy.release()

    def _rebuild(self, everything: bool) -> View:
        started = time.perf_counter()
        self._show(replace(self.view, status="building"))

        def changed(pages: list[int]) -> None:
            # The layout is checked: say which pages are on their way before the PDF is written.
            self._show(replace(self.view, status="building", stale=tuple(pages)))

        before = self.rendered

        def proofed(pages: list[int], proof: Proof) -> None:
            # The first changed page, written alone and shown before the whole PDF is written
            # (what the editor waits for); its image from the PDF follows, the same pixels.
            first = pages[0]
            png = page_pngs(proof([first]), [1], self.options.dpi)[1]
            images = {**self.rendered.images, first: png}
            versions = {**self.rendered.versions, first: _version(png)}
            self.rendered = replace(self.rendered, images=images, versions=versions)
            self._show(replace(self._ready(started, stale=tuple(pages[1:])), status="building"))

        try:
            done = self.session.rebuild(on_changed=changed, on_proof=proofed)
            if done.result is None:
                self.rendered = before  # a check of the written PDF failed: the last good pages
            return self._rebuilt(done, everything, started)
        except EnvironmentFault as fault:
            self.rendered = before
            problem = Finding("environment", "error", str(fault), fault.hint, fault.path)
            return self._failed([problem], started)
        except Exception as exc:  # noqa: BLE001 - a bug must not take the preview down
            self.rendered = before
            traceback.print_exc(file=sys.stderr)
            bug = Finding("internal", "error", f"the tool failed: {exc!r} (a bug; see the terminal)")
            return self._failed([bug], started)

    def siblings_saved(self) -> View | None:
        """A sibling language was saved: the findings that compare the two (a stale or
        untranslated text, a block one lacks) made again beside the pages as they are; None
        when there are no good pages to show them beside."""
        if self.view.status != "ready":
            return None
        with self._busy:
            return self._siblings_shown()

    def _siblings_shown(self) -> View | None:
        started = time.perf_counter()
        try:
            found = self.session.sibling_findings()
        except (IssueError, EnvironmentFault):
            return None  # the issue itself broke meanwhile: its own save rebuilds it
        except Exception:  # noqa: BLE001 - a bug must not take the preview down
            traceback.print_exc(file=sys.stderr)
            return None
        kept = [f for f in self.rendered.findings if f.rule not in SIBLING_RULES]
        self.rendered = replace(self.rendered, findings=(*kept, *found))
        view = self._ready(started)
        self._show(view)
        return view

    def _rebuilt(self, done: Rebuilt, everything: bool, started: float) -> View:
        """Render the pages of a rebuild and show them: the first changed page alone first
        (what the editor waits for), then the other changed pages, then any page not yet
        rendered (every page when ``everything``)."""
        result = done.result
        pdf = result.pdf if result is not None else None
        if result is None or pdf is None:
            return self._failed(done.findings, started)
        count = result.pages
        first = [n for n in done.changed if n <= count]
        rest = [
            n for n in range(1, count + 1) if n not in first and (everything or n not in self.rendered.images)
        ]
        images = {n: png for n, png in self.rendered.images.items() if n <= count}
        versions = {n: v for n, v in self.rendered.versions.items() if n <= count}
        findings = tuple(result.findings)
        ids = tuple(section.id for section in result.issue.sections)
        pending = [*first, *rest]
        for batch in (first[:1], first[1:], rest):
            if not batch:
                continue
            for number, png in page_pngs(pdf, batch, self.options.dpi).items():
                images[number], versions[number] = png, _version(png)
                pending.remove(number)
            self.rendered = Rendered(images, versions, result.fills, findings, ids)
            self._show(self._ready(started, stale=tuple(sorted(pending))))
        self.rendered = Rendered(images, versions, result.fills, findings, ids)
        view = self._ready(started)
        self._show(view)
        return view

    def _ready(self, started: float, stale: tuple[int, ...] = ()) -> View:
        rendered = self.rendered
        by_page, loose = place_findings(rendered.findings, rendered.fills, rendered.section_ids)
        full = {fill.page: fill.full for fill in rendered.fills}
        pages = tuple(
            PageView(n, rendered.versions[n], full.get(n), tuple(by_page.get(n, ())))
            for n in sorted(rendered.versions)
        )
        return replace(
            self.view,
            status="ready",
            pages=pages,
            findings=tuple(loose),
            errors=(),
            stale=stale,
            seconds=time.perf_counter() - started,
        )

    def _failed(self, findings: Sequence[Finding], started: float) -> View:
        errors = tuple(f for f in findings if f.severity == "error") or tuple(findings)
        view = replace(
            self.view, status="error", errors=errors, stale=(), seconds=time.perf_counter() - started
        )
        self._show(view)
        return view

    def _show(self, view: View) -> None:
        self.view = replace(view, generation=self.view.generation + 1)
        self._publish(self.view, self.rendered)


@dataclass(frozen=True)
class MailView:
    """The message a post of one language receives, as the browser shows it."""

    language: str
    subject: str
    body: str
    attachment: str
    attachment_bytes: int
    message_bytes: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "language": self.language,
            "subject": self.subject,
            "body": self.body,
            "attachment": {"name": self.attachment, "bytes": self.attachment_bytes},
            "message_bytes": self.message_bytes,
        }


def mail_views(source: Path, out_dir: Path, layout: Layout) -> list[MailView]:
    """The message of each language of the issue (itself and its ``.<lang>.yaml`` siblings),
    composed as ``send`` composes it, from the email edition of each (built into ``out_dir``,
    or reused when nothing changed). Raises ``IssueError`` when one has errors."""
    from ..issue.load import load_kept
    from ..send.compose import Composer
    from ..send.edition import email_edition
    from ..send.plan import language_sources

    load = partial(load_kept, kept={})  # each issue file read once
    sources = language_sources(source, load)
    languages = {language: email_edition(path, out_dir, layout, load) for language, path in sources.items()}
    composer = Composer(languages, PREVIEW_SENDER, None, layout)
    views = []
    for language in languages:
        _, wire = composer.test_wire(language, "post@example.org")
        message = email.message_from_bytes(wire)
        body, attachment, size = _parts(message)
        views.append(MailView(language, composer.subject(language), body, attachment, size, len(wire)))
    return views


def _parts(message: Message) -> tuple[str, str, int]:
    """The text body, the attachment's name and its size in bytes."""
    body, name, size = "", "", 0
    for part in message.walk():
        filename = part.get_filename()
        if filename:
            payload = part.get_payload(decode=True)
            name, size = filename, len(payload) if isinstance(payload, bytes) else 0
        elif part.get_content_type() == "text/plain" and not body:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                body = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return body, name, size
