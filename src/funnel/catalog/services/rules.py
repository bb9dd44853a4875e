"""Catalogue rules shared by the use cases: slugs, text, prices, SKUs, options, the
product's denormalised search and price columns."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from funnel.accounts import queries as account_queries
from funnel.accounts.permissions import Permission, require_permission
from funnel.catalog.errors import (
    CategoryNotFound,
    InvalidCatalogInput,
    InvalidPrice,
    InvalidSku,
    InvalidStock,
    ProductNotFound,
)
from funnel.catalog.models import (
    Category,
    Product,
    ProductStatus,
    Variant,
)
from funnel.catalog.search.words import document_extras
from funnel.catalog.services.vocabulary import remember_words
from funnel.core.money import Money, MoneyError
from funnel.extensions import db

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
MAX_PRICE_AMOUNT = 10**12
MAX_STOCK = 10**9
# Text limits (the columns' lengths): the forms, the API and the CSV import all meet them here.
CATEGORY_NAME_LENGTH = 120
# A category's description is TEXT: 65,535 bytes on MariaDB, so at most 16,383 4-byte characters.
CATEGORY_DESCRIPTION_LENGTH = 10_000
PRODUCT_TITLE_LENGTH = 200
HANDLE_LENGTH = 200
SEO_TITLE_LENGTH = 200
SEO_DESCRIPTION_LENGTH = 320
VARIANT_TITLE_LENGTH = 200
_UNSET: Any = object()

OptionValues = Mapping[str, str] | Iterable[tuple[str, str]]


# -- helpers -------------------------------------------------------------------------------


def slugify(text: str, max_length: int = 120) -> str:
    """ASCII, lower-case, hyphenated: ``"Café & Bar"`` -> ``"cafe-bar"`` (``"item"`` if empty)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")
    return slug or "item"


def _unique_slug(model: type[Category] | type[Product], base: str, own_id: int | None) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever no other row uses."""
    taken = set(
        db.session.scalars(
            select(model.slug).where(
                (model.slug == base) | model.slug.like(f"{base}-%"),
                model.id != (own_id or 0),
            )
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _required_text(field: str, value: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidCatalogInput(fields={field: ["This field is required."]})
    if len(value) > max_length:
        raise InvalidCatalogInput(fields={field: [f"At most {max_length} characters."]})
    return value


def _optional_text(field: str, value: str | None, max_length: int | None) -> str:
    value = (value or "").strip()
    if max_length is not None and len(value) > max_length:
        raise InvalidCatalogInput(fields={field: [f"At most {max_length} characters."]})
    return value


def _flush(conflict: type[Exception], detail: str) -> None:
    """Flush now so that a unique violation surfaces as a domain error (a race lost)."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise conflict(detail) from error


def check_may_manage_catalog(actor_user_id: int | None) -> None:
    """Staff changes name a staff member holding ``catalog.manage`` (None: the system, i.e. the
    demo loader, the command line, tests' factories). Raises PermissionDenied for a customer,
    an unknown account or staff without the permission: a service never trusts its caller's
    check alone."""
    if actor_user_id is None:
        return
    require_permission(account_queries.get_user(actor_user_id), Permission.CATALOG_MANAGE)


def _get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise CategoryNotFound()
    return category


def _get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise ProductNotFound()
    return product


def shop_currency() -> str:
    return current_app.config["CURRENCY"]


def parse_price(text: str) -> Money:
    """A price typed by staff in major units (``"12.50"``) as Money in the shop currency.

    Raises InvalidPrice for text that is not an amount, has too many decimals, or is negative.
    """
    try:
        price = Money.parse(text, shop_currency())
    except MoneyError as error:
        raise InvalidPrice(str(error), fields={"price": [str(error)]}) from error
    return _checked_price(price)


def _checked_price(price: Money) -> Money:
    if not isinstance(price, Money):
        raise InvalidPrice("A price must be Money.")
    if price.currency != shop_currency():
        raise InvalidPrice(
            f"Prices are in {shop_currency()}, not {price.currency}.",
            fields={"price": [f"Prices are in {shop_currency()}."]},
        )
    if not 0 <= price.amount <= MAX_PRICE_AMOUNT:
        raise InvalidPrice("A price cannot be negative.", fields={"price": ["Must be 0 or more."]})
    return price


def parse_status(value: ProductStatus | str) -> ProductStatus:
    """Raises InvalidCatalogInput unless ``value`` is draft, active or archived."""
    try:
        return ProductStatus(value)
    except ValueError as error:
        raise InvalidCatalogInput(
            fields={"status": ["Choose draft, active or archived."]}
        ) from error


