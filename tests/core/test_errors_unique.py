"""Domain error names are unique across the shop, so that a name says which domain refused
(``except InsufficientStock`` cannot catch the cart's error when the inventory's was meant)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict

import funnel
from funnel.cart.errors import CartLineExceedsStock, CartVariantNotFound
from funnel.checkout.errors import CheckoutPaymentFailed
from funnel.core.errors import DomainError
from funnel.payments.errors import PaymentIdempotencyKeyReused

# Builds an app when imported (the Celery entry point): it defines no errors.
SKIPPED = ("funnel.worker",)


def funnel_modules() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.walk_packages(funnel.__path__, prefix="funnel.")
        if not module.name.startswith(SKIPPED)
    )


def domain_errors_by_name() -> dict[str, set[str]]:
    """Each DomainError subclass's name -> the modules that define a class of that name."""
    modules_of: dict[str, set[str]] = defaultdict(set)
    for name in funnel_modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, DomainError) and value.__module__ == name:
                modules_of[value.__name__].add(name)
    return modules_of


def test_the_walk_finds_the_errors_of_every_domain() -> None:
    modules_of = domain_errors_by_name()

    assert modules_of["DomainError"] == {"funnel.core.errors"}
    assert modules_of["CartVariantNotFound"] == {"funnel.cart.errors"}
    assert modules_of["VariantNotFound"] == {"funnel.catalog.errors"}
    assert modules_of["IdempotencyKeyReused"] == {"funnel.core.idempotency"}
    assert "funnel.worker" not in funnel_modules()


def test_no_two_domain_errors_share_a_name() -> None:
    shared = {
        name: sorted(modules)
        for name, modules in domain_errors_by_name().items()
        if len(modules) > 1
    }

    assert shared == {}


def test_renamed_errors_keep_their_stable_codes() -> None:
    assert [
        error.code
        for error in (
            CartLineExceedsStock,
            CartVariantNotFound,
            CheckoutPaymentFailed,
            PaymentIdempotencyKeyReused,
        )
    ] == ["insufficient_stock", "variant_not_found", "payment_failed", "idempotency_key_reused"]
