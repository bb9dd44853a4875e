"""Accounts over the JSON API: tokens, registration, the caller's profile and address book.

A thin edge over the same services and queries as the HTML pages: parse (webargs), call one
service, serialise. Someone else's address or token is a 404, as on the pages.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from funnel.accounts import postal, queries, services
from funnel.accounts.access import api_user, authenticated
from funnel.accounts.errors import AddressNotFound
from funnel.accounts.limits import registration_limit, sign_in_limits
from funnel.accounts.models import Address
from funnel.accounts.schemas import (
    AddressInputSchema,
    AddressListSchema,
    AddressPatchSchema,
    AddressSchema,
    CredentialsSchema,
    IssuedTokenSchema,
    TokenListSchema,
    TokenRequestSchema,
    UserSchema,
)
from funnel.core.api import API_PREFIX, errors, links

bp = Blueprint(
    "accounts_api",
    __name__,
    url_prefix=API_PREFIX,
    description="API tokens, registration, and the caller's account and addresses",
)

# Database integer ids fit in 32 bits; a larger number in a URL is a 404, not a driver error.
TOKEN_ID = "<id:token_id>"  # nosec B105 # noqa: S105  (a URL rule, not a secret)
ADDRESS_ID = "<id:address_id>"
ADDRESS_OF_BODY = {"address_id": "$response.body#/id"}


# --- tokens and registration ----------------------------------------------------------------


@bp.route("/auth/tokens", methods=["POST"])
@sign_in_limits
@bp.response(201, IssuedTokenSchema)
@links(bp, 201, revoke_token={"token_id": "$response.body#/id"})  # nosec B105 (a link expression)
@errors(bp, 400, 401, 413, 429)
@bp.arguments(TokenRequestSchema)
def create_token(data: dict[str, Any]) -> dict[str, Any]:
    """Create an API token with an account's email and password

    The same check and rate limits as signing in, both steps: an account with two-factor
    sign-in sends its current `code` too. The secret (`token`) is shown in this response
    only. Wrong credentials answer 401 with the same message for an unknown email and a wrong
    password.
    """
    issued = services.create_api_token(data["email"], data["password"], data["name"], data["code"])
    return {**_token_fields(issued.token), "token": issued.secret}


@bp.route("/auth/tokens", methods=["GET"])
@bp.response(200, TokenListSchema)
@authenticated(bp)
def list_tokens() -> dict[str, Any]:
    """List the caller's API tokens that are not revoked (without their secrets)"""
    return {"items": [_token_fields(token) for token in queries.list_api_tokens(api_user().id)]}


@bp.route(f"/auth/tokens/{TOKEN_ID}", methods=["DELETE"])
@bp.response(204)
@errors(bp, 404)
@authenticated(bp)
def revoke_token(token_id: int) -> None:
    """Revoke one of the caller's API tokens; it stops working at once"""
    services.revoke_api_token(api_user().id, token_id)


@bp.route("/auth/register", methods=["POST"])
@registration_limit
@bp.response(201, UserSchema)
@errors(bp, 400, 409, 413, 429)
@bp.arguments(CredentialsSchema)
def register(data: dict[str, Any]) -> Any:
    """Register a customer account

    The same rules as the registration page (email syntax and uniqueness, password policy);
    a verification link is emailed. Then create a token with POST /auth/tokens.
    """
    return services.register_customer(data["email"], data["password"])


# --- the caller -----------------------------------------------------------------------------


@bp.route("/me", methods=["GET"])
@bp.response(200, UserSchema)
@authenticated(bp)
def me() -> Any:
    """The caller's account"""
    return api_user()


@bp.route("/me/addresses", methods=["GET"])
@bp.response(200, AddressListSchema)
@authenticated(bp)
def list_addresses() -> dict[str, Any]:
    """The caller's addresses: the default shipping address first, then newest first"""
    return {"items": queries.list_addresses(api_user().id)}


@bp.route("/me/addresses", methods=["POST"])
@bp.response(201, AddressSchema)
@links(
    bp,
    201,
    get_address=ADDRESS_OF_BODY,
    update_address=ADDRESS_OF_BODY,
    delete_address=ADDRESS_OF_BODY,
)
@errors(bp, 400, 413)
@authenticated(bp)
@bp.arguments(AddressInputSchema)
def add_address(data: dict[str, Any]) -> Any:
    """Add an address (the first one becomes the default shipping address)"""
    return services.add_address(
        api_user().id,
        postal.parse(data),
        is_default_shipping=bool(data["is_default_shipping"]),
    )


@bp.route(f"/me/addresses/{ADDRESS_ID}", methods=["GET"])
@bp.response(200, AddressSchema)
@errors(bp, 404)
@authenticated(bp)
def get_address(address_id: int) -> Any:
    """One of the caller's addresses"""
    return _own_address(address_id)


@bp.route(f"/me/addresses/{ADDRESS_ID}", methods=["PATCH"])
@bp.response(200, AddressSchema)
@errors(bp, 400, 404, 413)
@authenticated(bp)
@bp.arguments(AddressPatchSchema)
def update_address(data: dict[str, Any], address_id: int) -> Any:
    """Change some fields of one of the caller's addresses"""
    current = _own_address(address_id)
    merged = {name: getattr(current, name) for name in postal.FIELDS} | data
    return services.update_address(
        api_user().id,
        address_id,
        postal.parse(merged),
        is_default_shipping=bool(merged.get("is_default_shipping", current.is_default_shipping)),
    )


@bp.route(f"/me/addresses/{ADDRESS_ID}", methods=["DELETE"])
@bp.response(204)
@errors(bp, 404)
@authenticated(bp)
def delete_address(address_id: int) -> None:
    """Delete one of the caller's addresses"""
    services.delete_address(api_user().id, address_id)


def _own_address(address_id: int) -> Address:
    address = queries.find_address(api_user().id, address_id)
    if address is None:
        raise AddressNotFound()
    return address


def _token_fields(token: Any) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
    }
