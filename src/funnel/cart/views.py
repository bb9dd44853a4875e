"""Cart pages: ``/cart`` and the forms that change it (POST only; CSRF on every form).

Each handler parses the form, calls one service and redirects to ``/cart`` (303, so that a
reload does not post again). A refused change re-renders the page it came from (the cart, or
the product page for an add) with the reason and a 4xx status, and changes nothing.
Everything works without JavaScript.
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from funnel.analytics.tracking import track
from funnel.cart import queries, services
from funnel.cart.access import current_cart_id, forget_item_count, remember_item_count
from funnel.cart.errors import CartLineNotFound, InvalidQuantity
from funnel.catalog.queries import active_product_by_slug, product_by_id
from funnel.catalog.views import render_product_page
from funnel.core.errors import DomainError

bp = Blueprint("cart", __name__)

_DIGITS = re.compile(r"^[0-9]+$")
MAX_QUANTITY_DIGITS = 9
# More digits than that is more than any stock: the service answers with the quantity left.
TOO_MANY = 10**MAX_QUANTITY_DIGITS


def parse_quantity(raw: str | None) -> int:
    """A form's quantity: a whole number written in digits. Raises InvalidQuantity."""
    text = (raw or "").strip()
    if not _DIGITS.match(text):
        message = "Enter the quantity as a whole number, such as 1 or 2."
        raise InvalidQuantity(message, fields={"quantity": [message]})
    if len(text) > MAX_QUANTITY_DIGITS:
        return TOO_MANY
    return int(text)


def parse_id(raw: str | None) -> int | None:
    """An id from a form or a URL: digits only, within the id range (else None)."""
    text = (raw or "").strip()
    if not _DIGITS.match(text) or len(text) > 10:
        return None
    value = int(text)
    return value if queries.is_valid_id(value) else None


def render_cart(
    *, status: int = 200, error: str | None = None, error_line_id: int | None = None
) -> tuple[str, int]:
    cart_id = current_cart_id()
    contents = queries.cart_contents(cart_id) if cart_id is not None else None
    remember_item_count(contents.item_count if contents is not None else 0)
    return render_template(
        "cart/cart.html",
        contents=contents,
        error=error,
        error_line_id=error_line_id,
        submitted_quantity=request.form.get("quantity", "") if error_line_id else "",
    ), status


@bp.get("/cart")
def show() -> tuple[str, int]:
    return render_cart()


def _refused_add(error: DomainError, variant_id: int | None, quantity: str) -> tuple[str, int]:
    """The product page again, with the reason and the quantity typed; the cart page when the
    variant is not on sale (no product page to show it on)."""
    try:
        variant = queries.sellable_variant(variant_id)
    except DomainError as refusal:  # said first, as the variant is what the form chose
        return render_cart(status=refusal.status, error=refusal.detail)
    product = product_by_id(variant.product_id)
    item = active_product_by_slug(product.slug) if product is not None else None
    chosen = next((each for each in item.variants if each.id == variant.id), None) if item else None
    if item is None or chosen is None:
        return render_cart(status=error.status, error=error.detail)
    page = render_product_page(item, chosen, add_to_cart_error=error.detail, quantity=quantity[:12])
    return page, error.status


@bp.post("/cart/lines")
def add() -> Response | tuple[str, int]:
    """Add a variant (``variant_id``) in a ``quantity``; any other field (a price) is ignored."""
    raw_quantity = request.form.get("quantity", "1")
    variant_id = parse_id(request.form.get("variant_id"))
    try:
        quantity = parse_quantity(raw_quantity)
        if current_cart_id() is None:
            # Checked before a cart is made for it: refused input leaves no empty cart behind.
            # An existing cart needs no such check: the service makes the same ones.
            queries.check_addable(None, variant_id, quantity)
        added = services.add_item(current_cart_id(create=True), variant_id, quantity)
    except DomainError as error:
        return _refused_add(error, variant_id, raw_quantity)
    forget_item_count()
    track("add_to_cart", product_id=added.product_id)
    flash(f"{added.product_title} was added to your cart.", "success")
    return redirect(url_for("cart.show"), 303)


@bp.post("/cart/lines/<line_id>")
def change(line_id: str) -> Response | tuple[str, int]:
    line = parse_id(line_id)
    try:
        cart_id = current_cart_id()
        if line is None or cart_id is None:
            raise CartLineNotFound()
        services.change_quantity(cart_id, line, parse_quantity(request.form.get("quantity")))
    except DomainError as error:
        return render_cart(status=error.status, error=error.detail, error_line_id=line)
    flash("Quantity updated.", "success")
    return redirect(url_for("cart.show"), 303)


@bp.post("/cart/lines/<line_id>/delete")
def remove(line_id: str) -> Response | tuple[str, int]:
    line = parse_id(line_id)
    try:
        cart_id = current_cart_id()
        if line is None or cart_id is None:
            raise CartLineNotFound()
        services.remove_line(cart_id, line)
    except DomainError as error:
        return render_cart(status=error.status, error=error.detail)
    flash("Removed from your cart.", "success")
    return redirect(url_for("cart.show"), 303)
