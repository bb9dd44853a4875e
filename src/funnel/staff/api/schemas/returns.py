"""Return requests for staff: the list by status, one return, and its transitions."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.core.api.paging import cursor_parameter, next_cursor_field
from funnel.orders.models import ReturnStatus
from funnel.orders.schemas.returns import ReturnSchema
from funnel.staff.api.schemas.fields import MAX_STOCK, NOTE_RULE, Text, page_limit

# The steps staff take by hand (``refunded`` follows from refunding the order for it).
STAFF_RETURN_STEPS = ("approved", "rejected", "received")


class StaffReturnQuerySchema(ma.Schema):
    status = ma.fields.String(
        validate=validate.OneOf([status.value for status in ReturnStatus]),
        metadata={"description": "Only returns in this status (absent: every status)"},
    )
    limit = page_limit()
    cursor = cursor_parameter()


class StaffReturnSchema(ReturnSchema):
    order_email = ma.fields.String(required=True)
    actions = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "The transitions its status allows that the caller may take"},
    )


class StaffReturnPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StaffReturnSchema), required=True)
    next_cursor = next_cursor_field()


class RestockInputSchema(ma.Schema):
    order_line_id = ma.fields.Integer(required=True, validate=validate.Range(min=1))
    quantity = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_STOCK))


class ReturnTransitionInputSchema(ma.Schema):
    to = ma.fields.String(
        required=True,
        validate=validate.OneOf(STAFF_RETURN_STEPS),
        metadata={
            "description": "approved or rejected (a requested return); received (an "
            "approved return: its items arrived)"
        },
    )
    note = Text(
        load_default="",
        validate=NOTE_RULE,
        metadata={"description": "To the customer; required when rejecting (why)"},
    )
    restock = ma.fields.List(
        ma.fields.Nested(RestockInputSchema),
        load_default=list,
        validate=validate.Length(max=200),
        metadata={
            "description": "received: units of the return's lines that go back to stock "
            "(absent: none)"
        },
    )


class ReturnTransitionSchema(ma.Schema):
    changed = ma.fields.Boolean(
        required=True, metadata={"description": "false: the step had already been taken"}
    )
    restocked_units = ma.fields.Integer(required=True)
    return_request = ma.fields.Nested(StaffReturnSchema, required=True, data_key="return")
