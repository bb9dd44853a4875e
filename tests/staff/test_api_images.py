"""Staff API: product images (catalog.manage) through the catalogue image service the staff
pages call: several files uploaded at once and checked by their content, alt text, order,
deletion with the files; each change logged as on the pages, a refused one changing nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from funnel.accounts.models import User
from funnel.catalog import services as catalog
from funnel.catalog.models import Product, ProductImage
from funnel.extensions import db
from tests.audit.helpers import count, entries
from tests.factories.catalog import ProductFactory, image_bytes
from tests.staff.test_api_categories import CALLERS, headers_of
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

pytestmark = pytest.mark.story("US-17")


def images_of(product: Product) -> list[tuple[int, str, int]]:
    """(id, alt text, position) of the product's images, in display order."""
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(ProductImage.id, ProductImage.alt_text, ProductImage.position)
        .where(ProductImage.product_id == product.id)
        .order_by(ProductImage.position, ProductImage.id)
    )
    return [tuple(row) for row in rows]


def media_files(app: Flask) -> list[str]:
    root = Path(app.config["MEDIA_ROOT"])
    if not root.exists():
        return []
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def upload(*files: tuple[bytes, str], alt_text: str | None = "A red mug") -> dict[str, Any]:
    data: dict[str, Any] = {
        "files": [FileStorage(io.BytesIO(content), filename=name) for content, name in files]
    }
    if alt_text is not None:
        data["alt_text"] = alt_text
    return data


