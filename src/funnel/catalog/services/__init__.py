"""Catalogue use cases: the only code that writes categories, products, variants and images.

Every function runs in ``with transaction():`` (joining the caller's when there is one) and
keeps each product's denormalised columns in step: ``search_document`` (title, description and
SKUs, indexed for full-text search) and ``min_price_amount``/``currency`` (price sort and
filter). The use cases live in one module per subject; this package exports them all.
"""

from funnel.catalog.services.bulk_edits import (
    MAX_PRODUCTS_PER_EDIT,
    BulkAction,
    edit_products,
)
from funnel.catalog.services.categories import (
    Direction,
    create_category,
    delete_category,
    reorder_category,
    update_category,
)
from funnel.catalog.services.images import (
    add_product_image,
    add_product_images,
    delete_product_image,
    move_product_image,
    move_product_image_one_place,
    update_image_alt_text,
)
from funnel.catalog.services.products import (
    NewVariant,
    archive_product,
    create_product,
    create_product_with_variants,
    publish_product,
    update_product,
)
from funnel.catalog.services.rules import (
    MAX_PRICE_AMOUNT,
    MAX_STOCK,
    SKU_PATTERN,
    build_search_document,
    check_may_manage_catalog,
    normalise_options,
    normalise_sku,
    parse_price,
    refresh_product,
    shop_currency,
    slugify,
)
from funnel.catalog.services.variants import (
    add_variant,
    update_variant,
)

__all__ = [
    "MAX_PRICE_AMOUNT",
    "MAX_PRODUCTS_PER_EDIT",
    "MAX_STOCK",
    "SKU_PATTERN",
    "BulkAction",
    "Direction",
    "NewVariant",
    "add_product_image",
    "add_product_images",
    "add_variant",
    "archive_product",
    "build_search_document",
    "check_may_manage_catalog",
    "create_category",
    "create_product",
    "create_product_with_variants",
    "delete_category",
    "delete_product_image",
    "edit_products",
    "move_product_image",
    "move_product_image_one_place",
    "normalise_options",
    "normalise_sku",
    "parse_price",
    "publish_product",
    "refresh_product",
    "reorder_category",
    "shop_currency",
    "slugify",
    "update_category",
    "update_image_alt_text",
    "update_product",
    "update_variant",
]
