"""US-41..US-43: the API guide's curl purchase, run as written against a live demo shop.

docs/api.md's section "Buy a product with curl" is a bash session in ```sh blocks, each followed
by the output it prints (```json: the same shape, ```text: the same text). This test takes those
blocks out of the guide, points ``BASE`` at a gunicorn shop on a fresh SQLite database loaded
with ``flask demo`` (as ``make run`` does, rate limits on), runs them with ``set -euo pipefail``
and checks what the reader sees and what the shop recorded. The guide cannot drift from the API.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.catalog.models import Variant
from funnel.demo import DEMO_ACCOUNTS
from funnel.extensions import db
from funnel.inventory.models import StockMovement
from funnel.orders.models import Order
from tests.conftest import missing_service
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

pytestmark = [pytest.mark.story("US-41"), pytest.mark.story("US-42"), pytest.mark.story("US-43")]

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "api.md"
SECTION_TITLE = "## Buy a product with curl"
DOCUMENTED_BASE = "BASE=http://127.0.0.1:5000/api/v1"
DEMO_PRODUCTS = 200  # as `make run` loads
TOOLS = ("bash", "curl", "jq")
SESSION_TIMEOUT_SECONDS = 120
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_BLOCK_MARK = "@@guide-block-{}@@"


@dataclass(frozen=True)
class Step:
    """One ```sh block of the guide and the example output printed under it (if any)."""

    commands: str
    example_language: str | None = None
    example: str | None = None


def guide_section(text: str) -> str:
    """The section's text, from its title to the next second-level title."""
    start = text.index(SECTION_TITLE)
    end = text.find("\n## ", start + len(SECTION_TITLE))
    return text[start : end if end != -1 else len(text)]


def guide_steps(section: str) -> list[Step]:
    """The ```sh blocks in order, each with the ```json or ```text block right after it."""
    steps: list[Step] = []
    for match in _FENCE.finditer(section):
        language, body = match.group(1), match.group(2)
        if language == "sh":
            steps.append(Step(body))
        elif language in {"json", "text"}:
            assert steps, f"a {language} block before any command"
            assert steps[-1].example is None, f"two examples under one command: {body}"
            steps[-1] = Step(steps[-1].commands, language, body)
        else:
            raise AssertionError(f"unexpected ```{language} block in the guide's curl session")
    return steps


def session_script(steps: list[Step], base_url: str) -> str:
    """One bash script: the guide's blocks, a mark before each, BASE pointing at the shop."""
    parts = ["set -euo pipefail"]
    for index, step in enumerate(steps):
        parts.append(f"echo '{_BLOCK_MARK.format(index)}'")
        parts.append(step.commands)
    script = "\n".join(parts) + "\n"
    assert script.count(DOCUMENTED_BASE) == 1, "the guide sets BASE to the development URL once"
    return script.replace(DOCUMENTED_BASE, f"BASE={base_url}/api/v1")


def outputs_by_block(stdout: str, count: int) -> list[str]:
    """What each block printed, split at the marks the script echoed."""
    outputs: list[str] = []
    for index in range(count):
        start = stdout.index(_BLOCK_MARK.format(index)) + len(_BLOCK_MARK.format(index))
        end = stdout.find(_BLOCK_MARK.format(index + 1)) if index + 1 < count else len(stdout)
        outputs.append(stdout[start:end].replace("\r", "").strip())
    return outputs


