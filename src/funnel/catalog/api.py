"""The public catalogue over the JSON API: products (search, filters, sorts), the category tree.

The same queries and parameter rules as the storefront's listings (``catalog.parameters``,
``catalog.search``, ``catalog.queries``); pages are reached with an opaque cursor.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema

from funnel.analytics.tracking import track
from funnel.catalog.cards import CardImage, ProductCard
from funnel.catalog.errors import InvalidListingParameters
from funnel.catalog.listing import Listing, ListingSort
from funnel.catalog.models import Product, ProductImage
from funnel.catalog.parameters import RESERVED_PARAMETERS, parse_filters, parse_sort
from funnel.catalog.queries import (
    CategoryTree,
    active_product_by_slug,
    kept_category_tree,
    product_listing,
)
from funnel.catalog.schemas import (
    MAX_API_PAGE_SIZE,
    CategoryTreeSchema,
    ProductPageSchema,
    ProductQuerySchema,
    ProductSchema,
)
from funnel.catalog.search import normalise_query, search_products
from funnel.catalog.tree import CategoryNode
from funnel.core.api import API_PREFIX, errors
from funnel.core.api.paging import PagePosition
from funnel.core.page_cache import KeptPage, kept_page

bp = Blueprint("catalog_api", __name__, url_prefix=API_PREFIX, description="The public catalogue")

API_PARAMETERS = RESERVED_PARAMETERS | {"category", "limit", "cursor"}


@bp.route("/products", methods=["GET"])
@bp.response(200, ProductPageSchema)
@bp.arguments(ProductQuerySchema, location="query", as_kwargs=True)
def list_products(**parameters: Any) -> Response:
    """Active products: search, category, price range, option filters, sort; one page

    Any parameter not listed here filters by a variant option, with the storefront's rules:
    `size=M&size=L` (either value) `&colour=Red` (and that colour). Follow `next_cursor`
    for the next page; it is null on the last one.
    """
    page = kept_page(lambda: _json_page(ProductPageSchema(), _product_page(parameters)))
    return _json_response(page)


def _json_page(schema: Schema, data: dict[str, Any], subject_id: int | None = None) -> KeptPage:
    """``data`` dumped by ``schema`` as the JSON text a response sends, to be kept."""
    text = current_app.json.response(schema.dump(data)).get_data(as_text=True)
    return KeptPage(text, subject_id, mimetype="application/json")


def _json_response(page: KeptPage) -> Response:
    return current_app.response_class(page.body, mimetype=page.mimetype)


def _product_page(parameters: dict[str, Any]) -> dict[str, Any]:
    tree = kept_category_tree()
    position = PagePosition.of(
        parameters, default_size=current_app.config["PAGE_SIZE"], max_size=MAX_API_PAGE_SIZE
    )
    number, size = position.number, position.size
    category_ids = _category_ids(tree, parameters.get("category"))
    query = normalise_query(parameters.get("q"))
    sort = parse_sort(
        request.args, default_sort=ListingSort.RELEVANCE if query else ListingSort.NEWEST
    )
    filters = parse_filters(request.args, reserved=API_PARAMETERS)
    listing: Listing | None = None
    if query:
        listing = search_products(
            query, filters, sort, number, size, category_ids=category_ids, with_facets=False
        ).listing
    if listing is None:
        # The API returns no facets: their counts would be most of the request's time.
        listing = product_listing(
            filters, sort, number, size, category_ids=category_ids, with_facets=False
        )
    page = listing.page
    return {
        "items": [_summary(tree, card, card.image) for card in page.items],
        "next_cursor": position.next_cursor(page),
    }


@bp.route("/products/<slug>", methods=["GET"])
@bp.response(200, ProductSchema)
@errors(bp, 404)
def get_product(slug: str) -> Response:
    """One active product with its variants (price, options, stock status) and images"""
    page = kept_page(lambda: _product_representation(slug))
    track("product_view", product_id=page.subject_id)  # on every call, a kept answer's too
    return _json_response(page)


def _product_representation(slug: str) -> KeptPage:
    product = active_product_by_slug(slug)
    tree = kept_category_tree()
    options: dict[str, list[str]] = {}
    for variant in product.variants:
        for option in variant.option_values:
            values = options.setdefault(option.name, [])
            if option.value not in values:
                values.append(option.value)
    representation = {
        **_summary(tree, product, product.images[0] if product.images else None),
        "description": product.description,
        "in_stock": any(variant.is_in_stock for variant in product.variants),
        "options": [{"name": name, "values": values} for name, values in options.items()],
        "variants": [
            {
                "id": variant.id,
                "sku": variant.sku,
                "title": variant.title,
                "price": variant.price,
                "in_stock": variant.is_in_stock,
                "options": {option.name: option.value for option in variant.option_values},
            }
            for variant in product.variants
        ],
        "images": [_image(image) for image in product.images],
    }
    return _json_page(ProductSchema(), representation, subject_id=product.id)


@bp.route("/categories", methods=["GET"])
@bp.response(200, CategoryTreeSchema)
def list_categories() -> dict[str, Any]:
    """The category tree: top-level categories with their subcategories, in display order"""
    tree = kept_category_tree()

    def node(category: CategoryNode, seen: frozenset[int]) -> dict[str, Any]:
        children = [
            node(child, seen | {child.id})
            for child in tree.subcategories(category)
            if child.id not in seen
        ]
        return {
            "id": category.id,
            "slug": category.slug,
            "name": category.name,
            "description": category.description,
            "children": children,
        }

    return {"items": [node(root, frozenset({root.id})) for root in tree.roots]}


def _category_ids(tree: CategoryTree, slug: str | None) -> list[int] | None:
    if slug is None:
        return None
    category = tree.by_slug.get(slug)
    if category is None:
        message = "There is no category with this slug."
        raise InvalidListingParameters(message, fields={"category": [message]})
    return tree.descendant_ids(category)


def _summary(
    tree: CategoryTree, product: Product | ProductCard, image: ProductImage | CardImage | None
) -> dict[str, Any]:
    """A product as listed: ``image`` is its first."""
    category = tree.by_id.get(product.category_id)
    return {
        "id": product.id,
        "slug": product.slug,
        "title": product.title,
        "category": category.slug if category else None,
        "price_from": product.min_price,
        "image": _image(image) if image is not None else None,
    }


def _image(image: ProductImage | CardImage) -> dict[str, Any]:
    return {
        "url": url_for("media.media", filename=image.filename),
        "alt_text": image.alt_text,
        "width": image.width,
        "height": image.height,
    }
