"""The caller's orders over the JSON API."""

from __future__ import annotations

from flask_smorest import Blueprint

from funnel.core.api import API_PREFIX

bp = Blueprint("orders_api", __name__, url_prefix=API_PREFIX, description="The caller's orders")
