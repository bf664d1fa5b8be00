"""newsletter: typeset a quarterly newsletter issue written in YAML into a print-ready PDF.

The pipeline reads top to bottom: ``issue/`` (YAML -> model, typography) -> ``engine/``
(model -> HTML -> laid-out pages, page references verified) -> ``check/`` (the rules) ->
``press/`` (each edition finished) -> ``build.py`` (the coordinator: the atomic write of the
PDF); ``send/`` mails the email edition, ``workbench/`` holds the editors' tools, ``cli.py``
and ``commands/`` the command line. Each part imports only the parts before it
(``tests/test_imports.py``). ``Session`` keeps a build warm for the editor's loop. Importing
the package stays light: ``Session`` (and with it WeasyPrint) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Session

__version__ = "0.1.0"
__all__ = ["Session", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Session":
        from .session import Session

        return Session
    raise AttributeError(f"module 'newsletter' has no attribute {name!r}")
