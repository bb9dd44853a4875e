"""Account use cases: the only code that writes account data.

Split by subject: ``users`` (registration, verification, roles), ``sessions`` (sign-in, session
lifetime), ``credentials`` (password change and reset), ``addresses`` (address book),
``standing`` (staff disable or enable an account, send a reset or verification link), ``team``
(staff invitations, permission groups, leaving the staff), ``two_factor`` (an authenticator app
and recovery codes for staff sign-in) over ``second_factor`` (accepting a code).
"""

from funnel.accounts.services.addresses import (
    add_address,
    delete_address,
    remember_address,
    set_default_shipping_address,
    update_address,
)
from funnel.accounts.services.api_tokens import (
    IssuedToken,
    authenticate_api_token,
    create_api_token,
    revoke_api_token,
)
from funnel.accounts.services.credentials import (
    change_password,
    check_reset_token,
    request_password_reset,
    reset_password,
)
from funnel.accounts.services.sessions import (
    SignedIn,
    check_credentials,
    complete_sign_in,
    end_all_sessions,
    end_session,
    pending_sign_in,
    resume_session,
    sign_in,
    start_session,
)
from funnel.accounts.services.standing import (
    disable_account,
    enable_account,
    send_password_reset,
    send_verification_email,
)
from funnel.accounts.services.team import (
    accept_invitation,
    check_invitation,
    invite_staff,
    remove_from_staff,
    revoke_invitation,
    set_staff_groups,
)
from funnel.accounts.services.two_factor import (
    Enrolment,
    confirm_two_factor_enrolment,
    disable_two_factor,
    pending_enrolment,
    regenerate_recovery_codes,
    remove_two_factor,
    reset_member_two_factor,
    start_two_factor_enrolment,
)
from funnel.accounts.services.users import (
    change_role,
    check_verification_token,
    create_user,
    register,
    register_customer,
    resend_verification_email,
    verify_email,
)

__all__ = [
    "Enrolment",
    "IssuedToken",
    "SignedIn",
    "accept_invitation",
    "add_address",
    "authenticate_api_token",
    "change_password",
    "change_role",
    "check_credentials",
    "check_invitation",
    "check_reset_token",
    "check_verification_token",
    "complete_sign_in",
    "confirm_two_factor_enrolment",
    "create_api_token",
    "create_user",
    "delete_address",
    "disable_account",
    "disable_two_factor",
    "enable_account",
    "end_all_sessions",
    "end_session",
    "invite_staff",
    "pending_enrolment",
    "pending_sign_in",
    "regenerate_recovery_codes",
    "register",
    "register_customer",
    "remember_address",
    "remove_from_staff",
    "remove_two_factor",
    "request_password_reset",
    "resend_verification_email",
    "reset_member_two_factor",
    "reset_password",
    "resume_session",
    "revoke_api_token",
    "revoke_invitation",
    "send_password_reset",
    "send_verification_email",
    "set_default_shipping_address",
    "set_staff_groups",
    "sign_in",
    "start_session",
    "start_two_factor_enrolment",
    "update_address",
    "verify_email",
]
