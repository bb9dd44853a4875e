"""Payment jobs.

``deliver_due_test_webhooks`` plays the test gateway's sender: it settles processing test
payments whose time has come, then POSTs each event it owes, signed, over real HTTP to
``BASE_URL + "/webhooks/test"``; a failed delivery is retried on a later run. Schedule it every
few seconds with Celery beat while the test gateway is enabled.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request

from celery import shared_task
from flask import current_app

from funnel.payments.gateways import enabled_gateway_names, get_gateway
from funnel.payments.gateways.test import sandbox
from funnel.payments.gateways.test.gateway import WEBHOOK_PATH, SandboxGateway

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10


def _post(url: str, body: bytes, headers: dict[str, str]) -> str | None:
    """POST; None when the endpoint answered 2xx, otherwise what went wrong."""
    if not url.startswith(("http://", "https://")):
        return "BASE_URL is not an http(s) URL"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # nosec B310 # noqa: S310
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"not delivered: {error}"[:255]


def deliver_test_webhook(webhook: sandbox.SandboxWebhook) -> bool:
    """Send one owed event now (also a replay of a delivered one); True when accepted."""
    gateway = get_gateway("test")
    assert isinstance(gateway, SandboxGateway)
    body, headers = gateway.signed_webhook(webhook.body)
    url = current_app.config.get("BASE_URL", "").rstrip("/") + WEBHOOK_PATH
    error = _post(url, body, headers)
    sandbox.record_delivery(webhook.id, error)
    if error:
        log.warning("test webhook %s not delivered: %s", webhook.event_id, error)
    return error is None


BEAT_SCHEDULE = {
    # The test gateway's "remote side" settles processing payments and sends their webhooks.
    "payments-deliver-test-webhooks": {
        "task": "funnel.payments.deliver_due_test_webhooks",
        "schedule": 5.0,
    },
}


@shared_task(name="funnel.payments.deliver_due_test_webhooks")
def deliver_due_test_webhooks() -> int:
    """Settle due test payments and deliver the events owed; returns how many were accepted."""
    if "test" not in enabled_gateway_names():
        return 0
    sandbox.settle_due_charges()
    delivered = 0
    for webhook in sandbox.due_webhooks():
        delivered += deliver_test_webhook(webhook)
    return delivered
