"""Run schemathesis's command line against a live shop and read what it found.

``write_config`` turns the run's credentials and the customer's seeded objects into a
``schemathesis.toml``; ``run_schemathesis`` runs ``st run`` in a subprocess (all default
phases, every check) and returns its exit code, its output, the counts of its JUnit report and
summary, and its warnings.

Checks are configured, never switched off. The few settings below each say why the check
would otherwise be wrong about this API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funnel.core.api import CART_SECRET_HEADER
from tests.contract.seed import SeededObjects
from tests.contract.shop import API, Credentials

MAX_EXAMPLES = 100
# The deep fuzz (MAX_EXAMPLES generated cases per operation) runs on the production database;
# the other databases run every operation, phase and check with fewer generated cases each:
# what differs between databases (text lengths, encodings) shows in the first cases, and three
# deep runs would make the suite three times slower for little more.
DEEP_FUZZ_BACKEND = "postgresql"
OTHER_BACKENDS_EXAMPLES = 25


def examples_for(backend: str) -> int:
    """Generated cases per operation on ``backend`` (``FUNNEL_TEST_CONTRACT_EXAMPLES`` sets
    one number for every database, to explore)."""
    chosen = os.environ.get("FUNNEL_TEST_CONTRACT_EXAMPLES")
    if chosen:
        return int(chosen)
    return MAX_EXAMPLES if backend == DEEP_FUZZ_BACKEND else OTHER_BACKENDS_EXAMPLES


RUN_TIMEOUT_SECONDS = 900
# positive_data_acceptance's default statuses; 422 and 402 are added where noted below.
DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

# Operations whose 422 answers schema-valid input on purpose: a rule of the domain that a JSON
# Schema cannot state. The API's input schemas bound shape and size only; the services own the
# rules and answer them with a 422 problem whose ``fields`` say what to change (docs/api.md).
# Every other operation must accept any input its schema allows.
BUSINESS_RULE_422: Mapping[tuple[str, str], str] = {
    ("POST", f"{API}/auth/register"): "a taken email, or a password the policy refuses",
    ("POST", f"{API}/auth/tokens"): "a token name with control characters in it",
    ("POST", f"{API}/me/addresses"): "the address rules (blank after trimming, the country "
    "list, phone characters)",
    ("PATCH", f"{API}/me/addresses/{{address_id}}"): "the address rules, as for POST",
    ("POST", f"{API}/carts/{{cart_id}}/lines"): "the stock left and whether the product is "
    "still sold (insufficient_stock, product_unavailable)",
    ("PATCH", f"{API}/carts/{{cart_id}}/lines/{{line_id}}"): "the stock left, as for POST",
    ("POST", f"{API}/checkouts"): "the address rules, the email, and a shipping method "
    "the shop offers (checkout_invalid_input)",
    ("POST", f"{API}/checkouts/{{checkout_id}}/complete"): "a payment method the shop "
    "offers, and an Idempotency-Key already used for another request "
    "(idempotency_key_reused)",
    ("POST", f"{API}/orders/{{number}}/returns"): "a delivered order within the return "
    "window, and no more units than are left to return (invalid_return_request), and an "
    "Idempotency-Key already used for another request",
    ("POST", f"{API}/staff/orders/{{number}}/transitions"): "a step that needs what this "
    "order has (the amount due when recording a transfer, a reason when cancelling)",
    ("POST", f"{API}/staff/orders/{{number}}/refunds"): "no more than is left to refund "
    "(refund_exceeds_payment), and an Idempotency-Key already used for another request",
    ("POST", f"{API}/staff/orders/{{number}}/shipments"): "no more units than are left to "
    "ship (shipment_exceeds_order), lines of this order named once, another carrier's name "
    "and link, and an Idempotency-Key already used for another request",
    ("POST", f"{API}/staff/products/{{product_id}}/publish"): "a product needs a variant "
    "before it is shown (product_has_no_variants)",
    ("POST", f"{API}/staff/products"): "the catalogue's text rules (a title blank once "
    "trimmed, an option name blank or too long once capitalised, a slug or SKU taken)",
    ("PATCH", f"{API}/staff/products/{{product_id}}"): "the catalogue's text rules, as for "
    "POST /staff/products",
    ("POST", f"{API}/staff/products/{{product_id}}/variants"): "the catalogue's text rules "
    "and a SKU taken, as for POST /staff/products",
    ("PATCH", f"{API}/staff/variants/{{variant_id}}"): "the catalogue's text rules and a SKU "
    "taken, as for POST /staff/products",
    ("POST", f"{API}/staff/variants/{{variant_id}}/stock-adjustments"): "a stock level "
    "that the change would take below zero (invalid_stock_quantity)",
    ("POST", f"{API}/staff/categories"): "the catalogue's text rules (a name blank once "
    "trimmed or longer than 120 characters, a description longer than 10,000)",
    ("PATCH", f"{API}/staff/categories/{{category_id}}"): "the catalogue's text rules, as "
    "for POST /staff/categories, and a parent that is the category or one of its own "
    "(category_cycle)",
    ("POST", f"{API}/staff/products/{{product_id}}/images"): "a file that is not a JPEG, "
    "PNG or WebP image by its content (invalid_image), and alt text blank once trimmed or "
    "longer than 300 characters",
    ("PATCH", f"{API}/staff/products/{{product_id}}/images/{{image_id}}"): "alt text blank "
    "once trimmed or longer than 300 characters",
    ("GET", f"{API}/staff/reports/funnel"): "a report's days: the end on or after the start, "
    "at most 366 days, from 2000 on (invalid_report_period)",
    ("GET", f"{API}/staff/reports/sales"): "the same days as the funnel report's",
    ("GET", f"{API}/staff/reports/products"): "the same days as the funnel report's",
    ("GET", f"{API}/staff/reports/funnel/days"): "the same days as the funnel report's",
    ("GET", f"{API}/staff/reports/payment-methods"): "the same days as the funnel report's",
    ("GET", f"{API}/staff/reports/product-funnel"): "the same days as the funnel report's",
    ("POST", f"{API}/feedback"): "a message blank once trimmed or holding a NUL, an email "
    "that is not an address (invalid_feedback)",
}
# Operations where a 402 answers valid input: a card the gateway declines is a payment that
# failed (``payment_failed``, documented), not a request the API refused.
PAYMENT_402: Mapping[tuple[str, str], str] = {
    ("POST", f"{API}/checkouts/{{checkout_id}}/complete"): "a declined card",
    ("POST", f"{API}/checkouts/{{checkout_id}}/payment-confirmation"): "a payment the bank "
    "refused after its next action",
}
# Any operation taking a ``cursor``: a cursor is opaque, valid only as the API returned it
# (a schema cannot tell a returned cursor from any other string), and a made-up one is a 422.
CURSOR_PARAMETER = "cursor"
# How often a generated identifier is replaced by a seeded object's: most cases reach
# the operation's logic, the rest keep the identifiers schemathesis makes up (unknown ones, the
# boundaries of the id range), which must stay a 404 and never a 500.
SEEDED_PROBABILITY = 0.8
_SUMMARY_CASES = re.compile(r"Test cases:\s*\n\s*(\d+) generated(?:, (\d+) found)?")
_SUMMARY_SELECTED = re.compile(r"Selected: (\d+)/(\d+)\s*\n\s*Tested: (\d+)")
# In the WARNINGS section: a block's title ("Missing test data: 10 operations ...") and the
# operations listed under it ("  - GET /api/v1/orders/{number}").
_WARNING_TITLE = re.compile(r"^(\w[\w ]*): \d+ operations?\b")
_WARNING_OPERATION = re.compile(r"^\s+- ((?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+)")
MISSING_TEST_DATA = "Missing test data"


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    output: str
    seconds: float
    operations_selected: int
    operations_total: int
    operations_tested: int
    test_cases: int
    failing_cases: int
    junit_failures: int
    junit_errors: int
    # Warning title -> the operations schemathesis listed under it, in its order.
    warnings: Mapping[str, tuple[str, ...]]

    def counts(self) -> str:
        warned = "; ".join(f"{title}: {len(found)}" for title, found in self.warnings.items())
        return (
            f"{self.operations_tested}/{self.operations_total} operations tested, "
            f"{self.test_cases} test cases, {self.failing_cases} failing cases, "
            f"JUnit: {self.junit_failures} failures, {self.junit_errors} errors, "
            f"in {self.seconds:.0f} s; warnings: {warned or 'none'}"
        )

    @property
    def missing_test_data(self) -> tuple[str, ...]:
        """Operations that only met 404s: no object for them to act on."""
        return self.warnings.get(MISSING_TEST_DATA, ())


def _toml(value: Any) -> str:
    """A TOML value for strings, numbers, booleans and lists of them (JSON's escapes are
    TOML's for these)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))


def operations_with_cursor(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation with a ``cursor`` query parameter."""
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            if any(p.get("name") == CURSOR_PARAMETER for p in parameters if "name" in p):
                found.append((method.upper(), path))
    return found


def seeded_parameters(
    objects: SeededObjects,
) -> tuple[dict[str, list[Any]], dict[tuple[str, str], dict[str, str]]]:
    """Dictionaries of the seeded identifiers, and which parameter of which operation draws from
    which: (dictionaries by name, {(METHOD, path): {parameter: dictionary}}).

    Every object is the customer's, and each operation runs as the customer (staff ones as the
    admin): the other customer, their peer, must still get a 404 for each of them. Deleting has
    its own addresses, so that the one read and changed stays; refunds and shipments aim at the
    card orders (a bank transfer not yet received has nothing to refund or ship, a 409 the
    transitions cover).
    """
    dictionaries: dict[str, list[Any]] = {
        "addresses": [objects.address_id],
        "disposable_addresses": list(objects.disposable_address_ids),
        "carts": list(objects.cart_ids),
        "cart_lines": list(objects.line_ids),
        "checkouts": list(objects.checkout_ids),
        "orders": list(objects.order_numbers),
        "paid_orders": list(objects.paid_orders),
        "spare_tokens": list(objects.spare_token_ids),
    }
    cart, line = f"{API}/carts/{{cart_id}}", f"{API}/carts/{{cart_id}}/lines/{{line_id}}"
    checkout = f"{API}/checkouts/{{checkout_id}}"
    address, order = f"{API}/me/addresses/{{address_id}}", f"{API}/staff/orders/{{number}}"
    bindings: dict[tuple[str, str], dict[str, str]] = {
        ("GET", address): {"path.address_id": "addresses"},
        ("PATCH", address): {"path.address_id": "addresses"},
        ("DELETE", address): {"path.address_id": "disposable_addresses"},
        ("GET", cart): {"path.cart_id": "carts"},
        ("POST", f"{cart}/lines"): {"path.cart_id": "carts"},
        ("PATCH", line): {"path.cart_id": "carts", "path.line_id": "cart_lines"},
        ("DELETE", line): {"path.cart_id": "carts", "path.line_id": "cart_lines"},
        ("POST", f"{API}/checkouts"): {"body.cart_id": "carts"},
        ("GET", checkout): {"path.checkout_id": "checkouts"},
        ("POST", f"{checkout}/complete"): {"path.checkout_id": "checkouts"},
        ("POST", f"{checkout}/payment-confirmation"): {"path.checkout_id": "checkouts"},
        ("GET", f"{checkout}/card-confirmation"): {"path.checkout_id": "checkouts"},
        ("GET", f"{API}/orders/{{number}}"): {"path.number": "orders"},
        ("GET", order): {"path.number": "orders"},
        ("POST", f"{order}/transitions"): {"path.number": "orders"},
        ("POST", f"{order}/refunds"): {"path.number": "paid_orders"},
        ("POST", f"{order}/shipments"): {"path.number": "paid_orders"},
        ("DELETE", f"{API}/auth/tokens/{{token_id}}"): {"path.token_id": "spare_tokens"},
    }
    return dictionaries, bindings


def _inline_table(values: Mapping[str, str]) -> str:
    """A TOML inline table of parameter -> dictionary binding."""
    entries = [
        f"{_toml(name)} = {{ dictionary = {_toml(dictionary)}, "
        f"probability = {SEEDED_PROBABILITY} }}"
        for name, dictionary in values.items()
    ]
    return "{ " + ", ".join(entries) + " }"


def write_config(
    directory: Path,
    credentials: Credentials,
    spec: Mapping[str, Any],
    *,
    seed: int,
    examples: int = MAX_EXAMPLES,
    objects: SeededObjects | None = None,
) -> Path:
    """The run's ``schemathesis.toml`` and the WFC auth document it names; with ``objects``,
    the operations on one object draw its identifier from them (``seeded_parameters``)."""
    identities = (credentials.customer, credentials.other_customer, credentials.admin)
    headers = {
        identity.name: [{"name": "Authorization", "value": identity.authorization}]
        for identity in identities
    }
    if credentials.cart_secret is not None:
        # The guest cart's secret travels with the customer only (a cart operation takes a
        # bearer token or a cart secret): had the other customer it too, reading that cart
        # would look like a peer reading the customer's object.
        cart_secret = {"name": CART_SECRET_HEADER, "value": credentials.cart_secret}
        headers[credentials.customer.name].append(cart_secret)
    auth = {"auth": [{"name": name, "fixedHeaders": sent} for name, sent in headers.items()]}
    auth_file = directory / "identities.json"
    auth_file.write_text(json.dumps(auth, indent=2))

    dictionaries, bindings = seeded_parameters(objects) if objects else ({}, {})
    lines = [
        f"seed = {seed}",
        f"generation.max-examples = {examples}",
        # Examples found by earlier runs are not replayed: each run starts from the seed alone.
        'generation.database = "none"',
        "cache.enabled = false",
    ]
    for name, values in dictionaries.items():
        lines += ["", f"[dictionaries.{name}]", f"values = {_toml(values)}"]
    lines += [
        "",
        "[auth.wfc]",
        f"path = {_toml(str(auth_file))}",
        # Each operation runs as the first identity it admits (customer, then anonymous, the
        # other customer, the admin); the two customers are peers, so object_level_authorization
        # replays what one reads as the other, who must not get it.
        f"peers = {_toml([credentials.customer.name, credentials.other_customer.name])}",
    ]
    # One table per operation, selected by its name ("METHOD /path"): schemathesis ORs the
    # other include keys of a table, so include-path with include-method would also select
    # every operation of that method, and every method of that path.
    settings: dict[tuple[str, str], list[str]] = {}
    # Revoking runs as the token keeper only: fuzzed ids must never revoke the tokens the rest
    # of the run authenticates with. The keeper's own token may go; then 401 follows, which the
    # operation documents.
    settings[("DELETE", f"{API}/auth/tokens/{{token_id}}")] = [
        "# As the token keeper only, so that no token the run depends on is revoked.",
        f"headers = {{ Authorization = {_toml(credentials.token_keeper.authorization)} }}",
    ]
    for operation, parameters in bindings.items():
        settings.setdefault(operation, []).append(f"parameters = {_inline_table(parameters)}")
    allowed = dict(BUSINESS_RULE_422)
    for operation in operations_with_cursor(spec):
        allowed.setdefault(operation, "a cursor the API did not return")
    for operation in sorted(allowed.keys() | PAYMENT_402.keys()):
        statuses, notes = list(DEFAULT_ACCEPTED), []
        if operation in allowed:
            statuses.append("422")
            notes.append(f"# A 422 answers valid input here: {allowed[operation]}.")
        if operation in PAYMENT_402:
            statuses.append("402")
            notes.append(f"# A 402 answers valid input here: {PAYMENT_402[operation]}.")
        settings.setdefault(operation, []).extend(
            [*notes, "checks.positive_data_acceptance.expected-statuses = " + _toml(statuses)]
        )
    for (method, path), entries in sorted(settings.items(), key=lambda item: item[0][::-1]):
        lines += ["", "[[operations]]", f"include-name = {_toml(f'{method} {path}')}", *entries]
    config = directory / "schemathesis.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def run_schemathesis(
    schema: str,
    config: Path,
    directory: Path,
    *,
    examples: int = MAX_EXAMPLES,
    extra: Sequence[str] = (),
) -> RunResult:
    """``st run`` with every check and the default phases (examples, coverage, fuzzing,
    stateful), reports in ``directory``; run from ``directory`` so that its caches stay there."""
    reports = directory / "reports"
    junit = reports / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        schema,
        "--checks",
        "all",
        "--max-examples",
        str(examples),
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(reports),
        "--report-junit-path",
        str(junit),
        "--no-color",
        *extra,
    ]
    started = time.monotonic()
    completed = subprocess.run(
        command,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    seconds = time.monotonic() - started
    output = completed.stdout + completed.stderr
    (directory / "schemathesis.log").write_text(output)
    return _result(completed.returncode, output, seconds, junit)


def _result(exit_code: int, output: str, seconds: float, junit: Path) -> RunResult:
    cases = _SUMMARY_CASES.search(output)
    selected = _SUMMARY_SELECTED.search(output)
    failures = errors = 0
    if junit.exists():
        root = ElementTree.parse(junit).getroot()  # noqa: S314  (our own run's report)
        for suite in root.iter("testsuite"):
            failures += int(suite.get("failures", 0))
            errors += int(suite.get("errors", 0))
    return RunResult(
        exit_code=exit_code,
        output=output,
        seconds=seconds,
        operations_selected=int(selected.group(1)) if selected else 0,
        operations_total=int(selected.group(2)) if selected else 0,
        operations_tested=int(selected.group(3)) if selected else 0,
        test_cases=int(cases.group(1)) if cases else 0,
        failing_cases=int(cases.group(2) or 0) if cases else 0,
        junit_failures=failures,
        junit_errors=errors,
        warnings=_warnings(output),
    )


def _warnings(output: str) -> dict[str, tuple[str, ...]]:
    """The WARNINGS section of the output: each block's title and the operations it lists."""
    start, end = output.find("=== WARNINGS"), output.find("=== SUMMARY")
    if start < 0:
        return {}
    found: dict[str, list[str]] = {}
    title = None
    for line in output[start : end if end > start else None].splitlines()[1:]:
        if match := _WARNING_TITLE.match(line):
            title = match.group(1)
            found.setdefault(title, [])
        elif (match := _WARNING_OPERATION.match(line)) and title is not None:
            found[title].append(match.group(1))
    # A block may list an operation twice (once per status it answered): each once, in order.
    return {name: tuple(dict.fromkeys(operations)) for name, operations in found.items()}


def spec_operations(spec: Mapping[str, Any]) -> int:
    """How many operations the OpenAPI document describes."""
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in spec["paths"].values() for method in item if method in methods)
