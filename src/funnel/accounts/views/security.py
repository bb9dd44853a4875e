"""The account's security page (two-factor sign-in for staff) and the second step of sign-in,
added to the accounts blueprint by ``register``.

Every rule is the services': these views parse the form, call one service, and render or
redirect. Making a secret, confirming it, renewing recovery codes and turning two-factor
sign-in off are POSTs with a CSRF token; the pages that show a secret or recovery codes are
never cached.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from markupsafe import Markup

from funnel.accounts import access, one_time_codes, queries, services
from funnel.accounts.errors import (
    AccountDisabled,
    CurrentPasswordIncorrect,
    SecondFactorInvalid,
    SecondStepExpired,
    TwoFactorEnrolmentRequired,
)
from funnel.accounts.forms import (
    ConfirmTwoFactorForm,
    DisableTwoFactorForm,
    RecoveryCodesForm,
    SecondStepForm,
    StartTwoFactorForm,
)
from funnel.accounts.limits import second_step_limits, two_factor_change_limit
from funnel.accounts.services import Enrolment
from funnel.accounts.views.rendering import INVALID, render_form, safe_next, show_errors

QR_SCALE = 4


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/account/sign-in/code", "sign_in_code", sign_in_code, methods=["GET", "POST"])
    bp.add_url_rule("/account/security", "security", security, methods=["GET"])
    bp.add_url_rule(
        "/account/security/two-factor/start", "start_two_factor", start_two_factor, methods=["POST"]
    )
    bp.add_url_rule(
        "/account/security/two-factor", "two_factor", two_factor, methods=["GET", "POST"]
    )
    bp.add_url_rule(
        "/account/security/recovery-codes",
        "recovery_codes",
        recovery_codes,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/account/security/two-factor/disable",
        "disable_two_factor",
        disable_two_factor,
        methods=["POST"],
    )


def redirect_to_enrolment() -> ResponseReturnValue:
    """After sign-in, for staff the shop requires to set up two-factor sign-in."""
    flash(TwoFactorEnrolmentRequired.title, "info")
    return redirect(url_for("accounts.security"))


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the second step of sign-in --------------------------------------------------------------


@second_step_limits
def sign_in_code() -> ResponseReturnValue:
    form = SecondStepForm()
    try:
        user = services.pending_sign_in(access.pending_token())
        if form.validate_on_submit():
            try:
                signed_in = services.complete_sign_in(
                    access.pending_token(), form.code.data, **access.client_details()
                )
            except SecondFactorInvalid as error:
                show_errors(form, error)
            else:
                access.establish(signed_in.user, signed_in.token)
                return redirect(safe_next() or url_for("accounts.profile"))
    except (SecondStepExpired, AccountDisabled) as error:
        access.end()
        flash(error.detail, "info")
        return redirect(url_for("accounts.sign_in", next=safe_next()))
    return render_form("accounts/sign_in_code.html", form, email=user.email)


# --- the security page ------------------------------------------------------------------------


def _security_page(status: int = 200, **forms: object) -> ResponseReturnValue:
    user = current_user
    context = {
        "start_form": StartTwoFactorForm(formdata=None),
        "codes_form": RecoveryCodesForm(formdata=None),
        "disable_form": DisableTwoFactorForm(formdata=None),
        **forms,
    }
    page = render_template(
        "accounts/security.html",
        user=user,
        is_enabled=queries.has_two_factor(user.id),
        enrolment=services.pending_enrolment(user.id),
        codes_left=queries.count_unused_recovery_codes(user.id),
        is_required=queries.is_two_factor_enrolment_due(user),
        **context,
    )
    return page, status


@login_required
def security() -> ResponseReturnValue:
    return _security_page()


@login_required
def start_two_factor() -> ResponseReturnValue:
    form = StartTwoFactorForm()
    if not form.validate_on_submit():  # the CSRF token
        return _security_page(400, start_form=form)
    services.start_two_factor_enrolment(current_user.id)
    return redirect(url_for("accounts.two_factor"), code=303)


def _qr_code(enrolment: Enrolment) -> Markup:
    """The ``otpauth://`` address as an inline SVG QR code (drawn here: no request leaves)."""
    import segno  # only staff enrolling a second factor need it: no storefront worker loads it

    svg = segno.make(enrolment.uri, error="m").svg_inline(
        scale=QR_SCALE,
        title="QR code to scan with your authenticator app",
        border=4,
        dark="#000",
        light="#fff",
    )
    return Markup(svg)  # nosec B704 # noqa: S704  (segno's own SVG markup, no user input unescaped)


def _enrolment_page(form: ConfirmTwoFactorForm, enrolment: Enrolment) -> ResponseReturnValue:
    page = render_template(
        "accounts/two_factor_enrol.html",
        form=form,
        qr_code=_qr_code(enrolment),
        secret=one_time_codes.grouped_secret(enrolment.secret),
    )
    return _no_store(make_response(page, INVALID if form.is_submitted() else 200))


def _recovery_codes_page(codes: list[str], *, is_new_enrolment: bool) -> Response:
    page = render_template(
        "accounts/recovery_codes.html", codes=codes, is_new_enrolment=is_new_enrolment
    )
    return _no_store(make_response(page))


@login_required
@two_factor_change_limit
def two_factor() -> ResponseReturnValue:
    enrolment = services.pending_enrolment(current_user.id)
    if enrolment is None:
        return redirect(url_for("accounts.security"))
    form = ConfirmTwoFactorForm()
    if form.validate_on_submit():
        try:
            codes = services.confirm_two_factor_enrolment(
                current_user.id, form.code.data, keep_session_token=access.current_session_token()
            )
        except SecondFactorInvalid as error:
            show_errors(form, error)
        else:
            return _recovery_codes_page(codes, is_new_enrolment=True)
    return _enrolment_page(form, enrolment)


@login_required
@two_factor_change_limit
def recovery_codes() -> ResponseReturnValue:
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        try:
            codes = services.regenerate_recovery_codes(current_user.id, form.current_password.data)
        except CurrentPasswordIncorrect as error:
            show_errors(form, error)
        else:
            return _recovery_codes_page(codes, is_new_enrolment=False)
    return _security_page(INVALID, codes_form=form)


@login_required
@two_factor_change_limit
def disable_two_factor() -> ResponseReturnValue:
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        try:
            services.disable_two_factor(current_user.id, form.current_password.data, form.code.data)
        except (CurrentPasswordIncorrect, SecondFactorInvalid) as error:
            show_errors(form, error)
        else:
            flash("Two-factor sign-in is off: signing in asks for your password only.", "info")
            return redirect(url_for("accounts.security"), code=303)
    return _security_page(INVALID, disable_form=form)
