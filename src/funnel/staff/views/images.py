"""Staff product image pages (permission ``catalog.manage``), added to the staff blueprint by
``register``: upload several images at once, describe, reorder and delete them.

Every change goes through one catalogue image service (which checks the permission again); a
good one redirects (303) to the images page with a message, a refused one shows the page again
with the reason beside the field (422; 413 when the upload is larger than the shop accepts)
and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from funnel.accounts.permissions import Permission, has_permission, require_permission
from funnel.catalog import images as image_files
from funnel.catalog import queries
from funnel.catalog import services as catalog
from funnel.core.errors import ValidationFailed
from funnel.core.http import error_response
from funnel.staff.forms import AltTextForm, ImageUploadForm, MoveImageForm


def register(bp: Blueprint) -> None:
    base = "/products/<int:product_id>/images"
    bp.add_url_rule(base, "product_images", images_page, methods=["GET"])
    bp.add_url_rule(base, "product_images_upload", upload, methods=["POST"])
    bp.add_url_rule(
        f"{base}/<int:image_id>/alt-text", "product_image_alt_text", alt_text, methods=["POST"]
    )
    bp.add_url_rule(f"{base}/<int:image_id>/move", "product_image_move", move, methods=["POST"])
    bp.add_url_rule(
        f"{base}/<int:image_id>/delete", "product_image_delete", delete, methods=["POST"]
    )
    bp.register_error_handler(RequestEntityTooLarge, _too_large)


def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload above MAX_CONTENT_LENGTH: the images page again, the limit beside the field.

    Werkzeug refuses the body when it is first read (the CSRF check, or the form), before the
    view runs; a body too large for any other staff page gets the shop's usual error page.
    """
    product_id = (request.view_args or {}).get("product_id")
    # The staff check has not run yet either: only a staff member who may upload sees the page.
    if (
        request.endpoint != "staff.product_images_upload"
        or product_id is None
        or not current_user.is_authenticated
        or not has_permission(current_user, Permission.CATALOG_MANAGE)
    ):
        return error_response(413, "Too large", "The request is too large.", "payload_too_large")
    form = ImageUploadForm(formdata=None)
    refusal = image_files.upload_too_large(current_app.config.get("MAX_CONTENT_LENGTH") or 0)
    form.files.errors = refusal.fields["files"]
    return _page(product_id, form, status=refusal.status)


def _request_limit() -> str:
    """The largest request body the shop takes (MAX_CONTENT_LENGTH), as people read sizes."""
    return image_files.readable_size(current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def _check_permission() -> None:
    require_permission(current_user, Permission.CATALOG_MANAGE)


def _page(
    product_id: int,
    upload_form: ImageUploadForm | None = None,
    *,
    failed_image_id: int | None = None,
    alt_form: AltTextForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    product, images = queries.product_images_for_staff(product_id)
    page = render_template(
        "staff/images/list.html",
        product=product,
        images=images,
        upload_form=upload_form or ImageUploadForm(formdata=None),
        failed_image_id=failed_image_id,
        alt_form=alt_form,
        request_limit=_request_limit(),
    )
    return page, status


def _back(product_id: int, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("staff.product_images", product_id=product_id), code=303)


def images_page(product_id: int) -> ResponseReturnValue:
    _check_permission()
    return _page(product_id)


def _put_beside(form: ImageUploadForm | AltTextForm, error: ValidationFailed) -> None:
    placed = False
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None and name != "meta":
            field.errors = [*field.errors, *messages]
            placed = True
    if not placed:
        form.form_errors.append(error.detail)


def upload(product_id: int) -> ResponseReturnValue:
    _check_permission()
    queries.product_images_for_staff(product_id)  # 404 before reading the body
    form = ImageUploadForm()
    if not form.validate():
        return _page(product_id, form, status=422)
    uploads = [
        (storage.filename or "file", storage.stream)
        for storage in form.files.data or []
        if storage and storage.filename
    ]
    try:
        added = catalog.add_product_images(
            product_id,
            uploads,
            alt_text=form.alt_text.data or "",
            actor_user_id=current_user.id,
        )
    except ValidationFailed as error:
        _put_beside(form, error)
        return _page(product_id, form, status=error.status)
    return _back(product_id, "Image added." if len(added) == 1 else f"{len(added)} images added.")


def alt_text(product_id: int, image_id: int) -> ResponseReturnValue:
    _check_permission()
    form = AltTextForm()
    try:
        if not form.validate():
            return _page(product_id, failed_image_id=image_id, alt_form=form, status=422)
        catalog.update_image_alt_text(
            product_id, image_id, form.alt_text.data or "", actor_user_id=current_user.id
        )
    except ValidationFailed as error:
        _put_beside(form, error)
        return _page(product_id, failed_image_id=image_id, alt_form=form, status=error.status)
    return _back(product_id, "Alt text saved.")


def move(product_id: int, image_id: int) -> ResponseReturnValue:
    _check_permission()
    form = MoveImageForm()
    if not form.validate():
        flash("Move an image up or down.", "error")
        return _page(product_id, status=422)
    direction = form.direction.data or ""
    catalog.move_product_image_one_place(
        product_id, image_id, direction, actor_user_id=current_user.id
    )
    return _back(product_id, f"Image moved {direction}.")


def delete(product_id: int, image_id: int) -> ResponseReturnValue:
    _check_permission()
    catalog.delete_product_image(product_id, image_id, actor_user_id=current_user.id)
    return _back(product_id, "Image deleted.")
