"""US-18: the cart's use cases, on every database: add, change, remove, merge, clear, clean up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.cart import services
from funnel.cart.errors import (
    CartLineExceedsStock,
    CartLineNotFound,
    CartNotFound,
    CartVariantNotFound,
    InvalidQuantity,
    ProductUnavailable,
)
from funnel.cart.models import Cart, CartLine
from funnel.cart.queries import reservation_holder
from funnel.catalog import services as catalog
from funnel.catalog.models import ProductStatus
from funnel.core import clock
from funnel.core.database import transaction
from funnel.core.errors import NotFound
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.inventory import services as inventory
from tests.cart.helpers import all_lines, cart_count
from tests.factories.accounts import UserFactory
from tests.factories.cart import CartFactory, cart_with
from tests.factories.inventory import stocked_variant

pytestmark = pytest.mark.story("US-18")

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The clock, stopped at NOON; assign ``frozen[0]`` to move it."""
    now = [NOON]
    monkeypatch.setattr(clock, "utcnow", lambda: now[0])
    return now


def test_adding_a_variant_makes_a_line_and_adding_it_again_grows_it(app: Flask) -> None:
    # given a guest cart and a variant with 5 units
    cart = services.create_cart()
    variant = stocked_variant(5)

    # when 2 then 3 units are added
    first = services.add_item(cart.id, variant.id, 2)
    second = services.add_item(cart.id, variant.id, 3)

    # then one line holds 5
    assert first.id == second.id
    assert all_lines() == [(cart.id, variant.id, 5)]


def test_a_guest_cart_has_a_long_random_token_and_no_account(app: Flask) -> None:
    first = services.create_cart()
    second = services.create_cart()

    assert first.user_id is None
    assert len(first.token) == 43
    assert first.token != second.token
    assert first.id != second.id


def test_an_account_has_one_cart_however_often_it_is_asked_for(app: Flask) -> None:
    user = UserFactory()

    first = services.create_cart(user.id)
    second = services.create_cart(user.id)

    assert first.id == second.id
    assert db.session.scalars(select(Cart.id).where(Cart.user_id == user.id)).all() == [first.id]


def test_no_cart_is_made_for_an_unknown_account(app: Flask) -> None:
    with pytest.raises(NotFound):
        services.create_cart(999_999)

    assert cart_count() == 0


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True, None, 2**70 * -1])
def test_a_quantity_that_is_not_a_whole_number_of_1_or_more_is_refused(
    app: Flask, quantity: object
) -> None:
    cart = services.create_cart()
    variant = stocked_variant(5)

    with pytest.raises(InvalidQuantity) as refused:
        services.add_item(cart.id, variant.id, quantity)  # type: ignore[arg-type]

    assert refused.value.code == "invalid_quantity"
    assert refused.value.status == 422
    assert all_lines() == []


@pytest.mark.story("US-18")
def test_adding_more_than_is_available_is_refused_with_the_quantity_left(app: Flask) -> None:
    # given a variant with 3 units, 2 of them already in the cart
    variant = stocked_variant(3)
    cart = cart_with({variant: 2})

    # when 2 more are added
    with pytest.raises(CartLineExceedsStock) as refused:
        services.add_item(cart.id, variant.id, 2)

    # then it is refused, saying what is left, and the line is unchanged
    assert refused.value.code == "insufficient_stock"
    assert refused.value.status == 422
    assert refused.value.available == 3
    assert refused.value.detail == (
        "Only 3 left and your cart already holds 2: you can add up to 1 more."
    )
    assert all_lines() == [(cart.id, variant.id, 2)]


def test_a_huge_quantity_is_refused_with_the_quantity_left(app: Flask) -> None:
    variant = stocked_variant(4)
    cart = services.create_cart()

    with pytest.raises(CartLineExceedsStock) as refused:
        services.add_item(cart.id, variant.id, 10**30)

    assert refused.value.detail == "Only 4 left: choose a quantity from 1 to 4."
    assert all_lines() == []


