"""Products and variants: what staff send and what they get back."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.catalog.models import ProductStatus
from funnel.core.api import MoneyField, MoneyInputSchema, PatchSchema, WholeNumber
from funnel.staff.api.schemas.fields import ID_RANGE, Text
from funnel.staff.api.schemas.images import StaffImageSchema

# A product description is TEXT: 65,535 bytes on MariaDB, so at most 16,383 4-byte characters.
DESCRIPTION_MAX_LENGTH = 10_000


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
    category_id = WholeNumber(required=True, validate=ID_RANGE)
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
    category_id = WholeNumber(validate=ID_RANGE)
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
    images = ma.fields.List(
        ma.fields.Nested(StaffImageSchema),
        required=True,
        metadata={"description": "In display order (the first is the one listings show)"},
    )
