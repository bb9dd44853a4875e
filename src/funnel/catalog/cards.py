"""Product cards: what a listing shows of each product, read as plain rows.

Listings (the home page's sections, category pages, search, the API's product list) show six
columns of each product and its first image. Loading them as ORM objects (every column, the
identity map, the images through ``selectinload``) was most of a listing page's CPU; a card is
read in the same two statements instead (the page of products, then the images of those
products), as plain rows into frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from funnel.catalog.models import Product, ProductImage, thumbnail_name
from funnel.core.money import Money

CARD_COLUMNS = (
    Product.id,
    Product.slug,
    Product.title,
    Product.category_id,
    Product.min_price_amount,
    Product.currency,
)


@dataclass(frozen=True, slots=True)
class CardImage:
    """A product's first image, as a card and the API's summary show it."""

    filename: str
    alt_text: str
    width: int
    height: int

    def thumbnail(self, size: int) -> str:
        """The media path of the ``size`` px thumbnail (400 or 800) next to the original."""
        return thumbnail_name(self.filename, size)


@dataclass(frozen=True, slots=True)
class ProductCard:
    id: int
    slug: str
    title: str
    category_id: int
    min_price_amount: int
    currency: str
    image: CardImage | None

    @property
    def min_price(self) -> Money:
        return Money(self.min_price_amount, self.currency)


def card_select() -> Select[Any]:
    """A SELECT of the card columns of products, for the caller's conditions and order."""
    return select(*CARD_COLUMNS)


def load_cards(session: Session, statement: Select[Any]) -> list[ProductCard]:
    """The cards of the products ``statement`` (a ``card_select``) gives, in its order: one
    statement, plus one for their images when it gives any."""
    rows = list({row.id: row for row in session.execute(statement)}.values())
    first_images = _first_images(session, [row.id for row in rows]) if rows else {}
    return [
        ProductCard(
            id=row.id,
            slug=row.slug,
            title=row.title,
            category_id=row.category_id,
            min_price_amount=row.min_price_amount,
            currency=row.currency,
            image=first_images.get(row.id),
        )
        for row in rows
    ]


# Built once: a reused statement keeps its SQL cache key (the ids are an expanding parameter).
_IMAGES = (
    select(
        ProductImage.product_id,
        ProductImage.filename,
        ProductImage.alt_text,
        ProductImage.width,
        ProductImage.height,
    )
    .where(ProductImage.product_id.in_(bindparam("product_ids", expanding=True)))
    .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
)


def _first_images(session: Session, product_ids: Sequence[int]) -> dict[int, CardImage]:
    """Each product's first image (by position, then id), by product id."""
    first: dict[int, CardImage] = {}
    for row in session.execute(_IMAGES, {"product_ids": list(product_ids)}):
        if row.product_id not in first:
            first[row.product_id] = CardImage(row.filename, row.alt_text, row.width, row.height)
    return first
