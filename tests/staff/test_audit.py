"""US-40: every staff change writes an audit entry (who, what, before and after, when, from
which address), on the pages and through the staff API. A refused change (403, 422) writes
none."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.accounts.models import Role, User
from funnel.accounts.permissions import settings_editor
from funnel.audit import services as audit
from funnel.catalog import services as catalog
from funnel.catalog.models import Variant
from funnel.catalog.services.csv_export import export_catalogue_csv
from funnel.core.money import Money
from funnel.extensions import db
from funnel.inventory import services as inventory
from funnel.orders import services as orders
from funnel.settings import services as settings_services
from tests.audit.helpers import count, entries
from tests.factories.accounts import UserFactory
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import paid_order, place
from tests.settings.helpers import history

pytestmark = pytest.mark.story("US-40")

ADDRESS = "198.51.100.23"


def browser_from(signed_in: Any, user: User) -> FlaskClient:
    """A signed-in client whose requests come from ``ADDRESS``."""
    client = signed_in(user)
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    return client


def acting_from_address() -> Any:
    return audit.bind_client_address(ADDRESS)


# -- catalogue ----------------------------------------------------------------------------------


def test_a_category_created_and_changed_on_the_pages_is_logged_with_address(
    app: Flask, staff_user: User, signed_in: Any
) -> None:
    # given a staff member on the category pages
    browser = browser_from(signed_in, staff_user)

    # when they create a category, then rename it
    response = browser.post("/staff/categories", data={"name": "Boots", "parent_id": ""})
    assert response.status_code == 303
    [created] = entries()
    category_id = int(created["object"][1])
    response = browser.post(
        f"/staff/categories/{category_id}", data={"name": "Rain boots", "parent_id": ""}
    )
    assert response.status_code == 303

    # then two entries: the new category whole, then only the fields that changed
    assert entries() == [
        {
            "action": "category.created",
            "actor": staff_user.id,
            "address": ADDRESS,
            "object": ("category", str(category_id)),
            "label": "Boots",
            "before": None,
            "after": {
                "name": "Boots",
                "slug": "boots",
                "parent_id": None,
                "description": "",
                "position": 0,
            },
        },
        {
            "action": "category.updated",
            "actor": staff_user.id,
            "address": ADDRESS,
            "object": ("category", str(category_id)),
            "label": "Rain boots",
            "before": {"name": "Boots", "slug": "boots"},
            "after": {"name": "Rain boots", "slug": "rain-boots"},
        },
    ]


def test_a_refused_change_writes_no_entry(app: Flask, signed_in: Any) -> None:
    # given a staff member without the catalogue group, and one with it
    orders_only = UserFactory(role=Role.STAFF, permission_groups="orders")
    cataloguer = UserFactory(role=Role.STAFF, permission_groups="catalogue")

    # when the first tries to create a category (403) and the second sends a blank name (422)
    denied = browser_from(signed_in, orders_only).post(
        "/staff/categories", data={"name": "X", "parent_id": ""}
    )
    invalid = browser_from(signed_in, cataloguer).post(
        "/staff/categories", data={"name": " ", "parent_id": ""}
    )

    # then neither wrote an entry
    assert (denied.status_code, invalid.status_code) == (403, 422)
    assert count() == 0


def test_products_variants_and_bulk_edits_are_logged(app: Flask, staff_user: User) -> None:
    # given a category and a staff member acting from an address
    category = CategoryFactory(name="Mugs")
    token = acting_from_address()
    try:
        # when they create a product with a variant (one entry), change its price and title,
        # then archive it with the bulk action
        product = catalog.create_product_with_variants(
            "Mug",
            category_id=category.id,
            variants=[catalog.NewVariant(sku="mug-1", price=Money(900, "USD"))],
            actor_user_id=staff_user.id,
        )
        variant = db.session.scalars(select(Variant).where(Variant.product_id == product.id)).one()
        catalog.update_variant(variant.id, price=Money(1200, "USD"), actor_user_id=staff_user.id)
        catalog.update_product(product.id, title="Big mug", actor_user_id=staff_user.id)
        catalog.edit_products([product.id], "archive", actor_user_id=staff_user.id)
    finally:
        audit.release_client_address(token)

    # then each change is one entry, with exactly what changed
    logged = entries()
    assert [(entry["action"], entry["object"]) for entry in logged] == [
        ("product.created", ("product", str(product.id))),
        ("variant.updated", ("variant", str(variant.id))),
        ("product.updated", ("product", str(product.id))),
        ("product.bulk_archive", ("product", str(product.id))),
    ]
    assert {entry["actor"] for entry in logged} == {staff_user.id}
    assert {entry["address"] for entry in logged} == {ADDRESS}
    assert logged[0]["after"]["variants"] == [
        {
            "sku": "MUG-1",
            "title": "",
            "price_amount": 900,
            "currency": "USD",
            "options": {},
        }
    ]
    assert logged[0]["after"]["status"] == "draft"
    assert (logged[1]["before"], logged[1]["after"]) == (
        {"price_amount": 900},
        {"price_amount": 1200},
    )
    assert (logged[2]["before"], logged[2]["after"]) == (
        {"title": "Mug", "slug": "mug"},
        {"title": "Big mug", "slug": "big-mug"},
    )
    assert (logged[3]["before"], logged[3]["after"]) == (
        {"status": "draft"},
        {"status": "archived"},
    )


def test_a_catalogue_import_is_one_entry_with_its_counts(app: Flask, admin_user: User) -> None:
    # given a catalogue exported, with one product's title changed in the file
    ProductFactory(title="Plate", variants=[{"sku": "PLATE-1", "stock_quantity": 2}])
    data = "".join(export_catalogue_csv()).replace("Plate", "Dinner plate", 1).encode()

    # when an admin imports it
    inventory.import_catalogue(data, actor_user_id=admin_user.id)

    # then one entry holds the counts
    [entry] = entries()
    assert (entry["action"], entry["object"], entry["actor"], entry["before"]) == (
        "catalogue.imported",
        ("catalogue", "csv"),
        admin_user.id,
        None,
    )
    assert entry["after"] == {
        "rows": 1,
        "products_created": 0,
        "products_updated": 1,
        "variants_created": 0,
        "variants_updated": 0,
        "categories_created": [],
        "stock_levels_changed": 0,
    }


# -- stock --------------------------------------------------------------------------------------


def test_a_stock_adjustment_on_the_page_is_logged_beside_the_ledger(
    app: Flask, staff_user: User, signed_in: Any
) -> None:
    # given a variant with 5 units
    variant = stocked_variant(5, sku="AUD-1")
    browser = browser_from(signed_in, staff_user)

    # when staff receive 3 units and set its threshold
    response = browser.post(
        f"/staff/variants/{variant.id}/stock/adjustments",
        data={"kind": "change", "quantity": "3", "reason": "received", "note": "delivery"},
    )
    assert response.status_code == 303
    inventory.set_low_stock_threshold(variant.id, 2, actor_id=staff_user.id)

    # then the entries say the level and the threshold before and after
    assert [(e["action"], e["object"], e["before"], e["after"]) for e in entries()] == [
        (
            "stock.adjusted",
            ("stock", str(variant.id)),
            {"stock_quantity": 5},
            {"stock_quantity": 8, "reason": "received", "note": "delivery"},
        ),
        (
            "stock.threshold_changed",
            ("stock", str(variant.id)),
            {"low_stock_threshold": None},
            {"low_stock_threshold": 2},
        ),
    ]
    assert entries()[0]["address"] == ADDRESS
    assert entries()[0]["label"] == "AUD-1"


# -- orders -------------------------------------------------------------------------------------


def test_order_steps_are_logged_with_their_status_before_and_after(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    # given a paid order and a pending one
    paid = paid_order()
    pending = place()

    # when staff ship the first and an admin refunds it; staff cancel the second
    orders.fulfil_order(paid.number, actor_user_id=staff_user.id, note="parcel 1")
    orders.refund_order(
        paid.number, idempotency_key="audit-refund", actor_user_id=admin_user.id, reason="broken"
    )
    orders.cancel_order(pending.number, reason="asked by phone", actor_user_id=staff_user.id)

    # then one entry per step, by order number
    logged = entries()
    assert [(e["action"], e["object"], e["actor"], e["before"]) for e in logged] == [
        ("order.shipped", ("order", paid.number), staff_user.id, {"status": "paid"}),
        ("order.refunded", ("order", paid.number), admin_user.id, {"status": "fulfilled"}),
        (
            "order.cancelled",
            ("order", pending.number),
            staff_user.id,
            {"status": "pending_payment"},
        ),
    ]
    assert logged[0]["after"]["status"] == "fulfilled"
    assert logged[0]["after"]["units"] == 2  # the order's one line of 2 units
    assert logged[1]["after"]["refund_amount_minor"] == paid.total.amount
    assert logged[1]["after"]["note"].endswith(": broken")
    assert logged[2]["after"] == {"status": "cancelled", "note": "asked by phone"}


# -- customers, team, settings ------------------------------------------------------------------


def test_customer_and_team_changes_are_logged(app: Flask, admin_user: User, signed_in: Any) -> None:
    # given a customer and a staff member with the orders group
    shopper = UserFactory(email="shopper@example.com")
    clerk = UserFactory(email="clerk@example.com", role=Role.STAFF, permission_groups="orders")
    browser = browser_from(signed_in, admin_user)

    # when an admin disables the customer and gives the clerk the stock group too
    assert browser.post(f"/staff/customers/{shopper.id}/disable").status_code == 303
    response = browser.post(f"/staff/team/{clerk.id}", data={"groups": ["orders", "stock"]})
    assert response.status_code == 303

    # then both changes are logged, from the admin's address
    assert [(e["action"], e["object"], e["label"], e["before"], e["after"]) for e in entries()] == [
        (
            "customer.disabled",
            ("customer", str(shopper.id)),
            "shopper@example.com",
            {"is_disabled": False},
            {"is_disabled": True},
        ),
        (
            "staff.groups_changed",
            ("staff_member", str(clerk.id)),
            "clerk@example.com",
            {"permission_groups": ["orders"]},
            {"permission_groups": ["stock", "orders"]},
        ),
    ]
    assert {(e["actor"], e["address"]) for e in entries()} == {(admin_user.id, ADDRESS)}


def test_inviting_revoking_and_removing_staff_are_logged(
    app: Flask, admin_user: User, signed_in: Any, mailbox: Any
) -> None:
    # given a staff member with the orders group
    clerk = UserFactory(email="clerk@example.com", role=Role.STAFF, permission_groups="orders")
    browser = browser_from(signed_in, admin_user)

    # when an admin invites someone, takes the invitation back, and removes the clerk
    invited = browser.post(
        "/staff/team/invitations", data={"email": "pat@example.com", "groups": ["stock"]}
    )
    [invitation] = entries()
    invitation_id = int(invitation["object"][1])
    revoked = browser.post(f"/staff/team/invitations/{invitation_id}/revoke")
    removed = browser.post(f"/staff/team/{clerk.id}/remove")

    # then the three are logged in order, from the admin's address, with what changed
    assert (invited.status_code, revoked.status_code, removed.status_code) == (303, 303, 303)
    assert [
        (e["action"], e["object"][0], e["label"], e["before"], e["after"]) for e in entries()
    ] == [
        (
            "staff.invited",
            "staff_invitation",
            "pat@example.com",
            None,
            {"email": "pat@example.com", "permission_groups": ["stock"]},
        ),
        (
            "staff.invitation_revoked",
            "staff_invitation",
            "pat@example.com",
            {"is_revoked": False},
            {"is_revoked": True},
        ),
        (
            "staff.removed",
            "staff_member",
            "clerk@example.com",
            {"role": "staff", "permission_groups": ["orders"]},
            {"role": "customer", "permission_groups": []},
        ),
    ]
    assert {(e["actor"], e["address"]) for e in entries()} == {(admin_user.id, ADDRESS)}


def test_a_settings_change_is_logged_and_kept_in_the_settings_history(
    app: Flask, admin_user: User
) -> None:
    # when an admin renames the shop
    settings_services.update_settings(settings_editor(admin_user), {"shop_name": "Mugs & Co"})

    # then the audit log and the settings' own history both have it
    [entry] = entries()
    assert (entry["action"], entry["object"], entry["actor"]) == (
        "settings.updated",
        ("settings", "shop"),
        admin_user.id,
    )
    assert (entry["before"], entry["after"]) == (
        {"shop_name": "Funnel"},
        {"shop_name": "Mugs & Co"},
    )
    assert history() == [("shop_name", '"Funnel"', '"Mugs & Co"', "admin@example.com")]


def test_a_stock_adjustment_through_the_staff_api_is_logged_with_the_callers_address(
    app: Flask, staff_user: User, client: FlaskClient, bearer: Any
) -> None:
    # given a variant with 4 units and a staff member's token
    variant = stocked_variant(4, sku="API-1")

    # when the staff API receives 6 units from an address, and a customer's token is refused
    response = client.post(
        f"/api/v1/staff/variants/{variant.id}/stock-adjustments",
        json={"delta": 6, "reason": "received"},
        headers=bearer(staff_user),
        environ_base={"REMOTE_ADDR": ADDRESS},
    )
    refused = client.post(
        f"/api/v1/staff/variants/{variant.id}/stock-adjustments",
        json={"delta": 6, "reason": "received"},
        headers=bearer(UserFactory()),
    )

    # then one entry, the staff member's, from that address
    assert (response.status_code, refused.status_code) == (201, 403)
    [entry] = entries()
    assert (entry["action"], entry["actor"], entry["address"], entry["before"]) == (
        "stock.adjusted",
        staff_user.id,
        ADDRESS,
        {"stock_quantity": 4},
    )
    assert entry["after"] == {"stock_quantity": 10, "reason": "received", "note": ""}
