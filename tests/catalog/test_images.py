"""US-17: product images are verified, re-encoded and thumbnailed; anything else is refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image

from funnel.catalog import images, services
from funnel.catalog.errors import InvalidCatalogInput, InvalidImage
from funnel.catalog.models import ProductImage
from funnel.extensions import db
from tests.factories.catalog import ProductFactory, image_bytes

pytestmark = pytest.mark.story("US-17")


def image_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ProductImage))


def media_files(app: Flask) -> list[str]:
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.mark.parametrize(
    ("image_format", "suffix"), [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp")]
)
def test_an_image_is_stored_with_400_and_800_pixel_thumbnails(
    app: Flask, image_format: str, suffix: str
) -> None:
    # given a product
    product = ProductFactory()

    # when a 1200x900 image is added
    image = services.add_product_image(
        product.id, image_bytes(image_format, (1200, 900)), alt_text="Front view"
    )

    # then the row describes it and the three files exist at the right sizes
    assert (image.alt_text, image.width, image.height, image.position) == (
        "Front view",
        1200,
        900,
        0,
    )
    assert image.filename.endswith(suffix)
    root = Path(app.config["MEDIA_ROOT"])
    sizes = {}
    for name in (image.filename, image.thumbnail(400), image.thumbnail(800)):
        with Image.open(root / name) as stored:
            sizes[name] = (stored.format, stored.size)
    assert list(sizes.values()) == [
        (image_format, (1200, 900)),
        (image_format, (400, 300)),
        (image_format, (800, 600)),
    ]


def test_a_file_streamed_from_an_upload_is_accepted(app: Flask) -> None:
    product = ProductFactory()

    image = services.add_product_image(product.id, io.BytesIO(image_bytes("PNG")), alt_text="x")

    assert image_count() == 1
    assert image.position == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"just some text, not an image", "text"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "a truncated PNG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "an SVG"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_kept(
    app: Flask, data: bytes, reason: str
) -> None:
    product = ProductFactory()

    with pytest.raises(InvalidImage) as raised:
        services.add_product_image(product.id, data, alt_text="Not really")

    assert raised.value.code == "invalid_image"
    assert raised.value.status == 422
    assert image_count() == 0
    assert media_files(app) == []


def test_an_image_in_another_format_is_refused(app: Flask) -> None:
    product = ProductFactory()

    with pytest.raises(InvalidImage) as raised:
        services.add_product_image(product.id, image_bytes("GIF"), alt_text="Animated")

    assert raised.value.detail == "Only JPEG, PNG and WebP images are accepted."
    assert image_count() == 0


def test_an_image_over_10_mb_is_refused(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a limit lowered so that the test needs no 10 MB file
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 1000)
    product = ProductFactory()

    with pytest.raises(InvalidImage) as raised:
        services.add_product_image(
            product.id, image_bytes("PNG", (800, 800)) + b"\0" * 1000, alt_text="Big"
        )

    assert raised.value.detail == "The image is larger than 10 MB."
    assert image_count() == 0


def test_an_image_with_too_many_pixels_is_refused(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 100 * 100)
    product = ProductFactory()

    with pytest.raises(InvalidImage):
        services.add_product_image(product.id, image_bytes("PNG", (101, 100)), alt_text="Wide")
    assert media_files(app) == []


def test_an_image_needs_alt_text(app: Flask) -> None:
    product = ProductFactory()

    with pytest.raises(InvalidCatalogInput) as raised:
        services.add_product_image(product.id, image_bytes("PNG"), alt_text="  ")

    assert raised.value.fields == {"alt_text": ["This field is required."]}
    assert media_files(app) == []
