"""Product image use cases (validated and thumbnailed by catalog.images).

Staff calls name the staff member (``actor_user_id``), who must hold ``catalog.manage``;
None is the system (the demo loader, tests). Images of a product are ordered by ``position``,
kept as 0, 1, 2 ... by every change here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import select

from funnel.accounts import queries as account_queries
from funnel.accounts.permissions import Permission, require_permission
from funnel.catalog import images as image_files
from funnel.catalog.errors import InvalidImage, ProductImageNotFound
from funnel.catalog.models import THUMBNAIL_SIZES, ProductImage, thumbnail_name
from funnel.catalog.services.auditing import (
    image_fields,
    record_changed,
    record_created,
    record_deleted,
)
from funnel.catalog.services.categories import Direction, parse_direction
from funnel.catalog.services.rules import (
    _get_product,
    _required_text,
)
from funnel.core.database import on_commit, transaction
from funnel.extensions import db

ALT_TEXT_LENGTH = 300
Upload = tuple[str, bytes | IO[bytes]]  # the file's name as sent, and its content


def _check_permission(actor_user_id: int | None) -> None:
    if actor_user_id is not None:
        require_permission(account_queries.get_user(actor_user_id), Permission.CATALOG_MANAGE)


def _read(data: bytes | IO[bytes]) -> bytes:
    # One byte past the limit is enough to refuse a file that is too large.
    return data if isinstance(data, bytes) else data.read(image_files.MAX_IMAGE_BYTES + 1)


def _images_of(product_id: int) -> list[ProductImage]:
    return list(
        db.session.scalars(
            select(ProductImage)
            .where(ProductImage.product_id == product_id)
            .order_by(ProductImage.position, ProductImage.id)
        )
    )


def _get_image(product_id: int, image_id: int) -> ProductImage:
    image = db.session.get(ProductImage, image_id)
    if image is None or image.product_id != product_id:
        raise ProductImageNotFound()
    return image


def add_product_image(
    product_id: int,
    data: bytes | IO[bytes],
    *,
    alt_text: str,
    actor_user_id: int | None = None,
) -> ProductImage:
    """Store an uploaded image (JPEG, PNG or WebP, at most 10 MB) with 400/800 px thumbnails.

    Raises PermissionDenied, ProductNotFound, InvalidImage (not an image, unsupported format,
    too large), InvalidCatalogInput (alt text missing or too long).
    Side effects: writes files under MEDIA_ROOT; removes them again if the transaction fails.
    """
    [image] = add_product_images(
        product_id, [("", data)], alt_text=alt_text, actor_user_id=actor_user_id
    )
    return image


def add_product_images(
    product_id: int,
    uploads: Sequence[Upload],
    *,
    alt_text: str,
    actor_user_id: int | None = None,
) -> list[ProductImage]:
    """Store several uploaded images at once, after the product's images, all or none.

    Each file is checked by its content (a JPEG, PNG or WebP image of at most 10 MB, whatever
    its name says). When any file is refused nothing is kept, and InvalidImage names every
    refused file in ``fields["files"]`` ("name: reason"). Raises PermissionDenied,
    ProductNotFound, InvalidImage, InvalidCatalogInput (alt text missing or too long).
    Side effects: writes three files per image under MEDIA_ROOT; removes them again if the
    transaction fails.
    """
    _check_permission(actor_user_id)
    if not uploads:
        raise InvalidImage("No file was sent.", fields={"files": ["Choose one or more images."]})
    with transaction():
        product = _get_product(product_id)
        alt_text = _required_text("alt_text", alt_text, ALT_TEXT_LENGTH)
        media_root = current_app.config["MEDIA_ROOT"]
        stored: list[image_files.StoredImage] = []
        refused: list[str] = []
        reason = ""
        try:
            for name, data in uploads:
                try:
                    stored.append(
                        image_files.store_product_image(media_root, product.id, _read(data))
                    )
                except InvalidImage as error:
                    reason = error.detail
                    refused.append(f"{name}: {error.detail}" if name else error.detail)
            if refused:
                if len(uploads) > 1:
                    reason = "No image was added: " + (
                        "one file is not accepted."
                        if len(refused) == 1
                        else f"{len(refused)} files are not accepted."
                    )
                raise InvalidImage(reason, fields={"files": refused})
            position = len(_images_of(product.id))
            images = [
                ProductImage(
                    product_id=product.id,
                    filename=file.filename,
                    alt_text=alt_text,
                    position=position + offset,
                    width=file.width,
                    height=file.height,
                )
                for offset, file in enumerate(stored)
            ]
            db.session.add_all(images)
            db.session.flush()
            for image in images:
                record_created(
                    "product_image", image.id, product.title, image_fields(image), actor_user_id
                )
        except BaseException:
            image_files.remove_files([path for file in stored for path in file.files])
            raise
        return images


def update_image_alt_text(
    product_id: int, image_id: int, alt_text: str, *, actor_user_id: int | None = None
) -> ProductImage:
    """Change the text that describes an image to those who cannot see it.

    Raises PermissionDenied, ProductImageNotFound (also for another product's image),
    InvalidCatalogInput (alt text missing or too long).
    """
    _check_permission(actor_user_id)
    with transaction():
        image = _get_image(product_id, image_id)
        before = image_fields(image)
        image.alt_text = _required_text("alt_text", alt_text, ALT_TEXT_LENGTH)
        db.session.flush()
        record_changed(
            "product_image",
            image.id,
            _get_product(product_id).title,
            before,
            image_fields(image),
            actor_user_id,
        )
        return image


def move_product_image(
    product_id: int, image_id: int, steps: int, *, actor_user_id: int | None = None
) -> list[ProductImage]:
    """Move an image ``steps`` places later (negative: earlier) among its product's images;
    the first image is the one listings show. Moving past either end stops there.

    Returns the images in their new order. Raises PermissionDenied, ProductImageNotFound.
    """
    _check_permission(actor_user_id)
    with transaction():
        image = _get_image(product_id, image_id)
        before = image_fields(image)
        images = _images_of(product_id)
        old_index = images.index(image)
        images.pop(old_index)
        index = min(max(old_index + steps, 0), len(images))
        images.insert(index, image)
        for position, each in enumerate(images):
            each.position = position
        db.session.flush()
        record_changed(
            "product_image",
            image.id,
            _get_product(product_id).title,
            before,
            image_fields(image),
            actor_user_id,
            action="moved",
        )
        return images


def move_product_image_one_place(
    product_id: int,
    image_id: int,
    direction: Direction | str,
    *,
    actor_user_id: int | None = None,
) -> list[ProductImage]:
    """Move an image one place ``up`` (earlier) or ``down`` (later); at an end it stays.

    Returns the images in their new order. Raises PermissionDenied, InvalidCatalogInput
    (a direction other than up or down, naming ``direction``), ProductImageNotFound.
    """
    _check_permission(actor_user_id)
    steps = -1 if parse_direction(direction) is Direction.UP else 1
    return move_product_image(product_id, image_id, steps, actor_user_id=actor_user_id)


def delete_product_image(
    product_id: int, image_id: int, *, actor_user_id: int | None = None
) -> None:
    """Delete an image and, once that is committed, its file and thumbnails.

    Raises PermissionDenied, ProductImageNotFound. Side effects: the files under MEDIA_ROOT
    are removed after the commit (a rolled-back delete keeps them).
    """
    _check_permission(actor_user_id)
    with transaction():
        image = _get_image(product_id, image_id)
        root = Path(current_app.config["MEDIA_ROOT"])
        files = [root / image.filename] + [
            root / thumbnail_name(image.filename, size) for size in THUMBNAIL_SIZES
        ]
        record_deleted(
            "product_image",
            image.id,
            _get_product(product_id).title,
            image_fields(image),
            actor_user_id,
        )
        db.session.delete(image)
        db.session.flush()
        for position, each in enumerate(_images_of(product_id)):
            each.position = position
        on_commit(lambda: image_files.remove_files(files))
