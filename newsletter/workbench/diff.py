"""Proofs compared: what changed between two PDFs of an issue, page by page.

``compare`` reads two PDFs (an issue file is built first, see ``compare_inputs``) and tells:

- which pages changed, each with a PNG showing the old page, the new one and their
  difference in red, and the text added and removed on it;
- which pages were added or removed: pages are paired by their text with the numbers left
  out (a page pushed one page on by an insertion is the same page, its footer aside), then
  compared pixel by pixel and word by word;
- every page reference whose printed number changed (a link to ``#id`` printing a number:
  the teasers, the contents, "page N" in the text), read from the PDF's link annotations.

Pages are rendered with pypdfium2 and their text extracted with it; links are read with
pikepdf (pages drawn by ``pageimages.py``). Nothing here needs the issue: two PDFs from
anywhere can be compared. The difference in words is ``diffreport.describe``.
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..build import BuildOptions, build_issue
from ..editions import output_path
from ..safeio import check_folder, prepare_folder, staged_folder
from .pageimages import page_image

if TYPE_CHECKING:
    from PIL import Image

#: Resolution pages are compared at: a changed digit shows.
DEFAULT_DPI = 72.0
#: A channel differing by less than this is rendering noise, not a change.
_NOISE = 8
_RED = (220, 30, 30)


class UnreadableInput(Exception):
    """An input that is not a readable PDF or issue file, or a wrong use (exit 2)."""


@dataclass(frozen=True)
class PageChange:
    """A page that differs: its number in each PDF, the words added and removed, and the
    picture of the difference."""

    old: int
    new: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    #: Pixels that differ at the comparison's resolution (0 when only the text does).
    pixels: int
    image: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "old_page": self.old,
            "new_page": self.new,
            "added": list(self.added),
            "removed": list(self.removed),
            "pixels": self.pixels,
            "image": str(self.image) if self.image else None,
        }


@dataclass(frozen=True)
class MovedReference:
    """A page reference printing another number: where it stands in each PDF, and the number."""

    target: str
    old_page: int
    new_page: int
    old_number: int
    new_number: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "target": self.target,
            "old_page": self.old_page,
            "new_page": self.new_page,
            "old_number": self.old_number,
            "new_number": self.new_number,
        }


@dataclass(frozen=True)
class Difference:
    """What changed from ``old`` to ``new``."""

    old: Path
    new: Path
    old_pages: int
    new_pages: int
    changed: tuple[PageChange, ...] = ()
    #: New pages with no page of the old PDF to pair with (numbers in ``new``).
    added: tuple[int, ...] = ()
    #: Old pages with no page of the new PDF (numbers in ``old``).
    removed: tuple[int, ...] = ()
    references: tuple[MovedReference, ...] = ()
    #: Pages that only moved: (old number, new number), the same but for their own number.
    renumbered: tuple[tuple[int, int], ...] = ()
    #: The folder of the difference images, when there are any.
    folder: Path | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def identical(self) -> bool:
        """Whether the two print the same pages."""
        return not (self.changed or self.added or self.removed or self.references or self.renumbered)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "identical": self.identical,
            "old": {"file": str(self.old), "pages": self.old_pages},
            "new": {"file": str(self.new), "pages": self.new_pages},
            "changed": [change.as_dict() for change in self.changed],
            "added": list(self.added),
            "removed": list(self.removed),
            "references": [ref.as_dict() for ref in self.references],
            "renumbered": [{"old_page": a, "new_page": b} for a, b in self.renumbered],
            "images": str(self.folder) if self.folder else None,
            "notes": list(self.notes),
        }


@dataclass
class _Pdf:
    """A PDF opened for comparison: its pages' text and, on demand, their images."""

    path: Path
    document: Any
    texts: list[str]
    links: list[tuple[int, str, int]]
    dpi: float
    _images: dict[int, Image.Image] = field(default_factory=dict)

    def image(self, number: int) -> Image.Image:
        if number not in self._images:
            self._images[number] = page_image(self.document[number - 1], self.dpi)
        return self._images[number]


def compare(old: Path, new: Path, images: Path | None = None, dpi: float = DEFAULT_DPI) -> Difference:
    """What changed from the PDF ``old`` to the PDF ``new``; with ``images``, a PNG per
    changed page is written into that folder (made or replaced whole).

    Raises ``UnreadableInput`` when either is not a readable PDF.
    """
    with _opened(old, dpi) as before, _opened(new, dpi) as after:
        pairing = _pages(before, after)
        changes = pairing.changes
        references = tuple(_moved(before, after))
        notes = []
        if not before.links and not after.links:
            notes.append("neither PDF has link annotations: page references cannot be compared")
        folder = None
        if images is not None:
            folder = _write_images(images, before, after, changes) if changes else None
            if folder is not None:
                changes = [
                    PageChange(c.old, c.new, c.added, c.removed, c.pixels, folder / _image_name(c))
                    for c in changes
                ]
            elif images.exists():
                shutil.rmtree(images)  # an older comparison's pictures would mislead
        return Difference(
            old,
            new,
            len(before.texts),
            len(after.texts),
            tuple(changes),
            tuple(pairing.added),
            tuple(pairing.removed),
            references,
            tuple(pairing.renumbered),
            folder,
            tuple(notes),
        )


