"""Product image use cases (validated and thumbnailed by catalog.images)."""

from __future__ import annotations

from typing import IO

from flask import current_app
from sqlalchemy import select

from funnel.catalog import images as image_files
from funnel.catalog.models import (
    ProductImage,
)
from funnel.catalog.services.rules import (
    _get_product,
    _required_text,
)
from funnel.core.database import transaction
from funnel.extensions import db

# -- images --------------------------------------------------------------------------------


def add_product_image(product_id: int, data: bytes | IO[bytes], *, alt_text: str) -> ProductImage:
    """Store an uploaded image (JPEG, PNG or WebP, at most 10 MB) with 400/800 px thumbnails.

    Raises ProductNotFound, InvalidImage (not an image, unsupported format, too large),
    InvalidCatalogInput (alt text missing or too long).
    Side effects: writes files under MEDIA_ROOT; removes them again if the transaction fails.
    """
    if not isinstance(data, bytes):
        data = data.read(image_files.MAX_IMAGE_BYTES + 1)
    with transaction():
        product = _get_product(product_id)
        alt_text = _required_text("alt_text", alt_text, 300)
        stored = image_files.store_product_image(current_app.config["MEDIA_ROOT"], product.id, data)
        try:
            position = len(
                db.session.scalars(
                    select(ProductImage.id).where(ProductImage.product_id == product.id)
                ).all()
            )
            image = ProductImage(
                product_id=product.id,
                filename=stored.filename,
                alt_text=alt_text,
                position=position,
                width=stored.width,
                height=stored.height,
            )
            db.session.add(image)
            db.session.flush()
        except BaseException:
            image_files.remove_files(stored.files)
            raise
        return image
