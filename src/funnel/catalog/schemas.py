"""API schemas of the catalogue: listing parameters, products, variants, the category tree."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.catalog.listing import ListingSort
from funnel.core.api import MoneyField
from funnel.core.api.paging import cursor_parameter, next_cursor_field

MAX_API_PAGE_SIZE = 100


class ProductQuerySchema(ma.Schema):
    """The documented parameters of ``GET /products``. Any other parameter filters by a
    variant option (``size=M&size=L&colour=Red``), as on the storefront's listings."""

    class Meta:
        unknown = ma.INCLUDE

    q = ma.fields.String(
        validate=validate.Length(max=1000), metadata={"description": "Search text"}
    )
    category = ma.fields.String(
        validate=validate.Length(max=140),
        metadata={"description": "A category slug: its products and its subcategories'"},
    )
    min_price = ma.fields.String(
        validate=validate.Length(max=20),
        metadata={"description": "Lowest price in major units, e.g. 12.50", "example": "10.00"},
    )
    max_price = ma.fields.String(
        validate=validate.Length(max=20),
        metadata={"description": "Highest price in major units, e.g. 99.99", "example": "50"},
    )
    sort = ma.fields.String(
        validate=validate.OneOf([sort.value for sort in ListingSort]),
        metadata={"description": "Default: relevance with q, else newest"},
    )
    limit = ma.fields.Integer(
        validate=validate.Range(min=1, max=MAX_API_PAGE_SIZE),
        metadata={"description": "Page size (default: the shop's page size)"},
    )
    cursor = cursor_parameter()


class ImageSchema(ma.Schema):
    url = ma.fields.String(required=True)
    alt_text = ma.fields.String(required=True)
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)


class ProductSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    category = ma.fields.String(required=True, allow_none=True, metadata={"description": "Slug"})
    price_from = MoneyField(required=True)
    image = ma.fields.Nested(ImageSchema, required=True, allow_none=True)


class ProductPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ProductSummarySchema), required=True)
    next_cursor = next_cursor_field()


class OptionSchema(ma.Schema):
    name = ma.fields.String(required=True)
    values = ma.fields.List(ma.fields.String(), required=True)


class VariantSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    price = MoneyField(required=True)
    in_stock = ma.fields.Boolean(required=True)
    options = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


class ProductSchema(ProductSummarySchema):
    description = ma.fields.String(required=True)
    in_stock = ma.fields.Boolean(required=True)
    options = ma.fields.List(ma.fields.Nested(OptionSchema), required=True)
    variants = ma.fields.List(ma.fields.Nested(VariantSchema), required=True)
    images = ma.fields.List(ma.fields.Nested(ImageSchema), required=True)


class CategorySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    children = ma.fields.List(ma.fields.Nested(lambda: CategorySchema()), required=True)


class CategoryTreeSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CategorySchema), required=True)
