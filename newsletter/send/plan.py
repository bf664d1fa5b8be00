"""The plan of a send and its running: the email edition of each language (``edition.py``:
built, or reused when up to date) -> messages -> the posts (``deliver``, through the send
loop of ``loop.py``), or ``.eml`` files for a dry run, or one test message per language.

The issue in another language is the file beside it named ``<name>.<lang>.yaml``
(``issue-10.fr.yaml`` for ``issue-10.yaml``); a post asking for a language the issue is not
written in gets the issue's own language, and the summary and the report say so.

Nothing is read whole before it is checked: the issue and its siblings through the strict
YAML reader (size-bounded), the images and the layout's files as ``edition.py`` says.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..check import ContentContext, run_rules
from ..editions import EDITIONS
from ..errors import Finding, IssueError, did_you_mean, error
from ..issue.fonts import Coverage
from ..issue.load import ISSUE_LANGUAGES, Loaded, load_issue, load_kept, sibling_paths
from ..issue.model import Issue
from ..safeio import check_output_folder, write_unsynced, writing
from ..shipped import DEFAULT_LAYOUT, Layout
from .compose import Composer, LanguageVersion, Outgoing, issue_key
from .edition import email_edition, sha256_of
from .ledger import Copy, Entry, Ledger, default_ledger
from .lock import SendLock
from .loop import DEFAULT_MAX_FAILURES, Outcome, Retry, Run, Settings, send
from .recipients import Post, RecipientList, legacy_slug
from .transport import MailError, SmtpTransport, Transport, Unknown, Unreachable
from .transport import Refused as ServerRefused

if TYPE_CHECKING:
    from .copies import Signing


class UsageError(Exception):
    """The send was asked for something that cannot be done (exit 2), e.g. a correction of
    a revision no post has had."""


@dataclass(frozen=True)
class Plan:
    """What a send would do: the email PDF of each language, and one message per post, composed
    when sent."""

    key: str
    revision: int
    languages: dict[str, LanguageVersion]
    composer: Composer
    outgoing: list[Outgoing]
    recipients: RecipientList
    #: What the summary must say besides the counts: duplicate addresses, posts left out.
    notes: list[str] = field(default_factory=list)

    def settled(self, ledger: Ledger, retry_refused: bool = False) -> tuple[set[str], set[str]]:
        """The posts of this send confirmed sent, and those refused for good (a 5xx) that a
        send skips (none with ``retry_refused``)."""
        entries = ledger.entries(self.key, self.revision)
        sent = {e.post for e in entries if e.state == "sent"}
        refused = set() if retry_refused else {e.post for e in entries if e.state == "failed"}
        return sent, refused

    def summary(self, ledger: Ledger | None = None, retry_refused: bool = False) -> str:
        """What the send will do, for the editor to confirm: posts by language and group,
        language fallbacks, notices, the size of each edition, test sends, the ledger's state."""
        lines = []
        already: set[str] = set()
        refused: set[str] = set()
        tests: dict[str, str] = {}
        if ledger is not None:
            already, refused = self.settled(ledger, retry_refused)
            for test in ledger.tests(self.key):
                if test.revision == self.revision and test.reply.startswith("250"):
                    tests[test.language] = test.address
        what = f"{self.key}" + (f", correction (revision {self.revision})" if self.revision > 1 else "")
        to_send = [o for o in self.outgoing if o.post.key not in already | refused]
        before = ([f"{len(already)} sent before"] if already else []) + (
            [f"{len(refused)} refused for good before, sent again only with --retry-refused"]
            if refused
            else []
        )
        lines.append(
            f"{what}: {len(self.outgoing)} posts, {len(to_send)} to send now"
            + (f" ({'; '.join(before)})" if before else "")
        )
        by_language = Counter(o.language for o in to_send)
        lines.append("  by language: " + ", ".join(f"{lang} {n}" for lang, n in sorted(by_language.items())))
        groups = Counter(g for o in to_send for g in (o.post.groups or ["(no group)"]))
        lines.append("  by group: " + ", ".join(f"{g} {n}" for g, n in sorted(groups.items())))
        fallbacks = Counter((o.post.language, o.language) for o in to_send if o.fallback)
        for (wanted, got), n in sorted(fallbacks.items(), key=str):
            lines.append(
                f"  language fallback: {n} posts ask for {wanted!r}, which has no edition: they get {got!r}"
            )
        sizes = self.composer.largest(self.outgoing)
        for lang, version in self.languages.items():
            pdf_kb = version.pdf.stat().st_size / 1024
            tested = (
                f"; test sent to {tests[lang]}" if lang in tests else "; no test send yet (--test ADDRESS)"
            )
            lines.append(
                f"  edition {lang}: {version.pdf.name}, {version.pages} pages, {pdf_kb:.0f} KB; "
                f"message {sizes.get(lang, 0) / 1024:.0f} KB{tested}"
            )
            if version.notices:
                # By rule, as a count: the list is `check`'s (issue 10 in French has twenty).
                rules = Counter(
                    n.rsplit("[", 1)[-1].rstrip("]") if n.endswith("]") else "notice" for n in version.notices
                )
                counts = ", ".join(f"{count} {rule}" for rule, count in sorted(rules.items()))
                source = version.notices[0].split(":", 1)[0]
                lines.append(f"    notices: {counts} (`newsletter check {source}` lists them)")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def language_sources(source: Path, load: Callable[[Path], Loaded] = load_issue) -> dict[str, Path]:
    """Language -> issue file: the issue itself first (its language is the fallback), then its
    languages beside it, found as the checks find them
    (``issue.load.sibling_paths``, both ways: ``issue-10.fr.yaml`` has ``issue-10.yaml`` too), each
    in the language it is written in.

    A language's file that has errors counts in the language its name says (``issue-10.fr.yaml``:
    ``fr``), so that its errors stop only the sends that need it; one whose name says none
    raises them. Raises ``IssueError`` too when two files are in one language. ``load``
    reads an issue file (``plan`` reads each once for all it does).
    """
    found: dict[str, Path] = {load(source).issue.language: source}
    for sibling in sibling_paths(source):
        try:
            loaded = load(sibling)
        except IssueError:
            tag = _language_tag(sibling)
            if tag is None or tag in found:
                raise
            found[tag] = sibling
            continue
        language = loaded.issue.language
        if language in found:
            line, col = loaded.where(("language",))
            raise IssueError(
                [
                    error(
                        sibling,
                        f"this edition is in {language!r}, as {found[language].name} is: "
                        "which one is meant for the posts of that language?",
                        line=line,
                        col=col,
                        field="language",
                        rule="editions",
                        hint="set the language it is written in, or move the file that is not part of this issue",
                    )
                ]
            )
        found[language] = sibling
    return found