@contextmanager
def _opened(path: Path, dpi: float) -> Iterator[_Pdf]:
    import pikepdf
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise UnreadableInput(f"{path}: not a PDF that can be read ({exc})") from None
    try:
        texts = []
        for index in range(len(document)):
            textpage = document[index].get_textpage()
            # pdfium marks where a word was hyphenated at a line end with U+FFFE.
            texts.append(str(textpage.get_text_range()).replace("\ufffe", ""))
        try:
            with pikepdf.open(path) as pdf:
                links = list(_page_links(pdf, document, len(texts)))
        except pikepdf.PdfError as exc:
            raise UnreadableInput(f"{path}: not a PDF that can be read ({exc})") from None
        yield _Pdf(path, document, texts, links, dpi)
    finally:
        document.close()


def _page_links(pdf: Any, document: Any, count: int) -> Iterator[tuple[int, str, int]]:
    """Every internal link printing a page number: (its page, its target, the number)."""
    for index, page in enumerate(pdf.pages):
        textpage = None
        for annotation in page.obj.get("/Annots", []):
            target = _target(annotation)
            if target is None or "/Rect" not in annotation:
                continue
            textpage = textpage or document[index].get_textpage()
            left, bottom, right, top = (float(v) for v in annotation.Rect)
            printed = str(textpage.get_text_bounded(left, bottom, right, top))
            match = re.search(r"(\d+)\s*$", printed)
            # A number past the last page is part of a title ("Agenda 2030"), not a page.
            if match and 0 < int(match.group(1)) <= count + 100:
                yield index + 1, target, int(match.group(1))


def _target(annotation: Any) -> str | None:
    """The named destination an internal link goes to, or None for other annotations."""
    if annotation.get("/Subtype") != "/Link":
        return None
    dest = annotation.get("/Dest")
    action = annotation.get("/A")
    if dest is None and action is not None and action.get("/S") == "/GoTo":
        dest = action.get("/D")
    if dest is None:
        return None
    text = str(dest)
    return text.lstrip("/") if not text.startswith("[") else None


def _normal(text: str) -> str:
    """What pairs a page with its moved self: its words, numbers left out, in any order (a
    page moved by one is a left-hand page become a right-hand one, its footer mirrored)."""
    return " ".join(sorted(re.sub(r"\d+", "#", text).split()))


@dataclass
class _Pairing:
    changes: list[PageChange] = field(default_factory=list)
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    renumbered: list[tuple[int, int]] = field(default_factory=list)


def _pages(before: _Pdf, after: _Pdf) -> _Pairing:
    """Pair the pages and compare each pair."""
    matcher = difflib.SequenceMatcher(
        None, [_normal(t) for t in before.texts], [_normal(t) for t in after.texts], autojunk=False
    )
    found = _Pairing()
    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = min(i2 - i1, j2 - j1)
        for k in range(paired):
            old, new = i1 + k + 1, j1 + k + 1
            if _only_renumbered(before.texts[old - 1], after.texts[new - 1], old, new):
                found.renumbered.append((old, new))
                continue
            change = _page_change(before, after, old, new)
            if change is not None:
                found.changes.append(change)
        found.removed += range(i1 + paired + 1, i2 + 1)
        found.added += range(j1 + paired + 1, j2 + 1)
    return found


def _only_renumbered(old_text: str, new_text: str, old: int, new: int) -> bool:
    """Whether page ``old`` became page ``new`` with nothing changed but its own number (a
    page reference printing another number makes it a changed page)."""
    if old == new or _normal(old_text) != _normal(new_text):
        return False
    before, after = Counter(re.findall(r"\d+", old_text)), Counter(re.findall(r"\d+", new_text))
    before[str(old)] -= 1
    after[str(new)] -= 1
    return +before == +after


def _page_change(before: _Pdf, after: _Pdf, old: int, new: int) -> PageChange | None:
    """How page ``old`` became page ``new``, or None when they print the same."""
    text_old, text_new = before.texts[old - 1], after.texts[new - 1]
    pixels = _differing_pixels(before.image(old), after.image(new))
    if not pixels and text_old == text_new:
        return None
    added, removed = words_changed(text_old, text_new)
    return PageChange(old, new, tuple(added), tuple(removed), pixels)


def words_changed(old: str, new: str) -> tuple[list[str], list[str]]:
    """The runs of words added to and removed from ``old`` to make ``new``."""
    a, b = old.split(), new.split()
    added, removed = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed.append(" ".join(a[i1:i2]))
        if tag in ("replace", "insert"):
            added.append(" ".join(b[j1:j2]))
    return added, removed


