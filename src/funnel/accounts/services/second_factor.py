"""Accepting a second factor: the one check that sign-in's second step, API token creation and
turning two-factor sign-in off share.

A code is used up as it is accepted, by a conditional update in the caller's transaction: an
authenticator code moves the account's last used time step forward (only if it is later than
the one stored), a recovery code gets its ``used_at`` (only if it had none). Of two requests
with one code, only one wins, on every database.
"""

from __future__ import annotations

import sqlalchemy as sa

from funnel.accounts import one_time_codes, queries
from funnel.accounts.models import RecoveryCode, TwoFactorCredential
from funnel.core import clock
from funnel.extensions import db


def use_second_factor(user_id: int, code: str | None) -> bool:
    """Accept and use up ``code`` (the authenticator's, or an unused recovery code) for the
    account, in the caller's transaction; False when it is no such code (nothing changes)."""
    normalised = one_time_codes.normalise(code)
    if one_time_codes.is_authenticator_code(normalised):
        return _use_authenticator_code(user_id, normalised)
    if one_time_codes.is_recovery_code(normalised):
        return _use_recovery_code(user_id, normalised)
    return False


def _use_authenticator_code(user_id: int, code: str) -> bool:
    credential = queries.find_two_factor(user_id)
    if credential is None or not credential.is_confirmed:
        return False
    step = one_time_codes.matching_step(
        credential.secret, code, clock.utcnow(), credential.last_used_step
    )
    if step is None:
        return False
    result = db.session.execute(
        sa.update(TwoFactorCredential)
        .where(
            TwoFactorCredential.id == credential.id,
            TwoFactorCredential.confirmed_at.is_not(None),
            sa.or_(
                TwoFactorCredential.last_used_step.is_(None),
                TwoFactorCredential.last_used_step < step,
            ),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _use_recovery_code(user_id: int, code: str) -> bool:
    result = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == one_time_codes.hash_recovery_code(user_id, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
