"""Payment gateways and the registry that picks them from ``PAYMENT_GATEWAYS``.

Settings read (with their defaults until ``config.py`` provides them):

- ``PAYMENT_GATEWAYS``: names, in the order checkout offers them (``"test,manual"``; ``cod``
  adds cash on delivery);
- ``TEST_GATEWAY_WEBHOOK_SECRET``: derived from ``SECRET_KEY`` when unset;
- ``TEST_GATEWAY_SETTLE_SECONDS``: how long a ``processing`` test payment waits (5);
- ``TEST_GATEWAY_LATENCY_MS``: how long the test gateway takes to answer a payment (0), to see
  the shop behave as with a real gateway over a network (retries, concurrent requests, load);
- ``STRIPE_SECRET_KEY``, ``STRIPE_PUBLISHABLE_KEY``, ``STRIPE_WEBHOOK_SECRET``,
  ``STRIPE_API_BASE``: the ``stripe`` gateway's API keys, webhook signing secret and (tests
  only) another API address.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import current_app

from funnel.payments.errors import GatewayNotEnabled
from funnel.payments.gateways.base import PaymentGateway
from funnel.payments.gateways.manual import CashOnDeliveryGateway, ManualGateway
from funnel.payments.gateways.test.gateway import SandboxGateway, derive_webhook_secret

DEFAULT_GATEWAYS = ("test", "manual")
# Offline gateways: staff record the money received (a bank transfer, cash at the door).
STAFF_SETTLED_GATEWAYS = frozenset({"manual", "cod"})
# Paid by bank transfer (offered only with the shop's bank account: checkout.queries).
BANK_TRANSFER = "manual"
# Paid when the parcel is delivered: such an order ships before it is paid.
CASH_ON_DELIVERY = "cod"


def _test_gateway() -> PaymentGateway:
    config = current_app.config
    secret = config.get("TEST_GATEWAY_WEBHOOK_SECRET") or derive_webhook_secret(
        config["SECRET_KEY"]
    )
    return SandboxGateway(
        webhook_secret=secret,
        base_url=config.get("BASE_URL") or "http://127.0.0.1:5000",
        settle_seconds=int(config.get("TEST_GATEWAY_SETTLE_SECONDS", 5)),
        latency_seconds=int(config.get("TEST_GATEWAY_LATENCY_MS", 0)) / 1000,
    )


def _stripe_gateway() -> PaymentGateway:
    # Loaded when a shop takes cards through Stripe: its client (and the HTTP library under
    # it) would cost every web worker of a shop without Stripe about 10 MB.
    from funnel.payments.gateways.stripe import StripeGateway

    config = current_app.config
    return StripeGateway(
        secret_key=config.get("STRIPE_SECRET_KEY") or "",
        webhook_secret=config.get("STRIPE_WEBHOOK_SECRET") or "",
        publishable_key=config.get("STRIPE_PUBLISHABLE_KEY") or "",
        api_base=config.get("STRIPE_API_BASE"),
    )


_FACTORIES: dict[str, Callable[[], PaymentGateway]] = {
    "test": _test_gateway,
    "stripe": _stripe_gateway,
    "manual": ManualGateway,
    "cod": CashOnDeliveryGateway,
}


_LABELS = {
    "test": SandboxGateway.label,
    "manual": ManualGateway.label,
    "cod": CashOnDeliveryGateway.label,
}


def gateway_label(name: str) -> str:
    """What staff call the payment method ``name`` (the name itself when no gateway has it
    any more, as for a payment of a gateway since removed)."""
    return _LABELS.get(name, name)


def _names(configured: str | Sequence[str]) -> list[str]:
    if isinstance(configured, str):
        configured = configured.split(",")
    return [name.strip().lower() for name in configured if name and name.strip()]


def unknown_gateway_names(configured: str | Sequence[str]) -> list[str]:
    """Configured names that no gateway answers to (a typo would silently offer no payment)."""
    return [name for name in _names(configured) if name not in _FACTORIES]


def enabled_gateway_names() -> tuple[str, ...]:
    """The configured gateway names (a comma-separated string or a sequence), known ones only."""
    configured = current_app.config.get("PAYMENT_GATEWAYS", DEFAULT_GATEWAYS)
    return tuple(dict.fromkeys(name for name in _names(configured) if name in _FACTORIES))


def get_gateway(name: str) -> PaymentGateway:
    """The gateway called ``name``. Raises GatewayNotEnabled when it is unknown or disabled."""
    if name not in enabled_gateway_names():
        raise GatewayNotEnabled(f"The payment method {name[:32]!r} is not available.")
    return _FACTORIES[name]()


def enabled_gateways() -> list[PaymentGateway]:
    """Every enabled gateway, in the configured order."""
    return [_FACTORIES[name]() for name in enabled_gateway_names()]


__all__ = [
    "BANK_TRANSFER",
    "CASH_ON_DELIVERY",
    "STAFF_SETTLED_GATEWAYS",
    "PaymentGateway",
    "enabled_gateway_names",
    "enabled_gateways",
    "get_gateway",
    "unknown_gateway_names",
]
