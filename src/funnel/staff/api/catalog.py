"""Staff catalogue operations (permission ``catalog.manage``): products and variants.

Stock is not set here: a variant's units change only through stock adjustments
(``inventory.py``), so that the ledger says why every unit came or went.
"""

from __future__ import annotations

from typing import Any

from funnel.accounts.permissions import Permission
from funnel.catalog import queries
from funnel.catalog import services as catalog
from funnel.catalog.models import Product, Variant
from funnel.core.api import errors, links
from funnel.core.money import Money
from funnel.staff.api import PRODUCT_ID, VARIANT_ID, bp
from funnel.staff.api.access import staff_caller, staff_permission
from funnel.staff.api.images import image_representation
from funnel.staff.api.schemas.catalog import (
    ProductInputSchema,
    ProductPatchSchema,
    StaffProductSchema,
    StaffVariantSchema,
    VariantInputSchema,
    VariantPatchSchema,
)

MANAGE = Permission.CATALOG_MANAGE

PRODUCT_OF_BODY = {"product_id": "$response.body#/id"}
VARIANT_OF_BODY = {"variant_id": "$response.body#/id"}


@bp.route("/products", methods=["POST"])
@bp.response(201, StaffProductSchema)
@links(
    bp,
    201,
    get_staff_product=PRODUCT_OF_BODY,
    update_staff_product=PRODUCT_OF_BODY,
    archive_staff_product=PRODUCT_OF_BODY,
    publish_staff_product=PRODUCT_OF_BODY,
    add_staff_variant=PRODUCT_OF_BODY,
)
@errors(bp, 400, 404, 409, 413, 422)
@staff_permission(bp, MANAGE)
@bp.arguments(ProductInputSchema)
def create_staff_product(data: dict[str, Any]) -> dict[str, Any]:
    """Create a product, with its variants, as a draft or published

    The slug is made from the title (`-2`, `-3`... when taken). Variants start with no
    stock: add units with a stock adjustment (reason `received`). Publishing needs at least
    one variant (422 `product_has_no_variants`); a SKU already used is 409 `duplicate_sku`;
    an unknown category is 404 `category_not_found`. Nothing is created when any part is
    refused. Needs `catalog.manage`.
    """
    product = catalog.create_product_with_variants(
        data["title"],
        category_id=data["category_id"],
        description=data["description"],
        seo_title=data["seo_title"],
        seo_description=data["seo_description"],
        is_featured=data["is_featured"],
        publish=data["publish"],
        actor_user_id=staff_caller().id,
        variants=[
            catalog.NewVariant(
                sku=variant["sku"],
                price=_money(variant["price"]),
                title=variant["title"],
                options=variant.get("options") or {},
            )
            for variant in data["variants"]
        ],
    )
    return product_representation(queries.product_for_staff(product.id))


@bp.route(f"/products/{PRODUCT_ID}", methods=["GET"])
@bp.response(200, StaffProductSchema)
@errors(bp, 404)
@staff_permission(bp, MANAGE)
def get_staff_product(product_id: int) -> dict[str, Any]:
    """One product in any status (draft, active, archived), with its variants, stock and images

    Needs `catalog.manage`.
    """
    return product_representation(queries.product_for_staff(product_id))


@bp.route(f"/products/{PRODUCT_ID}", methods=["PATCH"])
@bp.response(200, StaffProductSchema)
@errors(bp, 400, 404, 409, 413, 422)
@staff_permission(bp, MANAGE)
@bp.arguments(ProductPatchSchema)
def update_staff_product(data: dict[str, Any], product_id: int) -> dict[str, Any]:
    """Change a product's fields or status

    Only the fields sent change. A new title gives a new slug. `status` moves it between
    draft, active (needs a variant: 422 `product_has_no_variants`) and archived (hidden from
    the storefront and the public API). Needs `catalog.manage`.
    """
    catalog.update_product(product_id, **data, actor_user_id=staff_caller().id)
    return product_representation(queries.product_for_staff(product_id))


