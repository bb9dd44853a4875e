"""HTML forms of the staff stock, image, team and settings pages (Flask-WTF: every form
carries a CSRF token).

The forms name and label the fields and check their shape; the rules (which reasons a staff
change may give, stock never below zero, what an image must be) are the services', whose errors
the views put beside the fields, so that each rule is written once.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf
from wtforms.widgets import CheckboxInput, ListWidget

from funnel.accounts.models import EMAIL_MAX_LENGTH
from funnel.accounts.permissions import PERMISSION_GROUPS
from funnel.catalog.services.images import ALT_TEXT_LENGTH
from funnel.inventory.models import NOTE_LENGTH, MovementReason
from funnel.settings.values import CAPTURE_AT_CHECKOUT, CAPTURE_AT_FULFILMENT

ADJUST_BY = "change"
SET_TO_COUNT = "count"
# The reasons a staff change may give, in the order the form offers them.
ADJUSTMENT_REASONS = (
    MovementReason.RECEIVED,
    MovementReason.DAMAGED,
    MovementReason.RETURNED,
    MovementReason.COUNTED,
    MovementReason.CORRECTION,
    MovementReason.ADJUSTMENT,
)


class StockAdjustmentForm(FlaskForm):
    kind = RadioField(
        "Change",
        choices=[
            SelectChoice(ADJUST_BY, "Add or remove units"),
            SelectChoice(SET_TO_COUNT, "Set to the counted level"),
        ],
        default=ADJUST_BY,
    )
    quantity = StringField(
        "Quantity",
        render_kw={"inputmode": "numeric", "maxlength": 11, "required": True},
        description="Units to add (12) or remove (-3); or, for a count, the units counted.",
    )
    reason = SelectField(
        "Reason",
        choices=[SelectChoice(reason.value, reason.label) for reason in ADJUSTMENT_REASONS],
        default=MovementReason.RECEIVED.value,
    )
    note = StringField(
        "Note",
        render_kw={"maxlength": NOTE_LENGTH},
        description="Optional: the delivery note, who counted, what broke.",
    )


class ThresholdForm(FlaskForm):
    threshold = StringField("Low-stock threshold", render_kw={"inputmode": "numeric"})


class ImageUploadForm(FlaskForm):
    files = MultipleFileField(
        "Images",
        render_kw={"accept": "image/jpeg,image/png,image/webp", "required": True},
        description="JPEG, PNG or WebP, at most 10 MB each; choose several at once if you like.",
    )
    alt_text = StringField(
        "Alt text",
        render_kw={"maxlength": ALT_TEXT_LENGTH, "required": True},
        description="What the images show, for people who cannot see them; edit each later.",
    )


class AltTextForm(FlaskForm):
    alt_text = StringField("Alt text", render_kw={"maxlength": ALT_TEXT_LENGTH, "required": True})


class MoveImageForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(["up", "down"])])


def _groups_field() -> SelectMultipleField:
    return SelectMultipleField(
        "Permission groups",
        choices=[
            SelectChoice(name, f"{group.label}: {group.description}")
            for name, group in PERMISSION_GROUPS.items()
        ],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the service names an unknown group beside the field
    )


class StaffInviteForm(FlaskForm):
    email = StringField(
        "Email address",
        render_kw={"maxlength": EMAIL_MAX_LENGTH, "required": True, "autocomplete": "off"},
    )
    groups = _groups_field()


class StaffGroupsForm(FlaskForm):
    groups = _groups_field()


class ShippingMethodRow(Form):
    """One shipping method of the settings form (a row left blank is ignored)."""

    code = StringField("Code", render_kw={"maxlength": 32, "autocomplete": "off"})
    name = StringField("Name", render_kw={"maxlength": 100})
    price = StringField("Price", render_kw={"inputmode": "decimal", "maxlength": 14})
    delivery_days = StringField("Delivery (working days)", render_kw={"maxlength": 9})
    is_free_above_threshold = BooleanField("Free from the threshold")


class TaxRateRow(Form):
    """One country's tax rate, in percent (a row left blank is ignored)."""

    country = StringField("Country", render_kw={"maxlength": 2, "autocomplete": "off"})
    rate = StringField("Rate (%)", render_kw={"inputmode": "decimal", "maxlength": 8})