def normalise_handle(handle: str) -> str:
    """A product's handle (its slug) as given: lower-case ASCII letters, digits and single
    hyphens, as ``slugify`` makes them. Raises InvalidCatalogInput for anything else, rather
    than silently turning it into another product's address."""
    handle = (handle or "").strip()
    if not handle or len(handle) > HANDLE_LENGTH or slugify(handle, HANDLE_LENGTH) != handle:
        raise InvalidCatalogInput(
            fields={"handle": ["Use lower-case letters, digits and single hyphens (my-shirt)."]}
        )
    return handle


def parse_stock(text: str) -> int:
    """A stock level typed by staff (``"12"``). Raises InvalidStock unless it is a whole
    number from 0 to MAX_STOCK."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_STOCK)):
        raise InvalidStock(fields={"stock_quantity": ["Must be a whole number, 0 or more."]})
    return _checked_stock(int(text))


def _checked_stock(stock_quantity: int) -> int:
    if isinstance(stock_quantity, bool) or not isinstance(stock_quantity, int):
        raise InvalidStock(fields={"stock_quantity": ["Must be a whole number."]})
    if not 0 <= stock_quantity <= MAX_STOCK:
        raise InvalidStock(
            "Stock cannot be negative.", fields={"stock_quantity": ["Must be 0 or more."]}
        )
    return stock_quantity


def normalise_sku(sku: str) -> str:
    """Raises InvalidSku unless ``sku`` is 1-64 letters, digits, ``.``, ``_`` or ``-``."""
    normalised = (sku or "").strip().upper()
    if not SKU_PATTERN.match(normalised):
        raise InvalidSku(
            f"{sku[:70]!r} is not a valid SKU.",
            fields={"sku": ["Use 1 to 64 letters, digits, dots, dashes or underscores."]},
        )
    return normalised


def normalise_options(options: OptionValues | None) -> list[tuple[str, str]]:
    """Option names capitalised (``"size"`` -> ``"Size"``), values trimmed, empties refused.

    ``options`` is a mapping or (name, value) pairs, in order: pairs let a form's rows reach
    this rule as typed, so a name given twice is refused rather than silently collapsed.
    """
    normalised: list[tuple[str, str]] = []
    seen: set[str] = set()
    pairs = options.items() if isinstance(options, Mapping) else (options or ())
    for raw_name, raw_value in pairs:
        # Capitalising can lengthen a name ("ß" -> "Ss"): check the stored form's length.
        name = _required_text(
            "option name", _required_text("option name", raw_name, 50).capitalize(), 50
        )
        value = _required_text(f"{name} value", raw_value, 100)
        if name in seen:
            raise InvalidCatalogInput(fields={"options": [f"{name} is given twice."]})
        seen.add(name)
        normalised.append((name, value))
    return normalised


def build_search_document(title: str, description: str, skus: list[str]) -> str:
    """The text full-text search indexes for a product: title, description and SKUs.

    Each SKU is also written with its separators as spaces (``TSH-001-M`` -> ``TSH 001 M``):
    PostgreSQL's parser reads ``-001`` as a negative number, so without the split form a
    search for ``TSH-001`` would not find ``TSH-001-M`` there. A last line, when there is
    anything for it, holds the joined compounds (``T-shirt`` -> ``tshirt``) and the stems that
    MariaDB would not find otherwise (``search.words.document_extras``).
    """
    split_skus = [re.sub(r"[^0-9A-Za-z]+", " ", sku).strip() for sku in skus]
    lines = [title, description, " ".join(skus), " ".join(split_skus)]
    extras = document_extras(title, description)
    if extras:
        lines.append(" ".join(extras))
    return "\n".join(lines)


def refresh_product(product: Product) -> None:
    """Recompute ``search_document``, ``min_price_amount`` and ``currency`` from the variants;
    a new search document's words join the vocabulary."""
    variants = db.session.scalars(
        select(Variant).where(Variant.product_id == product.id).order_by(Variant.id)
    ).all()
    columns = denormalised_columns(
        product.title,
        product.description,
        [(variant.sku, variant.price_amount, variant.currency) for variant in variants],
    )
    if product.search_document != columns["search_document"]:
        product.search_document = columns["search_document"]
        remember_words([product.title, product.description])
    product.min_price_amount = columns["min_price_amount"]
    product.currency = columns["currency"]


def denormalised_columns(
    title: str, description: str, variants: Sequence[tuple[str, int, str]]
) -> dict[str, Any]:
    """A product's ``search_document``, ``min_price_amount`` and ``currency`` from its title,
    description and variants (``(sku, price_amount, currency)`` in id order)."""
    return {
        "search_document": build_search_document(
            title, description, [sku for sku, _, _ in variants]
        ),
        "min_price_amount": min((amount for _, amount, _ in variants), default=0),
        "currency": variants[0][2] if variants else shop_currency(),
    }
