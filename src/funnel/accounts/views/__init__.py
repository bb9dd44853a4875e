"""Account pages: registration, sign-in and out, passwords, email verification, addresses.

The account's security page (two-factor sign-in) and the second step of sign-in are in
``security``, on the same blueprint.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from funnel.accounts import access, postal, queries, services
from funnel.accounts.countries import COUNTRIES
from funnel.accounts.errors import (
    AccountDisabled,
    AddressNotFound,
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    PasswordRejected,
    TokenInvalid,
)
from funnel.accounts.forms import (
    AcceptInvitationForm,
    AddressForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    RegisterForm,
    ResetPasswordForm,
    SignInForm,
)
from funnel.accounts.limits import registration_limit, sign_in_limits
from funnel.accounts.models import Address
from funnel.accounts.postal import PostalAddress
from funnel.accounts.views import security
from funnel.accounts.views.rendering import render_form as _render
from funnel.accounts.views.rendering import safe_next as _safe_next
from funnel.accounts.views.rendering import show_errors as _show_errors
from funnel.accounts.views.rendering import user_rate_key as _user_rate_key
from funnel.core.errors import DomainError, ValidationFailed
from funnel.extensions import limiter

bp = Blueprint("accounts", __name__)

# Database integer ids fit in 32 bits; a larger number in a URL is a 404, not a driver error.
ADDRESS_ID = "<int(max=2147483647):address_id>"


# --- registration and sign-in ---------------------------------------------------------------


@bp.route("/account/register", methods=["GET", "POST"])
@registration_limit
def register() -> ResponseReturnValue:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("accounts.profile"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            signed_in = services.register(
                form.email.data, form.password.data, **access.client_details()
            )
        except (InvalidEmail, PasswordRejected, EmailTaken) as error:
            _show_errors(form, error)
        else:
            access.establish(signed_in.user, signed_in.token)
            flash(
                "Welcome! We have sent you an email with a link to confirm your address.",
                "success",
            )
            return redirect(url_for("accounts.profile"))
    return _render("accounts/register.html", form)


@bp.route("/account/sign-in", methods=["GET", "POST"])
@sign_in_limits
def sign_in() -> ResponseReturnValue:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next() or url_for("accounts.profile"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            signed_in = services.sign_in(
                form.email.data,
                form.password.data,
                previous_token=access.current_session_token(),
                **access.client_details(),
            )
        except (InvalidCredentials, AccountDisabled) as error:
            _show_errors(form, error)
        else:
            if signed_in.awaits_second_factor:
                access.await_second_factor(signed_in.user, signed_in.token)
                return redirect(url_for("accounts.sign_in_code", next=_safe_next()))
            access.establish(signed_in.user, signed_in.token)
            if signed_in.must_enrol_two_factor:
                return security.redirect_to_enrolment()
            return redirect(_safe_next() or url_for("accounts.profile"))
    return _render("accounts/sign_in.html", form)


@bp.post("/account/sign-out")
def sign_out() -> ResponseReturnValue:
    services.end_session(access.current_session_token())
    access.end()
    flash("You have signed out.", "info")
    return redirect(url_for("catalog.home"))


# --- profile and email verification ---------------------------------------------------------


@bp.get("/account")
@login_required
def profile() -> ResponseReturnValue:
    return render_template("accounts/profile.html", user=current_user)


@bp.post("/account/verify/resend")
@login_required
@limiter.limit("5/hour", key_func=_user_rate_key)
def resend_verification() -> ResponseReturnValue:
    if services.resend_verification_email(current_user.id):
        flash(f"We have sent a new confirmation link to {current_user.email}.", "success")
    else:
        flash("Your email address is already verified.", "info")
    return redirect(url_for("accounts.profile"))


@bp.route("/account/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str) -> ResponseReturnValue:
    """GET shows a confirm button (no state change on GET); POST verifies."""
    try:
        if request.method == "POST":
            user = services.verify_email(token)
            return render_template("accounts/email_verified.html", user=user)
        user = services.check_verification_token(token)
    except TokenInvalid as error:
        return render_template("accounts/link_invalid.html", error=error), error.status
    return render_template("accounts/verify_email.html", user=user, token=token)


# --- passwords ------------------------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            token = services.change_password(
                current_user.id,
                form.current_password.data,
                form.new_password.data,
                **access.client_details(),
            )
        except DomainError as error:
            _show_errors(form, error, rename={"password": "new_password"})  # nosec B105 (a field name)
        else:
            access.establish(current_user._get_current_object(), token)
            flash("Your password has been changed. Every other session has been signed out.")
            return redirect(url_for("accounts.profile"))
    return _render("accounts/change_password.html", form)


@bp.route("/account/password/forgot", methods=["GET", "POST"])
@limiter.limit("5/hour", methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            services.request_password_reset(form.email.data)
        except InvalidEmail as error:
            _show_errors(form, error)
        else:
            return render_template("accounts/reset_requested.html", email=form.email.data)
    return _render("accounts/forgot_password.html", form)


@bp.route("/account/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    form = ResetPasswordForm()
    try:
        if form.validate_on_submit():
            try:
                services.reset_password(token, form.password.data)
            except PasswordRejected as error:
                _show_errors(form, error)
            else:
                access.end()
                flash("Your password has been reset. Sign in with your new password.", "success")
                return redirect(url_for("accounts.sign_in"))
        else:
            services.check_reset_token(token)
    except TokenInvalid as error:
        return render_template("accounts/link_invalid.html", error=error), error.status
    return _render("accounts/reset_password.html", form, token=token)


@bp.route("/account/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def accept_invitation(token: str) -> ResponseReturnValue:
    """A staff invitation's link: the invitee chooses a password and joins the staff."""
    form = AcceptInvitationForm()
    try:
        invitation = services.check_invitation(token)
        if form.validate_on_submit():
            try:
                services.accept_invitation(token, form.password.data)
            except PasswordRejected as error:
                _show_errors(form, error)
            else:
                access.end()
                flash("Welcome to the team. Sign in with your new password.", "success")
                return redirect(url_for("accounts.sign_in", next="/staff/"))
    except TokenInvalid as error:
        return render_template("accounts/link_invalid.html", error=error), error.status
    return _render("accounts/accept_invitation.html", form, token=token, invitation=invitation)


