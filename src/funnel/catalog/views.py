"""Storefront pages: home, category, product, search and its suggestions; and uploaded media.

Each view parses the query string (bad values raise domain errors, shown as 4xx pages), calls
one read, and renders. The category tree is read once per request (``g``), for the page and
the navigation menu alike.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from funnel.analytics.tracking import track
from funnel.catalog.listing import ListingFilters, ListingSort
from funnel.catalog.models import Product, Variant
from funnel.catalog.parameters import parse_listing
from funnel.catalog.pricing import PriceDisplay
from funnel.catalog.queries import (
    CategoryTree,
    active_product_by_slug,
    category_by_slug,
    category_listing,
    featured_products,
    kept_category_tree,
    newest_products,
    price_display_for,
    rendered_for_catalogue,
)
from funnel.catalog.search import search_products
from funnel.catalog.search.suggestions import suggest
from funnel.catalog.search.words import normalise_query
from funnel.core.errors import NotFound
from funnel.core.page_cache import KeptPage, kept_page
from funnel.extensions import limiter

bp = Blueprint("catalog", __name__)
media_bp = Blueprint("media", __name__)

HOME_SECTION_SIZE = 8
# A debounced search box asks at most about three times a second while someone types.
SUGGESTIONS_RATE_LIMIT = "60/minute;600/hour"
LISTING_SORTS = [sort for sort in ListingSort if sort is not ListingSort.RELEVANCE]
# How werkzeug quotes a URL's path argument (``BaseConverter.to_url``): what url_for writes.
PATH_SAFE = "!$&'()*+,/:;=@"
_NOT_ID = re.compile(r"[^a-z0-9]+")


def current_category_tree() -> CategoryTree:
    """The category tree, read at most once per request (kept on the request object, not on
    ``g``: an app context can outlive one request, as in tests, and must not serve stale data)."""
    tree = getattr(request, "funnel_category_tree", None)
    if tree is None:
        tree = kept_category_tree()
        request.funnel_category_tree = tree  # type: ignore[attr-defined]
    return tree


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    """The top-level categories for the menu in base.html (read lazily, once per request)."""
    return {"navigation_categories": lambda: current_category_tree().roots}


def current_price_display() -> PriceDisplay:
    """How this shopper sees prices (net, or with their country's tax), read once per request."""
    display = getattr(request, "funnel_price_display", None)
    if display is None:
        user_id = current_user.id if current_user.is_authenticated else None
        display = price_display_for(user_id)
        request.funnel_price_display = display  # type: ignore[attr-defined]
    return display


@bp.app_template_global()
def price_display() -> PriceDisplay:
    """This shopper's price display, for templates that show lines (``unit``, ``line``)."""
    return current_price_display()


@bp.app_template_global()
def shown_price(amount_minor: int, currency: str) -> str:
    """A net catalogue price as this shopper sees it (formatted): with their tax or not."""
    return current_price_display().unit_minor(amount_minor, currency).format()


@bp.app_template_global()
def price_label() -> str:
    """``incl. VAT`` or ``excl. VAT`` (``tax`` where the country has no VAT) for this shopper."""
    return current_price_display().label


def _parse_listing(default_sort: ListingSort) -> tuple[ListingFilters, ListingSort, int]:
    """The listing's parameters, its price bounds turned from shown prices into net ones."""
    filters, sort, number = parse_listing(request.args, default_sort=default_sort)
    if filters.min_price is not None or filters.max_price is not None:
        low, high = current_price_display().net_bounds(filters.min_price, filters.max_price)
        filters = replace(filters, min_price=low, max_price=high)
    return filters, sort, number


def _page_size() -> int:
    return current_app.config["PAGE_SIZE"]


def _ensure_page_exists(number: int, pages: int) -> None:
    if number > pages:
        raise NotFound(f"There is no page {number}; the last page is {pages}.")


@bp.app_template_global()
def listing_url(page: int | None = None) -> str:
    """The current listing's URL with every filter kept and ``page`` changed."""
    params = request.args.to_dict(flat=False)
    params.pop("page", None)
    if page is not None and page > 1:
        params["page"] = [str(page)]
    return url_for(request.endpoint or "catalog.home", **(request.view_args or {}), **params)


@bp.app_template_global()
def clear_filters_url() -> str:
    """The current listing's URL without any filter (the search words and sort kept)."""
    kept = {name: request.args[name] for name in ("q", "sort") if request.args.get(name)}
    return url_for(request.endpoint or "catalog.home", **(request.view_args or {}), **kept)


def _url_prefix(endpoint: str, argument: str) -> str:
    """``endpoint``'s URL up to its last path argument, built by url_for once per request: a
    listing links two URLs per product, and url_for costs more than the rest of a card."""
    prefixes: dict[str, str] | None = getattr(request, "funnel_url_prefixes", None)
    if prefixes is None:
        prefixes = {}
        request.funnel_url_prefixes = prefixes  # type: ignore[attr-defined]
    prefix = prefixes.get(endpoint)
    if prefix is None:
        prefix = url_for(endpoint, **{argument: "_"}).removesuffix("_")
        prefixes[endpoint] = prefix
    return prefix


@bp.app_template_global()
def product_url(slug: str) -> str:
    """``url_for('catalog.product', slug=slug)``, for the product cards of a listing."""
    return _url_prefix("catalog.product", "slug") + quote(slug, safe=PATH_SAFE)


@bp.app_template_global()
def media_url(filename: str) -> str:
    """``url_for('media.media', filename=filename)``, for the images of a listing."""
    return _url_prefix("media.media", "filename") + quote(filename, safe=PATH_SAFE)


@bp.app_template_filter("html_id")
@functools.lru_cache(maxsize=4096)
def html_id(text: str) -> str:
    """A fragment of an element id from any text: the same text gives the same id on every
    page (a filter's checkbox keeps its id, and so its focus, when the facets are redrawn).
    Kept per process (a pure function): a listing asks for two per facet value per page."""
    readable = _NOT_ID.sub("-", text.lower()).strip("-")[:40]
    digest = hashlib.blake2s(text.encode(), digest_size=3).hexdigest()
    return f"{readable}-{digest}" if readable else digest


@bp.get("/")
def home() -> str:
    return kept_page(_render_home).body


def _rendered_listing(render: Callable[[], str]) -> Markup:
    """The HTML of a page's listing, kept per worker under the catalogue version and what else
    it shows: the address asked and the shopper's price display (a signed-in shopper's own
    country). Nothing of the visitor's own is in it (no form token, no cart, no name), so it
    serves the signed-in shoppers and the pages rendered afresh that ``kept_page`` cannot."""
    key = (request.path, request.query_string, current_price_display())
    return Markup(rendered_for_catalogue(key, render))  # noqa: S704 (rendered by Jinja)


def _render_home() -> KeptPage:
    tree = current_category_tree()

    def products() -> str:
        return render_template(
            "catalog/_home_products.html",
            featured=featured_products(HOME_SECTION_SIZE),
            newest=newest_products(HOME_SECTION_SIZE),
        )

    return KeptPage(
        render_template(
            "catalog/home.html",
            categories=tree.roots,
            products_html=_rendered_listing(products),
        )
    )


@bp.get("/c/<slug>")
def category(slug: str) -> str:
    return kept_page(lambda: _render_category(slug)).body


def _render_category(slug: str) -> KeptPage:
    tree = current_category_tree()
    current = category_by_slug(tree, slug)
    filters, sort, number = _parse_listing(ListingSort.NEWEST)

    def results() -> str:
        listing = category_listing(tree, current, filters, sort, number, _page_size())
        _ensure_page_exists(number, listing.page.pages)
        return render_template(
            "catalog/_category_listing.html",
            category=current,
            listing=listing,
            sorts=LISTING_SORTS,
        )

    return KeptPage(
        render_template(
            "catalog/category.html",
            category=current,
            ancestors=tree.ancestors(current),
            subcategories=tree.subcategories(current),
            page_number=number,
            listing_html=_rendered_listing(results),
        )
    )


@bp.get("/p/<slug>")
def product(slug: str) -> str:
    page = kept_page(lambda: _render_product(slug))
    # After rendering: recording commits, which would expire the product loaded for the page.
    # Counted on every request, the kept page's too.
    track("product_view", product_id=page.subject_id)
    return page.body


def _render_product(slug: str) -> KeptPage:
    item = active_product_by_slug(slug)
    selected = item.variants[0] if item.variants else None
    raw_variant = request.args.get("variant", "")
    for variant in item.variants:
        if raw_variant == str(variant.id):
            selected = variant
    return KeptPage(render_product_page(item, selected), subject_id=item.id)


def render_product_page(
    item: Product,
    selected: Variant | None,
    *,
    add_to_cart_error: str | None = None,
    quantity: str = "1",
) -> str:
    """The product page of ``item`` with ``selected`` chosen; the cart's add form re-renders it
    with the error of a refused add (and the quantity that was typed)."""
    tree = current_category_tree()
    category_ = tree.by_id.get(item.category_id)
    breadcrumbs = [*tree.ancestors(category_), category_] if category_ else []
    return render_template(
        "catalog/product.html",
        product=item,
        breadcrumbs=breadcrumbs,
        selected=selected,
        add_to_cart_error=add_to_cart_error,
        quantity=quantity,
    )


@bp.get("/search")
def search() -> str:
    return kept_page(_render_search).body


def _render_search() -> KeptPage:
    filters, sort, number = _parse_listing(ListingSort.RELEVANCE)

    def results() -> str:
        result = search_products(request.args.get("q"), filters, sort, number, _page_size())
        if result.listing is not None:
            _ensure_page_exists(number, result.listing.page.pages)
        return render_template(
            "catalog/_search_results.html",
            result=result,
            listing=result.listing,
            sorts=list(ListingSort),
            categories=current_category_tree().roots,
        )

    return KeptPage(
        render_template(
            "catalog/search.html",
            query=normalise_query(request.args.get("q")),
            results_html=_rendered_listing(results),
        )
    )


@bp.get("/search/suggestions")
@limiter.limit(SUGGESTIONS_RATE_LIMIT)
def search_suggestions() -> Response | str:
    """Suggestions as you type, for htmx (the search box asks while it is typed in). Asked
    without htmx (no ``HX-Request``), it sends the visitor to the search page instead."""
    if "HX-Request" not in request.headers:
        return redirect(url_for("catalog.search", q=request.args.get("q", "")))
    tree = current_category_tree()
    suggestions = suggest(request.args.get("q"), [node for node, _ in tree.indented()])
    response = Response(
        render_template("catalog/_search_suggestions.html", suggestions=suggestions)
    )
    response.vary.add("HX-Request")
    return response


@media_bp.get("/media/<path:filename>")
def media(filename: str) -> Response:
    """Uploaded files from MEDIA_ROOT; paths leaving it answer 404 (werkzeug's safe_join)."""
    return send_from_directory(current_app.config["MEDIA_ROOT"], filename, max_age=86_400)
