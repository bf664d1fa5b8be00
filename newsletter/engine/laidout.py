"""The laid-out pages as the layout checks see them: the one module that knows WeasyPrint's
boxes.

WeasyPrint's public ``Document`` gives pages, anchors and links; where text, lines and
frames lie is only in its private box tree (``Page._page_box`` and the classes of
``weasyprint.formatting_structure.boxes``). Every other module asks this one, so that a
WeasyPrint upgrade touches one file. Positions are CSS pixels (1px = 0.75pt).

Each box also knows the issue field it comes from: the templates write ``data-src`` (the
field's path, e.g. ``sections.0.blocks.1.figures.3.value``) on every block and list item,
and a box inherits the nearest one above it.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from . import weasy  # noqa: F401 - first: WeasyPrint imported without cffi's library search

# isort: split
import pydyf
from weasyprint.formatting_structure import boxes as wp

Kind = Literal["text", "line", "image", "block", "other"]


@dataclass(frozen=True)
class Area:
    """A rectangle on the page."""

    left: float
    top: float
    right: float
    bottom: float


class Box:
    """A laid-out box, with the issue field (``src``) it was made from."""

    __slots__ = ("_box", "framed", "src")

    def __init__(self, box: Any, src: str = "", framed: bool = False) -> None:
        self._box = box
        element = getattr(box, "element", None)
        own = element.get("data-src") if element is not None else None
        self.src: str = own or src
        self.framed: bool = framed or (element is not None and element.get("data-frame") is not None)

    @property
    def kind(self) -> Kind:
        """What the box is: a run of text, a line, an image, a block, or something else."""
        box = self._box
        if isinstance(box, wp.TextBox):
            return "text"
        if isinstance(box, wp.LineBox):
            return "line"
        if isinstance(box, wp.ReplacedBox):
            return "image"
        if isinstance(box, wp.BlockContainerBox):
            return "block"
        return "other"

    @property
    def block_level(self) -> bool:
        """Laid out as a block (an image with ``display: block`` is one), not inside a line."""
        return isinstance(self._box, wp.BlockLevelBox)

    @property
    def tag(self) -> str | None:
        """The HTML element's tag (``p``, ``dt``...), None for anonymous boxes."""
        return getattr(self._box, "element_tag", None)

    @property
    def element_key(self) -> int:
        """Identifies the HTML element (its boxes on several lines or pages share it)."""
        return id(getattr(self._box, "element", None))

    @property
    def text(self) -> str:
        """The text of a text box; empty for others."""
        text = getattr(self._box, "text", None)
        return text if isinstance(text, str) else ""

    @property
    def has_geometry(self) -> bool:
        """Whether the box has a position and size (every laid-out box but a few internals)."""
        return hasattr(self._box, "border_box_y")

    @property
    def left(self) -> float:
        """The left of the box's text or margin box (``position_x``)."""
        return float(self._box.position_x)

    @property
    def top(self) -> float:
        """The top of its margin box (``position_y``)."""
        return float(self._box.position_y)

    @property
    def width(self) -> float:
        """Its content width (0 when not laid out)."""
        width = self._box.width
        return float(width) if isinstance(width, (int, float)) else 0.0

    @property
    def bottom(self) -> float:
        """The bottom of its border box."""
        return float(self._box.border_box_y() + self._box.border_height())

    @property
    def margin_right(self) -> float:
        """The right of its margin box."""
        return float(self._box.position_x + self._box.margin_width())

    @property
    def content_right(self) -> float:
        """The right of its content box: where its lines must end."""
        return float(self._box.content_box_x()) + self.width

    @property
    def has_content_box(self) -> bool:
        """Whether the box has a content box (blocks and inline boxes do)."""
        return hasattr(self._box, "content_box_x")

    @property
    def absolute(self) -> bool:
        """Set out of the flow (``position: absolute`` or ``fixed``)."""
        return self._box.style["position"] in ("absolute", "fixed")

    @property
    def floated(self) -> bool:
        """Set beside the text (``float: left`` or ``right``)."""
        return self._box.style["float"] in ("left", "right")

    @property
    def source_text(self) -> str:
        """The whole text of the box's HTML element as written (every fragment of it, on
        every page, laid out together print at least as many letters)."""
        element = getattr(self._box, "element", None)
        return "".join(element.itertext()) if element is not None else ""

    @property
    def fixed_height(self) -> bool:
        """A frame of fixed height (its content may overflow it); images excluded."""
        return self._box.style["height"] != "auto" and self.tag != "img"

    @property
    def family(self) -> str:
        """The first font family asked for."""
        return str(self._box.style["font_family"][0])

    @property
    def image_pixels(self) -> int | None:
        """The intrinsic width in pixels of an image box."""
        pixels = getattr(getattr(self._box, "replacement", None), "width", None)
        return pixels if isinstance(pixels, int) else None

    @property
    def height(self) -> float:
        """Its content height (0 when not laid out)."""
        height = getattr(self._box, "height", None)
        return float(height) if isinstance(height, (int, float)) else 0.0

    @property
    def image_size(self) -> tuple[int, int] | None:
        """The intrinsic size in pixels (width, height) of an image box."""
        replacement = getattr(self._box, "replacement", None)
        width, height = getattr(replacement, "width", None), getattr(replacement, "height", None)
        return (width, height) if isinstance(width, int) and isinstance(height, int) else None

    @property
    def font_size(self) -> float:
        """The size of its text, in points."""
        return float(self._box.style["font_size"]) * 0.75

    @property
    def colour(self) -> Colour:
        """The colour of its text."""
        return _colour(self._box.style["color"])

    def strokes(self) -> list[Stroke]:
        """The lines it draws: its borders and, for a multi-column box, its column rules;
        those that print (a width, a style other than none or hidden, a visible colour)."""
        style = self._box.style
        found = []
        multi_column = style["column_count"] != "auto" or style["column_width"] != "auto"
        sides = [(side, f"border_{side}") for side in ("top", "right", "bottom", "left")]
        for name, prefix in sides + ([("column rule", "column_rule")] if multi_column else []):
            width, colour = style[f"{prefix}_width"], style[f"{prefix}_color"]
            if (
                style[f"{prefix}_style"] in ("none", "hidden")
                or not width
                or getattr(colour, "alpha", 1) == 0
            ):
                continue
            found.append(Stroke(name, float(width) * 0.75, _colour(colour)))
        return found

    def attribute(self, name: str) -> str | None:
        """An attribute of the box's HTML element."""
        element = getattr(self._box, "element", None)
        return element.get(name) if element is not None else None

    def children(self) -> list[Box]:
        """Its child boxes, in order."""
        return [Box(child, self.src, self.framed) for child in getattr(self._box, "children", ())]

    def walk(self) -> Iterator[Box]:
        """This box and every box below it, depth first."""
        stack = [self]
        while stack:
            box = stack.pop()
            yield box
            stack.extend(reversed(box.children()))

    def in_line(self) -> Iterator[Box]:
        """This box and its descendants in the flow of a line (absolutely placed ones left out)."""
        yield self
        for child in self.children():
            if not child.absolute:
                yield from child.in_line()

    def all_text(self) -> str:
        """The text of every text box below, joined."""
        return "".join(b.text for b in self.walk())

    @property
    def generated(self) -> bool:
        """Made by CSS (``::before``, ``::after``, a list marker), not by the HTML."""
        return (self.tag or "").endswith(("::before", "::after", "::marker"))

    def own_text(self) -> str:
        """The text below that comes from the HTML (what CSS generates left out)."""
        found = []
        stack = [self]
        while stack:
            box = stack.pop()
            if box.generated:
                continue
            found.append(box.text)
            stack.extend(reversed(box.children()))
        return "".join(found)

    def label(self) -> str:
        """``dt '€1,830,000'``: the element and the start of its text, for messages."""
        text = " ".join(" ".join(b.text.strip() for b in self.walk() if b.text).split())
        return f"{self.tag} {text[:40]!r}" if text else str(self.tag)


