"""Carts over the JSON API: a guest's cart is reached with its secret, an account's with its
bearer token (``cart.access``); anyone else gets the 404 of a cart that does not exist.

The same services and rules as the storefront's cart page (``cart.services``): adding a variant
already in the cart grows its line, quantities run from 1 to what is available, and a product
no longer sold cannot be added. A signed-in customer's account cart is the same cart here and
on the storefront.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from funnel.accounts.access import authenticate, bearer_secret
from funnel.analytics.tracking import track
from funnel.cart import services
from funnel.cart.access import accessible_cart_id
from funnel.cart.queries import cart_contents
from funnel.cart.schemas import (
    CartLineInputSchema,
    CartLineQuantitySchema,
    CartSchema,
    CreatedCartSchema,
    cart_representation,
)
from funnel.core.api import API_PREFIX, CART_SECURITY, errors, links

bp = Blueprint("carts_api", __name__, url_prefix=API_PREFIX, description="Shopping carts")

# Database integer ids fit in 32 bits; a larger number in a URL is a 404, not a driver error.
CART_ID = "<id:cart_id>"
LINE_ID = "<id:line_id>"
OPTIONAL_BEARER = [{}, {"bearerAuth": []}]
CART_OF_BODY = {"cart_id": "$response.body#/id"}
FIRST_LINE_OF_BODY = {"cart_id": "$response.body#/id", "line_id": "$response.body#/lines/0/id"}


@bp.route("/carts", methods=["POST"])
@bp.doc(security=OPTIONAL_BEARER)
@bp.response(201, CreatedCartSchema)
@links(bp, 201, get_cart=CART_OF_BODY, add_cart_line=CART_OF_BODY)
@bp.alt_response(200, schema=CreatedCartSchema, description="The account's existing cart")
@links(bp, 200, get_cart=CART_OF_BODY, add_cart_line=CART_OF_BODY)
@errors(bp, 401)
def create_cart() -> tuple[dict[str, Any], int]:
    """Create a cart: a guest's, or (with a bearer token) the account's

    Without credentials: a new guest cart (201) and its `secret`, shown only here; send it as
    the `Cart-Secret` header on every call for this cart. With a bearer token: the account's
    one cart (the same as on the storefront), made if it has none (201) or returned as it is
    (200), with `secret` null. A token that is not live is a 401, not a guest cart.
    """
    user_id = authenticate().id if bearer_secret() is not None else None
    opened = services.open_cart(user_id)
    secret = opened.cart.token if user_id is None else None
    body = {**cart_representation(cart_contents(opened.cart.id)), "secret": secret}
    return body, 201 if opened.is_new else 200


@bp.route(f"/carts/{CART_ID}", methods=["GET"])
@bp.doc(security=CART_SECURITY)
@bp.response(200, CartSchema)
@errors(bp, 401, 404)
def get_cart(cart_id: int) -> dict[str, Any]:
    """A cart with its lines priced from the catalogue now

    Each line says how many units are available and, when it cannot be checked out as it is
    (sold out, fewer left, no longer sold), why. A cart that is not the caller's is a 404.
    """
    return cart_representation(cart_contents(accessible_cart_id(cart_id)))


@bp.route(f"/carts/{CART_ID}/lines", methods=["POST"])
@bp.doc(security=CART_SECURITY)
@bp.response(201, CartSchema)
@links(bp, 201, change_cart_line=FIRST_LINE_OF_BODY, remove_cart_line=FIRST_LINE_OF_BODY)
@errors(bp, 400, 401, 404, 413, 422)
@bp.arguments(CartLineInputSchema)
def add_cart_line(data: dict[str, Any], cart_id: int) -> dict[str, Any]:
    """Add units of a variant; answers with the whole cart

    A line already holding the variant grows instead. Refused, changing nothing: an unknown
    variant (404 `variant_not_found`), a product no longer sold (422 `product_unavailable`),
    more than is available counting what the cart already holds (422 `insufficient_stock`,
    with `available`).
    """
    accessible = accessible_cart_id(cart_id)
    services.add_item(accessible, data["variant_id"], data["quantity"])
    contents = cart_contents(accessible)
    added = next(line for line in contents.lines if line.variant_id == data["variant_id"])
    track("add_to_cart", product_id=added.product_id)
    return cart_representation(contents)


@bp.route(f"/carts/{CART_ID}/lines/{LINE_ID}", methods=["PATCH"])
@bp.doc(security=CART_SECURITY)
@bp.response(200, CartSchema)
@errors(bp, 400, 401, 404, 413, 422)
@bp.arguments(CartLineQuantitySchema)
def change_cart_line(data: dict[str, Any], cart_id: int, line_id: int) -> dict[str, Any]:
    """Set a line's quantity; answers with the whole cart

    From 1 to what is available (422 `insufficient_stock`, with `available`). A product no
    longer sold may be lowered, not raised (422 `product_unavailable`). Another cart's line is
    a 404 `cart_line_not_found`.
    """
    accessible = accessible_cart_id(cart_id)
    services.change_quantity(accessible, line_id, data["quantity"])
    return cart_representation(cart_contents(accessible))


@bp.route(f"/carts/{CART_ID}/lines/{LINE_ID}", methods=["DELETE"])
@bp.doc(security=CART_SECURITY)
@bp.response(200, CartSchema)
@errors(bp, 401, 404)
def remove_cart_line(cart_id: int, line_id: int) -> dict[str, Any]:
    """Remove a line; answers with the whole cart (200, not 204)

    The cart is returned so that a client shows the new subtotal without reading it again.
    Another cart's line is a 404 `cart_line_not_found`.
    """
    accessible = accessible_cart_id(cart_id)
    services.remove_line(accessible, line_id)
    return cart_representation(cart_contents(accessible))
