"""Staff stock pages (permission ``inventory.adjust``), added to the staff blueprint by
``register``: the stock list, and a variant's stock with its adjustment and threshold forms.

Every change goes through one inventory service (which checks the permission again and writes
the ledger); a good one redirects (303) to the variant's page with a message, a refused one
shows the page again with the reason beside the field (422; 409 when the stock is short) and
changes nothing.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.permissions import Permission, require_permission
from funnel.core.errors import DomainError, ValidationFailed
from funnel.core.pagination import page_number
from funnel.inventory import queries
from funnel.inventory import services as inventory
from funnel.inventory.errors import InvalidStockQuantity, OutOfStock
from funnel.staff.forms import SET_TO_COUNT, StockAdjustmentForm, ThresholdForm

WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,10}")
# Where a service's field errors are shown on the page.
FIELD_OF = {
    "delta": "quantity",
    "new_level": "quantity",
    "quantity": "quantity",
    "reason": "reason",
    "note": "note",
    "threshold": "threshold",
}


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/stock", "stock", stock_list, methods=["GET"])
    bp.add_url_rule("/variants/<int:variant_id>/stock", "variant_stock", variant_stock)
    bp.add_url_rule(
        "/variants/<int:variant_id>/stock/adjustments",
        "variant_stock_adjust",
        adjust,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/variants/<int:variant_id>/stock/threshold",
        "variant_stock_threshold",
        set_threshold,
        methods=["POST"],
    )


def _check_permission() -> None:
    require_permission(current_user, Permission.INVENTORY_ADJUST)


def _default_threshold() -> int:
    return current_app.config["LOW_STOCK_THRESHOLD"]


def stock_list() -> ResponseReturnValue:
    _check_permission()
    search = request.args.get("q", "").strip()[:100]
    low_only = request.args.get("low") == "1"
    page = queries.stock_list(
        default_threshold=_default_threshold(),
        search=search,
        low_only=low_only,
        page=page_number(request.args.get("page")),
    )
    return render_template(
        "staff/stock/list.html",
        page=page,
        search=search,
        low_only=low_only,
        default_threshold=_default_threshold(),
    )


def variant_stock(variant_id: int) -> ResponseReturnValue:
    _check_permission()
    return _page(variant_id, StockAdjustmentForm(formdata=None), ThresholdForm(formdata=None))


def _page(
    variant_id: int,
    adjustment: StockAdjustmentForm,
    threshold: ThresholdForm,
    status: int = 200,
) -> ResponseReturnValue:
    row = queries.stock_row(variant_id, default_threshold=_default_threshold())
    if threshold.threshold.data is None and row.has_own_threshold:
        threshold.threshold.data = str(row.threshold)
    threshold.threshold.description = (
        "Available units at or below which this variant is low on stock. "
        f"Blank: the shop's default ({_default_threshold()})."
    )
    history = queries.movement_history(variant_id, page=page_number(request.args.get("page")))
    page = render_template(
        "staff/stock/variant.html",
        row=row,
        history=history,
        adjustment=adjustment,
        threshold_form=threshold,
        default_threshold=_default_threshold(),
    )
    return page, status


def _refused(form: StockAdjustmentForm | ThresholdForm, error: DomainError) -> None:
    """Put a service's refusal beside the fields it names (or above the form)."""
    fields = error.fields if isinstance(error, ValidationFailed) else {}
    if isinstance(error, OutOfStock):
        line = error.lines[0]
        fields = {"quantity": [f"Only {line.available} on hand: {line.requested} cannot go."]}
    placed = False
    for name, messages in fields.items():
        field = getattr(form, FIELD_OF.get(name, ""), None)
        if field is not None:
            field.errors = [*field.errors, *messages]
            placed = True
    if not placed:
        form.form_errors.append(error.detail)


def _whole_number(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None


def adjust(variant_id: int) -> ResponseReturnValue:
    _check_permission()
    queries.stock_row(variant_id, default_threshold=_default_threshold())  # 404 first
    form = StockAdjustmentForm()
    threshold = ThresholdForm(formdata=None)
    if not form.validate():
        return _page(variant_id, form, threshold, 422)
    quantity = _whole_number(form.quantity.data)
    try:
        if quantity is None:
            raise InvalidStockQuantity(
                fields={"quantity": ["Enter a whole number, such as 12 or -3."]}
            )
        counted = form.kind.data == SET_TO_COUNT
        movement = inventory.adjust_stock(
            variant_id,
            reason=form.reason.data or "",
            delta=None if counted else quantity,
            new_level=quantity if counted else None,
            note=form.note.data or "",
            actor_id=current_user.id,
        )
    except (ValidationFailed, OutOfStock) as error:
        _refused(form, error)
        return _page(variant_id, form, threshold, error.status)
    flash(
        f"Stock {movement.quantity:+d} ({movement.reason.label.lower()}): "
        f"{movement.balance_after} on hand now.",
        "success",
    )
    return redirect(url_for("staff.variant_stock", variant_id=variant_id), code=303)


def set_threshold(variant_id: int) -> ResponseReturnValue:
    _check_permission()
    queries.stock_row(variant_id, default_threshold=_default_threshold())  # 404 first
    form = ThresholdForm()
    adjustment = StockAdjustmentForm(formdata=None)
    if not form.validate():
        return _page(variant_id, adjustment, form, 422)
    raw = (form.threshold.data or "").strip()
    value = _whole_number(raw)
    try:
        if raw and (value is None or value < 0):
            raise InvalidStockQuantity(
                fields={"threshold": ["Enter a whole number from 0, or leave it blank."]}
            )
        inventory.set_low_stock_threshold(variant_id, value, actor_id=current_user.id)
    except ValidationFailed as error:
        _refused(form, error)
        return _page(variant_id, adjustment, form, error.status)
    flash(
        f"Low stock from {value} available units."
        if value is not None
        else f"Low stock from the shop's default, {_default_threshold()} available units.",
        "success",
    )
    return redirect(url_for("staff.variant_stock", variant_id=variant_id), code=303)