def _language_tag(path: Path) -> str | None:
    """The language a file's name says (``issue-10.fr.yaml``: ``fr``), if it says one."""
    tag = path.name.removesuffix(".yaml").rpartition(".")[2]
    return tag if "." in path.name.removesuffix(".yaml") and tag in ISSUE_LANGUAGES else None


def ledger_key(sources: dict[str, Path], fallback: Issue, load: Callable[[Path], Loaded] = load_issue) -> str:
    """The issue's name in the ledger and the Message-IDs, the same whichever language's file
    is named on the command line: that of the file whose name says no language
    (``issue-10.yaml``), else of the first language in alphabetical order (``fallback``'s,
    the language named, when that one cannot be read)."""
    untagged = [path for path in sources.values() if _language_tag(path) is None]
    chosen = untagged[0] if untagged else sources[min(sources)]
    try:
        return issue_key(load(chosen).issue)
    except IssueError:
        return issue_key(fallback)


def mail_problems(loaded: Loaded) -> list[Finding]:
    """What stops an issue from being mailed, at its place: a character that breaks a mail
    header in a field that reaches one, inline markup nested too deeply to be laid out, and a
    marking that is a protection level or unknown (the check rules ``mail-header``,
    ``markup-depth`` and ``marking``, run before anything is built)."""
    context = ContentContext(loaded, Coverage({}), EDITIONS["email"])
    return run_rules(["mail-header", "markup-depth", "marking"], context)


