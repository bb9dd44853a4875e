"""US-48: the shipped nginx site in front of two gunicorn servers of one production shop.

nginx (Debian's, ``make deploy-tools``) runs ``deploy/nginx/funnel.conf`` with only its marked
placeholders filled; two gunicorn servers run ``deploy/gunicorn.conf.py`` with a production
environment on one database holding the demo catalogue. A shopper at another address (127.0.0.2)
talks HTTPS to nginx alone. nginx missing skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from funnel import create_app
from funnel.accounts.models import Role
from funnel.core.static_files import build_manifest
from funnel.extensions import db
from tests.conftest import missing_service
from tests.deploy import stack
from tests.factories.accounts import KNOWN_PASSWORD, UserFactory
from tests.support.api import live_token
from tests.support.databases import DatabaseProvider
from tests.support.live_server import free_port, run_flask
from tests.support.mailbox import Mailbox, SmtpServer
from tests.support.production import production_environment
from tests.support.static import static_path

pytestmark = pytest.mark.story("US-48")

METRICS_TOKEN = "a-metrics-token-for-this-test"
CUSTOMER = "returning@example.com"
GUEST = "guest@example.com"
ADDRESS = {
    "full_name": "Ann Smith",
    "line1": "1 High Street",
    "city": "Bristol",
    "postal_code": "BS1 4DJ",
    "country_code": "GB",
}
_STATIC_LINK = re.compile(r'(?:src|href)="(/static/[^"]+)"')


@dataclass(frozen=True)
class Deployment:
    https_port: int
    http_port: int
    backends: list[int]
    logs: list[Path]
    database_url: str
    mailbox: Mailbox
    media: Path
    static: Path
    staff_token: str

    def client(self) -> stack.Client:
        return stack.Client(self.https_port)

    def request_ids(self) -> list[set[str]]:
        """The request ids each gunicorn server logged, server by server."""
        return [{line["request_id"] for line in stack.request_lines(log)} for log in self.logs]


def _environment(instance: Path, database_url: str, smtp: SmtpServer) -> dict[str, str]:
    """Production as an operator sets it behind one nginx, with jobs run in-process."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("FUNNEL_")}
    settings = production_environment(instance)
    del settings["FUNNEL_CELERY_BROKER_URL"]
    settings |= {
        "FUNNEL_DATABASE_URL": database_url,
        "FUNNEL_TRUSTED_PROXIES": "1",
        "FUNNEL_MAIL_HOST": smtp.host,
        "FUNNEL_MAIL_PORT": str(smtp.port),
        "FUNNEL_JOBS_IN_PROCESS": "true",
        "FUNNEL_METRICS_TOKEN": METRICS_TOKEN,
        "FUNNEL_SECRET_KEY": secrets.token_urlsafe(48),
    }
    return inherited | settings


