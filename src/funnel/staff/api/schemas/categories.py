"""Categories and product images: what staff send and what they get back.

Lengths and other rules (a name is required, at most 120 characters; alt text at most 300; a
direction is up or down) are the catalogue services', which name the field in a 422: these
schemas only say the shape, so that a rule is written once for the pages and the API.
"""

from __future__ import annotations

import marshmallow as ma

from funnel.core.api import PatchSchema, WholeNumber
from funnel.staff.api.schemas.fields import ID_RANGE, Text

DIRECTIONS = ["up", "down"]


class CategoryInputSchema(ma.Schema):
    name = Text(required=True, metadata={"description": "1 to 120 characters"})
    parent_id = WholeNumber(
        load_default=None,
        allow_none=True,
        validate=ID_RANGE,
        metadata={"description": "The parent category; null or absent: top level"},
    )
    description = Text(load_default="", metadata={"description": "Shown at the top of its page"})


class CategoryPatchSchema(PatchSchema):
    """Fields to change; absent fields stay. A new name gives a new slug; a new `parent_id`
    (null: top level) places the category after its new siblings."""

    name = Text()
    parent_id = WholeNumber(allow_none=True, validate=ID_RANGE)
    description = Text()


class StaffMoveInputSchema(ma.Schema):
    direction = Text(
        required=True,
        metadata={"enum": DIRECTIONS, "description": "up: one place earlier; down: later"},
    )


class StaffCategorySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    parent_id = ma.fields.Integer(required=True, allow_none=True)
    description = ma.fields.String(required=True)
    position = ma.fields.Integer(
        required=True, metadata={"description": "Order among its siblings (0 first)"}
    )
    depth = ma.fields.Integer(required=True, metadata={"description": "0 for the top level"})


class StaffCategoryTreeSchema(ma.Schema):
    items = ma.fields.List(
        ma.fields.Nested(StaffCategorySchema),
        required=True,
        metadata={
            "description": "Every category in tree order: each parent before its children, "
            "siblings by position"
        },
    )


class StaffCategoryMoveSchema(ma.Schema):
    moved = ma.fields.Boolean(
        required=True,
        metadata={"description": "false: it was already first (up) or last (down)"},
    )
    category = ma.fields.Nested(StaffCategorySchema, required=True)
