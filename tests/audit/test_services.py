"""Recording audit entries: in the caller's transaction, with the bound address, changed fields
only, never a credential; nothing without an actor or inside a single entry."""

from __future__ import annotations

import pytest
from flask import Flask

from funnel.audit import services as audit
from funnel.core.database import transaction
from tests.audit.helpers import count, entries

pytestmark = pytest.mark.story("US-40")


def test_an_entry_carries_the_actor_the_bound_address_and_the_changed_fields(app: Flask) -> None:
    # given an address bound for the request
    token = audit.bind_client_address("203.0.113.9")
    try:
        # when a change is recorded with two snapshots of which one field differs
        before, after = audit.changed_fields(
            {"title": "Mug", "price": 900, "status": "draft"},
            {"title": "Mug", "price": 1200, "status": "draft"},
        )
        audit.record(
            "product.updated",
            actor_user_id=7,
            object_type="product",
            object_id=12,
            object_label="Mug",
            before=before,
            after=after,
        )
    finally:
        audit.release_client_address(token)

    # then one entry says who, from where, what and the one field before and after
    assert entries() == [
        {
            "action": "product.updated",
            "actor": 7,
            "address": "203.0.113.9",
            "object": ("product", "12"),
            "label": "Mug",
            "before": {"price": 900},
            "after": {"price": 1200},
        }
    ]
    assert audit.client_address() is None


def test_credentials_never_reach_the_log(app: Flask) -> None:
    # when a caller passes fields named like credentials
    audit.record(
        "customer.updated",
        actor_user_id=1,
        object_type="customer",
        object_id=3,
        after={"password": "x", "password_hash": "y", "api_token": "z", "email": "a@example.com"},
    )

    # then only the other fields are written
    [entry] = entries()
    assert entry["after"] == {"email": "a@example.com"}
    assert entry["address"] is None


def test_no_actor_or_a_single_entry_block_records_nothing(app: Flask) -> None:
    # when the system changes something, and a use case records inside a single entry
    assert (
        audit.record("product.updated", actor_user_id=None, object_type="product", object_id=1)
        is None
    )
    with audit.single_entry():
        assert (
            audit.record("product.updated", actor_user_id=1, object_type="product", object_id=1)
            is None
        )

    # then the log is empty
    assert count() == 0


def test_a_rolled_back_change_leaves_no_entry(app: Flask) -> None:
    # when the transaction the entry joined fails
    def change_that_fails() -> None:
        with transaction():
            audit.record("product.updated", actor_user_id=1, object_type="product", object_id=1)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()

    # then no entry stands
    assert count() == 0
