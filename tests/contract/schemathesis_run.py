"""Run schemathesis's command line against a live shop and read what it found.

``write_config`` turns the run's credentials into a ``schemathesis.toml``; ``run_schemathesis``
runs ``st run`` in a subprocess (all default phases, every check) and returns its exit code,
its output and the counts of its JUnit report and summary.

Checks are configured, never switched off. The few settings below each say why the check
would otherwise be wrong about this API.
"""

from __future__ import annotations

import json
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
from tests.contract.shop import API, Credentials

MAX_EXAMPLES = 100
RUN_TIMEOUT_SECONDS = 900
# positive_data_acceptance's default statuses, plus 422 where noted below.
ACCEPTED_FOR_VALID_DATA = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

# Operations whose 422 answers schema-valid input on purpose: a rule of the domain that a JSON
# Schema cannot state. The API's input schemas bound shape and size only; the services own the
# rules and answer them with a 422 problem whose ``fields`` say what to change (docs/api.md).
# Every other operation must accept any input its schema allows.
BUSINESS_RULE_422: Mapping[tuple[str, str], str] = {
    ("POST", f"{API}/auth/register"): "a taken email, or a password the policy refuses",
    ("POST", f"{API}/me/addresses"): "the address rules (blank after trimming, the country "
    "list, phone characters)",
    ("PATCH", f"{API}/me/addresses/{{address_id}}"): "the address rules, as for POST",
}
# Any operation taking a ``cursor``: a cursor is opaque, valid only as the API returned it
# (a schema cannot tell a returned cursor from any other string), and a made-up one is a 422.
CURSOR_PARAMETER = "cursor"
_SUMMARY_CASES = re.compile(r"Test cases:\s*\n\s*(\d+) generated(?:, (\d+) found)?")
_SUMMARY_SELECTED = re.compile(r"Selected: (\d+)/(\d+)\s*\n\s*Tested: (\d+)")


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

    def counts(self) -> str:
        return (
            f"{self.operations_tested}/{self.operations_total} operations tested, "
            f"{self.test_cases} test cases, {self.failing_cases} failing cases, "
            f"JUnit: {self.junit_failures} failures, {self.junit_errors} errors, "
            f"in {self.seconds:.0f} s"
        )


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


def write_config(
    directory: Path, credentials: Credentials, spec: Mapping[str, Any], *, seed: int
) -> Path:
    """The run's ``schemathesis.toml`` and the WFC auth document it names."""
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

    lines = [
        f"seed = {seed}",
        f"generation.max-examples = {MAX_EXAMPLES}",
        # Examples found by earlier runs are not replayed: each run starts from the seed alone.
        'generation.database = "none"',
        "cache.enabled = false",
        "",
        "[auth.wfc]",
        f"path = {_toml(str(auth_file))}",
        # Each operation runs as the first identity it admits (customer, then anonymous, the
        # other customer, the admin); the two customers are peers, so object_level_authorization
        # replays what one reads as the other, who must not get it.
        f"peers = {_toml([credentials.customer.name, credentials.other_customer.name])}",
    ]
    lines += [
        "",
        # Revoking runs as the token keeper only: fuzzed ids must never revoke the tokens the
        # rest of the run authenticates with. The keeper's own token may go; then 401 follows,
        # which the operation documents.
        "[[operations]]",
        f'include-path = "{API}/auth/tokens/{{token_id}}"',
        'include-method = "DELETE"',
        f"headers = {{ Authorization = {_toml(credentials.token_keeper.authorization)} }}",
    ]
    allowed = dict(BUSINESS_RULE_422)
    for operation in operations_with_cursor(spec):
        allowed.setdefault(operation, "a cursor the API did not return")
    for (method, path), reason in sorted(allowed.items()):
        lines += [
            "",
            f"# A 422 answers valid input here: {reason}.",
            "[[operations]]",
            f"include-path = {_toml(path)}",
            f"include-method = {_toml(method)}",
            "checks.positive_data_acceptance.expected-statuses = " + _toml(ACCEPTED_FOR_VALID_DATA),
        ]
    config = directory / "schemathesis.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def run_schemathesis(
    schema: str,
    config: Path,
    directory: Path,
    *,
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
        str(MAX_EXAMPLES),
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
    )


def spec_operations(spec: Mapping[str, Any]) -> int:
    """How many operations the OpenAPI document describes."""
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in spec["paths"].values() for method in item if method in methods)
