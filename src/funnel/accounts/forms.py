"""HTML forms of the accounts pages (Flask-WTF: every form carries a CSRF token).

The forms check presence, shape and size; the business rules (password policy, email syntax
and uniqueness, address rules) live in the services, whose errors the views put beside the
fields, so a rule is written once.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length

from funnel.accounts.countries import country_choices
from funnel.accounts.models import EMAIL_MAX_LENGTH
from funnel.accounts.postal import MAX_LENGTHS, REQUIRED_MESSAGES

# Generous caps on what is even looked at; the services state the real rules.
PASSWORD_INPUT_MAX = 1024
_EMAIL_LENGTH = Length(
    max=EMAIL_MAX_LENGTH, message=f"An email address has at most {EMAIL_MAX_LENGTH} characters."
)
_PASSWORD_LENGTH = Length(max=PASSWORD_INPUT_MAX, message="Use between 8 and 128 characters.")


def _email_field() -> EmailField:
    return EmailField(
        "Email",
        validators=[InputRequired("Enter your email address."), _EMAIL_LENGTH],
        render_kw={"autocomplete": "email", "maxlength": EMAIL_MAX_LENGTH},
    )


def _new_password_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[InputRequired("Enter a password."), _PASSWORD_LENGTH],
        render_kw={"autocomplete": "new-password", "minlength": 8, "maxlength": 128},
        description="Between 8 and 128 characters; spaces, accents and emoji are welcome.",
    )


def _confirmation_field(label: str, of: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired("Enter the password again."),
            EqualTo(of, message="The two passwords do not match."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class RegisterForm(FlaskForm):
    email = _email_field()
    password = _new_password_field("Password")
    confirm_password = _confirmation_field("Confirm password", "password")


class SignInForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[InputRequired("Enter your email address."), _EMAIL_LENGTH],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password."), _PASSWORD_LENGTH],
        render_kw={"autocomplete": "current-password"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password."), _PASSWORD_LENGTH],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password_field("New password")
    confirm_password = _confirmation_field("Confirm new password", "new_password")


def _code_field(label: str, description: str) -> StringField:
    return StringField(
        label,
        validators=[InputRequired("Enter the code."), Length(max=64, message="This is no code.")],
        render_kw={"autocomplete": "one-time-code", "maxlength": 64, "autocapitalize": "off"},
        description=description,
    )


def _current_password_field() -> PasswordField:
    return PasswordField(
        "Your password",
        validators=[InputRequired("Enter your password."), _PASSWORD_LENGTH],
        render_kw={"autocomplete": "current-password"},
    )


class SecondStepForm(FlaskForm):
    """The second step of sign-in: the authenticator's code, or a recovery code."""

    code = _code_field(
        "Code",
        "The 6 digits your authenticator app shows, or one of your recovery codes.",
    )


class StartTwoFactorForm(FlaskForm):
    """A button (and its CSRF token): making a secret changes state, so it is a POST."""


class ConfirmTwoFactorForm(FlaskForm):
    code = _code_field("Code from the app", "The 6 digits the app shows now for this shop.")


class RecoveryCodesForm(FlaskForm):
    current_password = _current_password_field()


class DisableTwoFactorForm(FlaskForm):
    current_password = _current_password_field()
    code = _code_field("Code", "The 6 digits your app shows now, or one of your recovery codes.")


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password = _new_password_field("New password")
    confirm_password = _confirmation_field("Confirm new password", "password")


class AcceptInvitationForm(FlaskForm):
    password = _new_password_field("Choose your password")
    confirm_password = _confirmation_field("Confirm your password", "password")


def _address_text(name: str, label: str, **render: object) -> StringField:
    max_length = MAX_LENGTHS[name]
    required = REQUIRED_MESSAGES.get(name)
    validators = [InputRequired(required)] if required else []
    validators.append(Length(max=max_length, message=f"Use at most {max_length} characters."))
    return StringField(label, validators=validators, render_kw={"maxlength": max_length, **render})


class AddressForm(FlaskForm):
    """The address book's fields; their limits and required messages are ``postal``'s."""

    full_name = _address_text("full_name", "Full name", autocomplete="name")
    company = _address_text("company", "Company (optional)", autocomplete="organization")
    line1 = _address_text("line1", "Address line 1", autocomplete="address-line1")
    line2 = _address_text("line2", "Address line 2 (optional)", autocomplete="address-line2")
    city = _address_text("city", "City", autocomplete="address-level2")
    region = _address_text(
        "region", "State, province or region (optional)", autocomplete="address-level1"
    )
    postal_code = _address_text("postal_code", "Postal code", autocomplete="postal-code")
    country_code = SelectField(
        "Country",
        choices=[
            SelectChoice("", "Choose a country"),
            *(SelectChoice(code, name) for code, name in country_choices()),
        ],
        validators=[InputRequired(REQUIRED_MESSAGES["country_code"])],
        validate_choice=False,  # the service checks the code and says so beside the field
        render_kw={"autocomplete": "country"},
    )
    phone = _address_text("phone", "Phone (optional)", autocomplete="tel", type="tel")
    is_default_shipping = BooleanField("Use as my default shipping address")