def post_upload(
    client: FlaskClient, product_id: int | str, data: dict[str, Any], headers: dict[str, str]
) -> TestResponse:
    """POST ``data`` as ``multipart/form-data``, encoded in memory (the test client spools a
    large body to a temporary file that nothing closes)."""
    boundary, body = encode_multipart(data)
    return client.post(
        images_path(product_id),
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def images_path(product_id: int | str) -> str:
    return f"{STAFF}/products/{product_id}/images"


def with_images(*alt_texts: str) -> tuple[Product, list[int]]:
    product = ProductFactory(title="Red mug")
    ids = [
        catalog.add_product_image(product.id, image_bytes("PNG"), alt_text=alt_text).id
        for alt_text in alt_texts
    ]
    return product, ids


def _call(client: FlaskClient, operation: str, product: Product, image_id: int, headers: dict):
    base = images_path(product.id)
    if operation == "get_product":
        return client.get(f"{STAFF}/products/{product.id}", headers=headers), 200
    if operation == "upload":
        data = upload((image_bytes("PNG"), "new.png"))
        return post_upload(client, product.id, data, headers), 201
    if operation == "alt_text":
        return client.patch(
            f"{base}/{image_id}", json={"alt_text": "Changed"}, headers=headers
        ), 200
    if operation == "move":
        return client.post(
            f"{base}/{image_id}/move", json={"direction": "down"}, headers=headers
        ), 200
    return client.delete(f"{base}/{image_id}", headers=headers), 204


@pytest.mark.story("US-28")
@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("operation", ["get_product", "upload", "alt_text", "move", "delete"])
def test_image_operations_need_the_catalogue_permission(
    app: Flask, client: FlaskClient, bearer: Bearer, caller: str, operation: str
) -> None:
    # given a product with two images, and a caller
    product, [first, _second] = with_images("First", "Second")
    headers = headers_of(caller, bearer)
    before, files_before = images_of(product), media_files(app)

    # when the caller calls the operation
    response, success = _call(client, operation, product, first, headers)

    # then anonymous callers get 401, customers and staff without the group 403, and no image
    # nor file changes and nothing is logged; staff with the Catalogue group and admins pass
    if caller == "anonymous":
        problem(response, 401, "authentication_required")
    elif caller in {"customer", "staff_without_catalogue"}:
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == success, response.get_data(as_text=True)
    if caller in {"anonymous", "customer", "staff_without_catalogue"}:
        assert (images_of(product), media_files(app)) == (before, files_before)
        assert count() == 0
    elif operation != "get_product":
        assert images_of(product) != before
        assert count() == 1


def test_several_images_are_uploaded_at_once_after_the_others_and_logged(
    app: Flask, client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given a product with one image
    product, [first] = with_images("First")
    headers = bearer(staff_user)

    # when staff upload a PNG and a JPEG (larger than the API's 1 MB limit for JSON bodies)
    large_jpeg = image_bytes("JPEG", (900, 1200)) + b"\0" * (1024 * 1024)
    response = post_upload(
        client,
        product.id,
        upload((image_bytes("PNG"), "front.png"), (large_jpeg, "side.jpg")),
        headers,
    )

    # then both are added after the first, re-encoded with two thumbnails each, and logged
    assert response.status_code == 201, response.get_data(as_text=True)
    items = response.get_json()["items"]
    stored = db.session.scalars(
        sa.select(ProductImage)
        .where(ProductImage.product_id == product.id, ProductImage.id != first)
        .order_by(ProductImage.position)
    ).all()
    assert items == [
        {
            "id": image.id,
            "url": f"/media/{image.filename}",
            "thumbnails": {
                "400": f"/media/{image.thumbnail(400)}",
                "800": f"/media/{image.thumbnail(800)}",
            },
            "alt_text": "A red mug",
            "position": position,
            "width": width,
            "height": height,
        }
        for image, position, (width, height) in zip(
            stored, [1, 2], [(1200, 900), (900, 1200)], strict=True
        )
    ]
    assert len(media_files(app)) == 9
    for item in items:
        thumbnail = client.get(item["thumbnails"]["400"])
        assert (thumbnail.status_code, thumbnail.mimetype) == (
            200,
            "image/jpeg" if item["url"].endswith(".jpg") else "image/png",
        )
        thumbnail.close()
    assert [(entry["action"], entry["actor"], entry["label"]) for entry in entries()] == [
        ("product_image.created", staff_user.id, "Red mug"),
        ("product_image.created", staff_user.id, "Red mug"),
    ]
    assert entries()[0]["after"] == {
        "product_id": product.id,
        "filename": stored[0].filename,
        "alt_text": "A red mug",
        "position": 1,
    }
    # and the product, read through the staff API, lists its three images in order
    listed = client.get(f"{STAFF}/products/{product.id}", headers=headers).get_json()["images"]
    assert [(image["id"], image["position"]) for image in listed] == [
        (first, 0),
        (stored[0].id, 1),
        (stored[1].id, 2),
    ]


@pytest.mark.story("US-44")
def test_files_that_are_not_images_are_named_and_nothing_is_added(
    app: Flask, client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    product = ProductFactory()

    response = post_upload(
        client,
        product.id,
        upload(
            (image_bytes("PNG"), "good.png"),
            (b"%PDF-1.4 not an image", "photo.png"),
            (image_bytes("GIF"), "anim.gif"),
        ),
        bearer(staff_user),
    )

    body = problem(response, 422, "invalid_image")
    assert body["detail"] == "No image was added: 2 files are not accepted."
    assert body["fields"] == {
        "files": [
            "photo.png: The file is not a JPEG, PNG or WebP image.",
            "anim.gif: Only JPEG, PNG and WebP images are accepted.",
        ]
    }
    assert images_of(product) == []
    assert media_files(app) == []
    assert count() == 0


@pytest.mark.story("US-44")
@pytest.mark.parametrize(
    ("files", "alt_text", "field", "message"),
    [
        ([], "A mug", "files", "Choose one or more images."),
        (["PNG"], None, "alt_text", "This field is required."),
        (["PNG"], "  ", "alt_text", "This field is required."),
        (["PNG"], "x" * 301, "alt_text", "At most 300 characters."),
        (["PNG"], "A\x00mug", "alt_text", "Must not contain a NUL character."),
        ([""], "A mug", "files", "a.png: The file is empty."),
        (["HUGE"], "A mug", "files", "a.png: The image is larger than 10 MB."),
    ],
)
def test_bad_upload_input_is_a_422_naming_the_field_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    bearer: Bearer,
    staff_user: User,
    files: list[str],
    alt_text: str | None,
    field: str,
    message: str,
) -> None:
    contents = {"": b"", "PNG": image_bytes("PNG"), "HUGE": b"\xff" * (10 * 1024 * 1024 + 1)}
    product = ProductFactory()

    response = post_upload(
        client,
        product.id,
        upload(*[(contents[kind], "a.png") for kind in files], alt_text=alt_text),
        bearer(staff_user),
    )

    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["fields"] == {field: [message]}
    assert images_of(product) == []
    assert media_files(app) == []
    assert count() == 0


@pytest.mark.story("US-44")
def test_an_upload_above_the_request_limit_is_a_413_saying_the_limit(
    app: Flask, client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given a shop that takes 100 KB a request
    product = ProductFactory()
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024

    response = post_upload(
        client,
        product.id,
        upload((b"\0" * (150 * 1024), "huge.png")),
        bearer(staff_user),
    )

    body = problem(response, 413, "upload_too_large")
    message = "The upload is larger than 100 KB in all: send fewer images at a time."
    assert (body["detail"], body["fields"]) == (message, {"files": [message]})
    assert images_of(product) == []
    assert media_files(app) == []


def test_an_unknown_product_or_another_products_image_is_a_404(
    app: Flask, client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    product, [image_id] = with_images("First")
    other = ProductFactory()
    headers = bearer(staff_user)
    files_before = media_files(app)

    unknown_product = post_upload(client, 999_999, upload((image_bytes("PNG"), "a.png")), headers)
    # another product's image is not this product's
    base = f"{images_path(other.id)}/{image_id}"
    others = [
        client.patch(base, json={"alt_text": "x"}, headers=headers),
        client.post(f"{base}/move", json={"direction": "up"}, headers=headers),
        client.delete(base, headers=headers),
    ]
    unknown_image = client.delete(f"{images_path(product.id)}/999999", headers=headers)
    out_of_range = client.delete(f"{images_path(product.id)}/2147483648", headers=headers)

    problem(unknown_product, 404, "product_not_found")
    for response in [*others, unknown_image]:
        problem(response, 404, "product_image_not_found")
    assert out_of_range.status_code == 404
    assert images_of(product) == [(image_id, "First", 0)]
    assert media_files(app) == files_before
    assert count() == 0


def test_alt_text_is_changed_and_logged_and_a_blank_one_is_refused(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    product, [image_id] = with_images("First")
    headers = bearer(staff_user)
    path = f"{images_path(product.id)}/{image_id}"

    refused = [
        client.patch(path, json={"alt_text": "   "}, headers=headers),
        client.patch(path, json={}, headers=headers),
        client.patch(path, json={"alt_text": None}, headers=headers),
    ]
    saved = client.patch(path, json={"alt_text": " Mug, side view "}, headers=headers)

    assert [response.status_code for response in refused] == [422, 422, 422]
    assert refused[0].get_json()["fields"] == {"alt_text": ["This field is required."]}
    assert saved.status_code == 200
    assert (saved.get_json()["id"], saved.get_json()["alt_text"]) == (image_id, "Mug, side view")
    assert images_of(product) == [(image_id, "Mug, side view", 0)]
    [entry] = entries()
    assert (entry["action"], entry["object"], entry["before"], entry["after"]) == (
        "product_image.updated",
        ("product_image", str(image_id)),
        {"alt_text": "First"},
        {"alt_text": "Mug, side view"},
    )


def test_images_move_up_and_down_stop_at_the_ends_and_are_logged(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    product, [one, two, three] = with_images("One", "Two", "Three")
    headers = bearer(staff_user)
    base = images_path(product.id)

    def move(image_id: int, direction: str) -> Any:
        return client.post(
            f"{base}/{image_id}/move", json={"direction": direction}, headers=headers
        )

    up = move(three, "up")
    assert [item["alt_text"] for item in up.get_json()["items"]] == ["One", "Three", "Two"]
    move(one, "down")
    assert [alt for _id, alt, _position in images_of(product)] == ["Three", "One", "Two"]
    at_the_top = move(three, "up")
    refused = move(two, "sideways")

    assert (up.status_code, at_the_top.status_code) == (200, 200)
    assert [(item["id"], item["position"]) for item in at_the_top.get_json()["items"]] == [
        (three, 0),
        (one, 1),
        (two, 2),
    ]
    assert refused.status_code == 422
    assert refused.get_json()["fields"] == {"direction": ["Choose up or down."]}
    assert images_of(product) == [(three, "Three", 0), (one, "One", 1), (two, "Two", 2)]
    assert [(entry["action"], entry["object"][1]) for entry in entries()] == [
        ("product_image.moved", str(three)),
        ("product_image.moved", str(one)),
    ]


def test_deleting_an_image_removes_its_files_closes_the_gap_and_is_logged(
    app: Flask, client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    product, [first, second_id] = with_images("One", "Two")
    second = db.session.get(ProductImage, second_id)
    second_files = {second.filename, second.thumbnail(400), second.thumbnail(800)}
    second_filename = second.filename

    response = client.delete(f"{images_path(product.id)}/{first}", headers=bearer(staff_user))

    assert response.status_code == 204
    assert images_of(product) == [(second_id, "Two", 0)]
    assert set(media_files(app)) == second_files
    [entry] = entries()
    assert (entry["action"], entry["object"], entry["before"]["alt_text"]) == (
        "product_image.deleted",
        ("product_image", str(first)),
        "One",
    )
    assert second_filename not in entry["before"]["filename"]
