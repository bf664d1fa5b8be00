"""The email edition of each language, built, or reused when none of its inputs changed.

A stamp beside the PDF (``<name>-email.pdf.json``) records a digest of every input (the
issue, its images, the layout, the fonts, the package's own code) and of the PDF itself:
the digest is a cache key, never part of a message, a Message-ID or the ledger. Every input
is checked before it is read: each image by ``issue.images.check_image`` (kind, size,
pixels), every file of the layout and the fonts opened without blocking and read only if it
is a regular file under the size limit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..build import build_issue
from ..editions import output_path
from ..errors import EnvironmentFault, IssueError, error
from ..issue.images import check_image
from ..issue.load import Loaded, format_path, load_issue, walk
from ..issue.model import Figure
from ..safeio import NotRegular, atomic_write, read_regular, writing
from ..shipped import DEFAULT_LAYOUT, FILES, Layout
from .compose import LanguageVersion

#: The package's own folder (``newsletter/``): its code is an input of every edition.
PACKAGE = Path(__file__).resolve().parent.parent
#: Largest layout or font file read for the stamp (fonts are the largest, about 0.7 MB).
MAX_INPUT_BYTES = 20_000_000


def email_edition(
    source: Path, out_dir: Path, layout: Layout = DEFAULT_LAYOUT, load: Callable[[Path], Loaded] = load_issue
) -> LanguageVersion:
    """The email edition of ``source``, rebuilt only when an input changed.

    A stamp beside the PDF records a digest of every input (the issue, its images, the
    layout, the fonts, the code) and of the PDF itself; a matching stamp means the PDF is
    the one a build would make, and that it passed its checks when it was made. The stamp is
    a cache: written atomically, and ignored (the edition rebuilt) when unreadable.
    """
    pdf = output_path(source, out_dir, "email")
    stamp = pdf.with_suffix(".pdf.json")
    loaded = load(source)
    digest = _inputs_digest(loaded, layout)
    recorded = _read_stamp(stamp) if pdf.is_file() else None
    if recorded is not None and recorded.get("inputs") == digest and recorded.get("pdf") == sha256_of(pdf):
        return LanguageVersion(
            loaded.issue.language,
            loaded.issue,
            pdf,
            recorded["pages"],
            recorded["teasers"],
            tuple(recorded["notices"]),
        )
    with writing(out_dir):  # a temporary file of the layout (a font) on a full disk
        result = build_issue(source, out_dir, layout, edition="email")
    assert result.pdf is not None
    teasers = {ref.target: ref.target_page for ref in result.references if ref.page == 1 and ref.target_page}
    notices = tuple(str(f) for f in result.findings if f.severity == "notice")
    stamp_data = {
        "inputs": digest,
        "pdf": sha256_of(result.pdf),
        "pages": result.pages,
        "teasers": teasers,
        "notices": list(notices),
    }
    with writing(out_dir):
        atomic_write(stamp, json.dumps(stamp_data).encode("utf-8"))
    return LanguageVersion(result.issue.language, result.issue, result.pdf, result.pages, teasers, notices)


def _read_stamp(stamp: Path) -> dict[str, Any] | None:
    """The stamp's record, or None when it is missing or unreadable: a cache is rebuilt."""
    try:
        recorded = json.loads(read_regular(stamp, 1_000_000))
    except (OSError, ValueError):
        return None
    valid = (
        isinstance(recorded, dict)
        and isinstance(recorded.get("pages"), int)
        and isinstance(recorded.get("teasers"), dict)
        and isinstance(recorded.get("notices"), list)
    )
    return recorded if valid else None


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file at ``path``, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _inputs_digest(loaded: Loaded, layout: Layout) -> str:
    """A digest of every input of the edition, each checked before it is read.

    The issue's text is the one the strict reader read (at most 1 MB); each image is checked
    by ``check_image`` first (an error located at its field); layout and font files are read
    only when they are regular files under ``MAX_INPUT_BYTES``.
    """
    source, issue = loaded.path, loaded.issue
    refused = []
    images = []
    for path, value in walk(issue):
        if isinstance(value, Figure):
            message = check_image(source.parent, value.image)
            if message:
                line, col = loaded.where((*path, "image"))
                refused.append(
                    error(
                        source,
                        message,
                        line=line,
                        col=col,
                        field=format_path((*path, "image")),
                        rule="image-file",
                    )
                )
            else:
                images.append((path, source.parent / value.image))
    if refused:
        raise IssueError(refused)
    digest = hashlib.sha256()
    digest.update(loaded.located.text.encode("utf-8") + b"\0")
    for path, image in sorted(set(images), key=lambda pair: str(pair[1])):
        digest.update(image.name.encode() + b"\0" + _checked(image, loaded, path) + b"\0")
    for folder in (layout.templates, layout.fonts, PACKAGE):
        # The package's files/ are the default layout and fonts (links in a checkout).
        shipped = FILES if folder == PACKAGE else None
        for file in sorted(
            p
            for p in folder.rglob("*")
            if "__pycache__" not in p.parts and (shipped is None or not p.is_relative_to(shipped))
        ):
            if file.is_symlink() or file.is_file():
                digest.update(str(file.relative_to(folder)).encode() + b"\0" + _layout_file(file) + b"\0")
    return digest.hexdigest()


def _checked(image: Path, loaded: Loaded, path: tuple[str | int, ...]) -> bytes:
    """An image's bytes, read only as the regular file ``check_image`` saw."""
    try:
        return read_regular(image, MAX_INPUT_BYTES)
    except OSError as exc:
        line, col = loaded.where((*path, "image"))
        raise IssueError(
            [
                error(
                    loaded.path,
                    f"image {image.name!r} cannot be read: {exc.strerror or exc}",
                    line=line,
                    col=col,
                    field=format_path((*path, "image")),
                    rule="image-file",
                )
            ]
        ) from None


def _layout_file(file: Path) -> bytes:
    """A file of the layout, the fonts or the code: a regular file under the size limit."""
    try:
        return read_regular(file, MAX_INPUT_BYTES)
    except NotRegular as exc:
        raise IssueError(
            [
                error(
                    file,
                    f"{exc}: a layout holds only regular files (templates, CSS, fonts, images)",
                    rule="layout-file",
                    hint="remove it from the layout folder, or replace it with the file itself",
                )
            ]
        ) from None
    except OSError as exc:
        raise EnvironmentFault(f"cannot read a file of the layout: {exc.strerror or exc}", file) from None