def held_until(
    sources: dict[str, Path], now: dt.datetime, load: Callable[[Path], Loaded] = load_issue
) -> tuple[dt.datetime, Path] | None:
    """The latest ``release`` still to come among the issue's languages, and its file; None
    when every language may be sent at ``now``."""
    held = []
    for path in sources.values():
        try:
            release = load(path).issue.release
        except IssueError:
            continue  # its errors are reported where the edition is needed
        if release is not None and release > now:
            held.append((release, path))
    return max(held) if held else None


def _keys_kept(ledger_path: Path, key: str, issues: list[Issue], posts: list[Post]) -> tuple[str, list[Post]]:
    """The issue's key and the posts, with the ids a ledger already holds kept.

    Ids are made from names; earlier versions dropped accented letters where they now
    transliterate them (``des-tres-humains`` became ``des-etres-humains``), and took the
    issue's key from the language named on the command line (the French series for
    ``send issue-10.fr.yaml``). A send resumed with new ids would go out to every post
    again: where the ledger knows the issue only under another of these keys, or a post
    (without an ``id:`` of its own) only under its old id, the old one is kept.
    """
    if not ledger_path.exists():
        return key, posts
    others = [issue_key(issue) for issue in issues] + [f"{legacy_slug(i.series)}-{i.number}" for i in issues]
    with Ledger(ledger_path, create=False, read_only=True) as ledger:
        if not ledger.entries(key):
            key = next((other for other in others if other != key and ledger.entries(other)), key)
        known = {entry.post for entry in ledger.entries(key)}
    kept = []
    for post in posts:
        old = legacy_slug(post.name)
        if post.id is None and post.key not in known and old in known:
            post = post.model_copy(update={"id": old})
        kept.append(post)
    return key, kept


def previous_revision(ledger_path: Path, key: str, revision: int) -> dict[str, Entry]:
    """For a correction (``revision`` > 1): the entry of the latest revision before it that
    each post had (sent, or possibly arrived).

    Corrections go by language: after two of the French issue, the French posts have had
    revision 3 and the English ones still revision 1, which a correction of the English
    issue then corrects. Raises ``UsageError`` when no post had ``revision - 1``.
    """
    if not ledger_path.exists():
        raise UsageError(f"no ledger at {ledger_path}: nothing was sent, so there is nothing to correct")
    with Ledger(ledger_path, create=False, read_only=True) as ledger:
        had = [
            e
            for e in ledger.entries(key)
            if e.revision < revision and (e.state == "sent" or e.outcome_unknown)
        ]
    if not any(e.revision == revision - 1 for e in had):
        raise UsageError(
            f"no post has had revision {revision - 1} of {key}: nothing to correct"
            + (" (send the issue first, without --revision)" if revision == 2 else "")
        )
    return {e.post: e for e in had}  # by revision: each post's latest is kept


