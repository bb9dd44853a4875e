"""US-12: staff pages are for staff and admins only."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User

STAFF_PAGES = ["/staff/", "/staff/customers", "/staff/customers?q=a&page=2"]


@pytest.mark.story("US-12")
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_visitor_is_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=%2Fstaff%2F")


@pytest.mark.story("US-12")
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_customer_gets_403(customer: User, signed_in, path: str) -> None:
    response = signed_in(customer).get(path)

    assert response.status_code == 403
    assert "This page is for shop staff only." in response.text


@pytest.mark.story("US-12")
@pytest.mark.parametrize("path", STAFF_PAGES)
@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_get_in(
    staff_user: User, admin_user: User, signed_in, path: str, role: str
) -> None:
    user = staff_user if role == "staff" else admin_user

    response = signed_in(user).get(path)

    assert response.status_code == 200


@pytest.mark.story("US-12")
def test_a_customer_posting_to_a_staff_route_changes_nothing(customer: User, signed_in) -> None:
    browser = signed_in(customer)

    response = browser.post("/staff/customers", data={"role": "admin"})

    assert response.status_code in {403, 405}
    assert browser.get("/staff/").status_code == 403


@pytest.mark.story("US-12")
def test_the_staff_link_is_shown_to_staff_only(
    customer: User, staff_user: User, admin_user: User, signed_in, client: FlaskClient
) -> None:
    link = '<a href="/staff/">Staff</a>'

    assert link not in client.get("/").text
    assert link not in signed_in(customer).get("/").text
    assert link in signed_in(staff_user).get("/").text
    assert link in signed_in(admin_user).get("/").text


@pytest.mark.story("US-12")
def test_a_demoted_staff_member_loses_access_at_the_next_request(
    staff_user: User, signed_in
) -> None:
    from funnel.accounts import services
    from funnel.accounts.models import Role

    browser = signed_in(staff_user)
    assert browser.get("/staff/").status_code == 200

    services.change_role(staff_user.id, Role.CUSTOMER)

    assert browser.get("/staff/").status_code == 403
