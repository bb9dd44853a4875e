"""The staff pages (blueprint ``staff``): only staff and admins get past its access check.

The dashboard is here; the customers, orders, categories, products, variants, stock and
product images are in their own modules, on the same blueprint.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from funnel.accounts import queries as account_queries
from funnel.accounts.access import require_staff
from funnel.accounts.models import Role
from funnel.staff.views import (
    categories,
    customers,
    images,
    orders,
    products,
    shipments,
    stock,
    variants,
)

bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.before_request(require_staff)

# Sections of the dashboard, shown when the module serving them is installed.
SECTIONS = (
    ("staff.customers", "Customers", "Accounts, their roles and whether their email is verified."),
    ("staff.products", "Products", "The catalogue: products, variants, prices and images."),
    ("staff.categories", "Categories", "The category tree."),
    ("staff.orders", "Orders", "Orders to process, refunds and returns."),
    ("staff.stock", "Stock", "Stock levels, low stock, adjustments and their history."),
)


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    sections = [
        (endpoint, title, summary)
        for endpoint, title, summary in SECTIONS
        if endpoint in current_app.view_functions
    ]
    return render_template(
        "staff/dashboard.html",
        sections=sections,
        counts=account_queries.count_users_by_role(),
        unverified=account_queries.count_unverified_customers(),
        Role=Role,
    )


customers.register(bp)
orders.register(bp)
shipments.register(bp)
categories.register(bp)
products.register(bp)
variants.register(bp)
stock.register(bp)
images.register(bp)
