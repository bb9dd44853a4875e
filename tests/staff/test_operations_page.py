"""The staff Operations page: payment failures of the last hour per gateway, the job backlogs
and stock against its ledger, for admins (``settings.manage``)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.core.outbox import PendingJob
from funnel.extensions import db
from funnel.orders.emails import SEND_ORDER_EMAIL
from funnel.payments.models import Payment
from tests.factories.inventory import StockReservationFactory, stocked_variant
from tests.factories.orders import place
from tests.factories.payments import paid_payment

pytestmark = pytest.mark.story("US-51")

PAGE = "/staff/operations"
DECLINED = "4000000000000002"


def table(page: str, table_id: str) -> list[list[str]]:
    """The body rows of a table of the page: each cell's text, tags removed."""
    body = page.split(f'<table id="{table_id}">')[1].split("<tbody>")[1].split("</tbody>")[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in body.split("</tr>")[:-1]
    ]


def backlog(page: str) -> dict[str, str]:
    section = page.split('<dl id="backlog">')[1].split("</dl>")[0]
    terms = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)(?:<br>|</dd>)", section, re.S)
    return {
        html.unescape(term): html.unescape(re.sub(r"<[^>]+>", "", value)).strip()
        for term, value in terms
    }


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=%2Fstaff%2Foperations")


@pytest.mark.parametrize("who", ["customer", "staff_user"])
def test_customers_and_staff_without_the_settings_permission_get_403(
    who: str, request: pytest.FixtureRequest, signed_in
) -> None:
    assert signed_in(request.getfixturevalue(who)).get(PAGE).status_code == 403


def test_admins_see_the_section_and_staff_do_not(
    staff_user: User, admin_user: User, signed_in
) -> None:
    assert f'href="{PAGE}"' not in signed_in(staff_user).get("/staff/").text
    assert f'href="{PAGE}"' in signed_in(admin_user).get("/staff/").text


def test_an_empty_shop_has_nothing_to_report(admin_user: User, signed_in) -> None:
    page = signed_in(admin_user).get(PAGE).text

    assert "No payment ended in the last hour." in page
    assert backlog(page) == {
        "Stock held by shoppers' reservations": "0 units in 0 reservations",
        "Expired reservations not yet deleted": "0",
        "Orders awaiting payment": "0",
        "Jobs waiting for the broker": "0",
        "Bank transfers overdue": "0",
    }
    assert "Every one of the 0 variants with a stock history matches its ledger." in page


def test_the_last_hour_s_payments_give_each_gateway_s_failure_rate(
    admin_user: User, signed_in
) -> None:
    # given 3 card payments that went through and 2 declined in the last hour
    for _ in range(3):
        paid_payment()
    for _ in range(2):
        paid_payment(number=DECLINED)
    # and a declined one two hours ago, outside the hour
    old = paid_payment(number=DECLINED)
    db.session.execute(
        sa.update(Payment)
        .where(Payment.id == old.payment_id)
        .values(created_at=clock.utcnow() - timedelta(hours=2))
    )
    db.session.commit()

    page = signed_in(admin_user).get(PAGE).text

    assert table(page, "gateway-outcomes") == [["test", "3", "2", "40.0 % (above the 25 % alert)"]]


def test_backlogs_count_reservations_unpaid_orders_and_what_the_jobs_left(
    admin_user: User, signed_in
) -> None:
    now = clock.utcnow()
    StockReservationFactory(quantity=2, expires_at=now + timedelta(minutes=10))
    StockReservationFactory(quantity=1, expires_at=now + timedelta(minutes=5))
    StockReservationFactory(quantity=4, expires_at=now - timedelta(minutes=30))
    place()
    place()

    page = signed_in(admin_user).get(PAGE).text

    figures = backlog(page)
    assert figures["Stock held by shoppers' reservations"] == "3 units in 2 reservations"
    assert figures["Expired reservations not yet deleted"].startswith("1, the oldest expired ")
    assert figures["Orders awaiting payment"].startswith("2, the oldest placed ")
    assert figures["Bank transfers overdue"] == "0"


def test_jobs_the_broker_has_not_taken_show_with_the_age_of_the_oldest(
    admin_user: User, signed_in
) -> None:
    # given two jobs kept in the outbox, committed 12 and 2 minutes ago
    now = clock.utcnow()
    for minutes in (12, 2):
        db.session.add(
            PendingJob(
                task=SEND_ORDER_EMAIL,
                arguments='{"args": [1], "kwargs": {}}',
                created_at=now - timedelta(minutes=minutes, seconds=30),
            )
        )
    db.session.commit()

    page = signed_in(admin_user).get(PAGE).text

    assert backlog(page)["Jobs waiting for the broker"] == "2, the oldest waiting 12 minutes"


def test_a_stock_level_changed_around_the_services_shows_as_drift(
    admin_user: User, signed_in
) -> None:
    # given two variants sold (each has a ledger), and one never moved (no ledger)
    sold, other = stocked_variant(10, sku="DRIFT-1"), stocked_variant(10, sku="DRIFT-2")
    place([(sold, 2)])
    place([(other, 1)])
    stocked_variant(10, sku="NEVER-MOVED")
    # when someone sets the first one's level in the database by hand
    db.session.execute(sa.update(Variant).where(Variant.sku == "DRIFT-1").values(stock_quantity=11))
    db.session.commit()

    page = signed_in(admin_user).get(PAGE).text

    rows = table(page, "stock-drift")
    assert [[row[0], row[2], row[3], row[4]] for row in rows] == [["DRIFT-1", "11", "8", "+3"]]
    assert "1 variant</strong> of 2 with a stock history" in page