@bp.route(f"/products/{PRODUCT_ID}/archive", methods=["POST"])
@bp.response(200, StaffProductSchema)
@errors(bp, 404)
@staff_permission(bp, MANAGE)
def archive_staff_product(product_id: int) -> dict[str, Any]:
    """Archive a product: customers no longer see it (its page and API answer 404)

    Archiving an archived product changes nothing. Bring it back with `/publish`.
    Needs `catalog.manage`.
    """
    catalog.archive_product(product_id, actor_user_id=staff_caller().id)
    return product_representation(queries.product_for_staff(product_id))


@bp.route(f"/products/{PRODUCT_ID}/publish", methods=["POST"])
@bp.response(200, StaffProductSchema)
@errors(bp, 404, 422)
@staff_permission(bp, MANAGE)
def publish_staff_product(product_id: int) -> dict[str, Any]:
    """Publish a draft or archived product: customers see it again

    A product needs a variant to be published (422 `product_has_no_variants`).
    Needs `catalog.manage`.
    """
    catalog.publish_product(product_id, actor_user_id=staff_caller().id)
    return product_representation(queries.product_for_staff(product_id))


@bp.route(f"/products/{PRODUCT_ID}/variants", methods=["POST"])
@bp.response(201, StaffVariantSchema)
@links(
    bp,
    201,
    update_staff_variant=VARIANT_OF_BODY,
    get_variant_stock=VARIANT_OF_BODY,
    adjust_variant_stock=VARIANT_OF_BODY,
)
@errors(bp, 400, 404, 409, 413, 422)
@staff_permission(bp, MANAGE)
@bp.arguments(VariantInputSchema)
def add_staff_variant(data: dict[str, Any], product_id: int) -> dict[str, Any]:
    """Add a variant to a product (no stock yet: add it with a stock adjustment)

    The SKU is upper-cased and must be unique across the shop (409 `duplicate_sku`); the
    price is in the shop's currency (422 `invalid_price`). Needs `catalog.manage`.
    """
    variant = catalog.add_variant(
        product_id,
        sku=data["sku"],
        price=_money(data["price"]),
        title=data["title"],
        options=data.get("options") or {},
        actor_user_id=staff_caller().id,
    )
    return variant_representation(queries.variant_for_staff(variant.id))


@bp.route(f"/variants/{VARIANT_ID}", methods=["PATCH"])
@bp.response(200, StaffVariantSchema)
@errors(bp, 400, 404, 409, 413, 422)
@staff_permission(bp, MANAGE)
@bp.arguments(VariantPatchSchema)
def update_staff_variant(data: dict[str, Any], variant_id: int) -> dict[str, Any]:
    """Change a variant's SKU, price, title or options (not its stock)

    Only the fields sent change; `options` replaces all option values. A stock field is
    refused (422): stock changes through `POST /variants/{variant_id}/stock-adjustments`.
    Needs `catalog.manage`.
    """
    catalog.update_variant(
        variant_id,
        sku=data.get("sku"),
        price=_money(data["price"]) if "price" in data else None,
        title=data.get("title"),
        options=data.get("options"),
        actor_user_id=staff_caller().id,
    )
    return variant_representation(queries.variant_for_staff(variant_id))


def _money(value: dict[str, Any]) -> Money:
    return Money(value["amount"], value["currency"].upper())


def variant_representation(variant: Variant) -> dict[str, Any]:
    return {
        "id": variant.id,
        "product_id": variant.product_id,
        "sku": variant.sku,
        "title": variant.title,
        "price": variant.price,
        "options": {option.name: option.value for option in variant.option_values},
        "stock_quantity": variant.stock_quantity,
        "position": variant.position,
    }


def product_representation(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "slug": product.slug,
        "title": product.title,
        "status": product.status.value,
        "category_id": product.category_id,
        "description": product.description,
        "seo_title": product.seo_title,
        "seo_description": product.seo_description,
        "is_featured": product.is_featured,
        "price_from": product.min_price,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
        "variants": [variant_representation(variant) for variant in product.variants],
        "images": [image_representation(image) for image in product.images],
    }
