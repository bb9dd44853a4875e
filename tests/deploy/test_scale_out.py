"""US-48: one shop scaled out on two gunicorn servers behind nginx, on PostgreSQL and Redis,
with a Celery worker (``tests/deploy/scale.py``).

What the servers share and where: sessions are rows in the database, signed by the one secret
key (a customer signed in on one server is signed in on the other); rate-limit counters are in
Redis (an attempt counts wherever it lands); stock is sold by a conditional update in the
database (the last unit once, whichever server sells it); jobs go to the broker on Redis and
the worker runs them. PostgreSQL, Redis's ``redis-server`` and nginx missing skip locally and
fail under ``CI=true``.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from funnel import create_app
from funnel.extensions import db
from funnel.inventory.models import StockMovement
from funnel.orders.emails import SEND_ORDER_EMAIL
from tests.deploy import stack
from tests.deploy.scale import ScaleOut, buy, proxied, wait_until, whole_orders
from tests.factories.inventory import stocked_variant

pytestmark = pytest.mark.story("US-48")

BUYERS = 100
UNITS = 10
_CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _form_token(client: stack.Client, path: str, headers: dict[str, str]) -> str:
    page = client.call("GET", path, headers=headers)
    assert page.status == 200, page.status
    found = _CSRF_FIELD.search(page.body.decode())
    assert found is not None
    return found.group(1)


def _post_form(
    client: stack.Client, path: str, fields: dict[str, str], headers: dict[str, str]
) -> stack.Answer:
    return client.call(
        "POST",
        path,
        urlencode(fields).encode(),
        {
            **headers,
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"https://{stack.HOST}{path}",
        },
    )


def test_a_customer_signed_in_on_one_server_is_signed_in_on_the_other(
    scale_out: ScaleOut,
) -> None:
    # given a customer signed in through nginx
    address = "127.0.0.3"
    browser = scale_out.client(address)
    signed_in = stack.sign_in_claiming_another_address(
        browser, scale_out.customer, scale_out.password
    )
    assert (signed_in.status, signed_in.headers["Location"]) == (302, "/account")
    headers = proxied(address)
    first, second = (scale_out.backend(index, browser.cookies, address) for index in (0, 1))

    # when each server is asked for the account page with the same cookies
    pages = [server.call("GET", "/account", headers=headers) for server in (first, second)]

    # then both serve it to the customer
    assert [page.status for page in pages] == [200, 200]
    assert all(scale_out.customer in page.body.decode() for page in pages)

    # when the customer signs out on the second server
    token = _form_token(second, "/account", headers)
    signed_out = _post_form(second, "/account/sign-out", {"csrf_token": token}, headers)

    # then the first server no longer knows the session either
    assert signed_out.status == 302
    after = first.call("GET", "/account", headers=headers)
    assert after.status == 302
    assert after.headers["Location"].startswith("/account/sign-in")


def test_failed_sign_ins_count_across_both_servers(scale_out: ScaleOut) -> None:
    # given a client sending wrong passwords for one account, in turn to each server directly
    address = "127.0.0.4"
    headers = proxied(address)
    cookies: dict[str, str] = {}
    servers = [scale_out.backend(index, cookies, address) for index in (0, 1)]
    statuses = []

    # when it tries six times (five failures a minute are allowed per email address)
    for attempt in range(6):
        server = servers[attempt % 2]
        token = _form_token(server, "/account/sign-in", headers)
        fields = {"csrf_token": token, "email": scale_out.customer, "password": "not-it-123"}
        statuses.append(_post_form(server, "/account/sign-in", fields, headers).status)

    # then the sixth is refused by a server that saw only two failures itself: the count is
    # shared (each server counting alone would have let ten through)
    assert statuses == [422] * 5 + [429]


def test_a_hundred_buyers_at_once_buy_the_ten_units_exactly_once(scale_out: ScaleOut) -> None:
    # given a product with ten units
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "writer", "SQLALCHEMY_DATABASE_URI": scale_out.database_url}
    )
    with app.app_context():
        variant_id = stocked_variant(UNITS).id
        db.session.remove()
        db.engine.dispose()

    # when a hundred guests, each from an address of their own, buy one at the same time
    # over HTTPS through nginx
    def attempt(buyer: int) -> object:
        client = scale_out.client(f"127.0.1.{buyer + 1}")
        return buy(client, variant_id, f"buyer{buyer}@example.com", f"scale-out-buyer-{buyer}")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        outcomes = list(pool.map(attempt, range(BUYERS)))
    seconds = time.monotonic() - started

    # then ten are paid, and every other buyer got a clear refusal, never an error
    paid = [outcome for outcome in outcomes if outcome.status == 200]
    refused = [outcome for outcome in outcomes if outcome.status != 200]
    print(
        f"\n{BUYERS} buyers in {seconds:.1f}s; refusals:",
        sorted({(o.step, o.status, o.code) for o in refused}),
    )
    assert len(paid) == UNITS
    assert all(outcome.status in (409, 422) and outcome.code for outcome in refused), refused
    # and the database holds exactly those ten orders, whole, and no stock left
    engine = scale_out.engine()
    try:
        held = whole_orders(engine, variant_id)
        with engine.connect() as connection:
            balances = connection.scalars(
                sa.select(StockMovement.balance_after).where(StockMovement.variant_id == variant_id)
            ).all()
    finally:
        engine.dispose()
    assert held == {
        "numbers": sorted(outcome.number for outcome in paid),
        "broken": [],
        "stock": 0,
    }
    # the opening balance, then one sale at a time down to zero
    assert sorted(balances, reverse=True) == list(range(UNITS, -1, -1))
    # and the worker sent each buyer's order email
    emails = {f"buyer{index}@example.com": outcome.number for index, outcome in enumerate(outcomes)}
    expected = {address: number for address, number in emails.items() if number is not None}
    wait_until(
        "the order emails",
        lambda: sum(len(scale_out.mailbox.to(address)) for address in expected) == UNITS,
        scale_out.worker_log,
    )
    for address, number in expected.items():
        [message] = scale_out.mailbox.to(address)
        assert number in message["Subject"]
    # (the worker logs a task's success just after its email left: wait for the line too)
    wait_until(
        "the worker's log of each email",
        lambda: len(succeeded_emails(scale_out.worker_log.read_text())) >= UNITS,
        scale_out.worker_log,
    )
    assert len(succeeded_emails(scale_out.worker_log.read_text())) == UNITS


def succeeded_emails(log: str) -> list[str]:
    """The order email tasks the worker's log says succeeded."""
    return re.findall(rf"Task {re.escape(SEND_ORDER_EMAIL)}\[[^\]]+\] succeeded", log)