def test_an_out_of_stock_variant_cannot_be_added(app: Flask) -> None:
    variant = stocked_variant(0)
    cart = services.create_cart()

    with pytest.raises(CartLineExceedsStock) as refused:
        services.add_item(cart.id, variant.id, 1)

    assert refused.value.available == 0
    assert refused.value.detail == "This item is out of stock."


@pytest.mark.story("US-18")
def test_units_reserved_by_other_customers_cannot_be_added(app: Flask) -> None:
    # given 5 units, 4 of them reserved by another customer's checkout
    variant = stocked_variant(5)
    inventory.reserve("checkout:someone-else", {variant.id: 4})
    cart = services.create_cart()

    # when 2 are added, it is refused: 1 is left
    with pytest.raises(CartLineExceedsStock) as refused:
        services.add_item(cart.id, variant.id, 2)
    assert refused.value.available == 1

    # and 1 can be added
    services.add_item(cart.id, variant.id, 1)
    assert all_lines() == [(cart.id, variant.id, 1)]


def test_the_carts_own_checkout_reservation_does_not_count_against_it(app: Flask) -> None:
    # given 3 units, reserved by this cart's own checkout
    variant = stocked_variant(3)
    cart = cart_with({variant: 1})
    inventory.reserve(reservation_holder(cart.id), {variant.id: 3})

    # when the line is raised to 3
    services.change_quantity(cart.id, db.session.scalars(select(CartLine.id)).one(), 3)

    # then it is allowed
    assert all_lines() == [(cart.id, variant.id, 3)]


@pytest.mark.parametrize("status", [ProductStatus.DRAFT, ProductStatus.ARCHIVED])
def test_a_variant_of_a_product_not_on_sale_cannot_be_added(
    app: Flask, status: ProductStatus
) -> None:
    variant = stocked_variant(5)
    catalog.update_product(variant.product_id, status=status)
    cart = services.create_cart()

    with pytest.raises(ProductUnavailable) as refused:
        services.add_item(cart.id, variant.id, 1)

    assert refused.value.code == "product_unavailable"
    assert refused.value.status == 422
    assert all_lines() == []


@pytest.mark.parametrize("variant_id", [999_999, 0, -3, 2**40, True, "1"])
def test_an_unknown_variant_cannot_be_added(app: Flask, variant_id: object) -> None:
    cart = services.create_cart()

    with pytest.raises(CartVariantNotFound) as refused:
        services.add_item(cart.id, variant_id, 1)  # type: ignore[arg-type]

    assert refused.value.status == 404
    assert all_lines() == []


def test_adding_to_an_unknown_cart_is_refused(app: Flask) -> None:
    variant = stocked_variant(5)

    with pytest.raises(CartNotFound):
        services.add_item(999_999, variant.id, 1)

    assert all_lines() == []


def test_changing_a_quantity_sets_it_within_what_is_available(app: Flask) -> None:
    variant = stocked_variant(4)
    cart = cart_with({variant: 1})
    line_id = db.session.scalars(select(CartLine.id)).one()

    services.change_quantity(cart.id, line_id, 4)
    assert all_lines() == [(cart.id, variant.id, 4)]

    with pytest.raises(CartLineExceedsStock) as refused:
        services.change_quantity(cart.id, line_id, 5)
    assert refused.value.detail == "Only 4 left: choose a quantity from 1 to 4."

    with pytest.raises(InvalidQuantity):
        services.change_quantity(cart.id, line_id, 0)

    services.change_quantity(cart.id, line_id, 2)
    assert all_lines() == [(cart.id, variant.id, 2)]


@pytest.mark.story("US-18")
def test_another_carts_line_cannot_be_changed_or_removed(app: Flask) -> None:
    # given two guests' carts
    variant = stocked_variant(5)
    mine = cart_with({variant: 1})
    theirs = cart_with({variant: 2})
    their_line = db.session.scalars(select(CartLine.id).where(CartLine.cart_id == theirs.id)).one()

    # when mine tries to change or remove their line, it is not found (404), and nothing changes
    with pytest.raises(CartLineNotFound) as refused:
        services.change_quantity(mine.id, their_line, 1)
    assert refused.value.status == 404
    assert refused.value.code == "cart_line_not_found"
    with pytest.raises(CartLineNotFound):
        services.remove_line(mine.id, their_line)

    assert all_lines() == [(mine.id, variant.id, 1), (theirs.id, variant.id, 2)]


