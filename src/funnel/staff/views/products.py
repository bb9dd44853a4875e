"""Staff product pages (``catalog.manage``): the list (search, filters, sort, pages, bulk
edits), create and edit a product. Its variants are in ``variants``. Added to the staff
blueprint by ``register``.

Every POST is CSRF-checked. Each form calls one catalogue service and redirects (303) with a
message; a refusal shows the form again with the reason beside the field, at the error's
status (422 for bad input), and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from funnel.accounts.permissions import Permission
from funnel.catalog import queries
from funnel.catalog import services as catalog
from funnel.catalog.forms import STATUS_CHOICES, BulkEditForm, ProductForm, VariantForm
from funnel.catalog.models import Product, ProductStatus
from funnel.core.errors import DomainError
from funnel.core.pagination import page_number
from funnel.staff.access import page_permission
from funnel.staff.views.form_errors import show_errors

PRODUCT_ID = "<int(max=2147483647):product_id>"
INVALID = 422
# The add-variant form shares the product's page with the product's form: its ids are prefixed.
VARIANT_FORM_PREFIX = "variant"
MAX_SELECTED_IDS = catalog.MAX_PRODUCTS_PER_EDIT
# Errors that name no field, placed beside the field they concern.
PRODUCT_FIELD_OF_CODE = {
    "product_has_no_variants": "status",
    "category_not_found": "category_id",
    "slug_taken": "title",
}
BULK_MESSAGES = {
    catalog.BulkAction.PUBLISH: "published",
    catalog.BulkAction.ARCHIVE: "archived",
    catalog.BulkAction.MOVE: "moved",
}
manage_catalog = page_permission(Permission.CATALOG_MANAGE)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/products", "products", products, methods=["GET"])
    bp.add_url_rule("/products/bulk", "products_bulk_edit", products_bulk_edit, methods=["POST"])
    bp.add_url_rule("/products/new", "product_create", product_create, methods=["GET", "POST"])
    bp.add_url_rule(f"/products/{PRODUCT_ID}", "product", product, methods=["GET", "POST"])


def category_choices(blank: str | None = None) -> list[SelectChoice]:
    """Every category in tree order, indented by depth; a first blank choice if ``blank``."""
    choices = [SelectChoice("", blank)] if blank is not None else []
    return choices + [
        SelectChoice(str(category.id), "\u2003" * depth + category.name)
        for category, depth in queries.category_tree().indented()
    ]


def _list_page(bulk_form: BulkEditForm, status: int = 200) -> ResponseReturnValue:
    filters = queries.parse_staff_product_filters(
        search=request.args.get("q"),
        status=request.args.get("status"),
        category=request.args.get("category"),
        sort=request.args.get("sort"),
    )
    page = queries.staff_product_page(filters, page_number(request.args.get("page")))
    categories = category_choices()
    bulk_form.category_id.choices = category_choices(blank="Choose a category")
    query_args = {
        "q": filters.search or None,
        "status": filters.status.value if filters.status else None,
        "category": filters.category_id,
        "sort": filters.sort.value,
    }
    html = render_template(
        "staff/catalog/products.html",
        page=page,
        filters=filters,
        statuses=STATUS_CHOICES,
        categories=categories,
        sorts=[("newest", "Newest"), ("title", "Title"), ("price", "Price")],
        bulk_form=bulk_form,
        query_args=query_args,
        bulk_edit_url=url_for("staff.products_bulk_edit", **query_args, page=page.number),
        stock_of=_stock_of,
    )
    return html, status


def _stock_of(product: Product) -> int:
    return sum(variant.stock_quantity for variant in product.variants)


@manage_catalog
def products() -> ResponseReturnValue:
    return _list_page(BulkEditForm(formdata=None))


def _whole_number(raw: str | None) -> int | None:
    """An id typed in a form; None for anything else (the service then says what is missing)."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 10:
        return int(raw)
    return None