def plan(
    source: Path,
    recipients: RecipientList,
    out_dir: Path,
    group: str | None = None,
    layout: Layout = DEFAULT_LAYOUT,
    revision: int = 1,
    ledger_path: Path | None = None,
    signing: Signing | None = None,
) -> Plan:
    """Check the issue for mailing, build (or reuse) the editions the posts need, and list one
    message per post. For a correction (``revision`` > 1), only the posts that had the
    previous revision, read from the ledger at ``ledger_path``. With ``signing``, each post
    gets its own copy, stamped and signed (``copies.py``)."""
    posts, notes = recipients.unique(group)
    if not posts:
        groups = {g for p in recipients.posts() for g in p.groups}
        message = (
            f"no post is in the group {group!r}{did_you_mean(group or '', groups)}"
            if group
            else "the recipients file lists no post"
        )
        raise IssueError(
            [
                error(
                    recipients.path,
                    message,
                    rule="recipients",
                    hint="see docs/recipients-format.md; --group names a group of the recipients file",
                )
            ]
        )
    # Each issue file is read once, for everything below.
    load = partial(load_kept, kept={})
    sources = language_sources(source, load)
    main_language = next(iter(sources))
    needed = {post.language or main_language for post in posts} | {main_language}
    problems = [f for lang in sources if lang in needed for f in mail_problems(load(sources[lang]))]
    if problems:
        raise IssueError(problems)
    check_output_folder(out_dir)
    languages = {
        lang: email_edition(sources[lang], out_dir, layout, load) for lang in sources if lang in needed
    }
    # The issue's own language first: it is the fallback.
    languages = {main_language: languages[main_language], **languages}
    copies = None
    if signing is not None:
        from .copies import CopyMaker  # pyHanko loads only for a signed send

        copies = CopyMaker(signing, languages, layout, revision)
    composer = Composer(
        languages,
        recipients.recipients.sender,
        recipients.recipients.sender_name,
        layout,
        revision,
        copies,
    )
    composer.key, posts = _keys_kept(
        ledger_path or default_ledger(out_dir),
        ledger_key(sources, languages[main_language].issue, load),
        [version.issue for version in languages.values()],
        posts,
    )
    references: dict[str, tuple[str, ...]] = {}
    if revision > 1:
        posts, references = _corrected(
            posts,
            languages,
            composer,
            notes,
            revision,
            previous_revision(ledger_path or default_ledger(out_dir), composer.key, revision),
        )
    outgoing = list(composer.outgoing(posts, references))
    if copies is not None:
        copies.check(outgoing)
    return Plan(composer.key, revision, languages, composer, outgoing, recipients, notes)


def _corrected(
    posts: list[Post],
    languages: dict[str, LanguageVersion],
    composer: Composer,
    notes: list[str],
    revision: int,
    previous: dict[str, Entry],
) -> tuple[list[Post], dict[str, tuple[str, ...]]]:
    """The posts a correction goes to, and the Message-IDs each one's correction refers to.

    ``previous`` holds each post's latest revision. A post that had none gets no correction
    (``send`` without --revision sends it the issue as it is now); nor does one whose language's
    PDF is byte-identical to the one it had last (a correction of the English issue is no
    news to the French posts).
    """
    digests = {lang: sha256_of(version.pdf) for lang, version in languages.items()}
    chosen, unchanged, absent = [], Counter[tuple[str, int]](), 0
    for post in posts:
        entry = previous.get(post.key)
        language = next(composer.outgoing([post])).language
        if entry is None:
            absent += 1
        elif entry.pdf_sha256 == digests[language]:
            unchanged[language, entry.revision] += 1
        else:
            chosen.append(post)
    if absent:
        had = "revision 1" if revision == 2 else f"any revision before {revision}"
        notes.append(
            f"{absent} posts have not had {had} and get no correction; "
            "`send` without --revision sends them the issue as it is now"
        )
    for (language, since), count in sorted(unchanged.items()):
        notes.append(
            f"{count} posts get the {language} edition, unchanged since revision {since}: no correction for them"
        )
    if not chosen:
        why = (
            "their editions are unchanged: edit the issue first"
            if unchanged
            else f"none of them had revision {revision - 1}"
        )
        raise UsageError(f"no post of this send gets a correction: {why}")
    refers = {p.key: (*previous[p.key].refers_to.split(), previous[p.key].message_id) for p in chosen}
    return chosen, refers


def dry_run(the_plan: Plan, out_dir: Path, ledger_path: Path | None = None) -> list[Path]:
    """Write every message as ``.eml`` under ``out/mail/<issue>/``, one at a time, each whole
    or not at all; no server, no ledger written. Signed copies carry the numbers the ledger
    at ``ledger_path`` gave their posts, and the next ones for the others."""
    if the_plan.composer.copies is not None:
        the_plan.composer.copies.number(_dry_numbers(the_plan, ledger_path or default_ledger(out_dir)))
    folder = out_dir / "mail" / the_plan.key
    written = []
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        for item in the_plan.outgoing:
            path = folder / f"{item.post.key}.eml"
            write_unsynced(path, the_plan.composer.wire(item))
            written.append(path)
    return written


