"""Staff product image operations (permission ``catalog.manage``): upload one or several
images, change an image's alt text, move it among the product's images, delete it.

Each calls the catalogue image service the staff pages call: it checks every file by its
content (JPEG, PNG or WebP, at most 10 MB), re-encodes it, writes the thumbnails and the audit
log. Uploads are ``multipart/form-data`` and may be as large as the shop's request limit
(``MAX_CONTENT_LENGTH``); a larger one is a 413 problem, as on the page.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from funnel.accounts.permissions import Permission
from funnel.catalog import images as image_files
from funnel.catalog import queries
from funnel.catalog import services as catalog
from funnel.catalog.errors import InvalidCatalogInput
from funnel.catalog.models import THUMBNAIL_SIZES, ProductImage
from funnel.core.api import errors
from funnel.core.api.bodies import accepts_uploads
from funnel.staff.api import PRODUCT_ID, bp
from funnel.staff.api.access import staff_caller, staff_permission
from funnel.staff.api.schemas.categories import StaffMoveInputSchema
from funnel.staff.api.schemas.images import (
    StaffAltTextPatchSchema,
    StaffImageFormSchema,
    StaffImageListSchema,
    StaffImageSchema,
    StaffImageUploadSchema,
)

MANAGE = Permission.CATALOG_MANAGE
IMAGE_ID = "<id:image_id>"
IMAGES = f"/products/{PRODUCT_ID}/images"
UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": StaffImageUploadSchema}},
}


@bp.route(IMAGES, methods=["POST"])
@accepts_uploads
@bp.response(201, StaffImageListSchema)
@bp.doc(requestBody=UPLOAD_BODY)
@errors(bp, 400, 404, 413, 422)
@staff_permission(bp, MANAGE)
def upload_staff_product_images(product_id: int) -> dict[str, Any]:
    """Upload one or more images of a product, all or none

    Send `multipart/form-data` with one or more `files` parts and an `alt_text`. Each file
    is checked by its content, whatever its name or type says: a JPEG, PNG or WebP image of
    at most 10 MB. When any file is refused nothing is added: 422 `invalid_image` naming
    every refused file in `fields.files`. A missing or too long `alt_text` is 422 naming
    it. A request larger in all than the shop takes is 413 `upload_too_large`. The images
    go after the product's others; the answer lists the images added. Needs
    `catalog.manage`.
    """
    queries.product_images_for_staff(product_id)  # 404 before reading the body
    try:
        files = request.files.getlist("files")
        form = dict(request.form)
    except RequestEntityTooLarge:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        raise image_files.upload_too_large(limit) from None
    try:
        fields = StaffImageFormSchema().load(form)
    except ma.ValidationError as error:
        raise InvalidCatalogInput(fields=_messages(error)) from None
    added = catalog.add_product_images(
        product_id,
        [(storage.filename or "", storage.stream) for storage in files],
        alt_text=fields["alt_text"],
        actor_user_id=staff_caller().id,
    )
    return {"items": [image_representation(image) for image in added]}


@bp.route(f"{IMAGES}/{IMAGE_ID}", methods=["PATCH"])
@bp.response(200, StaffImageSchema)
@errors(bp, 400, 404, 413, 422)
@staff_permission(bp, MANAGE)
@bp.arguments(StaffAltTextPatchSchema)
def update_staff_product_image(
    data: dict[str, Any], product_id: int, image_id: int
) -> dict[str, Any]:
    """Change an image's alt text (what it shows, for people who cannot see it)

    A blank or too long `alt_text` is 422 naming it. Another product's image is 404
    `product_image_not_found`. Needs `catalog.manage`.
    """
    image = catalog.update_image_alt_text(
        product_id, image_id, data["alt_text"], actor_user_id=staff_caller().id
    )
    return image_representation(image)


@bp.route(f"{IMAGES}/{IMAGE_ID}/move", methods=["POST"])
@bp.response(200, StaffImageListSchema)
@errors(bp, 400, 404, 413, 422)
@staff_permission(bp, MANAGE)
@bp.arguments(StaffMoveInputSchema)
def move_staff_product_image(
    data: dict[str, Any], product_id: int, image_id: int
) -> dict[str, Any]:
    """Move an image one place up (earlier) or down (later); the first is the one listed

    At either end it stays where it is. The answer lists the product's images in their new
    order. A direction other than `up` or `down` is 422 naming `direction`. Needs
    `catalog.manage`.
    """
    images = catalog.move_product_image_one_place(
        product_id, image_id, data["direction"], actor_user_id=staff_caller().id
    )
    return {"items": [image_representation(image) for image in images]}


@bp.route(f"{IMAGES}/{IMAGE_ID}", methods=["DELETE"])
@bp.response(204)
@errors(bp, 404)
@staff_permission(bp, MANAGE)
def delete_staff_product_image(product_id: int, image_id: int) -> None:
    """Delete an image, its file and its thumbnails

    The product's other images close the gap. Needs `catalog.manage`.
    """
    catalog.delete_product_image(product_id, image_id, actor_user_id=staff_caller().id)


def _messages(error: ma.ValidationError) -> dict[str, list[str]]:
    messages = error.messages if isinstance(error.messages, dict) else {"body": error.messages}
    return {str(name): [str(text) for text in texts] for name, texts in messages.items()}


def image_representation(image: ProductImage) -> dict[str, Any]:
    return {
        "id": image.id,
        "url": url_for("media.media", filename=image.filename),
        "thumbnails": {
            str(size): url_for("media.media", filename=image.thumbnail(size))
            for size in THUMBNAIL_SIZES
        },
        "alt_text": image.alt_text,
        "position": image.position,
        "width": image.width,
        "height": image.height,
    }
