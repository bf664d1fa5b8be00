"""Images named by an issue: where they may live and how large they may be.

Checked before layout, because WeasyPrint decodes whatever it is given: a 12 KB PNG of
10000x10000 pixels costs it seconds and hundreds of megabytes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageFile

from ..errors import did_you_mean

#: Largest image file accepted, in bytes.
MAX_IMAGE_BYTES = 20_000_000
#: Largest image accepted, in pixels (about 8000 x 5000).
MAX_IMAGE_PIXELS = 40_000_000
#: Formats WeasyPrint lays out without fetching anything else.
FORMATS = {"PNG", "JPEG"}


def resolve_image(base_dir: Path, name: str) -> Path | None:
    """The image file ``name`` relative to ``base_dir``, or None if it leaves that folder."""
    if "://" in name or name.startswith(("/", "\\", "data:")) or ":" in name.split("/")[0]:
        return None
    base = base_dir.resolve()
    try:
        target = (base / name).resolve()
    except (RuntimeError, OSError):  # a symlink loop
        return None
    return target if target.is_relative_to(base) else None


def _near_names(folder: Path, name: str) -> str:
    """ "; did you mean 'brunet.jpg'?" among the files of ``folder`` (the first thousand)."""
    try:
        names = [entry.name for _, entry in zip(range(1000), folder.iterdir(), strict=False)]
    except OSError:
        return ""
    return did_you_mean(name, names)


def _decode_whole(img: Image.Image) -> None:
    """Decode every pixel: a truncated JPEG or a PNG with garbage data opens fine and would
    print as a black or half-grey box.

    WeasyPrint sets Pillow's process-wide ``LOAD_TRUNCATED_IMAGES`` when it is imported (it
    prefers half an image to none); here a truncated file must fail, so the flag is off for
    this one decode and put back after.
    """
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        img.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def check_image(base_dir: Path, name: str) -> str | None:
    """Why the image ``name`` cannot be used, or None when it can."""
    target = resolve_image(base_dir, name)
    if target is None:
        return f"image {name!r} must be a file inside the issue's folder ({base_dir})"
    if target.is_dir():
        return f"image {name!r} is a folder, not an image file"
    if not target.exists():
        return f"image file not found: {name!r}{_near_names(target.parent, target.name)}"
    if not target.is_file():
        return f"image {name!r} is not a regular file"
    size = target.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return f"image {name!r} is {size} bytes, over the limit of {MAX_IMAGE_BYTES}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(target) as img:
                width, height, fmt = img.width, img.height, img.format
                if width * height <= MAX_IMAGE_PIXELS:
                    _decode_whole(img)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return f"image {name!r} has too many pixels (a decompression bomb?)"
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        return f"image {name!r} cannot be read (truncated or corrupt?): {exc}"
    if fmt not in FORMATS:
        return f"image {name!r} is {fmt}; use PNG or JPEG"
    if width * height > MAX_IMAGE_PIXELS:
        return f"image {name!r} is {width}x{height} pixels, over the limit of {MAX_IMAGE_PIXELS}"
    return None
