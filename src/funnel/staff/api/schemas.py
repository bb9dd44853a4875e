"""Staff API input and output schemas. Input schemas bound shape and size; the services
state the rules (SKU syntax and uniqueness, price currency, stock never negative, the order
workflow) and their errors answer 409/422 problems with the field named."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from marshmallow import validate

from funnel.accounts.models import EMAIL_MAX_LENGTH, Role
from funnel.catalog.models import ProductStatus
from funnel.core.api import MoneyField, MoneyInputSchema, PatchSchema, WholeNumber
from funnel.core.api.paging import cursor_parameter, next_cursor_field
from funnel.inventory.models import NOTE_LENGTH, STAFF_REASONS
from funnel.orders.carriers import CARRIERS, OTHER
from funnel.orders.listing import Fulfilment
from funnel.orders.models import (
    CARRIER_NAME_LENGTH,
    STAFF_TARGETS,
    TRACKING_NUMBER_LENGTH,
    TRACKING_URL_LENGTH,
    OrderStatus,
)
from funnel.orders.schemas import (
    OrderEventSchema,
    OrderRefundLineSchema,
    OrderSchema,
    OrderSummarySchema,
    ShipmentSchema,
)
from funnel.payments.gateways import enabled_gateway_names


class Text(ma.fields.String):
    """A string without NUL: no shop text holds one, and PostgreSQL refuses it in a query."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("Must not contain a NUL character.")
        return text


MAX_STAFF_PAGE_SIZE = 100
# A product description is TEXT: 65,535 bytes on MariaDB, so at most 16,383 4-byte characters.
DESCRIPTION_MAX_LENGTH = 10_000
MAX_ID = 2147483647
MAX_STOCK = 10**9
_ID = validate.Range(min=1, max=MAX_ID)
# Days every database stores and compares (MariaDB's DATETIME starts in year 1000).
_DAYS = validate.Range(min=date(1970, 1, 1), max=date(9998, 12, 31))
_NOTE = validate.Length(max=NOTE_LENGTH)


def _limit() -> ma.fields.Integer:
    return ma.fields.Integer(
        validate=validate.Range(min=1, max=MAX_STAFF_PAGE_SIZE),
        metadata={"description": "Page size (default: the shop's page size)"},
    )


# The catalogue's SKU alphabet (``catalog.services.normalise_sku``), said in the document too.
_SKU = [
    validate.Length(max=100),
    validate.Regexp(
        r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{0,63}\s*$",
        error="Use 1 to 64 letters, digits, dots, dashes or underscores.",
    ),
]
_OPTIONS = ma.fields.Dict(
    keys=Text(validate=validate.Length(min=1, max=50)),
    values=Text(validate=validate.Length(min=1, max=100)),
    validate=validate.Length(max=20),
    metadata={"description": 'Option values, e.g. {"size": "M", "colour": "Red"}'},
)


# --- catalogue ------------------------------------------------------------------------------


class VariantInputSchema(ma.Schema):
    """A new variant. It has no stock field: stock enters through a stock adjustment."""

    sku = Text(required=True, validate=_SKU)
    price = ma.fields.Nested(MoneyInputSchema, required=True)
    title = Text(load_default="", validate=validate.Length(max=200))
    options = _OPTIONS


class VariantPatchSchema(PatchSchema):
    """Fields to change; absent fields stay. ``options`` replaces all option values.
    Stock is not a field: it changes only through stock adjustments (the ledger)."""

    sku = Text(validate=_SKU)
    price = ma.fields.Nested(MoneyInputSchema)
    title = Text(validate=validate.Length(max=200))
    options = _OPTIONS


class ProductInputSchema(ma.Schema):
    title = Text(required=True, validate=validate.Length(max=200))
    category_id = WholeNumber(required=True, validate=_ID)
    description = Text(load_default="", validate=validate.Length(max=DESCRIPTION_MAX_LENGTH))
    seo_title = Text(load_default="", validate=validate.Length(max=200))
    seo_description = Text(load_default="", validate=validate.Length(max=320))
    is_featured = ma.fields.Boolean(load_default=False)
    variants = ma.fields.List(
        ma.fields.Nested(VariantInputSchema),
        load_default=list,
        validate=validate.Length(max=100),
        metadata={"description": "Variants to create with the product (stock starts at 0)"},
    )
    publish = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Make it active at once (it needs a variant)"},
    )


