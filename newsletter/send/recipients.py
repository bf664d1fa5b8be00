"""The recipients file: the diplomatic posts an issue is sent to.

Read with the same strict YAML reader as issues and validated the same way: every error
with ``file:line:col``, all at once. See ``docs/recipients-format.md``.

Names that reach a mail header or the reports (``sender_name``, a post's ``name``) refuse the
characters ``issue/headers.py`` refuses, as written and once their encoded words (``=?...?=``) are
decoded. Addresses are checked by ``email-validator``'s rules of syntax (never by DNS), so
that ``a@b..example`` is refused here, at its line, not by the server. An address written
in two posts is a warning, located at its second place, and receives one copy per send
(``RecipientList.unique``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from ..errors import Finding
from ..issue.headers import ADDRESS_PATTERN, address_problem, header_problem
from ..issue.load import read_model


def _valid_address(value: str) -> str:
    # After the pattern: its message ("expected an email address ...") comes first.
    problem = address_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Address = Annotated[
    str, StringConstraints(pattern=ADDRESS_PATTERN, max_length=254), AfterValidator(_valid_address)
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _header_safe(value: str) -> str:
    problem = header_problem(value, "a mail header or a report")
    if problem:
        raise ValueError(f"{problem}; remove it")
    return value


#: A name that reaches a mail header or a report: no control, format or separator character.
HeaderName = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_header_safe)]
PostId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Post(_Data):
    """A diplomatic post: where its copy goes and in which language."""

    name: HeaderName
    #: Stable identifier in the send ledger and Message-IDs; made from the name when omitted.
    id: PostId | None = None
    addresses: Annotated[list[Address], Field(min_length=1, max_length=20)]
    cc: list[Address] = []
    #: The language the post reads; it gets the issue's own language when the issue is not written in it.
    language: Literal["en", "fr"] | None = None
    groups: list[Name] = []

    @property
    def key(self) -> str:
        """The post's identifier."""
        return self.id or slug(self.name)


class Server(_Data):
    """Where to send from. Credentials never live here: see ``loop.credentials``."""

    host: Name = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "ssl"] = "starttls"


class SenderNames(_Data):
    """The sender's name in each language: a post gets the name of its edition's language
    (the issue's own language's name when its own is not given)."""

    en: HeaderName | None = None
    fr: HeaderName | None = None

    @model_validator(mode="after")
    def _some(self) -> SenderNames:
        if self.en is None and self.fr is None:
            raise ValueError("give the sender's name in at least one language (en: ..., fr: ...)")
        return self


def _one_or_by_language(value: Any) -> str:
    return "by language" if isinstance(value, dict) else "one name"


#: One name for every language, or a name per language. The tags hold a space, so that no
#: field can be taken for one (``load`` drops them from the field's path).
SenderName = Annotated[
    Annotated[HeaderName, Tag("one name")] | Annotated[SenderNames, Tag("by language")],
    Discriminator(_one_or_by_language),
]


def sender_name_in(name: str | SenderNames | None, language: str, fallback: str) -> str | None:
    """The sender's name for a post in ``language``: the one name, or the name given for
    ``language``, else for ``fallback`` (the issue's own language), else none."""
    if name is None or isinstance(name, str):
        return name
    given: str | None = getattr(name, language, None) or getattr(name, fallback, None)
    return given


class SigningSettings(_Data):
    """How the ministry signs the copies (``send --sign``) and how they are checked (``verify``).
    Paths are relative to the recipients file; the passphrase is never written here."""

    #: The PKCS#12 file (.p12) of the signing key and certificate.
    certificate: Name | None = None
    #: The certificates (PEM) a copy's signer must chain to, for ``verify``.
    trust: list[Name] = []
    #: A time-stamping authority's URL (RFC 3161): the signatures become PAdES B-T.
    tsa: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=500)] | None = None


class Recipients(_Data):
    """The recipients file."""

    sender: Address
    #: The From name: one for every language, or one per language (``{en: ..., fr: ...}``).
    sender_name: SenderName | None = None
    server: Server = Server()
    #: At most this many messages a minute (None: no limit).
    rate_per_minute: Annotated[float, Field(gt=0, le=10_000)] | None = None
    posts: Annotated[list[Post], Field(min_length=1, max_length=5000)]
    #: Signed copies: the certificate, the trust anchors, the time-stamping authority.
    signing: SigningSettings | None = None

    @model_validator(mode="after")
    def _unique_keys(self) -> Recipients:
        seen: dict[str, int] = {}
        for i, post in enumerate(self.posts):
            if post.key in seen:
                raise ValueError(
                    f"posts[{i}] has the same id {post.key!r} as posts[{seen[post.key]}]; give one an `id:`"
                )
            seen[post.key] = i
        return self


