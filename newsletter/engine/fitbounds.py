"""How far the layout lets a typesetter go to fit the copy (``fit.yaml`` beside its
templates): read by ``check`` (the fullness a page should reach) and by ``fit`` (the bounds
of its tries)."""

from __future__ import annotations

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import IssueError, error
from ..shipped import Layout


class FitBounds(BaseModel):
    """How far ``fit`` may go, as the layout declares it (``layouts/fit.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Tracking, tighter or looser, in percent of the type size.
    tracking: float = Field(default=1.0, ge=0, le=5)
    #: Image sizes, smaller or larger, in percent of their set size.
    images: int = Field(default=10, ge=0, le=50)
    #: Whether a section's columns may be filled in turn instead of balanced.
    balance_columns: bool = True
    #: Whether a section may start on the previous section's last page (``new_page: false``).
    run_on: bool = True
    #: How full a page should be, in percent: ``check`` notes a page less full (``page-fill``)
    #: and ``fit`` tries these bounds on it.
    fullness: int = Field(default=70, ge=0, le=100)


def bounds(layout: Layout) -> FitBounds:
    """The layout's bounds (``fit.yaml`` beside its templates); the defaults when it has none."""
    path = layout.templates / "fit.yaml"
    if not path.is_file():
        return FitBounds()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return FitBounds.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise IssueError(
            [
                error(
                    path,
                    f"the layout's fitting bounds cannot be read: {exc}",
                    rule="fit-bounds",
                    hint="fit.yaml holds tracking, images, balance_columns, run_on and fullness; see docs/issue-format.md",
                )
            ]
        ) from None
