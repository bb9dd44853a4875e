"""A staff refund's idempotency key is derived in one place, in formats that never change:
the keys are stored for good with the refund, and a retry after a deploy must find its first
attempt."""

from __future__ import annotations

import pytest

from funnel.orders.errors import InvalidOrderInput
from funnel.orders.services import RefundSource, refund_request_key


def test_the_dashboard_key_is_the_form_token_after_order_refund() -> None:
    token = "Zq9-xY_3aBcD4eFgHiJkLmNo"

    key = refund_request_key(RefundSource.DASHBOARD, f"  {token} \n", staff_user_id=7)

    assert key == "order-refund-Zq9-xY_3aBcD4eFgHiJkLmNo"


def test_the_dashboard_key_does_not_depend_on_who_submits_the_form() -> None:
    token = "a" * 24

    keys = {refund_request_key(RefundSource.DASHBOARD, token, staff_user_id=s) for s in (1, 2)}

    assert keys == {"order-refund-" + "a" * 24}


@pytest.mark.parametrize(
    "token",
    ["", "a" * 15, "a" * 65, "é" * 20, "a" * 20 + "\x00", "a" * 10 + "\u2003" + "a" * 10],
)
def test_a_dashboard_token_that_is_not_one_is_refused(token: str) -> None:
    with pytest.raises(InvalidOrderInput) as refused:
        refund_request_key(RefundSource.DASHBOARD, token, staff_user_id=7)

    assert refused.value.fields == {"idempotency_key": ["Reload the page and retry."]}


@pytest.mark.parametrize("length", [16, 64])
def test_dashboard_tokens_of_16_to_64_characters_are_taken(length: int) -> None:
    key = refund_request_key(RefundSource.DASHBOARD, "t" * length, staff_user_id=7)

    assert key == "order-refund-" + "t" * length


def test_the_staff_api_key_is_the_staff_member_and_a_hash_of_the_header() -> None:
    key = refund_request_key(RefundSource.STAFF_API, "retry-me", staff_user_id=7)

    # sha256("retry-me"), its first 40 hex digits
    assert key == "staff-api-refund-7-29a93ef45314fcad56e8532df3a5bfb240a756be"


def test_the_staff_api_key_ignores_spaces_around_the_header() -> None:
    plain = refund_request_key(RefundSource.STAFF_API, "retry-me-7f3c", staff_user_id=12)
    padded = refund_request_key(RefundSource.STAFF_API, " retry-me-7f3c\t", staff_user_id=12)

    assert plain == padded == "staff-api-refund-12-83d605a61ac94ffe7ce4c14aa5fdfa714a8f937e"


def test_two_staff_members_sending_the_same_header_get_two_keys() -> None:
    first = refund_request_key(RefundSource.STAFF_API, "same", staff_user_id=1)
    second = refund_request_key(RefundSource.STAFF_API, "same", staff_user_id=2)

    assert (first[:19], second[:19]) == ("staff-api-refund-1-", "staff-api-refund-2-")
    assert first[19:] == second[19:]  # the same 40 hex digits