class ProductPatchSchema(PatchSchema):
    """Fields to change; absent fields stay. A new title gives a new slug."""

    title = Text(validate=validate.Length(max=200))
    category_id = WholeNumber(validate=_ID)
    description = Text(validate=validate.Length(max=DESCRIPTION_MAX_LENGTH))
    seo_title = Text(validate=validate.Length(max=200))
    seo_description = Text(validate=validate.Length(max=320))
    is_featured = ma.fields.Boolean()
    status = ma.fields.String(validate=validate.OneOf([status.value for status in ProductStatus]))


class StaffVariantSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    product_id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    price = MoneyField(required=True)
    options = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    stock_quantity = ma.fields.Integer(
        required=True, metadata={"description": "On hand (change it with a stock adjustment)"}
    )
    position = ma.fields.Integer(required=True)


class StaffProductSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True, metadata={"enum": [status.value for status in ProductStatus]}
    )
    category_id = ma.fields.Integer(required=True)
    description = ma.fields.String(required=True)
    seo_title = ma.fields.String(required=True)
    seo_description = ma.fields.String(required=True)
    is_featured = ma.fields.Boolean(required=True)
    price_from = MoneyField(required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    variants = ma.fields.List(ma.fields.Nested(StaffVariantSchema), required=True)


# --- stock ----------------------------------------------------------------------------------


class StockAdjustmentInputSchema(ma.Schema):
    """Either ``delta`` (signed change) or ``new_level`` (a count), not both."""

    delta = WholeNumber(
        validate=validate.Range(min=-MAX_STOCK, max=MAX_STOCK),
        metadata={"description": "Units to add (positive) or remove (negative)"},
    )
    new_level = WholeNumber(
        validate=validate.Range(min=0, max=MAX_STOCK),
        metadata={"description": "The level counted on the shelf"},
    )
    reason = ma.fields.String(
        required=True, validate=validate.OneOf(sorted(reason.value for reason in STAFF_REASONS))
    )
    note = Text(load_default="", validate=_NOTE)


class StockMovementSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    quantity = ma.fields.Integer(required=True, metadata={"description": "Signed change"})
    reason = ma.fields.String(required=True)
    balance_after = ma.fields.Integer(required=True)
    actor_user_id = ma.fields.Integer(required=True, allow_none=True)
    order_reference = ma.fields.String(required=True, allow_none=True)
    note = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class StockLevelSchema(ma.Schema):
    variant_id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    on_hand = ma.fields.Integer(required=True)
    reserved = ma.fields.Integer(
        required=True, metadata={"description": "Held by checkouts in progress"}
    )
    available = ma.fields.Integer(required=True, metadata={"description": "On hand - reserved"})


class StockAdjustmentSchema(StockLevelSchema):
    movement = ma.fields.Nested(StockMovementSchema, required=True)


class VariantStockSchema(StockLevelSchema):
    movements = ma.fields.List(
        ma.fields.Nested(StockMovementSchema),
        required=True,
        metadata={"description": "The most recent movements, newest first"},
    )


class StockQuerySchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=20,
        validate=validate.Range(min=0, max=MAX_STAFF_PAGE_SIZE),
        metadata={"description": "How many recent movements (default 20)"},
    )


# --- orders ---------------------------------------------------------------------------------


def _enabled_gateway(name: str) -> None:
    """A payment method filter names an enabled gateway (the shop's setting, read per call)."""
    choices = enabled_gateway_names()
    if name not in choices:
        raise ma.ValidationError(f"Choose one of: {', '.join(choices)}.")


class StaffOrderQuerySchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf([status.value for status in OrderStatus]))
    q = Text(
        validate=validate.Length(max=EMAIL_MAX_LENGTH),
        metadata={
            "description": "An order number, or a part of the customer's email or of the "
            "ship-to name (any letter case, characters taken literally)"
        },
    )
    fulfilment = ma.fields.String(
        validate=validate.OneOf([state.value for state in Fulfilment]),
        metadata={
            "description": "unshipped (awaiting payment or paid), shipped (fulfilled), "
            "delivered: derived from the status"
        },
    )
    payment_method = ma.fields.String(
        validate=_enabled_gateway,
        metadata={"description": "A payment gateway the shop has enabled, e.g. test, manual, cod"},
    )
    placed_from = ma.fields.Date(
        validate=_DAYS, metadata={"description": "Placed on or after this day (UTC)"}
    )
    placed_to = ma.fields.Date(
        validate=_DAYS, metadata={"description": "Placed on or before this day (UTC)"}
    )
    limit = _limit()
    cursor = cursor_parameter()


class StaffOrderSummarySchema(OrderSummarySchema):
    email = ma.fields.String(required=True)
    user_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: a guest's order"}
    )


class StaffOrderPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StaffOrderSummarySchema), required=True)
    next_cursor = next_cursor_field()


class StaffOrderEventSchema(OrderEventSchema):
    actor_user_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: the shop or the buyer"}
    )


class StaffPaymentSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "The payment's public id"})
    gateway = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    amount = MoneyField(required=True)
    refunded = MoneyField(required=True)
    card_brand = ma.fields.String(required=True, allow_none=True)
    card_last4 = ma.fields.String(required=True, allow_none=True)
    failure_message = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class StaffShipmentSchema(ShipmentSchema):
    shipped_by_user_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: the shop"}
    )


class StaffOrderSchema(OrderSchema):
    user_id = ma.fields.Integer(required=True, allow_none=True)
    shipments = ma.fields.List(  # type: ignore[assignment]
        ma.fields.Nested(StaffShipmentSchema),
        required=True,
        metadata={"description": "The parcels sent so far, oldest first, with who sent each"},
    )
    events = ma.fields.List(  # type: ignore[assignment]
        ma.fields.Nested(StaffOrderEventSchema),
        required=True,
        metadata={"description": "The order's history, oldest first, with who took each step"},
    )
    payments = ma.fields.List(
        ma.fields.Nested(StaffPaymentSchema),
        required=True,
        metadata={"description": "Every payment attempt, oldest first"},
    )
    refundable = MoneyField(required=True, metadata={"description": "What is left to refund"})
    actions = ma.fields.List(
        ma.fields.String(
            metadata={"enum": ["record_payment", "fulfil", "deliver", "cancel", "refund"]}
        ),
        required=True,
        metadata={"description": "The steps the order allows now that the caller may take"},
    )


class TransitionInputSchema(ma.Schema):
    to = ma.fields.String(
        required=True,
        validate=validate.OneOf([status.value for status in STAFF_TARGETS]),
        metadata={
            "description": "paid: a bank transfer received; fulfilled: shipped; "
            "delivered (cash on delivery: the cash received); cancelled (a paid order is "
            "refunded in full)"
        },
    )
    note = Text(
        load_default="",
        validate=_NOTE,
        metadata={
            "description": "Why: the carrier and tracking number when shipping; the reason "
            "(required) when cancelling; the bank's reference for a payment"
        },
    )
    amount_received = ma.fields.Nested(
        MoneyInputSchema,
        metadata={
            "description": "paid, or delivered for cash on delivery: the amount received "
            "(default: the amount due)"
        },
    )


class TransitionSchema(ma.Schema):
    changed = ma.fields.Boolean(
        required=True, metadata={"description": "false: the order already had that status"}
    )
    order = ma.fields.Nested(StaffOrderSchema, required=True)


class RefundLineInputSchema(ma.Schema):
    order_line_id = ma.fields.Integer(required=True, validate=_ID)
    quantity = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_STOCK))
    restock = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "The units came back (or never left): put them back in stock"},
    )


