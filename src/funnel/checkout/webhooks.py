"""Gateway webhooks: ``POST /webhooks/<gateway>`` (blueprint ``webhooks``, CSRF-exempt).

The raw body goes to ``checkout.services.receive_webhook`` untouched (the signature covers
the bytes as sent). Answers: 200 for an event applied or already applied (the gateway stops
sending it); 400 problem+json for a bad signature or body (nothing recorded); 404 for a
gateway that is not enabled; 409 when no payment matches yet (its order may still be
committing: the gateway retries later, as gateways do for any non-2xx answer).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from funnel.checkout import services
from funnel.core import metrics
from funnel.core.http import problem_response
from funnel.extensions import csrf
from funnel.payments.errors import (
    GatewayNotEnabled,
    PaymentNotFound,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)

bp = Blueprint("webhooks", __name__)
MAX_BODY_BYTES = 256 * 1024


@bp.post("/webhooks/<gateway>")
@csrf.exempt
def receive(gateway: str) -> ResponseReturnValue:
    enabled = {name.strip() for name in current_app.config["PAYMENT_GATEWAYS"].split(",")}
    # Only the shop's gateways name a metric: the URL's text is anyone's.
    counted_as = gateway if gateway in enabled else "unknown"
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        metrics.webhook_received(counted_as, "too_large")
        return problem_response(413, "Too large", "The event is too large.", "payload_too_large")
    raw_body = request.get_data(cache=False)
    try:
        result = services.receive_webhook(gateway[:32], raw_body, request.headers)
    except (WebhookSignatureInvalid, WebhookPayloadInvalid) as error:
        metrics.webhook_received(counted_as, "rejected")
        return problem_response(400, error.title, error.detail, error.code)
    except GatewayNotEnabled as error:
        metrics.webhook_received("unknown", "unknown_gateway")
        return problem_response(404, "Unknown gateway", error.detail, "gateway_not_found")
    except PaymentNotFound as error:
        metrics.webhook_received(counted_as, "no_payment")
        return problem_response(409, error.title, error.detail, error.code)
    metrics.webhook_received(counted_as, "duplicate" if result is None else "applied")
    body = "duplicate" if result is None else result.status.value
    return Response(body, 200, mimetype="text/plain")