def test_a_line_of_a_product_no_longer_sold_can_be_lowered_but_not_raised(app: Flask) -> None:
    variant = stocked_variant(5)
    cart = cart_with({variant: 3})
    line_id = db.session.scalars(select(CartLine.id)).one()
    catalog.archive_product(variant.product_id)

    with pytest.raises(ProductUnavailable):
        services.change_quantity(cart.id, line_id, 4)
    services.change_quantity(cart.id, line_id, 1)

    assert all_lines() == [(cart.id, variant.id, 1)]


def test_removing_a_line_leaves_the_others(app: Flask) -> None:
    shirt, socks = stocked_variant(5), stocked_variant(5)
    cart = cart_with({shirt: 1, socks: 2})
    shirt_line = db.session.scalars(
        select(CartLine.id).where(CartLine.variant_id == shirt.id)
    ).one()

    services.remove_line(cart.id, shirt_line)

    assert all_lines() == [(cart.id, socks.id, 2)]
    with pytest.raises(CartLineNotFound):
        services.remove_line(cart.id, shirt_line)


def test_every_change_touches_the_cart(app: Flask, frozen: list[datetime]) -> None:
    variant = stocked_variant(5)
    cart = services.create_cart()
    assert cart.updated_at == NOON

    def updated_at() -> datetime:
        db.session.commit()
        return db.session.get(Cart, cart.id).updated_at  # type: ignore[union-attr]

    frozen[0] = NOON + timedelta(hours=1)
    line = services.add_item(cart.id, variant.id, 1)
    assert updated_at() == NOON + timedelta(hours=1)

    frozen[0] = NOON + timedelta(hours=2)
    services.change_quantity(cart.id, line.id, 2)
    assert updated_at() == NOON + timedelta(hours=2)

    frozen[0] = NOON + timedelta(hours=3)
    services.remove_line(cart.id, line.id)
    assert updated_at() == NOON + timedelta(hours=3)

    frozen[0] = NOON + timedelta(hours=4)
    services.clear_cart(cart.id)
    assert updated_at() == NOON + timedelta(hours=4)


@pytest.mark.story("US-18")
def test_merging_adds_quantities_capped_by_stock_and_deletes_the_guest_cart(app: Flask) -> None:
    # given an account's cart and a guest cart sharing one variant, and one line each of their own
    user = UserFactory()
    shared, only_guest, only_account = stocked_variant(4), stocked_variant(5), stocked_variant(5)
    account = cart_with({shared: 3, only_account: 1}, user=user)
    guest = cart_with({shared: 2, only_guest: 2})

    # when the guest cart is merged into the account's
    merged = services.merge_guest_cart(guest.id, user.id)

    # then the shared line adds up, capped at the 4 in stock; the others are kept; the guest
    # cart is gone
    assert merged == account.id
    assert sorted(all_lines()) == sorted(
        [
            (account.id, shared.id, 4),
            (account.id, only_account.id, 1),
            (account.id, only_guest.id, 2),
        ]
    )
    assert db.session.get(Cart, guest.id) is None


@pytest.mark.story("US-18")
def test_merging_releases_the_guest_checkouts_hold_so_it_does_not_block_the_merge(
    app: Flask,
) -> None:
    # given a guest who started checkout (holding the last 2 units) and then signs in
    user = UserFactory()
    variant = stocked_variant(2)
    guest = cart_with({variant: 2})
    inventory.reserve(reservation_holder(guest.id), {variant.id: 2})

    # when the guest cart is merged into the account's
    merged = services.merge_guest_cart(guest.id, user.id)

    # then the 2 units came over (the guest's own hold did not count against them) and the
    # hold is gone, so the account's checkout can reserve them afresh
    assert all_lines() == [(merged, variant.id, 2)]
    assert inventory_queries.reservations_of(reservation_holder(guest.id)) == []


