"""The staff pages (blueprint ``staff``): only staff and admins get past its access check.

The dashboard and the customers are here; the orders (``orders``), stock (``stock``) and
product images (``images``) are in their own modules, on the same blueprint.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from funnel.accounts import queries as account_queries
from funnel.accounts.access import require_staff
from funnel.accounts.models import Role
from funnel.staff.views import images, orders, stock

bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.before_request(require_staff)

CUSTOMERS_PER_PAGE = 50
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


@bp.get("/customers")
def customers() -> ResponseReturnValue:
    search = request.args.get("q", "")[:254]
    page = request.args.get("page", 1, type=int)
    page = min(max(page, 1), 1_000_000)
    pagination = account_queries.search_users(search, page=page, per_page=CUSTOMERS_PER_PAGE)
    return render_template("staff/customers.html", pagination=pagination, search=search)


orders.register(bp)
stock.register(bp)
images.register(bp)