@dataclass(frozen=True)
class RecipientList:
    """A validated recipients file, with its warnings (an address in two posts)."""

    path: Path
    recipients: Recipients
    warnings: tuple[Finding, ...] = ()

    def posts(self, group: str | None = None) -> list[Post]:
        """The posts, or those of ``group``, as written."""
        return [p for p in self.recipients.posts if group is None or group in p.groups]

    def unique(self, group: str | None = None) -> tuple[list[Post], list[str]]:
        """The posts of a send, each address in the first of them that lists it, and what was
        dropped, in words.

        An address written in two posts would receive two copies; it keeps the first post's.
        The first is looked for among the posts of this send (not the whole file), so that
        sending one group never leaves an address without its copy. A post left without any
        address of its own is not sent to: its addresses get the other post's copy.
        """
        owner: dict[str, Post] = {}
        kept: list[Post] = []
        notes: list[str] = []
        for post in self.posts(group):
            addresses: list[str] = []
            cc: list[str] = []
            for address, bucket in [(a, addresses) for a in post.addresses] + [(a, cc) for a in post.cc]:
                key = address.lower()
                holder = owner.setdefault(key, post)
                if holder is not post:
                    notes.append(
                        f"{address} is in {holder.name!r} and {post.name!r}: one copy, {holder.name!r}'s"
                    )
                elif key not in {a.lower() for a in addresses + cc}:  # twice in one post: once
                    bucket.append(address)
            if not addresses and not cc:
                notes.append(f"{post.name!r} has no address of its own: nothing is sent to it")
                continue
            if not addresses:  # only Cc left: the first of them becomes the To
                addresses, cc = cc[:1], cc[1:]
            if (addresses, cc) != (post.addresses, post.cc):
                post = post.model_copy(update={"addresses": addresses, "cc": cc})
            kept.append(post)
        return kept, notes


def slug(text: str) -> str:
    """``Ambassade de France à Sarajevo`` -> ``ambassade-de-france-a-sarajevo``: accented
    letters transliterated (``êtres`` -> ``etres``), never dropped."""
    decomposed = unicodedata.normalize(
        "NFKD", text.lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    )
    ascii_text = (
        "".join(ch for ch in decomposed if not unicodedata.combining(ch)).encode("ascii", "ignore").decode()
    )
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:64] or "post"


def legacy_slug(text: str) -> str:
    """The slug of earlier versions, which dropped accented letters (``des-tres-humains``):
    ids already in a send ledger were made with it, and keep it (see ``plan.plan``)."""
    ascii_text = text.lower().encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:64] or "post"


def load_recipients(path: Path) -> RecipientList:
    """Read and validate a recipients file; raise ``IssueError`` with every problem.

    An address written in two posts (or twice in one) is a warning at its second place.
    """
    recipients, located = read_model(path, Recipients, "a recipients file", "docs/recipients-format.md")
    first: dict[str, int] = {}
    warnings = []
    for i, post in enumerate(recipients.posts):
        for field in ("addresses", "cc"):
            for j, address in enumerate(getattr(post, field)):
                seen = first.setdefault(address.lower(), i)
                if seen == i and address.lower() not in _before(post, field, j):
                    continue
                line, col = located.where(("posts", i, field, j)) or (None, None)
                other = (
                    "twice in this post"
                    if seen == i
                    else f"also in posts[{seen}] ({recipients.posts[seen].name!r})"
                )
                warnings.append(
                    Finding(
                        "duplicate-address",
                        "warning",
                        f"{address} is {other}: it receives one copy",
                        "write each address in one post only",
                        path,
                        line,
                        col,
                        f"posts[{i}].{field}[{j}]",
                    )
                )
    return RecipientList(path, recipients, tuple(warnings))


def _before(post: Post, field: str, index: int) -> set[str]:
    """The addresses written in ``post`` before ``<field>[index]``, lowercased."""
    earlier = post.addresses[:index] if field == "addresses" else post.addresses + post.cc[:index]
    return {a.lower() for a in earlier}
