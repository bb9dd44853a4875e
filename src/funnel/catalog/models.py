"""Catalogue tables: categories (a tree), products, variants, option values and images.

``Product.search_document`` and ``Product.min_price_amount`` are denormalised: the services
(and the bulk loader) keep them in step with the product's title, description and variants, so
that search and price sorting are single indexed lookups. The full-text index over
``search_document`` is dialect-specific and made by the migration only (see ``search/matching.py``).
"""

from __future__ import annotations

import enum
import functools
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from funnel.core.models import TimestampMixin, now
from funnel.core.money import Money
from funnel.extensions import db

THUMBNAIL_SIZES = (400, 800)


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (Index(None, "parent_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Category | None] = relationship(remote_side=[id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'active', 'archived')", name="status"),
        CheckConstraint("min_price_amount >= 0", name="min_price_amount_non_negative"),
        Index(None, "status", "created_at"),
        Index(None, "status", "min_price_amount"),
        Index(None, "status", "title"),
        Index(None, "status", "is_featured", "created_at"),
        Index(None, "category_id", "status", "created_at"),
        # A category page merges each category's first rows in its sort's order.
        Index(None, "category_id", "status", "min_price_amount", "id"),
        Index(None, "category_id", "status", "title", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ProductStatus] = mapped_column(
        Enum(
            ProductStatus,
            native_enum=False,
            length=16,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
        default=ProductStatus.DRAFT,
    )
    seo_title: Mapped[str] = mapped_column(String(200), default="")
    seo_description: Mapped[str] = mapped_column(String(320), default="")
    is_featured: Mapped[bool] = mapped_column(default=False)
    min_price_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    search_document: Mapped[str] = mapped_column(Text, default="")

    category: Mapped[Category] = relationship(lazy="raise")
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", order_by="Variant.position, Variant.id", lazy="raise"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position, ProductImage.id", lazy="raise"
    )

    @property
    def min_price(self) -> Money:
        return Money(self.min_price_amount, self.currency)

    @property
    def is_active(self) -> bool:
        return self.status == ProductStatus.ACTIVE

    @property
    def page_title(self) -> str:
        return self.seo_title or self.title

    def __repr__(self) -> str:
        return f"<Product {self.slug}>"


class Variant(db.Model):
    __tablename__ = "variants"
    __table_args__ = (
        CheckConstraint("stock_quantity >= 0", name="stock_quantity_non_negative"),
        CheckConstraint("price_amount >= 0", name="price_amount_non_negative"),
        CheckConstraint("low_stock_threshold >= 0", name="low_stock_threshold_non_negative"),
        Index(None, "product_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    price_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock_quantity: Mapped[int] = mapped_column(Integer, default=0)
    # Available units at or below which staff see the variant as low on stock; None: the
    # shop's default (LOW_STOCK_THRESHOLD).
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer, default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")
    option_values: Mapped[list[VariantOptionValue]] = relationship(
        back_populates="variant",
        order_by="VariantOptionValue.position, VariantOptionValue.id",
        lazy="raise",
    )

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def is_in_stock(self) -> bool:
        return self.stock_quantity > 0

    @property
    def options_label(self) -> str:
        """The option values in order, e.g. ``"M / Red"`` (or the title when there are none)."""
        values = " / ".join(option.value for option in self.option_values)
        return values or self.title or self.sku

    def __repr__(self) -> str:
        return f"<Variant {self.sku}>"


class VariantOptionValue(db.Model):
    """One option of a variant, e.g. name ``"Size"`` and value ``"M"``.

    Names are stored capitalised (``"Size"``, ``"Colour"``), so that a listing's query string
    can use the lower-case name as its parameter (``?size=M``).
    """

    __tablename__ = "variant_option_values"
    __table_args__ = (
        UniqueConstraint("variant_id", "name"),
        Index(None, "name", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    name: Mapped[str] = mapped_column(String(50))
    value: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)

    variant: Mapped[Variant] = relationship(back_populates="option_values", lazy="raise")


class ProductImage(db.Model):
    __tablename__ = "product_images"
    __table_args__ = (Index(None, "product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    filename: Mapped[str] = mapped_column(String(255))
    alt_text: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)

    product: Mapped[Product] = relationship(back_populates="images", lazy="raise")

    def thumbnail(self, size: int) -> str:
        """The media path of the ``size`` px thumbnail (400 or 800) next to the original."""
        return thumbnail_name(self.filename, size)


@functools.lru_cache(maxsize=4096)
def thumbnail_name(filename: str, size: int) -> str:
    """Kept per process (a pure function of its arguments): a listing asks for one per card
    on every page, and pathlib costs more than the rest of a card."""
    path = PurePosixPath(filename)
    return str(path.with_name(f"{path.stem}-{size}{path.suffix}"))


class SearchTerm(db.Model):
    """A word of the catalogue's vocabulary, for "did you mean" and typo tolerance.

    The services add the words of every product they write (never remove one: a word of an
    archived product may stay, and a correction is offered only when it finds products).
    ``trigrams`` is the word's three-letter pieces, space-separated: MariaDB's FULLTEXT index
    over it finds the words that share pieces with a misspelling; SQLite (an FTS5 ``trigram``
    table) and PostgreSQL (``pg_trgm``) index ``term`` itself. Those indexes are made by the
    migration only.
    """

    __tablename__ = "search_terms"
    __table_args__ = (UniqueConstraint("term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(40))
    trigrams: Mapped[str] = mapped_column(Text, default="")


class CatalogueVersion(db.Model):
    """The catalogue's version: one row (id 1) whose ``version`` takes a new random value in
    every transaction that changes the catalogue (see ``catalog.versions``); 0 when absent.

    Random rather than counted: a rolled-back change, or a backup restored, never brings back a
    number that a worker's cache holds for another state of the catalogue.
    """

    __tablename__ = "catalogue_versions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