@dataclass(frozen=True)
class Colour:
    """A colour as the layout holds it: its CSS space (``device-cmyk``, ``srgb``...), its
    coordinates (0 to 1 for CMYK) and its opacity."""

    space: str
    coordinates: tuple[float, ...]
    alpha: float = 1.0

    def inks(self) -> dict[str, float] | None:
        """The process inks it prints with and their tints (only those above half a per cent),
        or None when it is not a CMYK colour (the RIP would choose the inks)."""
        if self.space != "device-cmyk":
            return None
        return {ink: value for ink, value in zip("CMYK", self.coordinates, strict=False) if value > 0.005}


def _colour(color: Any) -> Colour:
    """A ``Colour`` from WeasyPrint's computed colour (tinycss2's ``Color``)."""
    space = str(getattr(color, "space", "srgb"))
    coordinates = tuple(float(c) for c in getattr(color, "coordinates", ()))
    return Colour(space, coordinates, float(getattr(color, "alpha", 1.0)))


@dataclass(frozen=True)
class Stroke:
    """A line a box draws: a border side or a column rule, its width (pt) and colour."""

    what: str
    width: float
    colour: Colour


@dataclass(frozen=True)
class Page:
    """A laid-out page: its number, its content area and its boxes."""

    number: int
    area: Area
    #: The page's content (the document's flow on this page, margin boxes left out).
    flow: Box
    #: Everything on the page, running headers and footers included.
    whole: Box
    #: The laid-out page itself: the same object while the page is kept (a warm process
    #: keeps the parts that did not change), so what was measured on it can be kept too.
    source: Any = field(default=None, compare=False, repr=False)


