"""Product image files: verification, re-encoding and thumbnails (Pillow), under MEDIA_ROOT.

Uploaded bytes are never stored as received: a file is opened and verified as a JPEG, PNG or
WebP image, then re-encoded (which drops metadata such as GPS positions and anything appended
to the image data), and 400 px and 800 px thumbnails are written beside it.

Pillow is imported when an image is stored, not with the module: a web worker that only serves
the storefront never loads it (about 10 MB of each worker's memory).
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from funnel.catalog.errors import InvalidImage, UploadTooLarge
from funnel.catalog.models import THUMBNAIL_SIZES, thumbnail_name

if TYPE_CHECKING:
    from PIL import Image

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MEGABYTE = 1024 * 1024
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


@dataclass(frozen=True)
class StoredImage:
    filename: str
    width: int
    height: int
    files: list[Path]


def _open_verified(data: bytes) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    if len(data) == 0:
        raise InvalidImage("The file is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidImage("The image is larger than 10 MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise InvalidImage("The image has too many pixels.")
            image.load()
    except InvalidImage:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise InvalidImage("The file is not a JPEG, PNG or WebP image.") from error
    if image_format not in FORMATS:
        raise InvalidImage("Only JPEG, PNG and WebP images are accepted.")
    image.format = image_format
    return image


def _save(image: Image.Image, image_format: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if image_format == "JPEG":
        image.convert("RGB").save(path, "JPEG", quality=85, optimize=True)
    elif image_format == "WEBP":
        image.save(path, "WEBP", quality=85)
    else:
        image.save(path, "PNG", optimize=True)


def store_product_image(media_root: str, product_id: int, data: bytes) -> StoredImage:
    """Verify ``data`` and write the image and its thumbnails under ``media_root``.

    Raises InvalidImage for anything but a JPEG, PNG or WebP image of at most 10 MB.
    Side effects: writes three files; the caller removes them (``remove_files``) when the
    database work that should reference them fails.
    """
    from PIL import ImageOps

    image = _open_verified(data)
    image_format = image.format or "PNG"
    image = ImageOps.exif_transpose(image)
    if image.mode not in {"RGB", "RGBA", "L", "LA"}:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    filename = f"products/{product_id}/{secrets.token_hex(8)}{FORMATS[image_format]}"
    root = Path(media_root)
    written: list[Path] = []
    try:
        original = root / filename
        _save(image, image_format, original)
        written.append(original)
        for size in THUMBNAIL_SIZES:
            thumbnail = image.copy()
            thumbnail.thumbnail((size, size))
            path = root / thumbnail_name(filename, size)
            _save(thumbnail, image_format, path)
            written.append(path)
    except BaseException:
        remove_files(written)
        raise
    return StoredImage(filename=filename, width=image.width, height=image.height, files=written)


def remove_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def readable_size(size_bytes: int) -> str:
    """A request limit as people read it: ``16 MB``, ``100 KB``."""
    return f"{size_bytes // MEGABYTE} MB" if size_bytes >= MEGABYTE else f"{size_bytes // 1024} KB"


def upload_too_large(limit_bytes: int) -> UploadTooLarge:
    """The refusal of an upload above the request limit, for the page and the API alike."""
    message = (
        f"The upload is larger than {readable_size(limit_bytes)} in all: "
        "send fewer images at a time."
    )
    return UploadTooLarge(message, fields={"files": [message]})