def _accounts(database_url: str) -> str:
    """A customer who signs in, and the API token of a staff member who books transfers."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "reader", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with app.app_context():
        UserFactory(email=CUSTOMER, is_email_verified=True)
        staff = UserFactory(email="books@example.com", role=Role.STAFF, is_email_verified=True)
        token = live_token(staff, days=1, name="books")
        db.engine.dispose()
    return token


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    stack.nginx_binary()  # fails (or skips) first when nginx is not installed
    folder = tmp_path_factory.mktemp(f"deploy-{request.param}")
    provider = DatabaseProvider(folder)
    database_url = provider.url_for(request.param)
    if database_url is None:
        missing_service(provider.missing_reason(request.param))
    assert database_url is not None
    smtp = SmtpServer()
    smtp.start()
    instance = folder / "instance"
    instance.mkdir()
    environment = _environment(instance, database_url, smtp)
    processes = []
    try:
        run_flask(environment, "db", "upgrade", "heads")
        backends = [free_port(), free_port()]
        logs = [folder / f"gunicorn-{port}.log" for port in backends]
        for port, log in zip(backends, logs, strict=True):
            processes.append(stack.start_gunicorn(environment, port, log))
        # the catalogue and the accounts are written while the servers start
        run_flask(environment, "demo", "--products", "12")
        staff_token = _accounts(database_url)
        for port, log, process in zip(backends, logs, processes, strict=True):
            stack.wait_for("gunicorn", lambda port=port: _answers(port), process, log)
        media = instance / "media"
        (media / "products").mkdir(parents=True, exist_ok=True)
        # the deploy step of docs/deploy.md: the static files for nginx
        static = folder / "static"
        run_flask(environment, "assets", "build", str(static))
        certificate, key = stack.self_signed_certificate(folder)
        http_port, https_port = free_port(), free_port()
        prefix = folder / "nginx"
        prefix.mkdir()
        nginx_process, error_log = stack.start_nginx(
            prefix,
            stack.rendered_site(
                backends=backends,
                http_port=http_port,
                https_port=https_port,
                certificate=certificate,
                key=key,
                static=static,
                media=media,
            ),
        )
        processes.append(nginx_process)
        redirect = stack.Client(http_port, scheme="http")
        stack.wait_for(
            "nginx", lambda: redirect.call("GET", "/").status == 301, processes[-1], error_log
        )
        yield Deployment(
            https_port,
            http_port,
            backends,
            logs,
            database_url,
            smtp.mailbox,
            media,
            static,
            staff_token,
        )
    finally:
        for process in reversed(processes):
            stack.stop(process)
        smtp.stop()
        provider.drop_all()


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    finally:
        connection.close()


def test_static_files_and_images_come_from_nginx_with_cache_headers(deployment: Deployment) -> None:
    client = deployment.client()
    (deployment.media / "products" / "mug.svg").write_text(
        "<svg xmlns='http://www.w3.org/2000/svg'/>"
    )
    served_before = deployment.request_ids()

    style = client.call("GET", "/static/css/funnel.css", headers={"Accept-Encoding": "gzip"})
    image = client.call("GET", "/media/products/mug.svg")
    missing = client.call("GET", "/static/css/no-such-file.css")

    assert style.status == 200
    assert style.body == (stack.STATIC / "css" / "funnel.css").read_bytes()
    assert style.headers["Cache-Control"] == "public, max-age=86400"
    assert style.headers["Content-Encoding"] == "gzip"
    assert style.headers["Content-Type"] == "text/css"
    assert image.status == 200
    assert image.body == b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    assert image.headers["Cache-Control"] == "public, max-age=86400"
    assert missing.status == 404
    # no gunicorn server saw any of them
    assert deployment.request_ids() == served_before


@pytest.mark.story("US-66")
def test_pages_link_fingerprinted_files_that_nginx_keeps_a_year_compressed(
    deployment: Deployment,
) -> None:
    client = deployment.client()
    page = client.call("GET", "/")
    links = sorted(set(_STATIC_LINK.findall(page.body.decode())))
    served_before = deployment.request_ids()
    manifest = build_manifest(stack.STATIC)

    answers = {
        link: client.call("GET", link, headers={"Accept-Encoding": "gzip"}) for link in links
    }
    old = client.call(
        "GET", re.sub(r"\.[0-9a-f]{12}\.", ".0123456789ab.", static_path("css/funnel.css"))
    )

    assert links == sorted(
        static_path(name)
        for name in (
            "favicon.svg",
            "vendor/pico/pico.min.css",
            "css/funnel.css",
            "vendor/htmx/htmx.min.js",
        )
    )
    for link, answer in answers.items():
        name = link.removeprefix("/static/")
        assert answer.status == 200, link
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable", link
        assert answer.body == manifest.by_fingerprint[name].content(), link
    # the text files come gzipped, as the build compressed them (a length, not chunks made on
    # the fly); the icon is too small for gzip to pay
    compressed = {
        link for link, answer in answers.items() if answer.headers["Content-Encoding"] == "gzip"
    }
    assert compressed == {link for link in links if not link.endswith(".svg")}
    for link in compressed:
        twin = deployment.static / f"{link.removeprefix('/static/')}.gz"
        assert answers[link].headers["Content-Length"] == str(twin.stat().st_size), link
        assert answers[link].headers["Vary"] == "Accept-Encoding", link
    # an old fingerprint is not found, and not kept
    assert old.status == 404
    assert old.headers["Cache-Control"] is None
    # no gunicorn server saw any of them
    assert deployment.request_ids() == served_before


def test_plain_http_is_sent_to_https(deployment: Deployment) -> None:
    answer = stack.Client(deployment.http_port, scheme="http").call("GET", "/p/anything?x=1")

    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{stack.HOST}/p/anything?x=1"


def test_a_guest_buys_and_pays_through_nginx_served_by_both_servers(
    deployment: Deployment,
) -> None:
    client = deployment.client()
    answers: list[stack.Answer] = []

    def call(
        method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> stack.Answer:
        answer = client.call(method, path, body, headers)
        answers.append(answer)
        return answer

    # given a product of the demo catalogue in stock, and its page
    products = call("GET", "/api/v1/products?limit=12").json()["items"]
    slug, variant = next(
        (item["slug"], variant["id"])
        for item in products
        for variant in call("GET", f"/api/v1/products/{item['slug']}").json()["variants"]
        if variant["in_stock"]
    )
    page = call("GET", f"/p/{slug}")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"

    # when a guest fills a cart, checks out and pays by bank transfer
    cart = call("POST", "/api/v1/carts").json()
    secret = {"Cart-Secret": cart["secret"]}
    added = call(
        "POST", f"/api/v1/carts/{cart['id']}/lines", {"variant_id": variant, "quantity": 1}, secret
    )
    assert added.status == 201
    body = {
        "cart_id": cart["id"],
        "email": GUEST,
        "shipping_address": ADDRESS,
        "shipping_method": "standard",
    }
    checkout = call("POST", "/api/v1/checkouts", body, secret)
    assert checkout.status == 201, checkout.body
    payment = {"payment_method": "manual", "expected_total": checkout.json()["total"]}
    paid = call(
        "POST",
        f"/api/v1/checkouts/{checkout.json()['id']}/complete",
        payment,
        {**secret, "Idempotency-Key": "deploy-test-order-1"},
    )

    # then the order is placed, and the guest is told where to pay
    assert paid.status == 200, paid.body
    order = paid.json()["order"]
    assert paid.json()["outcome"] == "awaiting_transfer"
    assert order["status"] == "pending_payment"
    message = _mail_to(deployment.mailbox, GUEST)
    assert order["number"] in message["Subject"] + deployment.mailbox.body(message)
    # and once staff book the transfer, the order is paid
    staff = {"Authorization": f"Bearer {deployment.staff_token}"}
    number = order["number"]
    booked = call(
        "POST",
        f"/api/v1/staff/orders/{number}/transitions",
        {"to": "paid"},
        {**staff, "Idempotency-Key": "deploy-test-transfer-1"},
    )
    assert booked.status == 200, booked.body
    assert call("GET", f"/api/v1/staff/orders/{number}", headers=staff).json()["status"] == "paid"
    # and both gunicorn servers served requests: every request id nginx gave out was logged
    # by exactly one server
    given = {answer.headers["X-Request-ID"] for answer in answers}
    served = [ids & given for ids in deployment.request_ids()]
    assert len(given) == len(answers)
    assert served[0] | served[1] == given
    assert served[0] & served[1] == set()
    assert served[0] != set()
    assert served[1] != set()


def _mail_to(mailbox: Mailbox, address: str) -> EmailMessage:
    deadline = time.monotonic() + 20
    while not mailbox.to(address) and time.monotonic() < deadline:
        time.sleep(0.1)  # the order email is sent after the order's commit
    (message,) = mailbox.to(address)
    return message


def test_the_shop_sees_the_clients_address_not_nginxs(deployment: Deployment) -> None:
    # when the customer signs in from 127.0.0.2, claiming another address in X-Forwarded-For
    signed_in = stack.sign_in_claiming_another_address(
        deployment.client(), CUSTOMER, KNOWN_PASSWORD
    )

    # then the session records the address the proxy saw, not its own nor the claimed one
    assert (signed_in.status, signed_in.headers["Location"]) == (302, "/account")
    assert stack.session_addresses(deployment.database_url) == [stack.CLIENT_ADDRESS]


def test_a_body_above_the_upload_limit_is_refused_by_nginx(deployment: Deployment) -> None:
    served_before = deployment.request_ids()
    connection = deployment.client().connection()
    try:
        connection.putrequest("POST", "/api/v1/carts", skip_host=True)
        connection.putheader("Host", stack.HOST)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(16 * 1024 * 1024 + 1))
        connection.endheaders()
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()

    assert response.status == 413
    assert deployment.request_ids() == served_before


def test_metrics_are_scraped_from_each_server_and_never_through_nginx(
    deployment: Deployment,
) -> None:
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}

    public = deployment.client().call("GET", "/metrics", headers=bearer)
    direct = []
    for port in deployment.backends:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/metrics", headers=bearer)
        response = connection.getresponse()
        direct.append((response.status, b"funnel_http_requests_total" in response.read()))
        connection.close()

    assert public.status == 404
    assert direct == [(200, True), (200, True)]


def test_the_longest_valid_search_passes_nginx_and_a_longer_url_is_refused(
    deployment: Deployment,
) -> None:
    client = deployment.client()
    longest = stack.longest_valid_search()

    found = client.call("GET", longest)
    refused = client.call("GET", longest + "&more=" + "y" * 32 * 1024)

    assert len(longest) > 16 * 1024
    assert found.status == 200
    assert refused.status == 414
