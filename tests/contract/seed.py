"""The customer's objects the contract run aims at: made through the API, as a client makes them.

The demo data has a catalogue and accounts but no address book, no checkout and no order, so
every operation on one object (``/orders/{number}``, ``/checkouts/{checkout_id}``...) would
only ever meet a 404. ``seed_objects`` gives the customer an address book, carts with lines,
orders in each state staff act on (paid, awaiting a bank transfer, awaiting 3-D Secure) and a
checkout left open; ``schemathesis_run`` hands their identifiers to schemathesis.

It runs with a token of its own for the customer: checkout's rate limit counts per credential,
and the run's customer token starts with its budget whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from funnel.core import clock
from funnel.core.api import CART_SECRET_HEADER
from tests.contract.shop import API, PASSWORD, ApiClient, Credentials, demo_password
from tests.support.api_carts import ADDRESS

# The test gateway's cards (docs/api.md): paid at once, or 3-D Secure first.
CARD_PAID = "4242 4242 4242 4242"
CARD_3DS = "4000 0000 0000 3220"
SHIPPING_METHOD = "standard"
# Addresses only DELETE /me/addresses/{address_id} aims at, so that the one the other address
# operations read stays; more than one, so that a deleting case still finds one after the first.
DISPOSABLE_ADDRESSES = 3
# Variants in the guest cart: a line for PATCH and DELETE of cart lines each, and one spare.
GUEST_CART_LINES = 3
# Tokens of the token keeper that only DELETE /auth/tokens/{token_id} aims at (signing in is
# rate limited per client address: few).
SPARE_TOKENS = 2


@dataclass(frozen=True)
class SeededObjects:
    """Identifiers of the customer's objects (every one a 404 for the other customer).

    ``address_id`` is read and changed, ``disposable_address_ids`` only deleted. The carts are
    the account's (bearer token) and the guest's (the run's cart secret); ``line_ids`` are the
    guest cart's lines. ``open_checkout_id`` is the guest cart's checkout, ready to pay;
    ``action_checkout_id`` has an order awaiting 3-D Secure; ``completed_checkout_ids`` placed
    the other orders. ``paid_orders`` were paid by card, ``transfer_order`` awaits a bank
    transfer, ``action_order`` its 3-D Secure. ``spare_token_ids`` are the token keeper's, for
    revoking.
    """

    address_id: int
    disposable_address_ids: tuple[int, ...]
    account_cart_id: int
    guest_cart_id: int
    line_ids: tuple[int, ...]
    open_checkout_id: int
    action_checkout_id: int
    completed_checkout_ids: tuple[int, ...]
    paid_orders: tuple[str, ...]
    transfer_order: str
    action_order: str
    spare_token_ids: tuple[int, ...]

    @property
    def cart_ids(self) -> tuple[int, ...]:
        return (self.account_cart_id, self.guest_cart_id)

    @property
    def checkout_ids(self) -> tuple[int, ...]:
        return (self.open_checkout_id, self.action_checkout_id, *self.completed_checkout_ids)

    @property
    def order_numbers(self) -> tuple[str, ...]:
        return (*self.paid_orders, self.transfer_order, self.action_order)


class _Customer:
    """The customer's calls: a bearer token, and the guest cart's secret where it is asked."""

    def __init__(self, client: ApiClient, token: str, cart_secret: str) -> None:
        self.client = client
        self.bearer = {"Authorization": f"Bearer {token}"}
        self.guest = {CART_SECRET_HEADER: cart_secret}

    def expect(self, status: int, method: str, path: str, **options: Any) -> Any:
        headers = options.pop("headers", self.bearer)
        return self.client.expect(status, method, API + path, headers=headers, **options)

    def add_address(self) -> int:
        return int(self.expect(201, "POST", "/me/addresses", body=ADDRESS)["id"])

    def account_cart(self) -> int:
        """The account's cart (made when it has none: a placed order closes the one before)."""
        status, body = self.client.call("POST", f"{API}/carts", body={}, headers=self.bearer)
        if status not in (200, 201):
            raise RuntimeError(f"POST /carts answered {status}: {body}")
        return int(body["id"])

    def add_line(self, cart_id: int, variant_id: int, headers: dict[str, str]) -> int:
        body = {"variant_id": variant_id, "quantity": 1}
        cart = self.expect(201, "POST", f"/carts/{cart_id}/lines", body=body, headers=headers)
        return int(next(line["id"] for line in cart["lines"] if line["variant_id"] == variant_id))

    def checkout(self, cart_id: int, headers: dict[str, str] | None = None) -> int:
        body = {"cart_id": cart_id, "shipping_address": ADDRESS, "shipping_method": SHIPPING_METHOD}
        answer = self.expect(201, "POST", "/checkouts", body=body, headers=headers or self.bearer)
        return int(answer["id"])

    def complete(self, checkout_id: int, payment: dict[str, Any], outcome: str) -> str:
        answer = self.expect(200, "POST", f"/checkouts/{checkout_id}/complete", body=payment)
        if answer["outcome"] != outcome:
            raise RuntimeError(f"checkout {checkout_id}: {answer['outcome']}, not {outcome}")
        return str(answer["order"]["number"])

    def order(self, variant_id: int, payment: dict[str, Any], outcome: str) -> tuple[int, str]:
        """A one-line order of the account's cart: its checkout's id and the order's number."""
        cart_id = self.account_cart()
        self.add_line(cart_id, variant_id, self.bearer)
        checkout_id = self.checkout(cart_id)
        return checkout_id, self.complete(checkout_id, payment, outcome)


def card(number: str) -> dict[str, Any]:
    """A test-gateway card payment, expiring in three years."""
    expiry = f"12/{(clock.utcnow().year + 3) % 100:02d}"
    return {"payment_method": "test", "card": {"number": number, "expiry": expiry, "cvc": "123"}}


def variants_in_stock(client: ApiClient, count: int) -> list[int]:
    """``count`` variants in stock, one per product, from the catalogue's first page."""
    found: list[int] = []
    products = client.expect(200, "GET", f"{API}/products?limit=50")["items"]
    for summary in products:
        product = client.expect(200, "GET", f"{API}/products/{summary['slug']}")
        found += [variant["id"] for variant in product["variants"] if variant["in_stock"]][:1]
        if len(found) == count:
            return found
    raise RuntimeError(f"the catalogue has {len(found)} products in stock, not {count}")


def seed_objects(base_url: str, credentials: Credentials) -> SeededObjects:
    """Give the customer an address book, two carts with lines, three orders and a checkout
    ready to pay, all through the API."""
    if credentials.cart_secret is None or credentials.guest_cart_id is None:
        raise RuntimeError("the contract run's customer has no guest cart")
    client = ApiClient(base_url)
    keeper = credentials.token_keeper
    spare_tokens = tuple(
        client.token(f"{keeper.name} spare", keeper.email, PASSWORD).id for _ in range(SPARE_TOKENS)
    )
    seeder = client.token("seeder", *demo_password("CUSTOMER"))
    customer = _Customer(client, seeder.token, credentials.cart_secret)
    variants = variants_in_stock(client, 5 + GUEST_CART_LINES)

    # The disposable addresses first: generated ids lean to the smallest ones, so a fuzzed
    # DELETE reaches them before the address the other operations read.
    disposable = tuple(customer.add_address() for _ in range(DISPOSABLE_ADDRESSES))
    address_id = customer.add_address()

    guest_cart_id = credentials.guest_cart_id
    line_ids = tuple(
        customer.add_line(guest_cart_id, variant, customer.guest) for variant in variants[5:]
    )

    paid = [customer.order(variant, card(CARD_PAID), "paid") for variant in variants[:2]]
    transfer = customer.order(variants[2], {"payment_method": "manual"}, "awaiting_transfer")
    action = customer.order(variants[3], card(CARD_3DS), "requires_action")

    # The account's cart is the one whose order awaits 3-D Secure (checking it out again would
    # give that attempt up), so the checkout ready to pay is the guest cart's.
    account_cart_id = customer.account_cart()
    customer.add_line(guest_cart_id, variants[4], customer.guest)
    open_checkout_id = customer.checkout(guest_cart_id, customer.bearer | customer.guest)

    return SeededObjects(
        address_id=address_id,
        disposable_address_ids=disposable,
        account_cart_id=account_cart_id,
        guest_cart_id=guest_cart_id,
        line_ids=line_ids,
        open_checkout_id=open_checkout_id,
        action_checkout_id=action[0],
        completed_checkout_ids=(paid[0][0], paid[1][0], transfer[0]),
        paid_orders=(paid[0][1], paid[1][1]),
        transfer_order=transfer[1],
        action_order=action[1],
        spare_token_ids=spare_tokens,
    )
