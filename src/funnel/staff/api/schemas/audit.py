"""The audit log: its filters and its entries."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.audit.models import OBJECT_TYPE_LENGTH, SEARCH_LENGTH
from funnel.core.api.paging import cursor_parameter, next_cursor_field
from funnel.staff.api.schemas.fields import DAY_RANGE, ID_RANGE, Text, page_limit


class AuditQuerySchema(ma.Schema):
    actor_user_id = ma.fields.Integer(
        validate=ID_RANGE, metadata={"description": "Entries of this staff member's changes"}
    )
    object_type = Text(
        validate=validate.Length(max=OBJECT_TYPE_LENGTH),
        metadata={"description": "A kind of object: product, variant, order, user, setting..."},
    )
    q = Text(
        validate=validate.Length(max=SEARCH_LENGTH),
        metadata={"description": "An object's id exactly, or a part of its name or number"},
    )
    occurred_from = ma.fields.Date(
        validate=DAY_RANGE, metadata={"description": "On or after this day (UTC)"}
    )
    occurred_to = ma.fields.Date(
        validate=DAY_RANGE, metadata={"description": "On or before this day (UTC)"}
    )
    limit = page_limit()
    cursor = cursor_parameter()


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    occurred_at = ma.fields.DateTime(required=True)
    actor_user_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: an account since deleted"}
    )
    client_address = ma.fields.String(required=True, allow_none=True)
    action = ma.fields.String(required=True, metadata={"description": "e.g. product.update"})
    object_type = ma.fields.String(required=True)
    object_id = ma.fields.String(required=True)
    object_label = ma.fields.String(required=True)
    before = ma.fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "The changed fields' values before (null: a creation)"},
    )
    after = ma.fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "The changed fields' values after (null: a deletion)"},
    )


class AuditPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AuditEntrySchema), required=True)
    next_cursor = next_cursor_field()