def _selected_ids() -> list[int]:
    """The ticked rows (one more than a bulk edit takes, so that too many is refused)."""
    raw_ids = request.form.getlist("product_ids")[: MAX_SELECTED_IDS + 1]
    return [number for number in map(_whole_number, raw_ids) if number is not None]


@manage_catalog
def products_bulk_edit() -> ResponseReturnValue:
    form = BulkEditForm()
    form.category_id.choices = category_choices(blank="Choose a category")
    if form.validate():
        action = request.form.get("action", "")
        try:
            changed = catalog.edit_products(
                _selected_ids(),
                action,
                category_id=_whole_number(form.category_id.data),
                actor_user_id=current_user.id,
            )
        except DomainError as error:
            show_errors(form, error, field_of_code={"category_not_found": "category_id"})
            return _list_page(form, INVALID if error.code == "category_not_found" else error.status)
        word = BULK_MESSAGES[catalog.BulkAction(action)]
        flash(f"{changed} product{'' if changed == 1 else 's'} {word}.", "success")
        return redirect(_back_to_list(), code=303)
    return _list_page(form, INVALID)


def _back_to_list() -> str:
    """The list as it was shown (its filters, sort and page come back in the form's URL)."""
    args = {
        name: request.args[name]
        for name in ("q", "status", "category", "sort", "page")
        if request.args.get(name)
    }
    return url_for("staff.products", **args)


@manage_catalog
def product_create() -> ResponseReturnValue:
    form = ProductForm()
    form.category_id.choices = category_choices(blank="Choose a category")
    status = 200
    if request.method == "POST":
        status = INVALID
        if form.validate():
            try:
                created = catalog.create_product_with_variants(
                    form.title.data or "",
                    category_id=int(form.category_id.data) if form.category_id.data else 0,
                    description=form.description.data or "",
                    seo_title=form.seo_title.data or "",
                    seo_description=form.seo_description.data or "",
                    is_featured=bool(form.is_featured.data),
                    status=form.status.data or ProductStatus.DRAFT,
                    actor_user_id=current_user.id,
                )
            except DomainError as error:
                show_errors(form, error, field_of_code=PRODUCT_FIELD_OF_CODE)
                status = error.status if error.status != 404 else INVALID
            else:
                flash(f"Product {created.title} created: now add its variants.", "success")
                return redirect(url_for("staff.product", product_id=created.id), code=303)
    return render_template("staff/catalog/product_new.html", form=form), status


@manage_catalog
def product(product_id: int) -> ResponseReturnValue:
    current = queries.product_for_staff(product_id)
    form = ProductForm(obj=current if request.method == "GET" else None)
    form.category_id.choices = category_choices()
    if request.method == "GET":
        form.category_id.data = str(current.category_id)
        form.status.data = current.status.value
    status = 200
    if request.method == "POST":
        status = INVALID
        if form.validate():
            try:
                catalog.update_product(
                    current.id,
                    title=form.title.data or "",
                    category_id=int(form.category_id.data) if form.category_id.data else 0,
                    description=form.description.data or "",
                    seo_title=form.seo_title.data or "",
                    seo_description=form.seo_description.data or "",
                    is_featured=bool(form.is_featured.data),
                    status=form.status.data or "",
                    actor_user_id=current_user.id,
                )
            except DomainError as error:
                show_errors(form, error, field_of_code=PRODUCT_FIELD_OF_CODE)
                status = error.status if error.status != 404 else INVALID
            else:
                flash("The product has been saved.", "success")
                return redirect(url_for("staff.product", product_id=current.id), code=303)
        current = queries.product_for_staff(product_id)
    variant_form = VariantForm(formdata=None, prefix=VARIANT_FORM_PREFIX)
    return render_product_page(current, form, variant_form, status)


def render_product_page(
    current: Product, form: ProductForm, variant_form: VariantForm, status: int
) -> ResponseReturnValue:
    """The product's edit page: its form, its variants and the form adding one."""
    html = render_template(
        "staff/catalog/product.html",
        product=current,
        form=form,
        variant_form=variant_form,
    )
    return html, status
