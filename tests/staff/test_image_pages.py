"""Staff product image pages (US-17): who may reach them, uploading several images checked by
their content, alt text, order, deletion with the files, and bad input that changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.accounts.permissions import ROLE_PERMISSIONS, Permission
from funnel.catalog import services as catalog
from funnel.catalog.models import Product, ProductImage
from funnel.core.errors import PermissionDenied
from funnel.extensions import db
from tests.factories.catalog import ProductFactory, image_bytes

pytestmark = pytest.mark.story("US-17")


def images_of(product: Product) -> list[tuple[int, str]]:
    """(id, alt text) of the product's images, in display order."""
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(ProductImage.id, ProductImage.alt_text)
        .where(ProductImage.product_id == product.id)
        .order_by(ProductImage.position, ProductImage.id)
    )
    return [tuple(row) for row in rows]


def media_files(app: Flask) -> list[str]:
    root = Path(app.config["MEDIA_ROOT"])
    if not root.exists():
        return []
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def upload(*files: tuple[bytes, str], alt_text: str = "A red mug") -> dict:
    return {"files": [(io.BytesIO(data), name) for data, name in files], "alt_text": alt_text}


def with_image(alt_text: str = "First") -> tuple[Product, int]:
    product = ProductFactory(title="Red mug")
    image = catalog.add_product_image(product.id, image_bytes("PNG"), alt_text=alt_text)
    return product, image.id


def requests(product: Product, image_id: int) -> list[tuple[str, str, dict]]:
    base = f"/staff/products/{product.id}/images"
    return [
        ("get", base, {}),
        ("post", base, upload((image_bytes("PNG"), "new.png"))),
        ("post", f"{base}/{image_id}/alt-text", {"alt_text": "Changed"}),
        ("post", f"{base}/{image_id}/move", {"direction": "down"}),
        ("post", f"{base}/{image_id}/delete", {}),
    ]


def call(browser: FlaskClient, method: str, path: str, data: dict) -> int:
    if method == "get":
        return browser.get(path).status_code
    return browser.post(path, data=data, content_type="multipart/form-data").status_code


# -- who may reach the pages -------------------------------------------------------------------


def test_a_visitor_is_sent_to_sign_in_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    product, image_id = with_image()
    before = media_files(app)

    for method, path, data in requests(product, image_id):
        assert call(client, method, path, data) == 302
    assert (
        client.get(f"/staff/products/{product.id}/images")
        .headers["Location"]
        .startswith("/account/sign-in?next=%2Fstaff%2Fproducts")
    )
    assert images_of(product) == [(image_id, "First")]
    assert media_files(app) == before


def test_a_customer_gets_403_and_changes_nothing(app: Flask, customer: User, signed_in) -> None:
    product, image_id = with_image()
    before = media_files(app)
    browser = signed_in(customer)

    for method, path, data in requests(product, image_id):
        assert call(browser, method, path, data) == 403
    assert images_of(product) == [(image_id, "First")]
    assert media_files(app) == before


def test_staff_without_the_permission_get_403_and_change_nothing(
    app: Flask, staff_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    product, image_id = with_image()
    before = media_files(app)
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.STAFF, ROLE_PERMISSIONS[Role.STAFF] - {Permission.CATALOG_MANAGE}
    )
    browser = signed_in(staff_user)

    for method, path, data in requests(product, image_id):
        assert call(browser, method, path, data) == 403
    assert images_of(product) == [(image_id, "First")]
    assert media_files(app) == before


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_manage_images(
    app: Flask, staff_user: User, admin_user: User, signed_in, role: str
) -> None:
    product, image_id = with_image()
    browser = signed_in(staff_user if role == "staff" else admin_user)

    statuses = [call(browser, *request) for request in requests(product, image_id)]

    assert statuses == [200, 303, 303, 303, 303]
    [(_kept, alt_text)] = images_of(product)
    assert alt_text == "A red mug"


