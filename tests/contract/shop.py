"""A live shop for contract tests: gunicorn on a freshly migrated, seeded database, with the
credentials a client would hold.

The database is made as an operator makes it (``flask db upgrade heads``, then ``flask demo``:
a small demo catalogue and the demo admin and customer). Rate limits stay on, as in
production: the limited operations document their 429. Every credential is obtained over HTTP
the way an API client obtains it (``POST /auth/register``, ``POST /auth/tokens``,
``POST /carts``), so the harness also proves that those operations work for a real client.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funnel.demo import DEMO_ACCOUNTS
from tests.support.live_server import LiveServer

API = "/api/v1"
OPENAPI_PATH = f"{API}/openapi.json"
DEMO_PRODUCTS = 24
# A password the registration policy accepts (long, not a common one).
PASSWORD = "contract-" + secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Identity:
    """One account's API token (its id and secret), under the name schemathesis reports it by."""

    name: str
    email: str
    token: str
    id: int

    @property
    def authorization(self) -> str:
        return f"Bearer {self.token}"


@dataclass(frozen=True)
class Credentials:
    """What the contract run authenticates with.

    ``customer`` and ``other_customer`` are peers: neither may read what the other owns.
    ``admin`` reaches the staff operations. ``token_keeper`` is the only identity the token
    revocation operation runs as, so that fuzzing ``DELETE /auth/tokens/{id}`` can never revoke
    the tokens the rest of the run depends on. ``cart_secret`` is the secret of the guest cart
    ``guest_cart_id`` (both None while the API has no carts).
    """

    customer: Identity
    other_customer: Identity
    admin: Identity
    token_keeper: Identity
    cart_secret: str | None
    guest_cart_id: int | None


class ApiClient:
    """Just enough of an HTTP client to set the run up (JSON in, JSON out)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, json.loads(raw) if raw else None

    def expect(self, status: int, method: str, path: str, **options: Any) -> Any:
        answered, body = self.call(method, path, **options)
        if answered != status:
            raise RuntimeError(f"{method} {path} answered {answered}, not {status}: {body}")
        return body

    def token(self, name: str, email: str, password: str) -> Identity:
        body = {"email": email, "password": password, "name": f"contract {name}"}
        issued = self.expect(201, "POST", f"{API}/auth/tokens", body=body)
        return Identity(name=name, email=email, token=issued["token"], id=issued["id"])

    def register(self, name: str) -> Identity:
        email = f"{name.replace('_', '-')}-{secrets.token_hex(4)}@example.com"
        body = {"email": email, "password": PASSWORD}
        self.expect(201, "POST", f"{API}/auth/register", body=body)
        return self.token(name, email, PASSWORD)


def demo_password(role: str) -> tuple[str, str]:
    """The demo account of ``role`` (``ADMIN``, ``CUSTOMER``): its email and password."""
    return next((email, password) for email, password, name in DEMO_ACCOUNTS if name == role)


def obtain_credentials(base_url: str) -> Credentials:
    """Tokens for the demo admin and customer, a second customer and the token keeper (both
    registered through the API), and a guest cart's secret when the API offers carts."""
    client = ApiClient(base_url)
    spec = client.expect(200, "GET", OPENAPI_PATH)
    customer = client.token("customer", *demo_password("CUSTOMER"))
    admin = client.token("admin", *demo_password("ADMIN"))
    other_customer = client.register("other_customer")
    token_keeper = client.register("token_keeper")
    cart_secret, guest_cart_id = None, None
    if "post" in spec["paths"].get(f"{API}/carts", {}):
        cart = client.expect(201, "POST", f"{API}/carts", body={})
        cart_secret, guest_cart_id = cart["secret"], cart["id"]
    return Credentials(customer, other_customer, admin, token_keeper, cart_secret, guest_cart_id)


def start_shop(directory: Path, database_url: str | None) -> LiveServer:
    """A gunicorn shop on a fresh database with the demo catalogue, rate limits on."""
    server = LiveServer(
        directory,
        database_url=database_url,
        workers=2,
        demo_products=DEMO_PRODUCTS,
        settings={
            "FUNNEL_SECRET_KEY": secrets.token_urlsafe(32),
            "FUNNEL_RATELIMIT_ENABLED": "true",
            # gunicorn refuses a request line over 4 KB with its own HTML 414 before the shop
            # sees it, and a search the document allows (1000 characters, each up to 12 bytes
            # percent-encoded) is longer. The contract is the shop's: front-server limits are
            # the deployment's, set and documented there.
            "GUNICORN_CMD_ARGS": "--limit-request-line 0",
        },
    )
    return server.start()
