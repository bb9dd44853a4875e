"""The staff team page, added to the staff blueprint by ``register``: who is on the staff with
which permission groups, the invitations still pending, inviting someone, changing a staff
member's groups and removing them from the staff. Every page needs ``staff.manage`` (admins by
default), checked again by the accounts services.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts import queries as account_queries
from funnel.accounts import services as accounts
from funnel.accounts.errors import (
    InvitationInvalid,
    OwnAccountProtected,
    TeamChangeRefused,
    UserNotFound,
)
from funnel.accounts.models import User
from funnel.accounts.permissions import PERMISSION_GROUPS, Permission, groups_of
from funnel.core.errors import DomainError
from funnel.staff.access import page_permission
from funnel.staff.forms import StaffGroupsForm, StaffInviteForm
from funnel.staff.views.form_errors import show_errors

MANAGE = Permission.STAFF_MANAGE
# Refusals shown on the page (the others, 403 and 404, are the error pages).
SHOWN = (InvitationInvalid, TeamChangeRefused, OwnAccountProtected)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/team", "team", team, methods=["GET"])
    bp.add_url_rule("/team/invitations", "team_invite", invite, methods=["POST"])
    bp.add_url_rule(
        "/team/invitations/<int:invitation_id>/revoke",
        "team_revoke_invitation",
        revoke_invitation,
        methods=["POST"],
    )
    bp.add_url_rule("/team/<int:user_id>", "team_member", member, methods=["GET"])
    bp.add_url_rule("/team/<int:user_id>", "team_member_save", save_member, methods=["POST"])
    bp.add_url_rule(
        "/team/<int:user_id>/remove", "team_member_remove", remove_member, methods=["POST"]
    )
    bp.add_url_rule(
        "/team/<int:user_id>/two-factor/reset",
        "team_member_reset_two_factor",
        reset_two_factor,
        methods=["POST"],
    )


def _team_page(form: StaffInviteForm, status: int = 200) -> ResponseReturnValue:
    members = account_queries.staff_members()
    page = render_template(
        "staff/team/list.html",
        form=form,
        members=members,
        groups_of={member.id: groups_of(member) for member in members},
        invitations=account_queries.pending_invitations(),
        groups=PERMISSION_GROUPS,
    )
    return page, status


@page_permission(MANAGE)
def team() -> ResponseReturnValue:
    return _team_page(StaffInviteForm(formdata=None))


@page_permission(MANAGE)
def invite() -> ResponseReturnValue:
    form = StaffInviteForm()
    if not form.validate():
        return _team_page(form, 400)
    try:
        invitation = accounts.invite_staff(current_user, form.email.data or "", form.groups.data)
    except SHOWN as error:
        show_errors(form, error, field_of_code={"team_change_refused": "email"})
        return _team_page(form, error.status)
    flash(f"An invitation was emailed to {invitation.email}.", "success")
    return redirect(url_for("staff.team"), code=303)


@page_permission(MANAGE)
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    form = StaffGroupsForm()  # only its CSRF token is read
    if not form.validate():
        return _team_page(StaffInviteForm(formdata=None), 400)
    if accounts.revoke_invitation(current_user, invitation_id):
        flash("The invitation is revoked: its link no longer works.", "success")
    else:
        flash("That invitation was no longer pending.", "info")
    return redirect(url_for("staff.team"), code=303)


def _member_page(
    user: User, form: StaffGroupsForm, error: DomainError | None = None
) -> ResponseReturnValue:
    page = render_template(
        "staff/team/member.html",
        user=user,
        form=form,
        error=error,
        has_two_factor=account_queries.has_two_factor(user.id),
    )
    return page, (error.status if error else 200)


def _staff_account(user_id: int) -> User:
    """A staff or admin account; 404 for any other id."""
    user = account_queries.get_user(user_id)
    if user is None or not user.is_staff:
        raise UserNotFound()
    return user


@page_permission(MANAGE)
def member(user_id: int) -> ResponseReturnValue:
    user = _staff_account(user_id)
    form = StaffGroupsForm(formdata=None, data={"groups": groups_of(user)})
    return _member_page(user, form)


@page_permission(MANAGE)
def save_member(user_id: int) -> ResponseReturnValue:
    user = _staff_account(user_id)
    form = StaffGroupsForm()
    if not form.validate():
        return _member_page(user, form, None)
    try:
        accounts.set_staff_groups(current_user, user_id, form.groups.data)
    except SHOWN as error:
        show_errors(form, error)
        return _member_page(user, form, error)
    flash(f"{user.email}'s groups are saved.", "success")
    return redirect(url_for("staff.team"), code=303)


@page_permission(MANAGE)
def remove_member(user_id: int) -> ResponseReturnValue:
    user = _staff_account(user_id)
    form = StaffGroupsForm()  # only its CSRF token is read
    if not form.validate():
        return _member_page(user, StaffGroupsForm(formdata=None), None)
    try:
        accounts.remove_from_staff(current_user, user_id)
    except SHOWN as error:
        return _member_page(user, StaffGroupsForm(formdata=None), error)
    flash(f"{user.email} is no longer on the staff (the account is kept as a customer's).")
    return redirect(url_for("staff.team"), code=303)


@page_permission(MANAGE)
def reset_two_factor(user_id: int) -> ResponseReturnValue:
    user = _staff_account(user_id)
    form = StaffGroupsForm()  # only its CSRF token is read
    if not form.validate():
        return _member_page(user, StaffGroupsForm(formdata=None), None)
    try:
        was_on = accounts.reset_member_two_factor(current_user, user_id)
    except SHOWN as error:
        return _member_page(user, StaffGroupsForm(formdata=None), error)
    if was_on:
        flash(
            f"Two-factor sign-in is off for {user.email}: their sessions ended, and they were "
            "emailed to sign in with their password and set it up again.",
            "success",
        )
    else:
        flash(f"{user.email} had no two-factor sign-in.", "info")
    return redirect(url_for("staff.team_member", user_id=user_id), code=303)
