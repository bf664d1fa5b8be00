"""Preflight: what an editor or a printer would send back, as findings with where to fix them.

One module per stage of rules (``content``, ``layout``, ``output``), one for the rules that
belong to some editions only (``editions``, and the print shop's ``printshop``), one for two
languages in step (``siblings``) and their translations in step with their sources
(``translations``), the copy-fit rule (``copyfit``) and the outside validator
(``conformance``); ``registry`` holds the ``@rule`` decorator,
the contexts each stage's rules look at, and ``run_checks``. A new rule is a function in the
module of its stage and a fixture in ``tests/fixtures/check/``.

May import: the base modules (errors, defaults, shipped, editions, safeio), issue/, engine/,
press/ and check/ itself.
"""

from __future__ import annotations

from . import conformance, content, copyfit, editions, layout, output, siblings, translations
from . import printshop as printshop
from .content import guess_language
from .registry import (
    RULES,
    STAGES,
    ContentContext,
    Hit,
    LayoutContext,
    OutputContext,
    Rule,
    rule,
    run_checks,
    run_rules,
)

#: The rules whose findings depend on the issue's other languages: what a save of a sibling
#: changes (the live preview runs them again then, without laying the issue out).
SIBLING_RULES: tuple[str, ...] = ("sibling", "sibling-links", "translation-stale", "untranslated")

__all__ = [
    "RULES",
    "SIBLING_RULES",
    "STAGES",
    "ContentContext",
    "Hit",
    "LayoutContext",
    "OutputContext",
    "Rule",
    "conformance",
    "content",
    "copyfit",
    "editions",
    "guess_language",
    "layout",
    "output",
    "rule",
    "run_checks",
    "run_rules",
    "siblings",
    "translations",
]
