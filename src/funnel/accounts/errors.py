"""Account errors, each with a stable ``code``.

``field`` names the form field an error belongs beside (None: the form as a whole); errors that
can concern several fields at once are ``ValidationFailed`` with a ``fields`` mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from funnel.core.errors import (
    BEARER_CHALLENGE,
    Conflict,
    DomainError,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)


class InvalidEmail(ValidationFailed):
    code = "email_invalid"
    title = "This email address is not valid"

    def __init__(self, detail: str | None = None) -> None:
        message = detail or self.title
        super().__init__(message, fields={"email": [message]})


class EmailTaken(Conflict):
    code = "email_taken"
    title = "An account with this email already exists"
    field: ClassVar[str | None] = "email"


class PasswordRejected(ValidationFailed):
    """The password breaks the policy (length, common-password list)."""

    code = "password_rejected"
    title = "This password cannot be used"

    def __init__(self, detail: str | None = None) -> None:
        message = detail or self.title
        super().__init__(message, fields={"password": [message]})


class InvalidCredentials(DomainError):
    """Wrong password or unknown email: deliberately the same error for both."""

    code = "invalid_credentials"
    status = 401
    title = "Email or password is incorrect"
    field: ClassVar[str | None] = None


class AccountDisabled(DomainError):
    """The right password for an account staff have disabled (said only to whoever knows it)."""

    code = "account_disabled"
    status = 403
    title = "This account is disabled. Please contact the shop."
    field: ClassVar[str | None] = None


class OwnAccountProtected(DomainError):
    """Staff cannot disable their own account: the shop must never lock out its last admin."""

    code = "own_account_protected"
    status = 409
    title = "You cannot disable your own account."


class InvitationInvalid(ValidationFailed):
    """A staff invitation that cannot be sent as asked (its email or its groups)."""

    code = "invitation_invalid"
    title = "The invitation cannot be sent"


class TeamChangeRefused(Conflict):
    """A change of the staff team that the team's rules do not allow."""

    code = "team_change_refused"
    title = "This change of the staff team is not allowed"


class CurrentPasswordIncorrect(DomainError):
    code = "current_password_incorrect"
    status = 422
    title = "Your current password is incorrect"
    field: ClassVar[str | None] = "current_password"


class TokenInvalid(DomainError):
    """A reset or verification link that is unknown, tampered with, used or expired."""

    code = "token_invalid"
    status = 400
    title = "This link is invalid or has expired"
    field: ClassVar[str | None] = None


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "No such account"


class AddressNotFound(NotFound):
    code = "address_not_found"
    title = "Address not found"


class AddressInvalid(ValidationFailed):
    code = "address_invalid"
    title = "Some address fields are not valid"


class ApiTokenNotFound(NotFound):
    code = "api_token_not_found"
    title = "API token not found"


class ApiTokenNameInvalid(ValidationFailed):
    code = "api_token_name_invalid"
    title = "This token name cannot be used"

    def __init__(self, detail: str | None = None) -> None:
        message = detail or self.title
        super().__init__(message, fields={"name": [message]})


class ApiTokenInvalid(DomainError):
    """A bearer token that is unknown, expired or revoked (the same answer for each)."""

    code = "token_invalid_or_expired"
    status = 401
    title = "The API token is invalid, expired or revoked"
    headers: ClassVar[Mapping[str, str]] = {
        "WWW-Authenticate": f'{BEARER_CHALLENGE}, error="invalid_token"'
    }


# --- two-factor sign-in ---------------------------------------------------------------------


class SecondFactorRequired(DomainError):
    """The password is right and the account has two-factor sign-in: a code is owed too."""

    code = "second_factor_required"
    status = 401
    title = "Enter the code from your authenticator app, or a recovery code"
    field: ClassVar[str | None] = "code"


class SecondFactorInvalid(DomainError):
    """A code that is not the authenticator's current one, was used already, or is no unused
    recovery code of the account (the same answer for each)."""

    code = "second_factor_invalid"
    status = 401
    title = "This code is not right, or was used already. Enter the code your app shows now."
    field: ClassVar[str | None] = "code"


class SecondStepExpired(DomainError):
    """The second step of a sign-in is over: too late, too many wrong codes, or never begun."""

    code = "second_step_expired"
    status = 401
    title = "Your sign-in has expired. Enter your email and password again."
    field: ClassVar[str | None] = None


class TwoFactorNotOffered(DomainError):
    code = "two_factor_not_offered"
    status = 403
    title = "Two-factor sign-in is offered to shop staff."
    field: ClassVar[str | None] = None


class TwoFactorStateConflict(Conflict):
    """Enrolment asked twice, or a change of two-factor sign-in for an account without it."""

    code = "two_factor_state_conflict"
    title = "Two-factor sign-in is not in the state this change needs"
    field: ClassVar[str | None] = None


class TwoFactorEnrolmentRequired(DomainError):
    """The shop requires two-factor sign-in for staff, and this staff account has none yet."""

    code = "two_factor_enrolment_required"
    status = 403
    title = (
        "The shop requires two-factor sign-in for staff. "
        "Set it up on your account's security page first."
    )
    field: ClassVar[str | None] = None


class SignInPaused(ServiceUnavailable):
    """The store of the sign-in attempt counts (Redis) does not answer: signing in waits for
    it rather than let each process count alone (limits fail closed)."""

    code = "sign_in_unavailable"
    title = "Signing in is paused for a moment"

    def __init__(self) -> None:
        super().__init__(
            "Signing in is paused for a moment: please try again in a minute. "
            "You can still browse and buy as a guest."
        )