def _dry_numbers(the_plan: Plan, ledger_path: Path) -> dict[str, Copy]:
    """The copy numbers a send would give: the ledger's, then the next ones, made today."""
    known: dict[str, Copy] = {}
    if ledger_path.exists():
        with Ledger(ledger_path, create=False, read_only=True) as ledger:
            known = ledger.copies(the_plan.key, the_plan.revision)
    today = dt.date.today().isoformat()
    following = max((c.number for c in known.values()), default=0)
    for item in the_plan.outgoing:
        if item.post.key not in known:
            following += 1
            known[item.post.key] = Copy(item.post.key, following, today, "")
    return known


def deliver(
    the_plan: Plan,
    settings: Settings,
    ledger_path: Path,
    rate_per_minute: float | None = None,
    retry: Retry | None = None,
    progress: Callable[[Outcome], None] | None = None,
    max_failures: int = DEFAULT_MAX_FAILURES,
    transport: Transport | None = None,
    lock: bool = True,
    retry_refused: bool = False,
) -> Run:
    """Send the plan's messages, recording each in the ledger at ``ledger_path``.

    Takes the ledger's lock unless the caller holds it (``lock=False``); connects with
    ``settings`` unless given a ``transport``. Raises ``MailError`` before anything is sent
    when the server cannot be reached or a message is over its SIZE. ``retry_refused``: send
    again to the posts refused for good (a 5xx) in an earlier run.
    """
    if lock:
        with SendLock(ledger_path, the_plan.key):
            return deliver(
                the_plan,
                settings,
                ledger_path,
                rate_per_minute,
                retry,
                progress,
                max_failures,
                transport,
                lock=False,
                retry_refused=retry_refused,
            )
    with Ledger(ledger_path) as ledger:
        return send(
            the_plan.outgoing,
            the_plan.composer,
            ledger,
            transport or SmtpTransport(settings),
            rate_per_minute=rate_per_minute or the_plan.recipients.recipients.rate_per_minute,
            retry=retry,
            progress=progress,
            max_failures=max_failures,
            retry_refused=retry_refused,
        )


def send_test_messages(
    the_plan: Plan, settings: Settings, ledger_path: Path, address: str, transport: Transport | None = None
) -> list[Outcome]:
    """One message per edition to ``address``, marked as a test, outside the posts' accounting
    (recorded apart in the ledger). Raises ``MailError`` when nothing can be sent."""
    composer = the_plan.composer
    link = transport or SmtpTransport(settings)
    outcomes = []
    try:
        messages = {lang: composer.test_wire(lang, address) for lang in the_plan.languages}
        limit = link.size_limit()
        too_big = {lang: len(data) for lang, (_, data) in messages.items() if limit and len(data) > limit}
        if too_big:
            raise MailError(
                f"the {', '.join(too_big)} edition's message is larger than the server's limit of {limit} bytes; nothing was sent"
            )
        with Ledger(ledger_path) as ledger:
            for lang, (message_id, data) in messages.items():
                outcome = Outcome(f"test-{lang}", f"test ({lang}) to {address}", "failed", "")
                try:
                    link.send(composer.sender, [address], data, lambda: None)
                    outcome.state, outcome.reply = "sent", "250 accepted"
                except ServerRefused as exc:
                    outcome.reply = exc.reply
                except (Unreachable, Unknown) as exc:
                    outcome.state, outcome.reply = (
                        ("unknown" if isinstance(exc, Unknown) else "failed"),
                        exc.reason,
                    )
                ledger.record_test(the_plan.key, the_plan.revision, lang, address, message_id, outcome.reply)
                outcomes.append(outcome)
    finally:
        link.close()
    return outcomes
