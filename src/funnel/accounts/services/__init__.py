"""Account use cases: the only code that writes account data.

Split by subject: ``users`` (registration, verification, roles), ``sessions`` (sign-in, session
lifetime), ``credentials`` (password change and reset), ``addresses`` (address book),
``standing`` (staff disable or enable an account, send a reset or verification link), ``team``
(staff invitations, permission groups, leaving the staff).
"""

from funnel.accounts.services.addresses import (
    add_address,
    delete_address,
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
    end_all_sessions,
    end_session,
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
    "create_api_token",
    "create_user",
    "delete_address",
    "disable_account",
    "enable_account",
    "end_all_sessions",
    "end_session",
    "invite_staff",
    "register",
    "register_customer",
    "remove_from_staff",
    "request_password_reset",
    "resend_verification_email",
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
    "update_address",
    "verify_email",
]
