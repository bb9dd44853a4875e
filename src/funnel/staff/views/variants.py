"""Staff variant forms (``catalog.manage``) on a product's page: add a variant, edit one
(SKU, title, price, option values). Stock is not edited here: it changes through the stock
adjustments of the inventory ledger, so the page only shows it. Added to the staff blueprint
by ``register``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.permissions import Permission
from funnel.catalog import queries
from funnel.catalog import services as catalog
from funnel.catalog.errors import VariantNotFound
from funnel.catalog.forms import BLANK_OPTION_ROWS, MAX_OPTION_ROWS, ProductForm, VariantForm
from funnel.catalog.models import Variant
from funnel.core.errors import DomainError
from funnel.core.money import Money
from funnel.staff.access import page_permission
from funnel.staff.views.form_errors import show_errors
from funnel.staff.views.products import (
    PRODUCT_ID,
    VARIANT_FORM_PREFIX,
    category_choices,
    render_product_page,
)

VARIANT_ID = "<int(max=2147483647):variant_id>"
INVALID = 422
manage_catalog = page_permission(Permission.CATALOG_MANAGE)


def register(bp: Blueprint) -> None:
    bp.add_url_rule(
        f"/products/{PRODUCT_ID}/variants", "variant_create", variant_create, methods=["POST"]
    )
    bp.add_url_rule(
        f"/products/{PRODUCT_ID}/variants/{VARIANT_ID}",
        "variant",
        variant,
        methods=["GET", "POST"],
    )


def _save(form: VariantForm, save: Callable[[Money], object]) -> DomainError | None:
    """Parse the price with the catalogue's rule and save; the refusal, if any, on the form."""
    try:
        save(catalog.parse_price(form.price.data or ""))
    except DomainError as error:
        show_errors(form, error, fallback="options")
        return error
    return None


@manage_catalog
def variant_create(product_id: int) -> ResponseReturnValue:
    product = queries.product_for_staff(product_id)
    form = VariantForm(prefix=VARIANT_FORM_PREFIX)
    if form.validate():
        error = _save(
            form,
            lambda price: catalog.add_variant(
                product.id,
                sku=form.sku.data or "",
                price=price,
                title=form.title.data or "",
                options=form.option_pairs(),
                actor_user_id=current_user.id,
            ),
        )
        if error is None:
            flash(f"Variant {catalog.normalise_sku(form.sku.data or '')} added.", "success")
            return redirect(url_for("staff.product", product_id=product.id), code=303)
        status = error.status if error.status != 404 else INVALID
    else:
        status = INVALID
    product_form = ProductForm(obj=product, formdata=None)
    product_form.category_id.choices = category_choices()
    product_form.category_id.data = str(product.category_id)
    product_form.status.data = product.status.value
    return render_product_page(queries.product_for_staff(product_id), product_form, form, status)


def _variant_of(product_id: int, variant_id: int) -> Variant:
    """The variant, when it belongs to the product (404 otherwise)."""
    current = queries.variant_for_staff(variant_id)
    if current.product_id != product_id:
        raise VariantNotFound()
    return current


def _form_of(current: Variant) -> VariantForm:
    rows = [{"name": option.name, "value": option.value} for option in current.option_values]
    rows += [{"name": "", "value": ""}] * BLANK_OPTION_ROWS
    return VariantForm(
        formdata=None,
        data={
            "sku": current.sku,
            "title": current.title,
            "price": str(current.price.to_decimal()),
            "options": rows[:MAX_OPTION_ROWS],
        },
    )


@manage_catalog
def variant(product_id: int, variant_id: int) -> ResponseReturnValue:
    product = queries.product_for_staff(product_id)
    current = _variant_of(product.id, variant_id)
    status = 200
    if request.method == "GET":
        form = _form_of(current)
    else:
        form = VariantForm()
        status = INVALID
        if form.validate():
            error = _save(
                form,
                lambda price: catalog.update_variant(
                    current.id,
                    sku=form.sku.data or "",
                    price=price,
                    title=form.title.data or "",
                    options=form.option_pairs(),
                    actor_user_id=current_user.id,
                ),
            )
            if error is None:
                flash("The variant has been saved.", "success")
                return redirect(url_for("staff.product", product_id=product.id), code=303)
            status = error.status if error.status != 404 else INVALID
            current = _variant_of(product.id, variant_id)
    html = render_template(
        "staff/catalog/variant.html", product=product, variant=current, form=form
    )
    return html, status