class SettingsForm(FlaskForm):
    shop_name = StringField("Shop name", render_kw={"maxlength": 100, "required": True})
    contact_email = StringField(
        "Contact email", render_kw={"maxlength": EMAIL_MAX_LENGTH, "required": True}
    )
    postal_address = TextAreaField("Postal address", render_kw={"maxlength": 500, "rows": 4})
    shipping_methods = FieldList(FormField(ShippingMethodRow))
    free_shipping_threshold = StringField(
        "Free shipping from",
        render_kw={"inputmode": "decimal", "maxlength": 14},
        description="A subtotal from which the ticked methods cost nothing; empty: never free.",
    )
    tax_rates = FieldList(FormField(TaxRateRow))
    default_tax_rate = StringField(
        "Tax rate for any other country (%)",
        render_kw={"inputmode": "decimal", "maxlength": 8},
    )
    prices_include_tax = BooleanField(
        "Storefront prices include tax",
        description="Prices on every storefront page, in the cart and at checkout are shown "
        "with the shopper's tax included (as EU shops must show them). The catalogue's prices "
        "stay net: what a customer pays does not change.",
    )
    shop_country = StringField(
        "The shop's country",
        render_kw={"maxlength": 2, "autocomplete": "off"},
        description="Its ISO code (GB, DE): whose tax rate shoppers without an address of "
        "their own see in the prices; empty: the rate for any other country.",
    )
    time_zone = StringField(
        "Time zone",
        render_kw={"maxlength": 64, "autocomplete": "off", "spellcheck": "false"},
        description="As the time-zone database names it (Europe/Berlin, America/New_York, "
        "UTC): the shop's days in its reports start at midnight there.",
    )
    return_window_days = StringField(
        "Return window (days after delivery)",
        render_kw={"inputmode": "numeric", "maxlength": 6},
        description="How long after delivery customers may ask to return items from their "
        "order page; 0: returns are not taken online.",
    )
    card_capture = SelectField(
        "When card payments are captured",
        choices=[
            SelectChoice(CAPTURE_AT_CHECKOUT, "At checkout"),
            SelectChoice(
                CAPTURE_AT_FULFILMENT, "Authorised at checkout, captured at the first shipment"
            ),
        ],
        validate_choice=False,  # the settings service says why another value is not one
        description="Captured at the first shipment: the customer's bank holds the sum when "
        "the order is placed, and staff recording the order's first shipment take it (a "
        "cancelled order's hold is released). Bank transfer and cash are not affected.",
    )
    bank_holder = StringField(
        "Account holder",
        render_kw={"maxlength": 100, "autocomplete": "off"},
        description="Bank transfer is offered only with an account holder and an account.",
    )
    bank_account_number = StringField(
        "IBAN or account number", render_kw={"maxlength": 100, "autocomplete": "off"}
    )
    bank_bic = StringField("BIC or sort code", render_kw={"maxlength": 100, "autocomplete": "off"})
    bank_name = StringField("Bank name", render_kw={"maxlength": 100})
    bank_transfer_details = TextAreaField(
        "Further bank transfer instructions",
        render_kw={"maxlength": 1000, "rows": 3},
        description="Optional; shown under the bank account to customers who pay by bank "
        "transfer, on the order page and by email.",
    )
    order_number_prefix = StringField(
        "Order number prefix",
        render_kw={"maxlength": 7},
        description="Starts the numbers of new orders (FN- gives FN-7K3QX9MD); "
        "orders placed before keep theirs.",
    )
    staff_two_factor_required = BooleanField(
        "Every staff member signs in with a code from an authenticator app",
        description="Staff who have not set it up are asked to, at their next sign-in, and "
        "reach no staff page or staff API until they have.",
    )