def test_the_services_refuse_a_customer_as_well(app: Flask, customer: User) -> None:
    product, image_id = with_image()

    with pytest.raises(PermissionDenied):
        catalog.add_product_images(
            product.id, [("a.png", image_bytes("PNG"))], alt_text="x", actor_user_id=customer.id
        )
    with pytest.raises(PermissionDenied):
        catalog.update_image_alt_text(product.id, image_id, "x", actor_user_id=customer.id)
    with pytest.raises(PermissionDenied):
        catalog.move_product_image(product.id, image_id, 1, actor_user_id=customer.id)
    with pytest.raises(PermissionDenied):
        catalog.delete_product_image(product.id, image_id, actor_user_id=customer.id)
    db.session.rollback()
    assert images_of(product) == [(image_id, "First")]


# -- uploads ----------------------------------------------------------------------------------


def test_several_images_are_uploaded_at_once_and_listed_with_thumbnails(
    app: Flask, staff_user: User, signed_in
) -> None:
    product = ProductFactory(title="Red mug")
    browser = signed_in(staff_user)

    response = browser.post(
        f"/staff/products/{product.id}/images",
        data=upload(
            (image_bytes("PNG"), "front.png"), (image_bytes("JPEG", (900, 1200)), "side.jpg")
        ),
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "2 images added." in response.text
    assert [alt for _id, alt in images_of(product)] == ["A red mug", "A red mug"]
    assert len(media_files(app)) == 6
    stored = db.session.scalars(
        sa.select(ProductImage)
        .where(ProductImage.product_id == product.id)
        .order_by(ProductImage.position)
    ).all()
    for image in stored:
        assert (
            f'<img src="/media/{image.thumbnail(400)}" alt="A red mug" width="120" loading="lazy">'
            in response.text
        )
    assert [(image.width, image.height) for image in stored] == [(1200, 900), (900, 1200)]
    assert "Images (2)" in response.text


def test_a_file_that_is_not_an_image_is_named_and_nothing_is_added(
    app: Flask, staff_user: User, signed_in
) -> None:
    product = ProductFactory()

    response = signed_in(staff_user).post(
        f"/staff/products/{product.id}/images",
        data=upload(
            (image_bytes("PNG"), "good.png"),
            (b"%PDF-1.4 not an image", "photo.png"),
            (image_bytes("GIF"), "anim.gif"),
        ),
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert (
        '<small id="files-error" class="field-error">'
        "photo.png: The file is not a JPEG, PNG or WebP image. "
        "anim.gif: Only JPEG, PNG and WebP images are accepted.</small>"
    ) in response.text
    assert images_of(product) == []
    assert media_files(app) == []


@pytest.mark.parametrize(
    ("files", "alt_text", "field", "message"),
    [
        ([], "A mug", "files", "Choose one or more images."),
        (["PNG"], "  ", "alt_text", "This field is required."),
        (["PNG"], "x" * 301, "alt_text", "At most 300 characters."),
        ([""], "A mug", "files", "a.png: The file is empty."),
    ],
)
def test_bad_upload_input_is_a_422_beside_the_field_and_writes_nothing(
    app: Flask,
    staff_user: User,
    signed_in,
    files: list[str],
    alt_text: str,
    field: str,
    message: str,
) -> None:
    data = upload(
        *[(image_bytes(kind) if kind else b"", "a.png") for kind in files], alt_text=alt_text
    )
    product = ProductFactory()

    response = signed_in(staff_user).post(
        f"/staff/products/{product.id}/images", data=data, content_type="multipart/form-data"
    )

    assert response.status_code == 422
    assert f'<small id="{field}-error" class="field-error">{message}</small>' in response.text
    assert images_of(product) == []
    assert media_files(app) == []


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_an_upload_above_the_request_limit_is_a_413_with_the_limit_beside_the_field(
    app: Flask, staff_user: User, signed_in
) -> None:
    # given a shop that takes 100 KB a request, and CSRF checked (it reads the body first)
    product = ProductFactory()
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024

    response = signed_in(staff_user).post(
        f"/staff/products/{product.id}/images",
        data=upload((b"\0" * (150 * 1024), "huge.png")),
        content_type="multipart/form-data",
    )

    assert response.status_code == 413
    assert (
        '<small id="files-error" class="field-error">'
        "The upload is larger than 100 KB in all: send fewer images at a time.</small>"
    ) in response.text
    assert images_of(product) == []


def test_an_unknown_product_or_image_is_a_404(app: Flask, staff_user: User, signed_in) -> None:
    product, image_id = with_image()
    other = ProductFactory()
    browser = signed_in(staff_user)

    assert browser.get("/staff/products/999999/images").status_code == 404
    assert (
        browser.post(
            "/staff/products/999999/images",
            data=upload((image_bytes("PNG"), "a.png")),
            content_type="multipart/form-data",
        ).status_code
        == 404
    )
    # another product's image is not this product's
    base = f"/staff/products/{other.id}/images/{image_id}"
    assert browser.post(f"{base}/alt-text", data={"alt_text": "x"}).status_code == 404
    assert browser.post(f"{base}/move", data={"direction": "up"}).status_code == 404
    assert browser.post(f"{base}/delete").status_code == 404
    assert browser.post(f"/staff/products/{product.id}/images/999999/delete").status_code == 404
    assert images_of(product) == [(image_id, "First")]


# -- alt text, order, delete -------------------------------------------------------------------


def test_alt_text_is_changed_and_an_empty_one_is_refused_beside_its_image(
    app: Flask, staff_user: User, signed_in
) -> None:
    product, image_id = with_image()
    browser = signed_in(staff_user)
    path = f"/staff/products/{product.id}/images/{image_id}/alt-text"

    refused = browser.post(path, data={"alt_text": "   "})
    assert refused.status_code == 422
    assert (
        f'<small id="alt-text-{image_id}-error" class="field-error">This field is required.</small>'
        in refused.text
    )
    assert images_of(product) == [(image_id, "First")]

    saved = browser.post(path, data={"alt_text": " Mug, side view "}, follow_redirects=True)
    assert "Alt text saved." in saved.text
    assert images_of(product) == [(image_id, "Mug, side view")]


def test_images_move_up_and_down_and_stop_at_the_ends(
    app: Flask, staff_user: User, signed_in
) -> None:
    product, first = with_image("One")
    second = catalog.add_product_image(product.id, image_bytes("PNG"), alt_text="Two").id
    third = catalog.add_product_image(product.id, image_bytes("PNG"), alt_text="Three").id
    browser = signed_in(staff_user)
    base = f"/staff/products/{product.id}/images"

    assert browser.post(f"{base}/{third}/move", data={"direction": "up"}).status_code == 303
    assert [alt for _id, alt in images_of(product)] == ["One", "Three", "Two"]
    browser.post(f"{base}/{first}/move", data={"direction": "down"})
    assert [alt for _id, alt in images_of(product)] == ["Three", "One", "Two"]
    browser.post(f"{base}/{third}/move", data={"direction": "up"})
    assert [alt for _id, alt in images_of(product)] == ["Three", "One", "Two"]
    refused = browser.post(f"{base}/{second}/move", data={"direction": "sideways"})
    assert refused.status_code == 422
    assert "Move an image up or down." in refused.text
    assert [alt for _id, alt in images_of(product)] == ["Three", "One", "Two"]


def test_deleting_an_image_removes_its_files_and_closes_the_gap(
    app: Flask, staff_user: User, signed_in
) -> None:
    product, first = with_image("One")
    second = catalog.add_product_image(product.id, image_bytes("PNG"), alt_text="Two")
    second_files = [second.filename, second.thumbnail(400), second.thumbnail(800)]
    assert len(media_files(app)) == 6

    response = signed_in(staff_user).post(
        f"/staff/products/{product.id}/images/{second.id}/delete", follow_redirects=True
    )

    assert "Image deleted." in response.text
    assert images_of(product) == [(first, "One")]
    assert len(media_files(app)) == 3
    assert not set(second_files) & set(media_files(app))
    positions = db.session.scalars(
        sa.select(ProductImage.position).where(ProductImage.product_id == product.id)
    ).all()
    assert positions == [0]
