"""The test gateway's own pages: the simulated 3-D Secure check (blueprint ``test_gateway``).

These pages play the bank's part, as a real gateway hosts them: GET shows the check and
changes nothing; POST (with the CSRF token) approves or refuses it, then sends the customer back
to the payment's return URL. They exist only while the ``test`` gateway is enabled.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask.typing import ResponseReturnValue

from funnel.core.money import Money
from funnel.payments.gateways import enabled_gateway_names
from funnel.payments.gateways.base import OutcomeStatus
from funnel.payments.gateways.test import sandbox

bp = Blueprint("test_gateway", __name__, url_prefix="/payments/test")


@bp.before_request
def _only_when_enabled() -> None:
    if "test" not in enabled_gateway_names():
        abort(404)


@bp.get("/challenge/<token>")
def challenge(token: str) -> ResponseReturnValue:
    charge = sandbox.charge_by_challenge(token)
    response = render_template(
        "payments/challenge.html",
        token=token,
        amount=Money(charge.amount_minor, charge.currency),
        description=charge.description,
        card_brand=charge.card_brand,
        card_last4=charge.card_last4,
        is_open=charge.status == OutcomeStatus.REQUIRES_ACTION.value,
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/challenge/<token>")
def decide(token: str) -> ResponseReturnValue:
    decision = request.form.get("decision", "")
    if decision not in {"approve", "refuse"}:
        abort(400, description="Choose Approve or Refuse.")
    return_url = sandbox.decide_challenge(token, is_approved=decision == "approve")
    return redirect(return_url, code=303)
