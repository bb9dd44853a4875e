"""Staff category pages (``catalog.manage``): the tree, create, edit (rename, describe, move),
reorder among siblings, delete. Added to the staff blueprint by ``register``.

Every POST is CSRF-checked (the app's CSRFProtect). Each form calls one catalogue service and
redirects (303) with a message; a refusal shows the page again with the reason beside the
field, at the error's status, and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from funnel.accounts.permissions import Permission
from funnel.catalog import queries
from funnel.catalog import services as catalog
from funnel.catalog.errors import CategoryNotFound
from funnel.catalog.forms import CategoryForm
from funnel.catalog.tree import CategoryNode
from funnel.core.errors import DomainError
from funnel.staff.access import page_permission
from funnel.staff.views.form_errors import show_errors

CATEGORY_ID = "<int(max=2147483647):category_id>"
INVALID = 422
TOP_LEVEL = SelectChoice("", "None (top level)")
manage_catalog = page_permission(Permission.CATALOG_MANAGE)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/categories", "categories", categories, methods=["GET"])
    bp.add_url_rule("/categories", "category_create", category_create, methods=["POST"])
    bp.add_url_rule(f"/categories/{CATEGORY_ID}", "category", category, methods=["GET", "POST"])
    bp.add_url_rule(
        f"/categories/{CATEGORY_ID}/<any(up, down):direction>",
        "category_reorder",
        category_reorder,
        methods=["POST"],
    )
    bp.add_url_rule(
        f"/categories/{CATEGORY_ID}/delete", "category_delete", category_delete, methods=["POST"]
    )


def _parent_choices(tree: queries.CategoryTree, moving: CategoryNode | None) -> list[SelectChoice]:
    """Every category, indented, but not ``moving`` nor any category below it."""
    excluded = set(tree.descendant_ids(moving)) if moving is not None else set()
    return [TOP_LEVEL] + [
        SelectChoice(str(category.id), "\u2003" * depth + category.name)
        for category, depth in tree.indented()
        if category.id not in excluded
    ]


def _parent_id(form: CategoryForm) -> int | None:
    return int(form.parent_id.data) if form.parent_id.data else None


def _tree_page(
    form: CategoryForm, status: int = 200, error: DomainError | None = None
) -> ResponseReturnValue:
    tree = queries.category_tree()
    form.parent_id.choices = _parent_choices(tree, None)
    page = render_template(
        "staff/catalog/categories.html",
        rows=tree.indented(),
        tree=tree,
        form=form,
        error=error,
    )
    return page, status


@manage_catalog
def categories() -> ResponseReturnValue:
    return _tree_page(CategoryForm())


@manage_catalog
def category_create() -> ResponseReturnValue:
    form = CategoryForm()
    form.parent_id.choices = _parent_choices(queries.category_tree(), None)
    if form.validate_on_submit():
        try:
            created = catalog.create_category(
                form.name.data or "",
                parent_id=_parent_id(form),
                description=form.description.data or "",
                position=None,
                actor_user_id=current_user.id,
            )
        except DomainError as error:
            show_errors(form, error)
            return _tree_page(form, error.status if error.status != 404 else INVALID)
        flash(f"Category {created.name} created.", "success")
        return redirect(url_for("staff.categories"), code=303)
    return _tree_page(form, INVALID)


def _category_or_404(tree: queries.CategoryTree, category_id: int) -> CategoryNode:
    category = tree.by_id.get(category_id)
    if category is None:
        raise CategoryNotFound()
    return category


@manage_catalog
def category(category_id: int) -> ResponseReturnValue:
    tree = queries.category_tree()
    current = _category_or_404(tree, category_id)
    form = CategoryForm(obj=current if request.method == "GET" else None)
    form.parent_id.choices = _parent_choices(tree, current)
    if request.method == "GET":
        form.parent_id.data = str(current.parent_id or "")
    status = 200
    if request.method == "POST":
        status = INVALID
        if form.validate():
            try:
                catalog.update_category(
                    current.id,
                    name=form.name.data or "",
                    parent_id=_parent_id(form),
                    description=form.description.data or "",
                    actor_user_id=current_user.id,
                )
            except DomainError as error:
                show_errors(form, error)
                status = error.status if error.status != 404 else INVALID
            else:
                flash("The category has been saved.", "success")
                return redirect(url_for("staff.categories"), code=303)
    page = render_template(
        "staff/catalog/category.html",
        category=current,
        ancestors=tree.ancestors(current),
        form=form,
    )
    return page, status


@manage_catalog
def category_reorder(category_id: int, direction: str) -> ResponseReturnValue:
    moved = catalog.reorder_category(category_id, direction, actor_user_id=current_user.id)
    if moved:
        flash("The order has been saved.", "success")
    else:
        flash(f"It is already {'first' if direction == 'up' else 'last'}.", "info")
    return redirect(url_for("staff.categories", _anchor=f"category-{category_id}"), code=303)


@manage_catalog
def category_delete(category_id: int) -> ResponseReturnValue:
    try:
        catalog.delete_category(category_id, actor_user_id=current_user.id)
    except DomainError as error:
        if error.status == 404:
            raise
        return _tree_page(CategoryForm(formdata=None), error.status, error)
    flash("The category has been deleted.", "success")
    return redirect(url_for("staff.categories"), code=303)
