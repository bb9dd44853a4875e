"""Variant use cases (add; update: SKU, options, price, title).

A variant's stock is set once, when it is added; after that it changes only through the
inventory services, which write a ledger row for every change.
"""

from __future__ import annotations

from sqlalchemy import select

from funnel.catalog.errors import (
    DuplicateSku,
    VariantNotFound,
)
from funnel.catalog.models import (
    Variant,
    VariantOptionValue,
)
from funnel.catalog.services.auditing import record_changed, record_created, variant_fields
from funnel.catalog.services.rules import (
    VARIANT_TITLE_LENGTH,
    OptionValues,
    _checked_price,
    _checked_stock,
    _flush,
    _get_product,
    _optional_text,
    check_may_manage_catalog,
    normalise_options,
    normalise_sku,
    refresh_product,
)
from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db

# -- variants ------------------------------------------------------------------------------


def _ensure_sku_free(sku: str, own_id: int | None) -> None:
    other = db.session.scalar(select(Variant.id).where(Variant.sku == sku))
    if other is not None and other != own_id:
        raise DuplicateSku(
            f"The SKU {sku} is already used.", fields={"sku": ["This SKU is already used."]}
        )


def _set_options(variant: Variant, options: list[tuple[str, str]]) -> None:
    for existing in db.session.scalars(
        select(VariantOptionValue).where(VariantOptionValue.variant_id == variant.id)
    ):
        db.session.delete(existing)
    db.session.flush()
    for position, (name, value) in enumerate(options):
        db.session.add(
            VariantOptionValue(variant_id=variant.id, name=name, value=value, position=position)
        )


def add_variant(
    product_id: int,
    *,
    sku: str,
    price: Money,
    stock_quantity: int = 0,
    title: str = "",
    options: OptionValues | None = None,
    position: int | None = None,
    actor_user_id: int | None = None,
) -> Variant:
    """Add a variant (SKU unique across the shop, price in the shop currency, stock >= 0).

    ``actor_user_id`` is the staff member acting (None: the system). Raises PermissionDenied,
    ProductNotFound, InvalidSku, DuplicateSku, InvalidPrice, InvalidStock,
    InvalidCatalogInput (options). Side effects: refreshes the product's price and search text.
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        product = _get_product(product_id)
        sku = normalise_sku(sku)
        price = _checked_price(price)
        stock_quantity = _checked_stock(stock_quantity)
        option_values = normalise_options(options)
        _ensure_sku_free(sku, None)
        if position is None:
            position = len(
                db.session.scalars(select(Variant.id).where(Variant.product_id == product.id)).all()
            )
        variant = Variant(
            product_id=product.id,
            sku=sku,
            title=_optional_text("title", title, VARIANT_TITLE_LENGTH),
            price_amount=price.amount,
            currency=price.currency,
            stock_quantity=stock_quantity,
            position=position,
        )
        db.session.add(variant)
        _flush(DuplicateSku, f"The SKU {sku} is already used.")
        _set_options(variant, option_values)
        refresh_product(product)
        record_created("variant", variant.id, variant.sku, variant_fields(variant), actor_user_id)
        return variant


def update_variant(
    variant_id: int,
    *,
    sku: str | None = None,
    price: Money | None = None,
    title: str | None = None,
    options: OptionValues | None = None,
    actor_user_id: int | None = None,
) -> Variant:
    """Change a variant; ``options`` replaces all its option values.

    Not its stock: that changes through ``inventory.services.adjust_stock`` (with a ledger row).
    ``actor_user_id`` is the staff member acting (None: the system). Raises PermissionDenied,
    VariantNotFound, InvalidSku, DuplicateSku, InvalidPrice, InvalidCatalogInput. Side effects:
    refreshes the product's price and search text.
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        variant = db.session.get(Variant, variant_id)
        if variant is None:
            raise VariantNotFound()
        before = variant_fields(variant)
        if sku is not None:
            # Checked before it is set: the check's query would flush a taken SKU first.
            normalised_sku = normalise_sku(sku)
            _ensure_sku_free(normalised_sku, variant.id)
            variant.sku = normalised_sku
        if price is not None:
            price = _checked_price(price)
            variant.price_amount = price.amount
            variant.currency = price.currency
        if title is not None:
            variant.title = _optional_text("title", title, VARIANT_TITLE_LENGTH)
        if options is not None:
            _set_options(variant, normalise_options(options))
        _flush(DuplicateSku, f"The SKU {variant.sku} is already used.")
        refresh_product(_get_product(variant.product_id))
        record_changed(
            "variant", variant.id, variant.sku, before, variant_fields(variant), actor_user_id
        )
        return variant
