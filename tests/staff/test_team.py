"""US-28: the staff team. Admins invite staff by email with permission groups (a single-use
link to choose a password), change a staff member's groups, and remove them from the staff;
each group opens exactly its pages."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import Role, StaffInvitation, User, UserSession
from funnel.accounts.permissions import Permission, permissions_of
from funnel.extensions import db
from tests.accounts.helpers import Clock, link_in
from tests.factories.accounts import KNOWN_PASSWORD, UserFactory
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-28")

NEW_PASSWORD = "a long and new passphrase"


def invite(browser: FlaskClient, email: str, groups: list[str]) -> Any:
    return browser.post("/staff/team/invitations", data={"email": email, "groups": groups})


def accept(client: FlaskClient, path: str, password: str = NEW_PASSWORD) -> Any:
    return client.post(path, data={"password": password, "confirm_password": password})


def sign_in(client: FlaskClient, email: str, password: str) -> Any:
    return client.post("/account/sign-in", data={"email": email, "password": password})


def account(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def invitations() -> list[tuple[str, str, bool, bool]]:
    """(email, groups, accepted, revoked) of every invitation, oldest first."""
    db.session.expire_all()
    rows = db.session.scalars(sa.select(StaffInvitation).order_by(StaffInvitation.id))
    return [
        (row.email, row.permission_groups, row.accepted_at is not None, row.revoked_at is not None)
        for row in rows
    ]


def test_an_invited_person_joins_with_exactly_the_groups_chosen(
    admin_user: User, signed_in, client: FlaskClient, mailbox: Mailbox
) -> None:
    # given an admin who invites someone to handle orders and stock
    admin = signed_in(admin_user)
    response = invite(admin, "  Pat@Example.com ", ["stock", "orders"])
    assert response.status_code == 303
    assert "An invitation was emailed to pat@example.com." in admin.get("/staff/team").text
    [message] = list(mailbox)
    assert message["To"] == "pat@example.com"
    assert "with access to: Stock, Orders." in mailbox.body(message)
    assert "admin@example.com invites you" in mailbox.body(message)

    # when they open the link and choose a password
    path = link_in(mailbox, message)
    assert "You were invited as <strong>pat@example.com</strong>" in client.get(path).text
    joined = accept(client, path)

    # then they are staff with those groups, verified, and sign in to see only their sections
    assert joined.status_code == 302
    pat = account("pat@example.com")
    assert (pat.role, pat.permission_groups, pat.is_email_verified) == (
        Role.STAFF,
        "stock,orders",
        True,
    )
    assert permissions_of(pat) == {
        Permission.INVENTORY_ADJUST,
        Permission.ORDERS_VIEW,
        Permission.ORDERS_FULFIL,
    }
    assert sign_in(client, "pat@example.com", NEW_PASSWORD).status_code == 302
    dashboard = client.get("/staff/").text
    assert '<a href="/staff/orders">Orders</a>' in dashboard
    assert '<a href="/staff/stock">Stock</a>' in dashboard
    assert '<a href="/staff/products">Products</a>' not in dashboard
    assert client.get("/staff/orders").status_code == 200
    assert client.get("/staff/products").status_code == 403
    assert client.get("/staff/team").status_code == 403
    assert invitations() == [("pat@example.com", "stock,orders", True, False)]


def test_an_invitation_link_works_once(
    admin_user: User, signed_in, client: FlaskClient, mailbox: Mailbox
) -> None:
    invite(signed_in(admin_user), "pat@example.com", ["orders"])
    path = link_in(mailbox, mailbox[0])
    accept(client, path)

    again = accept(app_client := client.application.test_client(), path, "another passphrase!")

    assert again.status_code == 400
    assert "This link is invalid or has expired" in again.text
    assert app_client.get(path).status_code == 400
    assert sign_in(client, "pat@example.com", NEW_PASSWORD).status_code == 302


def test_an_invitation_link_expires_after_7_days(
    admin_user: User, signed_in, client: FlaskClient, mailbox: Mailbox, monkeypatch
) -> None:
    time = Clock(monkeypatch)
    invite(signed_in(admin_user), "pat@example.com", ["orders"])
    path = link_in(mailbox, mailbox[0])

    time.advance(days=7)
    response = accept(client, path)

    assert response.status_code == 400
    assert account("pat@example.com") is None


def test_a_revoked_invitation_no_longer_works(
    admin_user: User, signed_in, client: FlaskClient, mailbox: Mailbox
) -> None:
    admin = signed_in(admin_user)
    invite(admin, "pat@example.com", ["orders"])
    path = link_in(mailbox, mailbox[0])
    [invitation_id] = db.session.scalars(sa.select(StaffInvitation.id)).all()

    revoked = admin.post(f"/staff/team/invitations/{invitation_id}/revoke")
    response = accept(client, path)

    assert revoked.status_code == 303
    assert response.status_code == 400
    assert account("pat@example.com") is None
    assert invitations() == [("pat@example.com", "orders", False, True)]


def test_a_new_invitation_replaces_the_pending_one(
    admin_user: User, signed_in, client: FlaskClient, mailbox: Mailbox
) -> None:
    admin = signed_in(admin_user)
    invite(admin, "pat@example.com", ["orders"])
    invite(admin, "pat@example.com", ["catalogue"])
    first, second = (link_in(mailbox, message) for message in mailbox)

    assert accept(client, first).status_code == 400
    assert accept(client, second).status_code == 302
    assert account("pat@example.com").permission_groups == "catalogue"


def test_a_customer_who_joins_keeps_the_account_and_is_signed_out_elsewhere(
    admin_user: User, customer: User, signed_in, client: FlaskClient, mailbox: Mailbox
) -> None:
    elsewhere = signed_in(customer)
    invite(signed_in(admin_user), customer.email, ["customers"])

    accept(client, link_in(mailbox, mailbox[0]))

    joined = account(customer.email)
    assert (joined.id, joined.role, joined.permission_groups) == (
        customer.id,
        Role.STAFF,
        "customers",
    )
    assert elsewhere.get("/account").status_code == 302
    assert sign_in(client, customer.email, KNOWN_PASSWORD).status_code == 422
    assert sign_in(client, customer.email, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("email", "groups", "status", "message"),
    [
        ("pat@example.com", [], 422, "Choose at least one group."),
        ("pat@example.com", ["orders", "everything"], 422, "Unknown group: everything."),
        ("not an email", ["orders"], 422, "This email address is not valid"),
        ("staff@example.com", ["orders"], 409, "staff@example.com is on the staff already."),
    ],
)
def test_a_refused_invitation_says_why_and_sends_nothing(
    admin_user: User,
    staff_user: User,
    signed_in,
    mailbox: Mailbox,
    email: str,
    groups: list[str],
    status: int,
    message: str,
) -> None:
    response = invite(signed_in(admin_user), email, groups)

    assert response.status_code == status
    assert message in response.text
    assert invitations() == []
    assert list(mailbox) == []


def test_an_admin_changes_a_staff_members_groups(
    admin_user: User, staff_user: User, signed_in
) -> None:
    staff = signed_in(staff_user)
    assert staff.get("/staff/products").status_code == 200  # the role's default

    saved = signed_in(admin_user).post(f"/staff/team/{staff_user.id}", data={"groups": ["refunds"]})

    assert saved.status_code == 303
    assert account(staff_user.email).permission_groups == "refunds"
    assert staff.get("/staff/products").status_code == 403
    assert staff.get("/staff/orders").status_code == 200


def test_nobody_changes_their_own_access_nor_an_admins(admin_user: User, signed_in) -> None:
    other_admin = UserFactory(email="owner@example.com", role=Role.ADMIN)
    admin = signed_in(admin_user)

    own = admin.post(f"/staff/team/{admin_user.id}", data={"groups": ["orders"]})
    of_admin = admin.post(f"/staff/team/{other_admin.id}/remove")

    assert own.status_code == 409
    assert "You cannot change your own staff access." in own.text
    assert of_admin.status_code == 409
    assert "an admin holds every permission" in of_admin.text
    assert (account("admin@example.com").role, account("owner@example.com").role) == (
        Role.ADMIN,
        Role.ADMIN,
    )


def test_a_removed_staff_member_is_a_customer_again(
    admin_user: User, staff_user: User, signed_in
) -> None:
    staff = signed_in(staff_user)

    removed = signed_in(admin_user).post(f"/staff/team/{staff_user.id}/remove")

    assert removed.status_code == 303
    assert (account(staff_user.email).role, account(staff_user.email).permission_groups) == (
        Role.CUSTOMER,
        None,
    )
    assert staff.get("/staff/").status_code == 403
    sessions = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == staff_user.id)
    )
    assert sessions == 1  # still signed in, as a customer


# -- who may ------------------------------------------------------------------------------------

TEAM_ROUTES = [
    ("get", "/staff/team"),
    ("post", "/staff/team/invitations"),
    ("get", "/staff/team/{staff}"),
    ("post", "/staff/team/{staff}"),
    ("post", "/staff/team/{staff}/remove"),
]


@pytest.mark.parametrize(("method", "path"), TEAM_ROUTES)
@pytest.mark.parametrize("who", ["visitor", "customer", "staff"])
def test_only_staff_managers_reach_the_team_pages(
    client: FlaskClient,
    customer: User,
    staff_user: User,
    signed_in,
    mailbox: Mailbox,
    who: str,
    method: str,
    path: str,
) -> None:
    colleague = UserFactory(email="colleague@example.com", role=Role.STAFF)
    browser = {"visitor": client, "customer": None, "staff": None}[who] or signed_in(
        customer if who == "customer" else staff_user
    )
    url = path.format(staff=colleague.id)

    response = getattr(browser, method)(
        url, data={"email": "pat@example.com", "groups": ["orders"]}
    )

    if who == "visitor":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/sign-in")
    else:
        assert response.status_code == 403
    assert invitations() == []
    assert (account("colleague@example.com").role, list(mailbox)) == (Role.STAFF, [])


def test_an_admin_reaches_the_team_page(admin_user: User, staff_user: User, signed_in) -> None:
    page = signed_in(admin_user).get("/staff/team")

    assert page.status_code == 200
    assert f'<a href="/staff/team/{staff_user.id}">staff@example.com</a>' in page.text
    assert "Every permission" in page.text
