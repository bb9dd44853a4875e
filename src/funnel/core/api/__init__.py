"""JSON API plumbing shared by every domain's ``api`` module (knows no domain).

- ``FunnelApi``: flask-smorest's ``Api`` whose documented error responses are RFC 9457
  problems (``application/problem+json``), the shape ``core.http`` sends for every error;
- ``ProblemSchema``, ``MoneySchema``: shared response schemas; ``MoneyField``: money in one;
- ``errors(blueprint, 401, 404, ...)``: documents an operation's error responses;
- ``paging``: lists paged by an opaque cursor (``PagePosition``, ``cursor_parameter()``,
  ``next_cursor_field()``);
- ``docs_bp``: the OpenAPI document at ``/api/v1/openapi.json`` and the reference page at
  ``/api/docs`` (vendored Swagger UI, no CDN).

One ``FunnelApi`` object lives in ``extensions`` while tests build many apps: each app keeps its
own spec (``app.extensions["funnel.openapi"]``), and ``docs_bp`` serves that one.
"""

from __future__ import annotations

import http
import json
from collections.abc import Callable, Mapping
from typing import Any

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask import Blueprint, Flask, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint
from flask_smorest.utils import prepare_response
from marshmallow import validate
from werkzeug.routing import BaseConverter

from funnel.core.errors import PROBLEM_JSON
from funnel.core.money import Money

API_PREFIX = "/api/v1"
BEARER_SECURITY = [{"bearerAuth": []}]
# A cart is reached with its owner's bearer token, or (a guest's cart) with its secret.
CART_SECRET_HEADER = "Cart-Secret"  # nosec B105 # noqa: S105  (a header name, not a secret)
CART_SECURITY = [{"bearerAuth": []}, {"cartSecret": []}]
MAX_MONEY_AMOUNT = 10**12  # minor units (ten billion dollars): BIGINT with room to add
# Arrays and objects inside one another in a JSON body; no operation needs more than a few.


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem; ``code`` is stable, ``fields`` lists invalid input.

    Some problems carry extension members of their own (RFC 9457, section 3.2), such as the
    units still ``available`` or the short stock ``lines``: the document allows them, so that a
    client validating a response against it does not reject a problem for holding more detail.
    """

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True, metadata={"example": "about:blank"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    code = ma.fields.String(
        required=True, metadata={"description": "Stable machine-readable error code"}
    )
    fields = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Invalid fields and their messages (validation errors)"},
    )
    request_id = ma.fields.String(
        metadata={"description": "On a 5xx: the id of this request's log lines, for support"}
    )


class WholeNumber(ma.fields.Integer):
    """An integer in a JSON body, as JSON Schema counts one: ``3`` or ``3.0``; never ``3.5``
    (marshmallow's lenient Integer would cut it to 3: a price of 19.99 read as 19), ``"3"``
    or ``true``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
            value = int(value)
        return super()._validated(value)


class PatchSchema(ma.Schema):
    """The body of every ``PATCH``: the fields to change, absent fields stay. At least one
    (an empty body would change nothing and is a client's mistake): 422, and the document
    says ``minProperties: 1``."""

    @ma.validates_schema
    def _changes_something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("Send at least one field to change.", "body")


class _MarshmallowPlugin(MarshmallowPlugin):
    """apispec's marshmallow plugin, writing the rules schemas say in code into the
    document: a ``PatchSchema`` needs ``minProperties: 1``."""

    def schema_helper(
        self, name: str, _: Any, schema: Any = None, **kwargs: Any
    ) -> dict[str, Any] | None:
        json_schema = super().schema_helper(name, _, schema=schema, **kwargs)
        if json_schema is not None and isinstance(resolve_schema_instance(schema), PatchSchema):
            json_schema["minProperties"] = 1
        return json_schema


class MoneySchema(ma.Schema):
    amount = ma.fields.Integer(
        required=True, metadata={"description": "Minor units (cents): 1999 is 19.99"}
    )
    currency = ma.fields.String(
        required=True, metadata={"description": "ISO 4217 code", "example": "USD"}
    )


class MoneyInputSchema(ma.Schema):
    """Money sent by a client: whole minor units, a three-letter currency code."""

    amount = WholeNumber(
        required=True,
        validate=validate.Range(min=0, max=MAX_MONEY_AMOUNT),
        metadata={"description": "Minor units (cents): 1999 is 19.99"},
    )
    currency = ma.fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z]{3}\Z", error="A three-letter ISO 4217 code."),
        metadata={"description": "ISO 4217 code", "example": "USD"},
    )


class MoneyField(ma.fields.Nested):
    """Money in a response, ``{"amount": <minor units>, "currency": "USD"}`` (the document's
    ``Money``): the attribute's ``Money`` (or any value with ``amount`` and ``currency``), or,
    given ``amount=`` and ``currency=``, those two attributes of the object serialised:
    ``total = MoneyField(amount="total_minor", currency="currency", required=True)``.

    A hand-made ``{"amount": ..., "currency": ...}`` is refused (TypeError): money reaches a
    schema as money, so that its two halves cannot come from two places by mistake.
    """

    def __init__(
        self, *, amount: str | None = None, currency: str | None = None, **kwargs: Any
    ) -> None:
        if (amount is None) != (currency is None):
            raise TypeError("MoneyField takes both amount= and currency=, or neither")
        super().__init__(MoneySchema, **kwargs)
        self.amount_attribute = amount
        self.currency_attribute = currency

    def get_value(
        self,
        obj: Any,
        attr: str,
        accessor: Callable[[Any, str, Any], Any] | None = None,
        default: Any = ma.missing,
    ) -> Any:
        if self.amount_attribute is None or self.currency_attribute is None:
            return super().get_value(obj, attr, accessor=accessor, default=default)
        read = accessor or ma.utils.get_value
        amount = read(obj, self.amount_attribute, default)
        currency = read(obj, self.currency_attribute, default)
        if amount is ma.missing or currency is ma.missing:
            return ma.missing
        return Money(amount, currency)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, Mapping):
            raise TypeError(f"{attr}: give MoneyField a Money, not a dict")
        return super()._serialize(value, attr, obj, **kwargs)


