"""HTML forms of the checkout (Flask-WTF: every form carries a CSRF token).

The forms name and label the fields; the rules (email syntax, required address fields and
country, shipping methods, card checks) are the services' and the gateways', whose errors the
views put beside the fields, so that each rule is written once.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, StringField

from funnel.accounts.forms import AddressForm
from funnel.checkout.models import EMAIL_LENGTH

NEW_ADDRESS = "new"


class ContactForm(FlaskForm):
    email = EmailField(
        "Email",
        render_kw={"autocomplete": "email", "maxlength": EMAIL_LENGTH, "required": True},
        description="We send the order confirmation here.",
    )


class CheckoutAddressForm(AddressForm):
    """The address book's fields, plus the choice of a saved address (signed-in customers)."""

    is_default_shipping = None  # the address book's concern, not the checkout's
    saved_address = RadioField("Ship to", choices=[], validate_choice=False)
    # Shown to signed-in customers only, for a new address; unticked unless they tick it.
    save_to_address_book = BooleanField("Save this address to my address book", default=False)


class ShippingForm(FlaskForm):
    shipping_method = RadioField("Shipping method", choices=[], validate_choice=False)


class ReviewForm(FlaskForm):
    """Only the CSRF token: the review confirms what the server computed."""


class PayForm(FlaskForm):
    payment_method = RadioField("Payment method", choices=[], validate_choice=False)
    submit_token = HiddenField()
    card_number = StringField(
        "Card number",
        render_kw={"autocomplete": "cc-number", "inputmode": "numeric", "maxlength": 23},
    )
    card_expiry = StringField(
        "Expiry (MM/YY)",
        render_kw={"autocomplete": "cc-exp", "placeholder": "MM/YY", "maxlength": 7},
    )
    card_cvc = StringField(
        "CVC",
        render_kw={"autocomplete": "cc-csc", "inputmode": "numeric", "maxlength": 4},
    )
