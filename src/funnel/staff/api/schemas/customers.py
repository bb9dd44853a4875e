"""Customers: the list, its filters and one customer."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.accounts.models import EMAIL_MAX_LENGTH, Role
from funnel.core.api.paging import cursor_parameter, next_cursor_field
from funnel.staff.api.schemas.fields import Text, page_limit


class CustomerQuerySchema(ma.Schema):
    q = Text(
        validate=validate.Length(max=EMAIL_MAX_LENGTH),
        metadata={"description": "A part of the email address"},
    )
    role = ma.fields.String(validate=validate.OneOf([role.value for role in Role]))
    limit = page_limit()
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


class CustomerActionSchema(ma.Schema):
    changed = ma.fields.Boolean(
        required=True,
        metadata={"description": "False when there was nothing to do (already so, or verified)"},
    )
    customer = ma.fields.Nested(CustomerDetailSchema, required=True)
