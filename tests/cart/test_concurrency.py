"""US-18: requests changing one cart at once, on every database (threads, own connections).

The services lock the cart's row first, so that concurrent adds of one variant grow one line
(no duplicate-line error, no lost update), and an account gets exactly one cart however many
requests make it at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.cart import services
from funnel.cart.models import Cart
from funnel.extensions import db
from tests.cart.helpers import all_lines
from tests.factories.accounts import UserFactory
from tests.factories.cart import cart_with
from tests.factories.inventory import stocked_variant

WORKERS = 8


def run_at_once(app: Flask, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(number)`` in WORKERS threads released together; return results or errors."""
    barrier = threading.Barrier(WORKERS)
    results: list[Any] = [None] * WORKERS

    def worker(number: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[number] = work(number)
            except Exception as error:  # reported to the test, which asserts
                results[number] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.story("US-18")
def test_concurrent_adds_of_one_variant_grow_one_line(app: Flask) -> None:
    # given an empty cart and 20 units
    variant_id = stocked_variant(20).id
    cart_id = services.create_cart().id
    db.session.commit()  # objects of the test's session must not be touched by the threads

    # when 8 requests add 2 units each at once
    results = run_at_once(app, lambda _: services.add_item(cart_id, variant_id, 2).quantity)

    # then every add succeeded and the line holds all 16
    assert [result for result in results if isinstance(result, Exception)] == []
    assert all_lines() == [(cart_id, variant_id, 16)]


def test_concurrent_adds_beyond_the_stock_are_refused_not_lost(app: Flask) -> None:
    # given an empty cart and 5 units
    variant_id = stocked_variant(5).id
    cart_id = services.create_cart().id
    db.session.commit()

    # when 8 requests add 1 unit each at once
    results = run_at_once(app, lambda _: services.add_item(cart_id, variant_id, 1).quantity)

    # then 5 succeeded, 3 were told the stock is short, and the line holds 5
    refused = [type(result).__name__ for result in results if isinstance(result, Exception)]
    assert refused == ["CartLineExceedsStock"] * 3
    assert all_lines() == [(cart_id, variant_id, 5)]


@pytest.mark.story("US-18")
def test_an_account_gets_one_cart_when_requests_make_it_at_once(app: Flask) -> None:
    # given a customer without a cart, and 8 guest carts of theirs being merged at sign-in
    user = UserFactory()
    variant = stocked_variant(50)
    variant_id = variant.id
    guests = [cart_with({variant: 1}).id for _ in range(WORKERS)]
    user_id = user.id
    db.session.commit()

    # when they are all merged at once
    results = run_at_once(app, lambda number: services.merge_guest_cart(guests[number], user_id))

    # then all merged into one account cart, with every unit
    assert [result for result in results if isinstance(result, Exception)] == []
    db.session.commit()
    account_carts = db.session.scalars(select(Cart.id).where(Cart.user_id == user_id)).all()
    assert len(account_carts) == 1
    assert set(results) == set(account_carts)
    assert all_lines() == [(account_carts[0], variant_id, WORKERS)]
    assert db.session.scalars(select(Cart.id)).all() == account_carts