def _differing_pixels(old: Image.Image, new: Image.Image) -> int:
    from PIL import ImageChops

    if old.size != new.size:
        return max(old.width * old.height, new.width * new.height)
    mask = _mask(ImageChops.difference(old, new))
    return int(mask.histogram()[255])


def _mask(difference: Image.Image) -> Image.Image:
    """White where a pixel differs by more than rendering noise, black elsewhere."""
    grey = difference.convert("L")
    return grey.point(lambda value: 255 if value > _NOISE else 0)


def _moved(before: _Pdf, after: _Pdf) -> Iterator[MovedReference]:
    """The references printing another number, paired by target and order of appearance."""

    def numbered(links: list[tuple[int, str, int]]) -> dict[tuple[str, int], tuple[int, int]]:
        seen: dict[str, int] = {}
        found = {}
        for page, target, number in links:
            seen[target] = seen.get(target, 0) + 1
            found[(target, seen[target])] = (page, number)
        return found

    old, new = numbered(before.links), numbered(after.links)
    for key, (page, number) in new.items():
        if key in old and old[key][1] != number:
            yield MovedReference(key[0], old[key][0], page, old[key][1], number)


def _image_name(change: PageChange) -> str:
    return f"page-{change.new:02d}.png"


def _write_images(folder: Path, before: _Pdf, after: _Pdf, changes: list[PageChange]) -> Path:
    """One PNG per changed page: old, new and the difference side by side; the folder is
    written beside its place and moved in whole."""
    check_folder(folder)
    prepare_folder(folder.parent)
    with staged_folder(folder) as staging:
        for change in changes:
            _picture(before.image(change.old), after.image(change.new)).save(staging / _image_name(change))
    return folder


def _picture(old: Image.Image, new: Image.Image) -> Image.Image:
    """Old page, new page, and the new page faded with what differs in red."""
    from PIL import Image, ImageChops

    width, height = max(old.width, new.width), max(old.height, new.height)
    canvas = Image.new("RGB", (3 * width + 4 * 8, height + 16), (128, 128, 128))
    canvas.paste(old, (8, 8))
    canvas.paste(new, (16 + width, 8))
    faded = Image.blend(new, Image.new("RGB", new.size, "white"), 0.75)
    if old.size == new.size:
        mask = _mask(ImageChops.difference(old, new))
        faded.paste(Image.new("RGB", new.size, _RED), (0, 0), mask)
    canvas.paste(faded, (24 + 2 * width, 8))
    return canvas


def compare_inputs(old: Path, new: Path | None, options: BuildOptions, out: Path) -> Difference:
    """Compare two PDFs, two issue files (each built first, as ``options`` say), a PDF and an
    issue file, or, without ``new``, the issue file ``old`` with its last build
    (``out/<issue>-<edition>.pdf``). The pictures of the changed pages go to
    ``out/diff/<name of new>/``; the difference names the inputs as given.

    Raises ``UnreadableInput`` for an input that cannot be read or a wrong use, and
    ``IssueError`` for an issue file that cannot be built.
    """
    kinds = [input_kind(old)] + ([input_kind(new)] if new is not None else [])
    if new is None:
        if kinds[0] != "issue":
            raise UnreadableInput(
                f"name two files to compare, or an issue file to compare with its last build (not a PDF: {old})"
            )
        last = output_path(old, out, options.edition)
        if not last.is_file():
            raise UnreadableInput(
                f"no last build of {old} at {last}: run `newsletter build {old} --variant {options.edition}` "
                "first, or name two files"
            )
        inputs, kinds = [last, old], ["pdf", "issue"]
    else:
        inputs = [old, new]
    named = output_path(inputs[1], out, options.edition).stem if kinds[1] == "issue" else inputs[1].stem
    with tempfile.TemporaryDirectory(prefix="newsletter-diff-") as work:
        pdfs = []
        for index, (given, kind) in enumerate(zip(inputs, kinds, strict=True)):
            if kind == "pdf":
                pdfs.append(given)
                continue
            # Each into a folder of its own: two issues may have the same name.
            folder = Path(work) / str(index)
            folder.mkdir()
            build_issue(given, folder, options.layout, options.edition, time_limit=options.time_limit)
            pdfs.append(output_path(given, folder, options.edition))
        difference = compare(pdfs[0], pdfs[1], out / "diff" / named)
    return replace(difference, old=inputs[0], new=inputs[1])


def input_kind(path: Path) -> str:
    """``pdf`` or ``issue``: what a file named on the command line is (read, not guessed from
    its name, for a PDF). Raises ``UnreadableInput`` for anything else."""
    if path.is_dir():
        raise UnreadableInput(f"{path} is a folder: name a PDF or an issue file")
    try:
        with path.open("rb") as handle:
            start = handle.read(5)
    except FileNotFoundError:
        raise UnreadableInput(f"no such file: {path}") from None
    except OSError as exc:
        raise UnreadableInput(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if start == b"%PDF-":
        return "pdf"
    if path.suffix in (".yaml", ".yml"):
        return "issue"
    raise UnreadableInput(f"{path} is neither a PDF nor an issue file (.yaml)")
