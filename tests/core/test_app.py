from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from funnel import create_app
from funnel.config import ConfigurationError
from tests.support.static import static_path


def test_home_page_answers_with_security_headers(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_unknown_page_is_a_readable_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert b"Not Found" in response.data


def test_unknown_api_path_is_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404
    assert response.json["code"] == "not_found"


def test_an_unknown_payment_gateway_name_stops_the_app(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown gateways: tset"):
        create_app(
            {
                "SECRET_KEY": "k",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                "PAYMENT_GATEWAYS": "tset,manual",
            }
        )


@pytest.mark.backends("sqlite")
def test_a_signed_in_customer_reaches_their_orders_from_the_navigation(
    customer: object, signed_in: Callable[[object], FlaskClient]
) -> None:
    page = signed_in(customer).get("/").get_data(as_text=True)

    assert '<a href="/account/orders">My orders</a>' in page


@pytest.mark.backends("sqlite")
def test_every_page_names_its_icon(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    with client.get(static_path("favicon.svg")) as icon:
        assert (icon.status_code, icon.mimetype) == (200, "image/svg+xml")

    assert f'<link rel="icon" href="{static_path("favicon.svg")}" type="image/svg+xml">' in page
