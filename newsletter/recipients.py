"""The recipients file: the diplomatic posts an issue is sent to.

Read with the same strict YAML reader as issues and validated the same way: every error
with ``file:line:col``, all at once. See ``docs/recipients-format.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .load import read_model

Address = Annotated[str, StringConstraints(pattern=r"^[^@\s<>\"(),;:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", max_length=254)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
PostId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Post(_Data):
    """A diplomatic post: where its copy goes and in which language."""

    name: Name
    #: Stable identifier in the send ledger and Message-IDs; made from the name when omitted.
    id: PostId | None = None
    addresses: Annotated[list[Address], Field(min_length=1, max_length=20)]
    cc: list[Address] = []
    #: Edition language; the issue's own language when that edition does not exist.
    language: Literal["en", "fr"] | None = None
    groups: list[Name] = []

    @property
    def key(self) -> str:
        """The post's identifier."""
        return self.id or slug(self.name)


class Server(_Data):
    """Where to send from. Credentials never live here: see ``mail.credentials``."""

    host: Name = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "ssl"] = "starttls"


class Recipients(_Data):
    """The recipients file."""

    sender: Address
    sender_name: Name | None = None
    server: Server = Server()
    #: At most this many messages a minute (None: no limit).
    rate_per_minute: Annotated[float, Field(gt=0, le=10_000)] | None = None
    posts: Annotated[list[Post], Field(min_length=1, max_length=5000)]

    @model_validator(mode="after")
    def _unique_keys(self) -> Recipients:
        seen: dict[str, int] = {}
        for i, post in enumerate(self.posts):
            if post.key in seen:
                raise ValueError(f"posts[{i}] has the same id {post.key!r} as posts[{seen[post.key]}]; give one an `id:`")
            seen[post.key] = i
        return self


@dataclass(frozen=True)
class RecipientList:
    """A validated recipients file."""

    path: Path
    recipients: Recipients

    def posts(self, group: str | None = None) -> list[Post]:
        """The posts, or those of ``group``."""
        return [p for p in self.recipients.posts if group is None or group in p.groups]


def slug(text: str) -> str:
    """``Embassy of France in Sarajevo`` -> ``embassy-of-france-in-sarajevo``."""
    ascii_text = text.lower().encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:64] or "post"


def load_recipients(path: Path) -> RecipientList:
    """Read and validate a recipients file; raise ``ContentError`` with every problem."""
    recipients, _ = read_model(path, Recipients, "a recipients file", "docs/recipients-format.md")
    return RecipientList(path, recipients)

