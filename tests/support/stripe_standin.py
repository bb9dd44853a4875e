"""A local stand-in for Stripe's API: a real HTTP server in a thread, for contract tests.

It answers the endpoints the ``stripe`` gateway calls, as Stripe does (form-encoded requests,
JSON objects, Stripe's error bodies and status codes), and records every request it receives.
``Idempotency-Key`` works as Stripe's: the same key with the same parameters answers the first
response again (``Idempotent-Replayed: true``); with other parameters, 400 ``idempotency_error``.

Tests play the customer's browser with ``confirm`` (the Payment Element confirming an intent),
build Stripe's events with ``event``, date an intent back with ``backdate`` (the list's
``created`` filter), and inject failures with ``fail_next``: ``disconnect``
(the connection drops before Stripe acts), ``answer_lost`` (Stripe acts, the answer is lost),
``timeout`` (Stripe acts, the answer comes after the client gave up),
``rate_limit`` (429), ``server_error`` (500) and ``card_declined`` (402). ``hold_next_answer``
makes the next request wait after Stripe acted, its answer ready, until ``release``: a test
kills the shop's process meanwhile, and the answer then goes to a dead connection.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

API_KEY = "sk_test_standin"
_SEARCH = re.compile(r"^metadata\['([a-z_]+)'\]:'((?:[^'\\]|\\.)*)'$")
FAILURES = (
    "disconnect",
    "answer_lost",
    "timeout",
    "rate_limit",
    "server_error",
    "card_declined",
    "held",
)
# The longest a held answer waits for ``release`` (a test that forgets it does not hang).
HOLD_SECONDS = 60.0
# How long a ``timeout`` failure keeps the answer back: longer than the tests' client timeout.
TIMEOUT_SECONDS = 2.0
_DECLINES = {
    "declined": ("card_declined", "generic_decline", "Your card was declined."),
    "insufficient_funds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "authentication_failed": (
        "payment_intent_authentication_failure",
        None,
        "We are unable to authenticate your payment method.",
    ),
}
_CANCELABLE = {
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "requires_capture",
}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None
    authorization: str | None


# When the stand-in's disputes want the shop's evidence by: 2027-01-15 00:00 UTC.
DISPUTE_DUE_BY = 1_799_971_200


class _Problem(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body


class StripeStandIn:
    """The stand-in's records (intents, charges, refunds) and its server."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._answers: dict[str, tuple[str, str, dict[str, str], int, dict[str, Any]]] = {}
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._held = threading.Event()
        self._released = threading.Event()

    # -- what tests use -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, kind: str, times: int = 1) -> None:
        assert kind in FAILURES
        with self._lock:
            self._failures.extend([kind] * times)

    def hold_next_answer(self) -> None:
        """The next request is acted on, then its answer waits for ``release``."""
        self._held.clear()
        self._released.clear()
        self.fail_next("held")

    def wait_until_held(self, timeout: float = HOLD_SECONDS) -> bool:
        """Whether a held request arrived (and was acted on) within ``timeout`` seconds."""
        return self._held.wait(timeout)

    def release(self) -> None:
        """Send the held answer (to whoever is still listening)."""
        self._released.set()

    def posts(self, path_prefix: str = "/v1/") -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path.startswith(path_prefix)]

    def confirm(self, intent_id: str, outcome: str = "succeeded") -> dict[str, Any]:
        """The customer's browser confirms the intent with a card: ``succeeded`` (or
        authorised, for manual capture), ``requires_action`` (3-D Secure), ``processing``, or a
        failure (``declined``, ``insufficient_funds``, ``authentication_failed``)."""
        with self._lock:
            intent = self.intents[intent_id]
            if outcome in _DECLINES:
                code, decline_code, message = _DECLINES[outcome]
                intent["status"] = "requires_payment_method"
                intent["last_payment_error"] = {
                    "type": "card_error",
                    "code": code,
                    "decline_code": decline_code,
                    "message": message,
                }
            elif outcome == "requires_action":
                intent["status"] = "requires_action"
                intent["next_action"] = {
                    "type": "redirect_to_url",
                    "redirect_to_url": {"url": f"https://hooks.example/3ds/{intent_id}"},
                }
            elif outcome == "processing":
                intent["status"] = "processing"
            else:
                assert outcome == "succeeded"
                intent["next_action"] = None
                intent["latest_charge"] = f"ch_{intent_id[3:]}"
                if intent["capture_method"] == "manual":
                    intent["status"] = "requires_capture"
                    intent["amount_capturable"] = intent["amount"]
                else:
                    intent["status"] = "succeeded"
                    intent["amount_received"] = intent["amount"]
            return json.loads(json.dumps(intent))

    def backdate(self, intent_id: str, seconds: int) -> None:
        """Make the intent ``seconds`` older (as if created that long before now)."""
        with self._lock:
            self.intents[intent_id]["created"] = int(time.time()) - seconds

    def event(self, event_type: str, intent_id: str, event_id: str | None = None) -> str:
        """The JSON body of Stripe's event ``event_type`` about the intent, as it is now."""
        with self._lock:
            intent = json.loads(json.dumps(self.intents[intent_id]))
            number = next(self._ids)
        if event_type.startswith("payment_intent."):
            subject: dict[str, Any] = intent
        elif event_type == "charge.refunded":
            subject = {
                "id": intent["latest_charge"],
                "object": "charge",
                "payment_intent": intent_id,
                "amount": intent["amount"],
                "amount_refunded": intent.get("amount_refunded", 0),
                "refunded": intent.get("amount_refunded", 0) == intent["amount"],
            }
        else:
            subject = {
                "id": f"dp_{number:08d}",
                "object": "dispute",
                "charge": intent["latest_charge"],
                "payment_intent": intent_id,
                "amount": intent["amount"],
                "currency": intent["currency"],
                "reason": "fraudulent",
                "status": "needs_response",
                "evidence_details": {"due_by": DISPUTE_DUE_BY},
            }
        return json.dumps(
            {
                "id": event_id or f"evt_{number:08d}",
                "object": "event",
                "api_version": "2025-01-01",
                "created": int(time.time()),
                "livemode": False,
                "type": event_type,
                "data": {"object": subject},
            }
        )

    # -- the server ---------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[StripeStandIn]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=10)

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else parts.query
        params = dict(parse_qsl(raw, keep_blank_values=True))
        key = handler.headers.get("Idempotency-Key")
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method, parts.path, params, key, handler.headers.get("Authorization")
                )
            )
            failure = self._failures.pop(0) if self._failures else None
        if failure == "disconnect":
            handler.close_connection = True
            return
        headers: dict[str, str] = {}
        if failure == "rate_limit":
            status, body = 429, _error("rate_limit_error", "rate_limit", "Too many requests.")
            headers["Stripe-Should-Retry"] = "false"
        elif failure == "server_error":
            status, body = 500, _error("api_error", None, "Something went wrong on Stripe's end.")
            headers["Stripe-Should-Retry"] = "false"
        elif failure == "card_declined":
            status = 402
            body = _error("card_error", "card_declined", "Your card was declined.")
            body["error"]["decline_code"] = "generic_decline"
        else:
            status, body, replayed = self._answer(method, parts.path, params, key, handler)
            if replayed:
                headers["Idempotent-Replayed"] = "true"
        if failure == "answer_lost":
            handler.close_connection = True
            return
        if failure == "timeout":
            time.sleep(TIMEOUT_SECONDS)
        if failure == "held":
            self._held.set()
            self._released.wait(HOLD_SECONDS)
        payload = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.send_header("Request-Id", f"req_{next(self._ids):08d}")
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            handler.close_connection = True  # the caller is gone (a killed process)

    def _answer(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        key: str | None,
        handler: BaseHTTPRequestHandler,
    ) -> tuple[int, dict[str, Any], bool]:
        if handler.headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, _error("invalid_request_error", None, "Invalid API Key provided."), False
        with self._lock:
            if method == "POST" and key:
                seen = self._answers.get(key)
                if seen is not None:
                    if (seen[0], seen[1], seen[2]) != (method, path, params):
                        return (
                            400,
                            _error(
                                "idempotency_error",
                                None,
                                "Keys for idempotent requests can only be used with the same "
                                "parameters they were first used with.",
                            ),
                            False,
                        )
                    return seen[3], seen[4], True
            try:
                status, body = 200, self._route(method, path, params)
            except _Problem as problem:
                status, body = problem.status, problem.body
            if method == "POST" and key:
                self._answers[key] = (method, path, params, status, body)
            return status, body, False

    def _route(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        segments = path.strip("/").split("/")
        if method == "POST" and path == "/v1/payment_intents":
            return self._create_intent(params)
        if method == "GET" and path == "/v1/payment_intents":
            return self._list(params)
        if method == "GET" and path == "/v1/payment_intents/search":
            return self._search(params.get("query", ""))
        if method == "POST" and path == "/v1/refunds":
            return self._refund(params)
        if len(segments) >= 3 and segments[:2] == ["v1", "payment_intents"]:
            intent = self.intents.get(segments[2])
            if intent is None:
                raise _Problem(
                    404, _error("invalid_request_error", "resource_missing", "No such intent.")
                )
            if method == "GET" and len(segments) == 3:
                return self._expanded(intent, params)
            if method == "POST" and segments[3:] == ["capture"]:
                return self._capture(intent, params)
            if method == "POST" and segments[3:] == ["cancel"]:
                return self._cancel(intent)
        raise _Problem(404, _error("invalid_request_error", None, f"Unrecognized {path}."))

    def _expanded(self, intent: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        """The intent, its charge expanded when asked (``expand[]=latest_charge``)."""
        shown = dict(intent)
        if "latest_charge" in params.values() and intent["latest_charge"]:
            shown["latest_charge"] = {
                "id": intent["latest_charge"],
                "object": "charge",
                "payment_method_details": {
                    "type": "card",
                    "card": {"brand": "visa", "last4": "4242", "exp_month": 12},
                },
            }
        return shown

    def _create_intent(self, params: dict[str, str]) -> dict[str, Any]:
        number = next(self._ids)
        intent_id = f"pi_{number:08d}"
        metadata = {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")}
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_capturable": 0,
            "amount_received": 0,
            "amount_refunded": 0,
            "currency": params["currency"],
            "capture_method": params.get("capture_method", "automatic"),
            "client_secret": f"{intent_id}_secret_{number:04d}",
            "description": params.get("description"),
            "metadata": metadata,
            "status": "requires_payment_method",
            "last_payment_error": None,
            "next_action": None,
            "latest_charge": None,
            "created": int(time.time()),
            "livemode": False,
        }
        self.intents[intent_id] = intent
        return dict(intent)

    def _search(self, query: str) -> dict[str, Any]:
        match = _SEARCH.match(query)
        if match is None:
            raise _Problem(400, _error("invalid_request_error", None, "Unsupported query."))
        name, value = match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))
        found = [dict(i) for i in self.intents.values() if i["metadata"].get(name) == value]
        return {"object": "search_result", "data": found, "has_more": False, "url": "/v1/search"}

    def _list(self, params: dict[str, str]) -> dict[str, Any]:
        """Intents newest first (``created``, then id), ``created[gte]`` and ``created[lt]``
        filtering, pages of ``limit`` after ``starting_after``, as Stripe lists them."""
        newest_first = sorted(
            self.intents.values(), key=lambda i: (i["created"], i["id"]), reverse=True
        )
        since = int(params.get("created[gte]", 0))
        before = int(params["created[lt]"]) if "created[lt]" in params else None
        found = [
            i
            for i in newest_first
            if i["created"] >= since and (before is None or i["created"] < before)
        ]
        after = params.get("starting_after")
        if after is not None:
            ids = [i["id"] for i in found]
            if after not in ids:
                raise _Problem(
                    400, _error("invalid_request_error", "resource_missing", "No such object.")
                )
            found = found[ids.index(after) + 1 :]
        limit = int(params.get("limit", 10))
        if not 1 <= limit <= 100:
            raise _Problem(400, _error("invalid_request_error", None, "Invalid limit."))
        page = [dict(i) for i in found[:limit]]
        return {
            "object": "list",
            "data": page,
            "has_more": len(found) > limit,
            "url": "/v1/payment_intents",
        }

    def _capture(self, intent: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        if intent["status"] != "requires_capture":
            raise _unexpected_state(intent)
        amount = int(params.get("amount_to_capture", intent["amount"]))
        if amount > intent["amount_capturable"]:
            raise _Problem(400, _error("invalid_request_error", "amount_too_large", "Too large."))
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        return dict(intent)

    def _cancel(self, intent: dict[str, Any]) -> dict[str, Any]:
        if intent["status"] not in _CANCELABLE:
            raise _unexpected_state(intent)
        intent["status"] = "canceled"
        return dict(intent)

    def _refund(self, params: dict[str, str]) -> dict[str, Any]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            raise _Problem(404, _error("invalid_request_error", "resource_missing", "No intent."))
        if intent["status"] != "succeeded":
            raise _unexpected_state(intent)
        left = intent["amount_received"] - intent["amount_refunded"]
        amount = int(params.get("amount", left))
        if left == 0:
            raise _Problem(
                400, _error("invalid_request_error", "charge_already_refunded", "Refunded.")
            )
        if amount > left:
            raise _Problem(400, _error("invalid_request_error", "amount_too_large", "Too large."))
        intent["amount_refunded"] += amount
        refund = {
            "id": f"re_{next(self._ids):08d}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return dict(refund)


def _error(kind: str, code: str | None, message: str) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"error": error}


def _unexpected_state(intent: dict[str, Any]) -> _Problem:
    return _Problem(
        400,
        _error(
            "invalid_request_error",
            "payment_intent_unexpected_state",
            f"This PaymentIntent's status is {intent['status']}.",
        ),
    )


SECRET_KEY_SETTINGS = {"STRIPE_SECRET_KEY": API_KEY, "STRIPE_PUBLISHABLE_KEY": "pk_test_standin"}
WEBHOOK_SECRET = "whsec_standin_signing_secret"


@contextmanager
def stripe_enabled(app: Any, gateways: str = "stripe,manual") -> Iterator[StripeStandIn]:
    """A running stand-in, and ``app`` configured to pay through it with the stripe gateway
    (the ``app`` fixture restores its configuration after the test)."""
    with StripeStandIn().running() as standin:
        app.config.update(
            PAYMENT_GATEWAYS=gateways,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=standin.url,
            **SECRET_KEY_SETTINGS,
        )
        yield standin


def signed(body: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers of a delivery of ``body`` signed with Stripe's scheme (``t=..,v1=..``)."""
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)
    return {"Content-Type": "application/json", "Stripe-Signature": header}
