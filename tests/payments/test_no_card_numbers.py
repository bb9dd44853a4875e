"""No card number is ever stored or logged: every table and every log line is searched."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.core import clock
from funnel.extensions import db
from funnel.payments import services
from funnel.payments.errors import InvalidCard
from funnel.payments.gateways.test import sandbox
from funnel.payments.models import PaymentStatus
from tests.factories.payments import PaymentFactory, card, money, paid_payment
from tests.payments.helpers import signed_event_for

pytestmark = [pytest.mark.story("US-21"), pytest.mark.story("US-45")]
CARDS = {
    "4242 4242 4242 4242": PaymentStatus.REFUNDED,
    "4000 0000 0000 0002": PaymentStatus.FAILED,
    "4000 0000 0000 9995": PaymentStatus.FAILED,
    "4000 0000 0000 3220": PaymentStatus.SUCCEEDED,
    "4000 0000 0000 0259": PaymentStatus.SUCCEEDED,
    "5555 5555 5555 4444": PaymentStatus.SUCCEEDED,
}


def every_stored_text() -> str:
    """Every value of every row of every table in the database, as text."""
    parts: list[str] = []
    with db.engine.connect() as connection:
        for table_name in sa.inspect(connection).get_table_names():
            table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
            for row in connection.execute(sa.select(table)):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_the_whole_flow_with_each_test_card_stores_and_logs_no_card_number(
    payments_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outcomes = {}
    # when every test card goes through its whole flow
    for number in CARDS:
        result = paid_payment(2500, number)
        if result.requires_action:
            path = urlsplit(result.next_action_url).path
            payments_client.get(path)
            payments_client.post(path, data={"decision": "approve"})
            result = services.confirm_payment_action(result.payment_id)
        if result.status == PaymentStatus.PROCESSING:
            sandbox.settle_due_charges(clock.utcnow() + timedelta(seconds=60))
            body, headers = signed_event_for(result.payment_id)
            payments_client.post("/webhooks/test", data=body, headers=headers)
            result = services.confirm_payment_action(result.payment_id)
        if number.startswith("4242"):
            services.refund_payment(result.payment_id, money(2500), "refund-4242-0001")
            result = services.confirm_payment_action(result.payment_id)
        outcomes[number] = result.status
    # and a mistyped card is refused
    with pytest.raises(InvalidCard):
        services.submit_payment(PaymentFactory().id, card("4242 4242 4242 4241"))

    # then each flow ended as documented
    assert outcomes == CARDS
    # and no full number, with or without spaces, is in any table or any log line
    stored = every_stored_text()
    assert "4242" in stored  # the search does see the data (last four digits are kept)
    for number in [*CARDS, "4242 4242 4242 4241"]:
        for form in (number, number.replace(" ", ""), number.replace(" ", "-")):
            assert form not in stored
            assert form not in caplog.text
    assert "123" not in [record.getMessage() for record in caplog.records]