class RefundInputSchema(ma.Schema):
    lines = ma.fields.List(
        ma.fields.Nested(RefundLineInputSchema),
        load_default=list,
        validate=validate.Length(max=200),
        metadata={
            "description": "Units of the order's lines to refund, each at its price and share "
            "of the tax; not with `amount`"
        },
    )
    shipping = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Refund the shipping and its tax too (once per order)"},
    )
    amount = ma.fields.Nested(
        MoneyInputSchema,
        allow_none=True,
        load_default=None,
        metadata={
            "description": "Without lines or shipping: what to refund (nothing goes back to "
            "stock); absent or null: all that is left"
        },
    )
    reason = Text(load_default="", validate=_NOTE)


class RefundResultSchema(ma.Schema):
    amount = MoneyField(required=True, metadata={"description": "Refunded by this request"})
    refunded_total = MoneyField(required=True, metadata={"description": "Refunded in all, so far"})
    is_full = ma.fields.Boolean(required=True)
    stock_returned = ma.fields.Boolean(
        required=True, metadata={"description": "This request put units back in stock"}
    )
    id = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "The refund's id in the order's `refunds` (the first request's "
            "for a replay)"
        },
    )
    shipping = MoneyField(
        required=True, metadata={"description": "Of the refund: the shipping and its tax"}
    )
    lines = ma.fields.List(
        ma.fields.Nested(OrderRefundLineSchema),
        required=True,
        metadata={"description": "Of the refund: its lines (empty for an amount)"},
    )


class RefundSchema(ma.Schema):
    refund = ma.fields.Nested(RefundResultSchema, required=True)
    order = ma.fields.Nested(StaffOrderSchema, required=True)


class ShipmentLineInputSchema(ma.Schema):
    order_line_id = ma.fields.Integer(required=True, validate=_ID)
    quantity = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_STOCK))


class ShipmentInputSchema(ma.Schema):
    lines = ma.fields.List(
        ma.fields.Nested(ShipmentLineInputSchema),
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "What goes in the parcel; absent or null: all left to ship"},
    )
    carrier = ma.fields.String(
        required=True,
        validate=validate.OneOf(list(CARRIERS)),
        metadata={"description": f"A known carrier's code, or {OTHER} (name it)"},
    )
    carrier_name = Text(
        load_default="",
        validate=validate.Length(max=CARRIER_NAME_LENGTH),
        metadata={"description": f"{OTHER} only: the carrier's name (required)"},
    )
    tracking_number = Text(
        load_default="",
        validate=validate.Length(max=TRACKING_NUMBER_LENGTH),
        metadata={"description": "Letters, digits, spaces and dashes"},
    )
    tracking_url = Text(
        load_default="",
        validate=validate.Length(max=TRACKING_URL_LENGTH),
        metadata={
            "description": f"{OTHER} only: the tracking link (a known carrier's is built "
            "from the number)"
        },
    )
    note = Text(load_default="", validate=_NOTE)


class ShipmentResultSchema(ma.Schema):
    changed = ma.fields.Boolean(
        required=True,
        metadata={"description": "false: this request's shipment was already recorded"},
    )
    shipment = ma.fields.Nested(StaffShipmentSchema, required=True)
    order = ma.fields.Nested(StaffOrderSchema, required=True)


# --- customers ------------------------------------------------------------------------------


class CustomerQuerySchema(ma.Schema):
    q = Text(
        validate=validate.Length(max=EMAIL_MAX_LENGTH),
        metadata={"description": "A part of the email address"},
    )
    role = ma.fields.String(validate=validate.OneOf([role.value for role in Role]))
    limit = _limit()
    cursor = cursor_parameter()


class CustomerSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True, metadata={"enum": [role.value for role in Role]})
    is_email_verified = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)
    last_sign_in_at = ma.fields.DateTime(required=True, allow_none=True)


class CustomerPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CustomerSchema), required=True)
    next_cursor = next_cursor_field()


class CustomerDetailSchema(CustomerSchema):
    order_count = ma.fields.Integer(required=True)
