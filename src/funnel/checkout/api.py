"""What checkout offers, over the JSON API: shipping methods and payment methods.

Read from the same settings as the checkout pages (``checkout.queries.pricing_policy`` and
the enabled payment gateways). Carts and checkouts come in a later increment.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from funnel.checkout.queries import pricing_policy
from funnel.core.api import API_PREFIX, MoneySchema, money
from funnel.payments.gateways import enabled_gateways

bp = Blueprint(
    "checkout_api",
    __name__,
    url_prefix=API_PREFIX,
    description="What checkout offers: shipping and payment methods",
)


class ShippingMethodSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    price = ma.fields.Nested(MoneySchema, required=True)
    is_free_above_threshold = ma.fields.Boolean(
        required=True, metadata={"description": "Free when the subtotal reaches the threshold"}
    )


class ShippingMethodListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ShippingMethodSchema), required=True)
    free_shipping_threshold = ma.fields.Nested(MoneySchema, required=True, allow_none=True)


class PaymentMethodSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "manual"})
    label = ma.fields.String(required=True)


class PaymentMethodListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PaymentMethodSchema), required=True)


@bp.route("/shipping-methods", methods=["GET"])
@bp.response(200, ShippingMethodListSchema)
def list_shipping_methods() -> dict[str, Any]:
    """The shipping methods checkout offers, with their prices"""
    policy = pricing_policy()
    threshold = policy.free_shipping_threshold
    return {
        "items": [
            {
                "code": method.code,
                "name": method.name,
                "price": money(method.price.amount, method.price.currency),
                "is_free_above_threshold": method.is_free_above_threshold,
            }
            for method in policy.methods
        ],
        "free_shipping_threshold": money(threshold.amount, threshold.currency)
        if threshold
        else None,
    }


@bp.route("/payment-methods", methods=["GET"])
@bp.response(200, PaymentMethodListSchema)
def list_payment_methods() -> dict[str, Any]:
    """The payment methods checkout offers, in the order it offers them"""
    return {
        "items": [{"code": gateway.name, "label": gateway.label} for gateway in enabled_gateways()]
    }
