"""Carts over the JSON API (a guest's cart is reached with its secret, an account's with its
bearer token); filled in by the carts increment."""

from __future__ import annotations

from flask_smorest import Blueprint

from funnel.core.api import API_PREFIX

bp = Blueprint("carts_api", __name__, url_prefix=API_PREFIX, description="Shopping carts")
