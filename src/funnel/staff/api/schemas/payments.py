"""Failed payments: the list and its paging."""

from __future__ import annotations

import marshmallow as ma

from funnel.core.api import MoneyField
from funnel.core.api.paging import cursor_parameter, next_cursor_field
from funnel.staff.api.schemas.fields import page_limit


class FailedPaymentQuerySchema(ma.Schema):
    limit = page_limit()
    cursor = cursor_parameter()


class FailedPaymentSchema(ma.Schema):
    id = ma.fields.String(
        required=True, attribute="public_id", metadata={"description": "The payment's id"}
    )
    failed_at = ma.fields.DateTime(required=True)
    amount = MoneyField(required=True)
    payment_method = ma.fields.String(required=True, attribute="gateway")
    card = ma.fields.String(
        required=True, metadata={"description": "Brand and last four digits, empty if none"}
    )
    reason = ma.fields.String(required=True, metadata={"description": "The gateway's reason"})
    email = ma.fields.String(required=True, allow_none=True)
    order_number = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Only for a 3-D Secure check refused after its order began"},
    )


class FailedPaymentPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(FailedPaymentSchema), required=True)
    next_cursor = next_cursor_field()
