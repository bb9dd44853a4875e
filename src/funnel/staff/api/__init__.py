"""Staff operations over the JSON API: catalogue, stock, orders, refunds, customers."""

from __future__ import annotations

from flask_smorest import Blueprint

from funnel.core.api import API_PREFIX

bp = Blueprint(
    "staff_api",
    __name__,
    url_prefix=f"{API_PREFIX}/staff",
    description="Shop staff: catalogue, stock, orders, refunds and customers",
)
