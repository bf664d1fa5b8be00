"""Each post's own copy: its language's email edition -> stamped with the post's copy line and
signed with the ministry's key (``authentic/``), when its message is composed.

A copy is made, attached, sent and dropped: memory does not grow with the posts. Its number
(N°) and the day it was first made come from the ledger (``Ledger.number_copies``), so a
resumed send makes the same copy for a post not yet sent (same line, same N°, same day),
signed again; the ledger then records the new copy's SHA-256.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..authentic.copyline import CopyLineError, CopyLineFont
from ..authentic.sign import CopyRecord, SigningKey, make_copy
from ..engine.render import labels_for
from ..errors import Finding, IssueError, error
from ..shipped import Layout
from .compose import LanguageVersion, Outgoing, issue_key
from .ledger import Copy

#: The copy line when the layout's labels do not give one (``copy_line``).
COPY_LINE = {
    "en": "Copy for {post} · {date} · N°\u00a0{number}",
    # No article to guess before the post's name: a label and a colon (its no-break space).
    "fr": "Exemplaire\u00a0: {post} · {date} · N°\u00a0{number}",
}
#: The font of the copy line, in the layout's fonts folder.
FONT = Path("lato") / "Lato-Regular.ttf"
#: The number shown before the ledger has given one (a message measured for the server's SIZE).
PLACEHOLDER = Copy("", 9999, "0000-00-00", "")


@dataclass(frozen=True)
class Signing:
    """How a send's copies are made: the key, and whether each carries a copy line."""

    key: SigningKey
    copy_line: bool = True


class CopyMaker:
    """Makes each post's signed copy of its language's edition (``compose.Copies``)."""

    def __init__(
        self, signing: Signing, languages: dict[str, LanguageVersion], layout: Layout, revision: int = 1
    ) -> None:
        self.signing = signing
        self.revision = revision
        self._languages = languages
        self._layout = layout
        self._font = CopyLineFont(layout.fonts / FONT)
        self._numbers: dict[str, Copy] = {}
        self._editions: dict[str, bytes] = {}  # one per language: memory flat in the posts
        self._lines = {lang: _line_template(layout, lang) for lang in languages}
        self._titles = {lang: _title(layout, version) for lang, version in languages.items()}

    def number(self, copies: dict[str, Copy]) -> None:
        """The copy numbers and days the ledger gave the posts of this send."""
        self._numbers = dict(copies)

    def check(self, items: list[Outgoing]) -> None:
        """Refuse, before anything is sent, a post whose copy line the font cannot draw:
        ``IssueError`` naming every such post."""
        if not self.signing.copy_line:
            return
        problems = []
        for item in items:
            line = self._lines[item.language].format(post=item.post.name, date="2000-01-01", number="0000")
            try:
                self._font.subset_for(line)
            except CopyLineError as exc:
                problems.append(self._refusal(item.language, item.post.name, exc))
        if problems:
            raise IssueError(problems)

    def numbered(self, post: str) -> Copy:
        """The post's copy number and day (a placeholder before the ledger has given them)."""
        return self._numbers.get(post, PLACEHOLDER)

    def copy_for(self, item: Outgoing) -> bytes:
        """The post's copy of its edition, stamped and signed."""
        copy = self.numbered(item.post.key)
        return self._make(item.language, item.post.name, item.post.key, copy.number, copy.made)

    def test_copy(self, language: str, address: str) -> bytes:
        """A test message's copy: the line names the editor's address, N° 0."""
        return self._make(language, address, "", 0, dt.date.today().isoformat())

    def _make(self, language: str, post: str, post_id: str, number: int, made: str) -> bytes:
        version = self._languages[language]
        line = ""
        if self.signing.copy_line:
            line = self._lines[language].format(post=post, date=made, number=f"{number:04d}")
        record = CopyRecord(
            issue_key(version.issue),
            self._titles[language],
            "email",
            language,
            post,
            post_id,
            number,
            made,
            line,
        )
        try:
            if language not in self._editions:
                self._editions[language] = version.pdf.read_bytes()
            return make_copy(self._editions[language], self.signing.key, record, self._font)
        except CopyLineError as exc:
            raise IssueError([self._refusal(language, post, exc)]) from None

    def _refusal(self, language: str, post: str, exc: CopyLineError) -> Finding:
        return error(
            self._layout.labels_file,
            f"the copy line of {post!r} cannot be drawn: {exc}",
            field=f"{language}.copy_line",
            rule="copy-line",
            hint="write the post's name in the recipients file with Latin letters, or send with --no-copy-line",
        )


def _line_template(layout: Layout, language: str) -> str:
    """The copy line's words in ``language``: the layout's ``copy_line`` label, else ours."""
    labels = labels_for(layout, language)
    words = labels.get("copy_line")
    return str(words) if isinstance(words, str) else COPY_LINE.get(language, COPY_LINE["en"])


def _title(layout: Layout, version: LanguageVersion) -> str:
    """The issue as its readers name it: ``<series> – <Issue> <number>``."""
    labels = labels_for(layout, version.language)
    return f"{version.issue.series} – {labels['issue']} {version.issue.number}"
