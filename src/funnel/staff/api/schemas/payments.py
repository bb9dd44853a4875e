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


class FindingQuerySchema(ma.Schema):
    limit = page_limit()
    cursor = cursor_parameter()


class FindingSchema(ma.Schema):
    """A reconciliation finding, as the staff page's row (``checkout.queries.FindingRow``)."""

    id = ma.fields.Integer(required=True, attribute="finding.id")
    kind = ma.fields.String(
        required=True,
        attribute="finding.kind.value",
        metadata={
            "description": "paid, refunded (settled by the reconciliation itself), foreign, "
            "unresolved, missing_charge, missing_refund (waiting for staff until resolved)"
        },
    )
    gateway = ma.fields.String(required=True, attribute="finding.gateway")
    gateway_charge_id = ma.fields.String(required=True, attribute="finding.gateway_charge_id")
    amount = MoneyField(required=True, attribute="finding.amount")
    reference = ma.fields.String(
        required=True,
        allow_none=True,
        attribute="finding.reference",
        metadata={"description": "What our payment pays for; null for a foreign charge"},
    )
    order_number = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The reference, when it is one of the shop's orders"},
    )
    detail = ma.fields.String(required=True, attribute="finding.detail")
    found_at = ma.fields.DateTime(required=True, attribute="finding.found_at")
    resolved_at = ma.fields.DateTime(
        required=True, allow_none=True, attribute="finding.resolved_at"
    )
    resolved_by_email = ma.fields.String(
        required=True,
        allow_none=True,
        attribute="finding.resolved_by_email",
        metadata={"description": "Null when open, or settled by the reconciliation itself"},
    )
    action_note = ma.fields.String(
        required=True,
        allow_none=True,
        attribute="finding.action_note",
        metadata={"description": "What was done; null while open"},
    )


class FindingPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(FindingSchema), required=True)
    next_cursor = next_cursor_field()