def test_merging_into_an_account_without_a_cart_makes_it(app: Flask) -> None:
    user = UserFactory()
    variant = stocked_variant(5)
    guest = cart_with({variant: 2})

    merged = services.merge_guest_cart(guest.id, user.id)

    assert db.session.get(Cart, merged).user_id == user.id  # type: ignore[union-attr]
    assert all_lines() == [(merged, variant.id, 2)]
    assert cart_count() == 1


def test_merging_drops_lines_that_can_no_longer_be_bought(app: Flask) -> None:
    # given a guest cart with an archived product, one sold out, and one reserved by others
    user = UserFactory()
    archived, sold_out, reserved, fine = (stocked_variant(5) for _ in range(4))
    guest = cart_with({archived: 1, sold_out: 1, reserved: 2, fine: 1})
    catalog.archive_product(archived.product_id)
    inventory.adjust_stock(sold_out.id, delta=-5, reason="damaged")
    inventory.reserve("checkout:other", {reserved.id: 4})

    # when it is merged
    merged = services.merge_guest_cart(guest.id, user.id)

    # then only what can be bought came over, capped by what others left
    assert sorted(all_lines()) == sorted([(merged, reserved.id, 1), (merged, fine.id, 1)])


def test_merging_a_cart_twice_or_an_accounts_cart_changes_nothing(app: Flask) -> None:
    # given two accounts with carts
    variant = stocked_variant(5)
    user, other = UserFactory(), UserFactory()
    mine = cart_with({variant: 1}, user=user)
    theirs = cart_with({variant: 2}, user=other)

    # when someone else's account cart, my own cart, or an unknown cart is "merged"
    assert services.merge_guest_cart(theirs.id, user.id) == mine.id
    assert services.merge_guest_cart(mine.id, user.id) == mine.id
    assert services.merge_guest_cart(999_999, user.id) == mine.id

    # then nothing moved
    assert all_lines() == [(mine.id, variant.id, 1), (theirs.id, variant.id, 2)]


def test_clearing_a_cart_joins_the_callers_transaction(app: Flask) -> None:
    # given a cart with two lines
    shirt, socks = stocked_variant(5), stocked_variant(5)
    cart = cart_with({shirt: 1, socks: 2})

    # when the checkout clears it inside its own transaction, which then fails
    def place_order_that_fails() -> None:
        with transaction():
            services.clear_cart(cart.id)
            raise RuntimeError("payment record could not be written")

    with pytest.raises(RuntimeError):
        place_order_that_fails()

    # then the lines are still there
    assert all_lines() == [(cart.id, shirt.id, 1), (cart.id, socks.id, 2)]

    # when it clears it in a transaction that commits
    with transaction():
        services.clear_cart(cart.id)

    # then the cart is empty, but still there
    assert all_lines() == []
    assert db.session.get(Cart, cart.id) is not None


@pytest.mark.story("US-18")
def test_carts_untouched_for_30_days_are_deleted(app: Flask, frozen: list[datetime]) -> None:
    # given a guest cart and an account's cart last changed 31 days ago, and one changed 29 days ago
    variant = stocked_variant(5)
    frozen[0] = NOON - timedelta(days=31)
    cart_with({variant: 1})
    cart_with({variant: 1}, user=UserFactory())
    frozen[0] = NOON - timedelta(days=29)
    recent = cart_with({variant: 2}).id

    # when the clean-up runs now
    frozen[0] = NOON
    deleted = services.delete_stale_carts(30)

    # then the two old carts and their lines are gone
    assert deleted == 2
    assert all_lines() == [(recent, variant.id, 2)]
    assert db.session.scalars(select(Cart.id)).all() == [recent]


def test_the_clean_up_works_in_batches(
    app: Flask, frozen: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "DELETE_BATCH_SIZE", 2)
    frozen[0] = NOON - timedelta(days=40)
    for _ in range(5):
        CartFactory()
    frozen[0] = NOON

    assert services.delete_stale_carts(30) == 5
    assert cart_count() == 0


@pytest.mark.parametrize("days", [0, -1, True, 1.5])
def test_the_clean_up_refuses_a_nonsense_retention(app: Flask, days: object) -> None:
    with pytest.raises(ValueError, match="days"):
        services.delete_stale_carts(days)  # type: ignore[arg-type]
