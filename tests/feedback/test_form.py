"""US-65: every storefront page links to a feedback form; what a shopper sends is stored with
the page it came from, bad input is sent back with messages beside the fields, and sending is
protected (CSRF) and rate limited per client address, shared with the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.extensions import db
from funnel.feedback.queries import FeedbackState, inbox
from tests.feedback.helpers import feedback_state, send_form
from tests.support.staff_pages import field_error


@pytest.mark.story("US-65")
def test_every_storefront_page_links_to_the_form_with_its_path(client: FlaskClient) -> None:
    # given the home page and the cart page
    for path in ("/", "/cart"):
        page = client.get(path).get_data(as_text=True)

        # then the footer links to the form with the page's path
        assert f'href="/feedback?from={path}" id="send-feedback">Send feedback</a>' in page


@pytest.mark.story("US-65")
def test_a_shopper_sends_feedback_and_is_thanked(client: FlaskClient) -> None:
    # given the form opened from a product page
    form = client.get("/feedback?from=/products/mug?colour=red").get_data(as_text=True)
    assert 'name="page" type="hidden" value="/products/mug"' in form

    # when the shopper sends a message and an email
    response = send_form(client, message="  Love the mugs  ", email="Shopper@Example.com")

    # then it is stored, trimmed, with the page's path, and they are thanked
    assert response.status_code == 303
    assert response.headers["Location"] == "/feedback/thanks?from=/products/mug"
    assert feedback_state() == [
        ("Love the mugs", "shopper@example.com", "/products/mug", None, False, None)
    ]
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you for your feedback" in thanks
    assert '<a href="/products/mug">Back to the page you were on</a>' in thanks


@pytest.mark.story("US-65")
def test_the_email_is_optional_and_a_signed_in_shopper_is_noted(
    customer: Any, signed_in: Any
) -> None:
    browser = signed_in(customer)
    assert send_form(browser, email="").status_code == 303
    assert feedback_state() == [("Love the mugs", None, "/products/mug", customer.id, False, None)]


@pytest.mark.story("US-65")
def test_sending_feedback_counts_no_step_of_the_funnel(client: FlaskClient) -> None:
    # given a new visitor who opens the form from a product page and sends it
    client.get("/feedback?from=/products/mug")
    send_form(client)

    # then they visited the shop, and no product view or any other step is counted
    stages = db.session.scalars(sa.select(FunnelEvent.stage)).all()
    assert stages == [FunnelStage.VISIT]


@pytest.mark.story("US-65")
@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"message": ""}, "message", "Write your message."),
        ({"message": "   \n  "}, "message", "Write your message."),
        ({"message": "x" * 2001}, "message", "Use at most 2,000 characters (this has 2,001)."),
        ({"message": "x" * 2101}, "message", "Use at most 2,000 characters."),
        ({"email": "not-an-address"}, "email", "This email address is not valid"),
        ({"email": "a@b"}, "email", "This email address is not valid"),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_stored(
    client: FlaskClient, fields: dict[str, str], field_id: str, message: str
) -> None:
    response = send_form(client, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, field_id).startswith(message)
    assert feedback_state() == []


@pytest.mark.story("US-65")
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("https://evil.example/phish", None),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("/search?q=mug", "/search"),
    ],
)
def test_only_a_same_site_path_is_kept_from_the_hidden_field(
    client: FlaskClient, sent: str, kept: str | None
) -> None:
    response = send_form(client, page=sent)
    assert response.status_code == 303
    assert feedback_state() == [("Love the mugs", None, kept, None, False, None)]
    # and the thank-you page never links off the shop
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "evil.example" not in thanks


@pytest.mark.story("US-65")
def test_an_outside_address_in_the_link_is_not_carried(client: FlaskClient) -> None:
    page = client.get("/feedback?from=//evil.example").get_data(as_text=True)
    assert 'name="page" type="hidden" value=""' in page
    assert "evil.example" not in page


@pytest.mark.story("US-65")
def test_the_message_is_shown_to_staff_as_text(
    client: FlaskClient, admin_user: Any, signed_in: Any
) -> None:
    send_form(client, message="<script>alert(1)</script>")
    [item] = inbox(FeedbackState.OPEN).items
    page = signed_in(admin_user).get(f"/staff/feedback/{item.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.story("US-65")
@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_the_form_without_its_csrf_token_is_refused(client: FlaskClient) -> None:
    assert send_form(client).status_code == 400
    assert feedback_state() == []
    page = client.get("/feedback").get_data(as_text=True)
    assert len(re.findall(r'<input id="csrf_token" name="csrf_token" type="hidden"', page)) == 1


@pytest.mark.story("US-65")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_sending_is_limited_per_client_and_shared_with_the_api(
    app: Flask, client: FlaskClient
) -> None:
    # given four messages sent through the form and one through the API
    for _ in range(4):
        assert send_form(client).status_code == 303
    assert client.post("/api/v1/feedback", json={"message": "Hi"}).status_code == 201

    # then a sixth, on the form or the API, is refused with a 429 and stores nothing
    assert send_form(client).status_code == 429
    assert client.post("/api/v1/feedback", json={"message": "Hi"}).status_code == 429
    assert len(feedback_state()) == 5


@pytest.mark.story("US-65")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_a_form_sent_back_with_errors_costs_nothing(client: FlaskClient) -> None:
    for _ in range(6):
        assert send_form(client, message=" ").status_code == 422
    assert send_form(client).status_code == 303