def shape(value: Any) -> Any:
    """A JSON value with its scalars replaced by their types: what an example must match."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def matches_example(actual: Any, example: Any) -> bool:
    """Same keys and scalar types; a list in the example shows a prefix of the real one."""
    if isinstance(example, list):
        return (
            isinstance(actual, list)
            and len(actual) >= len(example)
            and all(matches_example(a, e) for a, e in zip(actual, example, strict=False))
        )
    if isinstance(example, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == example.keys()
            and all(matches_example(actual[key], example[key]) for key in example)
        )
    return shape(actual) == shape(example)


@pytest.fixture(scope="module")
def demo_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Flask]]:
    """A demo shop as `make run` serves it (development, demo data, rate limits on)."""
    for tool in TOOLS:
        if shutil.which(tool) is None:
            missing_service(f"{tool} is not installed (make tools installs it)")
    directory = tmp_path_factory.mktemp("api-guide")
    settings = {"FUNNEL_RATELIMIT_ENABLED": "true"}
    with shop_on("sqlite", directory, settings=settings, demo_products=DEMO_PRODUCTS) as shop:
        yield shop


def run_session(script: str, directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=SESSION_TIMEOUT_SECONDS,
        check=False,
    )


def test_the_guide_has_a_complete_curl_session() -> None:
    # given the guide
    section = guide_section(GUIDE.read_text())

    # when its session is read
    steps = guide_steps(section)

    # then it sets BASE, then six steps print what the guide shows under them
    assert steps[0] == Step(DOCUMENTED_BASE + "\n")
    assert [step.example_language for step in steps] == [
        None,  # BASE
        "json",  # 1. a token, and the account it is for
        "json",  # 2. a product and its variants
        "json",  # 3. the cart with its line
        "json",  # 4. the checkout's totals
        "json",  # 5. paid
        "text",  # 5. the same request again: replayed
        "json",  # 6. the order
    ]


@pytest.mark.parametrize(
    ("printed", "matches"),
    [
        ({"id": 7, "total": {"amount": 9, "currency": "EUR"}, "lines": [{"sku": "B"}] * 2}, True),
        ({"id": 7, "total": {"amount": 4196, "currency": "USD"}, "lines": []}, False),
        ({"id": 7, "total": {"amount": 4196}, "lines": [{"sku": "B"}]}, False),
        ({"id": "7", "total": {"amount": 4196, "currency": "USD"}, "lines": [{"sku": "B"}]}, False),
        ({"id": 7, "total": None, "lines": [{"sku": "B"}]}, False),
        ({"id": 7, "total": {"amount": 1, "currency": "X"}, "lines": [{"sku": 1}]}, False),
        ({"id": 7, "total": {"amount": 1, "currency": "X"}, "lines": [{"sku": "B"}], "": 0}, False),
    ],
)
def test_an_example_output_matches_only_the_same_shape(printed: Any, matches: bool) -> None:
    # given the guide's kind of example: keys and value types, a list showing its first items
    example = {"id": 1, "total": {"amount": 2998, "currency": "USD"}, "lines": [{"sku": "A"}]}

    # when a real output is compared with it
    result = matches_example(printed, example)

    # then only the same keys with the same types match (values may differ)
    assert result is matches


def test_the_guides_curl_session_buys_a_product(
    demo_shop: tuple[LiveServer, Flask], tmp_path: Path
) -> None:
    # given a demo shop and the guide's commands pointed at it
    server, app = demo_shop
    steps = guide_steps(guide_section(GUIDE.read_text()))
    [(email, _password, _role)] = [account for account in DEMO_ACCOUNTS if account[2] == "CUSTOMER"]

    # when a developer runs them, block after block
    result = run_session(session_script(steps, server.base_url), tmp_path)

    # then every command succeeded and printed what the guide shows under it
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    outputs = outputs_by_block(result.stdout, len(steps))
    for step, output in zip(steps, outputs, strict=True):
        if step.example_language == "json":
            assert matches_example(json.loads(output), json.loads(step.example or "")), (
                f"{step.commands}\nprinted:\n{output}\nthe guide shows:\n{step.example}"
            )
        elif step.example_language == "text":
            assert output == (step.example or "").strip()
        else:
            assert output == ""
    me, product, cart, checkout, paid, order = (
        json.loads(output) for output in outputs if output.startswith("{")
    )
    bought = next(variant for variant in product["variants"] if variant["in_stock"])
    line_total = {"amount": bought["price"]["amount"] * 2, "currency": "USD"}
    assert me == {"email": email, "role": "customer"}
    assert cart["lines"] == [{"id": cart["lines"][0]["id"], "sku": bought["sku"], "quantity": 2}]
    assert paid["outcome"] == "paid"
    assert paid["order"]["status"] == "paid"
    assert paid["order"]["total"] == checkout["total"]
    assert outputs[6] == "Idempotent-Replayed: true"
    assert order == {
        "number": paid["order"]["number"],
        "status": "paid",
        "lines": [{"sku": bought["sku"], "quantity": 2, "line_total": line_total}],
        "total": checkout["total"],
        "payment": {"method": "Card (test gateway)", "status": "succeeded", "card_last4": "4242"},
    }
    # and the shop holds that one order, paid, for the demo customer, its stock taken once
    with app.app_context():
        orders = db.session.execute(
            sa.select(Order.number, Order.status, Order.total_minor).where(Order.email == email)
        ).all()
        sold = db.session.execute(
            sa.select(
                Variant.sku,
                StockMovement.quantity,
                StockMovement.balance_after,
                Variant.stock_quantity,
            )
            .join(Variant, Variant.id == StockMovement.variant_id)
            .where(StockMovement.order_reference == paid["order"]["number"])
        ).all()
    assert [tuple(row) for row in orders] == [
        (paid["order"]["number"], "paid", checkout["total"]["amount"])
    ]
    [(sku, quantity, balance_after, stock_now)] = sold
    assert (sku, quantity, stock_now) == (bought["sku"], -2, balance_after)
    assert "Traceback" not in server.logs()
