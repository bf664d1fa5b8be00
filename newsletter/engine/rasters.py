"""The images WeasyPrint makes for the PDF, kept in the user's cache for the next process.

The email edition asks WeasyPrint to optimise its images and to bring them down to 150 dpi
(``Edition.render_options``). WeasyPrint then encodes every raster image again as it loads
it (``RasterImage.__init__``: PNG with ``optimize``, JPEG at the edition's quality), and
again, smaller, as it writes it (``RasterImage.get_x_object``): for issue 10, about 0.2 s of
every build, which bare WeasyPrint without those options does not spend. The results depend
only on the image's bytes, those options and the code, so they are kept by a digest of the
first two (``usercache.Store`` adds the code): a build gives the same bytes with or without
them (tested). What cannot be read back (a spoiled or truncated entry) is made again; a cache
that cannot be written is done without; an image with transparency (its mask made apart)
is not kept.

``install`` puts the two methods in place once, when ``weasy.py`` imports WeasyPrint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..usercache import Store


def _store() -> Store | None:
    return Store.named("images")


def _key(kind: str, data: bytes, *settings: object) -> str:
    return Store.key(kind, repr(settings), data)


#: What ``RasterImage.__init__`` sets from the image and the options: kept with its bytes.
_MADE = ("_jpeg_quality", "_dpi", "mode", "width", "height", "ratio", "optimize", "invert_colors", "format")


def install(weasyprint: Any) -> None:
    """Keep what WeasyPrint's ``RasterImage`` makes in the user's cache (see the module)."""
    import pydyf

    images = weasyprint.images
    raster = images.RasterImage
    if getattr(raster, "_newsletter_kept", False):  # weasy.py run again (a reload)
        return
    made_init: Callable[..., None] = raster.__init__
    made_x_object: Callable[..., Any] = raster.get_x_object

    def __init__(
        self: Any,
        pillow_image: Any,
        image_id: str,
        image_data: Any,
        filename: Any = None,
        cache: Any = None,
        orientation: str = "none",
        options: Any = images.DEFAULT_OPTIONS,
    ) -> None:
        store = _store() if isinstance(image_data, bytes) else None
        if store is None:
            made_init(self, pillow_image, image_id, image_data, filename, cache, orientation, options)
            return
        settings = (orientation, options["jpeg_quality"], options["optimize_images"], options["dpi"])
        key = _key("load", image_data, *settings)
        kept = store.read(key)
        if kept is not None and set(kept[0]) == set(_MADE) and len(kept[1]) == 1:
            vars(self).update(kept[0])
            self.id = image_id
            self._cache = {} if cache is None else cache
            self.image_data = self.cache_image_data(kept[1][0])
            return
        made_init(self, pillow_image, image_id, image_data, filename, cache, orientation, options)
        if isinstance(self.image_data, images.LazyImage) and self.image_data.data is not image_data:
            # Encoded again: worth keeping.
            values = {name: vars(self)[name] for name in _MADE}
            store.write(key, values, [self.image_data.data])

    def get_x_object(self: Any, interpolate: Any, dpi_ratio: Any) -> Any:
        # Kept: what is encoded again (a JPEG at its own size is only copied), without a
        # mask made apart (transparency).
        worth = self.format != "JPEG" or dpi_ratio != 1
        store = _store() if worth and self.mode not in ("RGBA", "LA") else None
        if store is None:
            return made_x_object(self, interpolate, dpi_ratio)
        before = self.image_data
        settings = (interpolate, dpi_ratio, *(vars(self)[name] for name in _MADE))
        key = _key("pdf", before.data, *settings)
        kept = store.read(key)
        if kept is not None and len(kept[1]) == 2:
            try:
                extra = _decoded(kept[0].get("extra"), pydyf)
            except ValueError:
                extra = None
            if isinstance(extra, pydyf.Dictionary):
                if kept[0].get("smaller"):
                    # As WeasyPrint does: the image's data is now its smaller copy.
                    self.image_data = self.cache_image_data(kept[1][1])
                return pydyf.Stream([kept[1][0]], extra)
        x_object = made_x_object(self, interpolate, dpi_ratio)
        smaller = self.image_data is not before
        data = b"".join(item if isinstance(item, bytes) else item.data for item in x_object.stream)
        try:
            header = {"extra": _encoded(x_object.extra, pydyf), "smaller": smaller}
        except TypeError:  # something this module does not know how to keep
            return x_object
        store.write(key, header, [data, self.image_data.data if smaller else b""])
        return x_object

    raster.__init__ = __init__
    raster.get_x_object = get_x_object
    raster._newsletter_kept = True


def _encoded(value: Any, pydyf: Any) -> Any:
    """A PDF image's dictionary as JSON: its names and numbers, its nested dictionaries, in
    their order (the PDF's bytes follow it)."""
    if isinstance(value, pydyf.Dictionary):
        # As pairs: the order of the keys is the order WeasyPrint writes them in.
        return {"dict": [[str(k), _encoded(v, pydyf)] for k, v in value.items()]}
    if isinstance(value, pydyf.Array):
        return {"array": [_encoded(v, pydyf) for v in value]}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    raise TypeError(f"an image dictionary holds {type(value).__name__}")


def _decoded(value: Any, pydyf: Any) -> Any:
    if isinstance(value, dict):
        if "dict" in value and isinstance(value["dict"], list):
            return pydyf.Dictionary({str(k): _decoded(v, pydyf) for k, v in value["dict"]})
        if "array" in value and isinstance(value["array"], list):
            return pydyf.Array([_decoded(v, pydyf) for v in value["array"]])
        raise ValueError("not an encoded dictionary")
    return value