MAX_ID = 2**31 - 1
# 1 to 2147483647 exactly, so that any other number matches no rule: a plain 404 for every
# method (a converter that refuses a value after matching made Werkzeug answer 405 for
# paths with one rule per method).
_ID_PATTERN = (
    r"(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    r"|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    r"|21474836[0-3][0-9]|214748364[0-7])"
)


class IdConverter(BaseConverter):
    """``<id:name>``: a database id in a URL, 1 to 2,147,483,647 (it fits every database)."""

    regex = _ID_PATTERN
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


def _id_parameter_schema(_converter: IdConverter) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def tag_of(blueprint_name: str) -> str:
    """The document's tag for a blueprint: ``carts_api`` -> ``Carts``."""
    return blueprint_name.removesuffix("_api").replace("_", " ").capitalize()


class FunnelApi(Api):
    """flask-smorest's Api, with problem+json error responses in the document, operations
    tagged by their blueprint in words, and each operation's ``operationId`` its view
    function's name (unique across the API: client generators name their methods after it)."""

    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app: Flask, *, spec_kwargs: Mapping[str, Any] | None = None) -> None:
        app.url_map.converters["id"] = IdConverter
        spec_kwargs = {"marshmallow_plugin": _MarshmallowPlugin(), **(spec_kwargs or {})}
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(IdConverter, _id_parameter_schema)
        app.extensions["funnel.openapi"] = self.spec

    def register_blueprint(
        self,
        blp: ApiBlueprint,
        *,
        parameters: Any = None,
        common_errors: tuple[int, ...] = (),
        **options: Any,
    ) -> None:
        """Register ``blp``; ``parameters`` go on each of its paths, and each operation is
        documented to answer every status of ``common_errors`` with a problem (an error a
        ``before_request`` hook raises for all of them)."""
        name = options.get("name", blp.name)
        tag = tag_of(name)
        for endpoint, operations in blp._docs.items():
            for method, doc in operations.items():
                if method != "parameters" and isinstance(doc, dict):
                    doc["tags"] = doc.get("tags") or [tag]
                    doc.setdefault("manual_doc", {}).setdefault("operationId", endpoint)
                    responses = doc.setdefault("response", {}).setdefault("responses", {})
                    for status in common_errors:
                        responses.setdefault(status, [http.HTTPStatus(status).name])
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(self, self._app, self.spec, name=name, parameters=parameters)
        self.spec.tag({"name": tag, "description": blp.description})

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "An error (RFC 9457 problem)", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def api_settings(app: Flask) -> dict[str, Any]:
    """The flask-smorest settings: title, version, OpenAPI 3.1, servers, the bearer scheme."""
    return {
        "API_TITLE": app.config.get("SHOP_NAME") or "Funnel",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": "The Funnel shop's REST API. Errors are RFC 9457 problems "
                "(application/problem+json) with a stable `code`; money is "
                '`{"amount": <minor units>, "currency": "USD"}`; times are RFC 3339 UTC.'
            },
            # Paths in the document are absolute (/api/v1/...): the server is the site root.
            "servers": [{"url": "/", "description": "This shop"}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "A token from POST /auth/tokens",
                    },
                    "cartSecret": {
                        "type": "apiKey",
                        "in": "header",
                        "name": CART_SECRET_HEADER,
                        "description": "A guest cart's secret, returned once by POST /carts",
                    },
                }
            },
        },
    }


def errors(blueprint: ApiBlueprint, *statuses: int) -> Callable[[Any], Any]:
    """Document that an operation may answer each of ``statuses`` with a problem."""

    def decorate(function: Any) -> Any:
        for status in statuses:
            name = http.HTTPStatus(status).name
            function = blueprint.alt_response(status, response=name)(function)
        return function

    return decorate


def links(
    blueprint: ApiBlueprint, status: int, **targets: Mapping[str, str]
) -> Callable[[Any], Any]:
    """Document which operations the ``status`` response's values open (OpenAPI links), each
    target named by its ``operationId`` with its parameters as runtime expressions:
    ``links(bp, 201, get_cart={"cart_id": "$response.body#/id"})``. Client generators and
    schemathesis's stateful tests follow them from one call to the next."""
    documented = {
        operation: {"operationId": operation, "parameters": dict(parameters)}
        for operation, parameters in targets.items()
    }
    return blueprint.doc(responses={status: {"links": documented}})


docs_bp = Blueprint("api_docs", __name__)


@docs_bp.get(f"{API_PREFIX}/openapi.json")
def openapi_document() -> ResponseReturnValue:
    # The document is complete once the app is built: rendered once per process.
    body = current_app.extensions.get("funnel.openapi.json")
    if body is None:
        document = current_app.extensions["funnel.openapi"].to_dict()
        body = current_app.extensions["funnel.openapi.json"] = json.dumps(document)
    return current_app.response_class(body, mimetype="application/json")


@docs_bp.get("/api/docs")
def reference_page() -> ResponseReturnValue:
    return render_template("api/docs.html", spec_url=f"{API_PREFIX}/openapi.json")
