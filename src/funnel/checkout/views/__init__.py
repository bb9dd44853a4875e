"""Checkout pages (blueprint ``checkout``): contact, address, shipping, review, pay; then the
3-D Secure return and the confirmation. Server-rendered, no JavaScript needed.

``steps`` serves the first steps, ``payment`` the review, the payment and the confirmation; each
adds its routes to the one blueprint. Which checkout a browser may use is ``checkout.access``.
"""

from __future__ import annotations

from flask import Blueprint

from funnel.checkout.pricing import PricingSettingsError, policy_from_settings
from funnel.checkout.views import payment, steps

bp = Blueprint("checkout", __name__, url_prefix="/checkout")


@bp.record_once
def _check_settings(state) -> None:
    """Refuse to start with pricing settings that cannot be read."""
    try:
        policy_from_settings(state.app.config)
    except PricingSettingsError as error:
        raise RuntimeError(f"checkout settings: {error}") from error


steps.register(bp)
payment.register(bp)