def pages(document: Any) -> list[Page]:
    """The pages of a laid-out ``weasyprint.Document``."""
    found = []
    for number, page in enumerate(document.pages, start=1):
        box = page._page_box
        left, top = box.content_box_x(), box.content_box_y()
        area = Area(left, top, left + box.width, top + box.height)
        found.append(Page(number, area, Box(box.children[0]), Box(box), page))
    return found


@dataclass(frozen=True)
class Link:
    """An internal link as laid out: the page it is on, its target, classes and printed text."""

    page: int
    target: str
    classes: frozenset[str]
    text: str


def internal_links(document: Any) -> Iterator[Link]:
    """Every internal link of the document, once per element and page.

    A link's inner boxes (its ``::after``, a flex item) are listed too; the first, outermost
    box of each element holds all the text it prints.
    """
    for number, page in enumerate(document.pages, start=1):
        seen: set[int] = set()
        for link_type, target, _rect, raw in page.links:
            if link_type != "internal":
                continue
            box = Box(raw)
            if box.element_key in seen:
                continue
            seen.add(box.element_key)
            classes = frozenset((box.attribute("class") or "").split())
            yield Link(number, target, classes, box.all_text().strip())


def anchor_pages(document: Any) -> dict[str, int]:
    """Every anchor id and the 1-based page it lies on."""
    found: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for name in page.anchors:
            found.setdefault(name, number)
    return found


def fingerprint(page: Page) -> str:
    """A digest of what a page shows: each run of text and image where it is drawn. Two
    layouts with the same fingerprint for a page print the same page."""
    digest = hashlib.blake2b(digest_size=16)
    for box in page.whole.walk():
        if box.kind in ("text", "image") and box.has_geometry:
            where = f"{box.left:.2f},{box.top:.2f},{box.width:.2f}|"
            digest.update(where.encode() + box.text.encode("utf-8", "surrogatepass") + b"\0")
            digest.update((box.attribute("src") or "")[:64].encode())
    return digest.hexdigest()


@contextmanager
def images_restored(document: Any) -> Iterator[None]:
    """Write ``document`` as many times as needed: each write gives the same image bytes,
    and an image already made for the PDF is not made again.

    WeasyPrint's writer replaces a raster image's data with its downsampled copy
    (``RasterImage.get_x_object``), in the image's cache too, under the key of the original:
    written a second time (a session keeps its laid-out parts), the image would be
    downsampled and compressed again, and the bytes would differ from a cold build's. So the
    data of every image the pages draw, and its cache, are put back after writing; and each
    image remembers the image object it made for a given resolution (about 0.1 s a write
    for issue 10's photos).
    """
    kept: dict[int, tuple[Any, Any, dict[str, Any]]] = {}
    for image in _images(document):
        if id(image) not in kept:
            _remember_x_objects(image)
            kept[id(image)] = (image, image.image_data, dict(getattr(image, "_cache", {})))
    try:
        yield
    finally:
        for image, data, cache in kept.values():
            image.image_data = data
            if isinstance(getattr(image, "_cache", None), dict):
                image._cache.clear()
                image._cache.update(cache)


def _images(document: Any) -> Iterator[Any]:
    """Every raster image the pages draw: replaced elements, backgrounds, border images."""
    for page in document.pages:
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            stack.extend(getattr(box, "children", ()))
            background = getattr(box, "background", None)
            layers = [layer.image for layer in background.layers] if background is not None else []
            for image in (
                getattr(box, "replacement", None),
                getattr(box, "border_image", None),
                getattr(box, "mask_border_image", None),
                *layers,
            ):
                if image is not None and hasattr(image, "image_data") and hasattr(image, "get_x_object"):
                    yield image


def _remember_x_objects(image: Any) -> None:
    """Make ``image`` keep the PDF image object it makes, by resolution and interpolation
    (not one with a soft mask: the writer turns its mask into a reference)."""
    if "get_x_object" in vars(image):
        return
    made: dict[tuple[Any, Any], tuple[bytes, Any]] = {}
    original = image.get_x_object

    def get_x_object(interpolate: Any, dpi_ratio: Any) -> Any:
        key = (interpolate, dpi_ratio)
        if key in made:
            data, extra = made[key]
            return pydyf.Stream([data], copy.deepcopy(extra))
        x_object = original(interpolate, dpi_ratio)
        if "SMask" not in x_object.extra and "Resources" not in x_object.extra:
            data = b"".join(item if isinstance(item, bytes) else item.data for item in x_object.stream)
            made[key] = (data, copy.deepcopy(x_object.extra))
        return x_object

    image.get_x_object = get_x_object
