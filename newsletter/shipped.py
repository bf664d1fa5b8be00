"""The files the package ships beside its code: the editorial office's layout, its fonts
(with their licences) and the issue format's documentation and schema.

The repository keeps one copy of each at its top (``layouts/``, ``fonts/``, ``docs/``), where
the office edits them. ``newsletter/files/`` links to them, and a wheel carries the files
themselves under the same names (package data: ``pip`` copies what the links point at). So
they are found the same way, from this module's place, in a checkout, an editable install and
an installed wheel, whatever the current folder. ``--layout`` names another layout folder;
the fonts are always these.

This module imports nothing of the pipeline: ``new``, ``schema`` and ``--help`` use it
without loading WeasyPrint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: ``newsletter/files``: links in a checkout, the files themselves in a wheel.
FILES = Path(__file__).resolve().parent / "files"
#: The default layout: templates, stylesheets, labels, colour profiles.
LAYOUTS = (FILES / "layouts").resolve()
#: The only fonts a PDF uses, each family in its folder with its licence.
FONTS = (FILES / "fonts").resolve()
#: The JSON Schema of the issue format, for the editors' YAML language server.
SCHEMA = (FILES / "docs" / "issue.schema.json").resolve()
#: The issue format, for editors.
FORMAT_DOC = (FILES / "docs" / "issue-format.md").resolve()

#: What a layout folder must hold, and what its fonts folder must hold, to be used at all.
LAYOUT_FILES = ("issue.html.j2", "labels.yaml", "newsletter.css")
FONT_PATTERNS = ("*.ttf", "*.otf")


def layout_problem(templates: Path, fonts: Path) -> tuple[Path, str] | None:
    """What keeps a layout from being used, as the folder looked for and why; None if nothing.

    An installation that lost its layout or fonts would otherwise fail far downstream: every
    character of the issue "cannot be printed" by no fonts, or a template is not found.
    """
    if not templates.is_dir():
        return templates, "no such layout folder"
    missing = [name for name in LAYOUT_FILES if not (templates / name).is_file()]
    if missing:
        return templates, f"the layout folder has no {', '.join(missing)}"
    if not fonts.is_dir():
        return fonts, "no such fonts folder"
    if not any(next(fonts.rglob(pattern), None) for pattern in FONT_PATTERNS):
        return fonts, "the fonts folder holds no font (*.ttf, *.otf)"
    return None


@dataclass(frozen=True)
class Layout:
    """Where a layout's templates, stylesheet, labels and fonts are."""

    templates: Path
    fonts: Path

    @property
    def stylesheet(self) -> Path:
        """The print stylesheet."""
        return self.templates / "newsletter.css"

    @property
    def labels_file(self) -> Path:
        """The per-language table of the words the layout prints."""
        return self.templates / "labels.yaml"

    @property
    def mail_file(self) -> Path:
        """What the layout sets for the mail (``mail.yaml``; optional)."""
        return self.templates / "mail.yaml"

    def require(self) -> None:
        """Raise ``EnvironmentFault`` (exit 4), naming the folder looked for, when the layout's
        templates or fonts are not there: an installation's fault, not the issue's."""
        problem = layout_problem(self.templates, self.fonts)
        if problem is not None:
            folder, why = problem
            shipped = folder in (LAYOUTS, FONTS)
            from .errors import EnvironmentFault  # here: this module imports nothing at its start

            raise EnvironmentFault(
                why,
                folder,
                "the installation lost the files it ships: reinstall newsletter"
                if shipped
                else "name a layout folder holding issue.html.j2, labels.yaml and newsletter.css",
            )


#: The layout the package ships (``layouts/`` and ``fonts/`` at the top of the repository).
DEFAULT_LAYOUT = Layout(templates=LAYOUTS, fonts=FONTS)
