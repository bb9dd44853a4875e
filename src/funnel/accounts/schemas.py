"""API input and output schemas of the accounts domain (marshmallow).

Input schemas check shape and size only; the business rules (email syntax and uniqueness,
password policy, address rules) stay in the services, whose errors become 422 problems.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.accounts.models import API_TOKEN_NAME_LENGTH, EMAIL_MAX_LENGTH
from funnel.accounts.postal import MAX_LENGTHS
from funnel.core.api import PatchSchema

# Bounds on what is even looked at (the forms use the same); the services state the rules.
PASSWORD_INPUT_MAX = 1024
_EMAIL = validate.Length(max=EMAIL_MAX_LENGTH)
_PASSWORD = validate.Length(max=PASSWORD_INPUT_MAX)


class CredentialsSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=_EMAIL)
    password = ma.fields.String(required=True, validate=_PASSWORD, load_only=True)


class TokenRequestSchema(CredentialsSchema):
    name = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=API_TOKEN_NAME_LENGTH),
        metadata={
            "description": "A name to recognise the token by (default 'API token'); runs of "
            "spaces count as one, control characters are refused"
        },
    )
    code = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={
            "description": "For an account with two-factor sign-in: the 6-digit code its "
            "authenticator app shows now, or one of its unused recovery codes (used up). "
            "Without it such an account gets 401 `second_factor_required`; a wrong or used "
            "code gets 401 `second_factor_invalid`"
        },
    )


class TokenSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(
        required=True, metadata={"description": "The token's first characters, to tell it apart"}
    )
    created_at = ma.fields.DateTime(required=True)
    last_used_at = ma.fields.DateTime(required=True, allow_none=True)
    expires_at = ma.fields.DateTime(required=True)


class IssuedTokenSchema(TokenSchema):
    token = ma.fields.String(
        required=True, metadata={"description": "The secret: shown this once, never again"}
    )


class TokenListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TokenSchema), required=True)


class UserSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True, metadata={"enum": ["customer", "staff", "admin"]})
    is_email_verified = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)


def _text(max_length: int, *, required: bool = False) -> ma.fields.String:
    if required:
        return ma.fields.String(required=True, validate=validate.Length(max=max_length * 4))
    return ma.fields.String(
        load_default="", allow_none=True, validate=validate.Length(max=max_length * 4)
    )


class AddressInputSchema(ma.Schema):
    """An address as entered. Length limits here only bound the input; the service's rules
    (required fields, lengths, country code, phone) answer with per-field messages."""

    full_name = _text(MAX_LENGTHS["full_name"], required=True)
    company = _text(MAX_LENGTHS["company"])
    line1 = _text(MAX_LENGTHS["line1"], required=True)
    line2 = _text(MAX_LENGTHS["line2"])
    city = _text(MAX_LENGTHS["city"], required=True)
    region = _text(MAX_LENGTHS["region"])
    postal_code = _text(MAX_LENGTHS["postal_code"], required=True)
    country_code = ma.fields.String(
        required=True,
        validate=validate.Length(max=8),
        metadata={"description": "ISO 3166-1 alpha-2", "example": "GB"},
    )
    phone = _text(MAX_LENGTHS["phone"])
    is_default_shipping = ma.fields.Boolean(load_default=False)


class AddressPatchSchema(PatchSchema, AddressInputSchema):
    """Any subset of an address's fields (at least one); the others keep their values."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(partial=True, **kwargs)  # type: ignore[arg-type]


class AddressSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    full_name = ma.fields.String(required=True)
    company = ma.fields.String(required=True, allow_none=True)
    line1 = ma.fields.String(required=True)
    line2 = ma.fields.String(required=True, allow_none=True)
    city = ma.fields.String(required=True)
    region = ma.fields.String(required=True, allow_none=True)
    postal_code = ma.fields.String(required=True)
    country_code = ma.fields.String(required=True)
    phone = ma.fields.String(required=True, allow_none=True)
    is_default_shipping = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)


class AddressListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AddressSchema), required=True)
