"""One shop scaled out: two gunicorn servers behind nginx, PostgreSQL, Redis, a Celery worker.

``ScaleOut`` is what the ``scale_out`` fixture (``tests/deploy/conftest.py``) starts: a
private ``redis-server`` on a free port (rate-limit counters in database 0, the Celery broker
in database 1), which the fault tests stop and start again without touching the machine's
shared Redis; a ``TcpProxy`` between every shop process and PostgreSQL, which they cut
instead of restarting the shared database server; two gunicorn servers of two workers each
and one worker process, all on those; nginx with the shipped site in front. Shoppers buy
over HTTPS from addresses of their own (127.0.1.x), as many customers do.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from funnel.inventory.models import MovementReason, StockMovement
from funnel.orders.models import Order, OrderLine
from funnel.payments.models import Payment, PaymentStatus
from tests.deploy import stack
from tests.support.api_carts import ADDRESS, card
from tests.support.live_server import free_port
from tests.support.mailbox import Mailbox
from tests.support.tcp_proxy import TcpProxy

WAIT_SECONDS = 60
# ``make worker``'s command, one process reading the shop's queue.
WORKER = (
    *(sys.executable, "-m", "celery", "-A", "funnel.worker", "worker", "--loglevel=INFO"),
    *("--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat"),
)


def wait_until(what: str, condition: Callable[[], bool], log: Path | None = None) -> None:
    """Poll another process's work until ``condition()``; fail after ``WAIT_SECONDS``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)  # polling another process, not timing it
    shown = log.read_text(errors="replace")[-4000:] if log else ""
    raise AssertionError(f"{what} did not happen in {WAIT_SECONDS}s\n{shown}")


class RedisServer:
    """A redis-server of this test alone (stopping it stops no one else's)."""

    def __init__(self, folder: Path) -> None:
        self.binary = stack.server_binary("redis-server", "Redis")
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        log = self.folder / "redis.log"
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    *(self.binary, "--bind", "127.0.0.1", "--port", str(self.port)),
                    *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        stack.wait_for("redis-server", self.answers, self.process, log)

    def answers(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            stack.stop(self.process)
            self.process = None


@dataclass
class ScaleOut:
    https_port: int
    backends: list[int]
    masters: list[subprocess.Popen[bytes]]
    logs: list[Path]
    database_url: str  # straight to PostgreSQL: the test's own reads
    mailbox: Mailbox
    proxy: TcpProxy
    redis: RedisServer
    worker_log: Path
    queue: str
    customer: str
    password: str

    def client(self, address: str = stack.CLIENT_ADDRESS) -> stack.Client:
        return stack.Client(self.https_port, address=address)

    def backend(self, index: int, cookies: dict[str, str], address: str) -> stack.Client:
        """Plain HTTP to one gunicorn server, as nginx would send it (see ``PROXIED``)."""
        return stack.Client(self.backends[index], scheme="http", cookies=cookies, address=address)

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.database_url)


# What nginx adds to every request it passes on; a test calling a gunicorn server directly
# sends the same, so that the shop sees the same https request from the same client.
def proxied(address: str) -> dict[str, str]:
    return {"X-Forwarded-Proto": "https", "X-Forwarded-For": address}


def worker_pids(master: subprocess.Popen[bytes]) -> list[int]:
    """The pids of a gunicorn master's workers (its children), read from /proc."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def answers(port: int, path: str = "/healthz") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": stack.HOST})
        return connection.getresponse().status
    finally:
        connection.close()


def readiness(port: int) -> tuple[int, str]:
    """A server's ``/readyz``: its status and the failing components it names, joined."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/readyz", headers={"Host": stack.HOST})
        response = connection.getresponse()
        return response.status, ",".join(json.loads(response.read()).get("failing", []))
    finally:
        connection.close()


@dataclass(frozen=True)
class Outcome:
    """How one buyer's attempt ended: the step, its status, an order number or problem code."""

    step: str
    status: int
    number: str | None = None
    code: str | None = None
    # the same payment request again, same Idempotency-Key (payment step only)
    retry: Callable[[], Outcome] | None = field(default=None, compare=False, repr=False)


def buy(client: stack.Client, variant_id: int, email: str, key: str) -> Outcome:
    """A guest's whole purchase over the API (cart, line, checkout, pay with the test card);
    the first step that does not succeed ends it."""
    answer = client.call("POST", "/api/v1/carts")
    if answer.status != 201:
        return _refused("cart", answer)
    cart = answer.json()
    secret = {"Cart-Secret": cart["secret"]}
    answer = client.call(
        "POST",
        f"/api/v1/carts/{cart['id']}/lines",
        {"variant_id": variant_id, "quantity": 1},
        secret,
    )
    if answer.status != 201:
        return _refused("line", answer)
    body = {
        "cart_id": cart["id"],
        "email": email,
        "shipping_address": ADDRESS,
        "shipping_method": "standard",
    }
    answer = client.call("POST", "/api/v1/checkouts", body, secret)
    if answer.status != 201:
        return _refused("checkout", answer)
    checkout_id = answer.json()["id"]

    def pay() -> Outcome:
        answer = client.call(
            "POST",
            f"/api/v1/checkouts/{checkout_id}/complete",
            {"payment_method": "test", "card": card()},
            {**secret, "Idempotency-Key": key},
        )
        if answer.status != 200:
            return _refused("payment", answer, pay)
        return Outcome("payment", 200, number=answer.json()["order"]["number"])

    return pay()


def _refused(
    step: str, answer: stack.Answer, retry: Callable[[], Outcome] | None = None
) -> Outcome:
    code = None
    if answer.headers.get("Content-Type") == "application/problem+json":
        code = answer.json().get("code")
    return Outcome(step, answer.status, code=code, retry=retry)


def whole_orders(engine: sa.Engine, variant_id: int) -> dict[str, Any]:
    """What the database holds for the orders of ``variant_id``: every order's lines, payment
    and stock movements, and where they disagree (``broken``: a half-written order)."""
    with engine.connect() as connection:
        orders = connection.execute(
            sa.select(Order.id, Order.number, Order.status, Order.total_minor)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(OrderLine.variant_id == variant_id)
            .distinct()
        ).all()
        broken = []
        for order_id, number, status, total in orders:
            quantity = connection.scalar(
                sa.select(sa.func.sum(OrderLine.quantity)).where(OrderLine.order_id == order_id)
            )
            captured = connection.execute(
                sa.select(Payment.amount_minor).where(
                    Payment.payable_reference == number,
                    Payment.status == PaymentStatus.SUCCEEDED,
                )
            ).all()
            sold = connection.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(StockMovement.quantity), 0)).where(
                    StockMovement.order_reference == number,
                    StockMovement.reason == MovementReason.SALE,
                )
            )
            if status != "paid" or captured != [(total,)] or sold != -quantity:
                broken.append((number, status, captured, sold, quantity))
        stock = connection.scalar(
            sa.text("SELECT stock_quantity FROM variants WHERE id = :id"), {"id": variant_id}
        )
    return {"numbers": sorted(order[1] for order in orders), "broken": broken, "stock": stock}
