"""The staff pages (blueprint ``staff``): only staff and admins get past its access check.

The dashboard is here (with today's and the last 7 days' headline figures for those who may
read the reports); the customers, orders, returns, categories, products, variants, stock,
product images, the team, the shop's settings, the audit log, the reports and shoppers'
feedback are in their own
modules, on the same blueprint.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts import queries as account_queries
from funnel.accounts.access import require_staff
from funnel.accounts.models import Role
from funnel.accounts.permissions import Permission, permissions_of
from funnel.core import clock
from funnel.reports import queries as report_queries
from funnel.reports.conversion import percent
from funnel.reports.periods import shop_today
from funnel.reports.queries import Headlines
from funnel.settings import queries as settings_queries
from funnel.staff.access import record_client_address
from funnel.staff.views import (
    audit,
    catalog_csv,
    categories,
    customers,
    feedback,
    images,
    operations,
    orders,
    payments,
    products,
    refunds,
    reports,
    returns,
    settings,
    shipments,
    stock,
    team,
    variants,
)

bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.before_request(require_staff)
record_client_address(bp)

# Sections of the dashboard: each shown to the staff holding the permission its pages need.
SECTIONS = (
    (
        "staff.customers",
        "Customers",
        "Accounts, their roles and whether their email is verified.",
        Permission.CUSTOMERS_VIEW,
    ),
    (
        "staff.products",
        "Products",
        "The catalogue: products, variants, prices and images.",
        Permission.CATALOG_MANAGE,
    ),
    ("staff.categories", "Categories", "The category tree.", Permission.CATALOG_MANAGE),
    ("staff.orders", "Orders", "Orders to process, refunds and returns.", Permission.ORDERS_VIEW),
    (
        "staff.returns",
        "Returns",
        "Customers' return requests: approve, receive, refund; oldest first.",
        Permission.ORDERS_VIEW,
    ),
    (
        "staff.failed_payments",
        "Failed payments",
        "Card payments that did not go through: who tried, how much, why.",
        Permission.ORDERS_VIEW,
    ),
    (
        "staff.reconciliation",
        "Payment reconciliation",
        "Gateway charges that did not match an order or a refund: resolve each with a note.",
        Permission.ORDERS_REFUND,
    ),
    (
        "staff.stock",
        "Stock",
        "Stock levels, low stock, adjustments and their history.",
        Permission.INVENTORY_ADJUST,
    ),
    (
        "staff.team",
        "Team",
        "Staff members, their permission groups, and invitations to join.",
        Permission.STAFF_MANAGE,
    ),
    (
        "staff.settings",
        "Settings",
        "Shipping, tax rates, bank transfer details, the shop's name and address.",
        Permission.SETTINGS_MANAGE,
    ),
    (
        "staff.operations",
        "Operations",
        "Payment failures of the last hour, job backlogs, stock against its ledger.",
        Permission.SETTINGS_MANAGE,
    ),
    (
        "staff.audit",
        "Audit log",
        "Who on the staff changed what, when and from where; before and after.",
        Permission.AUDIT_VIEW,
    ),
    (
        "staff.feedback",
        "Feedback",
        "What shoppers wrote from the storefront: mark it handled, answer by email.",
        Permission.REPORTS_VIEW,
    ),
    (
        "staff.funnel_report",
        "Sales funnel",
        "How many visitors viewed, added to cart, checked out and paid, day by day range.",
        Permission.REPORTS_VIEW,
    ),
    (
        "staff.sales_report",
        "Sales",
        "Orders, revenue, refunds and the average order by day, week or month, as CSV too.",
        Permission.REPORTS_VIEW,
    ),
    (
        "staff.product_report",
        "Products sold",
        "Units and revenue per product and variant, and how many viewers bought each.",
        Permission.REPORTS_VIEW,
    ),
)


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    held = permissions_of(current_user)
    sections = [
        (endpoint, title, summary)
        for endpoint, title, summary, permission in SECTIONS
        if endpoint in current_app.view_functions and permission in held
    ]
    return render_template(
        "staff/dashboard.html",
        headlines=_headlines() if Permission.REPORTS_VIEW in held else None,
        percent=percent,
        sections=sections,
        counts=account_queries.count_users_by_role(),
        unverified=account_queries.count_unverified_customers(),
        Role=Role,
    )


def _headlines() -> Headlines:
    """Today's and the last 7 days' figures, for those who may read the reports."""
    shop = settings_queries.current_settings()
    zone = ZoneInfo(shop.time_zone)
    return report_queries.headlines(shop_today(clock.utcnow(), zone), zone, shop.currency)


customers.register(bp)
orders.register(bp)
shipments.register(bp)
refunds.register(bp)
returns.register(bp)
categories.register(bp)
products.register(bp)
catalog_csv.register(bp)
variants.register(bp)
stock.register(bp)
images.register(bp)
team.register(bp)
settings.register(bp)
audit.register(bp)
payments.register(bp)
reports.register(bp)
feedback.register(bp)
operations.register(bp)
