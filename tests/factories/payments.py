"""Factories for the payments domain: payments made through the services, as checkout makes them.

``PaymentFactory()`` records a pending payment (no gateway call); ``paid_payment(...)`` pays one
with the test gateway's 4242 card; ``card(number)`` builds card input with a future expiry.
"""

from __future__ import annotations

from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from flask import current_app

from funnel.core import clock
from funnel.core.money import Money
from funnel.extensions import db
from funnel.payments import services
from funnel.payments.gateways.base import CardDetails
from funnel.payments.models import Payment
from funnel.payments.services import PaymentResult


def card(number: str = "4242 4242 4242 4242", expiry: str | None = None, cvc: str = "123"):
    """Card input that expires in three years unless ``expiry`` is given."""
    if expiry is None:
        expiry = f"12/{(clock.utcnow().year + 3) % 100:02d}"
    return CardDetails(number=number, expiry=expiry, cvc=cvc)


def money(amount: int) -> Money:
    return Money(amount, current_app.config["CURRENCY"])


class PaymentFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Payment
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"

    payable_reference = factory.Sequence(lambda number: f"ORD-{number:06d}")
    amount = factory.LazyFunction(lambda: money(2500))
    gateway = "test"
    idempotency_key = factory.Sequence(lambda number: f"payment-key-{number:06d}")
    description = "Order at the test shop"
    return_url = "/checkout/return"
    capture_method = "automatic"

    @classmethod
    def _create(cls, model_class: type[Payment], *args: Any, **kwargs: Any) -> Payment:
        return services.create_payment(**kwargs)


_sequence = iter(range(10**9))


def paid_payment(
    amount: int = 2500, number: str = "4242424242424242", **overrides: Any
) -> PaymentResult:
    """Start a payment with the test gateway (by default, one that succeeds)."""
    serial = next(_sequence)
    arguments: dict[str, Any] = {
        "payable_reference": f"PAID-{serial:06d}",
        "amount": money(amount),
        "gateway": "test",
        "idempotency_key": f"paid-key-{serial:06d}",
        "payment_method": card(number),
        "description": "Order at the test shop",
        "return_url": "/checkout/return",
    }
    arguments.update(overrides)
    return services.start_payment(**arguments)