# --- address book ---------------------------------------------------------------------------


def _postal_address(form: AddressForm) -> PostalAddress:
    """The address the form holds. Raises AddressInvalid (a message per wrong field)."""
    return postal.parse({name: form[name].data for name in postal.FIELDS})


def _own_address(address_id: int) -> Address:
    address = queries.find_address(current_user.id, address_id)
    if address is None:
        raise AddressNotFound()
    return address


@bp.get("/account/addresses")
@login_required
def addresses() -> ResponseReturnValue:
    return render_template(
        "accounts/addresses.html",
        addresses=queries.list_addresses(current_user.id),
        countries=COUNTRIES,
    )


@bp.route("/account/addresses/new", methods=["GET", "POST"])
@login_required
def add_address() -> ResponseReturnValue:
    form = AddressForm()
    if form.validate_on_submit():
        try:
            services.add_address(
                current_user.id,
                _postal_address(form),
                is_default_shipping=bool(form.is_default_shipping.data),
            )
        except ValidationFailed as error:
            _show_errors(form, error)
        else:
            flash("The address has been added.", "success")
            return redirect(url_for("accounts.addresses"))
    return _render("accounts/address_form.html", form, address=None)


@bp.route(f"/account/addresses/{ADDRESS_ID}/edit", methods=["GET", "POST"])
@login_required
def edit_address(address_id: int) -> ResponseReturnValue:
    address = _own_address(address_id)
    form = AddressForm(obj=address if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.update_address(
                current_user.id,
                address_id,
                _postal_address(form),
                is_default_shipping=bool(form.is_default_shipping.data),
            )
        except ValidationFailed as error:
            _show_errors(form, error)
        else:
            flash("The address has been saved.", "success")
            return redirect(url_for("accounts.addresses"))
    return _render("accounts/address_form.html", form, address=address)


@bp.post(f"/account/addresses/{ADDRESS_ID}/delete")
@login_required
def delete_address(address_id: int) -> ResponseReturnValue:
    services.delete_address(current_user.id, address_id)
    flash("The address has been deleted.", "success")
    return redirect(url_for("accounts.addresses"))


@bp.post(f"/account/addresses/{ADDRESS_ID}/default")
@login_required
def make_default_address(address_id: int) -> ResponseReturnValue:
    services.set_default_shipping_address(current_user.id, address_id)
    flash("The default shipping address has been changed.", "success")
    return redirect(url_for("accounts.addresses"))


security.register(bp)
