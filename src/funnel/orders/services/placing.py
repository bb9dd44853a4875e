"""Placing an order: the checkout's one call, inside the checkout's own transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from funnel.accounts.errors import InvalidEmail
from funnel.accounts.models import User, normalise_email
from funnel.accounts.postal import PostalAddress
from funnel.core import metrics
from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.orders.emails import schedule_order_email
from funnel.orders.errors import InvalidOrder
from funnel.orders.models import VISITOR_ID_LENGTH, Order, OrderLine, OrderStatus
from funnel.orders.numbers import new_number
from funnel.orders.services.results import OrderLineInput
from funnel.orders.services.state import read_order, record_event
from funnel.settings.queries import current_settings

MAX_QUANTITY = 1_000_000
MAX_TAX_RATE_BASIS_POINTS = 100_000  # 1000 %: anything above is a mistake
NUMBER_ATTEMPTS = 5


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object, length: int, *, required: bool = True) -> str | None:
    """The stripped text, or None when it is not acceptable."""
    if value is None:
        return None if required else ""
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    if (required and not stripped) or len(stripped) > length:
        return None
    return stripped


def _checked_lines(
    lines: Sequence[OrderLineInput], currency: str, errors: dict[str, list[str]]
) -> list[OrderLine]:
    if not lines:
        errors["lines"] = ["An order needs at least one line."]
        return []
    checked: list[OrderLine] = []
    for index, line in enumerate(lines):
        field = f"lines.{index}"
        price = line.unit_price
        problems = []
        if line.variant_id is not None and (not _is_whole(line.variant_id) or line.variant_id < 1):
            problems.append("The variant id must be a positive whole number.")
        if not _is_whole(line.quantity) or not 1 <= line.quantity <= MAX_QUANTITY:
            problems.append(f"The quantity must be a whole number from 1 to {MAX_QUANTITY}.")
        if not isinstance(price, Money) or price.amount < 0:
            problems.append("The unit price must be an amount of money, not negative.")
        elif price.currency != currency:
            problems.append(f"The unit price is in {price.currency}, the order in {currency}.")
        sku = _text(line.sku, 64)
        title = _text(line.product_title, 200)
        label = _text(line.variant_label, 200, required=False)
        if sku is None or title is None or label is None:
            problems.append("SKU and product title are required (64 and 200 characters).")
        if problems:
            errors[field] = problems
            continue
        checked.append(
            OrderLine(
                variant_id=line.variant_id,
                sku=sku,
                product_title=title,
                variant_label=label,
                unit_price_minor=price.amount,
                quantity=line.quantity,
                line_total_minor=price.amount * line.quantity,
            )
        )
    return checked


def _checked_money(name: str, value: object, currency: str, errors: dict[str, list[str]]) -> int:
    if not isinstance(value, Money) or value.amount < 0:
        errors[name] = ["Must be an amount of money, not negative."]
        return 0
    if value.currency != currency:
        errors[name] = [f"Is in {value.currency}, the order in {currency}."]
        return 0
    return value.amount


def _insert_with_new_number(order: Order) -> None:
    """Insert ``order`` under a fresh random number, drawing again on a (rare) collision."""
    for _attempt in range(NUMBER_ATTEMPTS):
        number = new_number(current_settings().order_number_prefix)
        if db.session.scalar(select(exists().where(Order.number == number))):
            continue
        order.number = number
        try:
            with db.session.begin_nested():
                db.session.add(order)
        except IntegrityError:
            if db.session.scalar(select(exists().where(Order.number == number))):
                continue
            raise
        return
    raise RuntimeError(f"no free order number after {NUMBER_ATTEMPTS} draws")


def place_order(
    *,
    email: str,
    user_id: int | None,
    lines: Sequence[OrderLineInput],
    shipping_address: PostalAddress,
    shipping_method_code: str,
    shipping_method_name: str,
    shipping: Money,
    tax: Money,
    tax_rate_basis_points: int,
    payment_gateway: str,
    visitor_id: str | None = None,
    expected_total: Money | None = None,
) -> Order:
    """Record a new order, ``pending_payment``, with its lines and its first event.

    Joins the caller's transaction (the checkout's, which also takes the stock and creates the
    payment under the order's number: this function touches neither). The subtotal is the sum
    of the lines (unit price times quantity), the total is subtotal + shipping + tax, all in
    the currency of the lines; ``expected_total``, when given (the total the customer saw on
    the review page), must equal that total.
    Returns the order (its ``number`` is the payments' ``payable_reference`` and the stock
    ledger's ``order_reference``).
    ``shipping_address`` is copied into the order; a ``PostalAddress`` was checked when it was
    made (the address rules are ``accounts.postal``'s, one for the whole shop).
    Raises InvalidOrder (``fields`` names every problem: no lines, mixed currencies, totals
    that do not add up, bad quantities, no PostalAddress, an unknown user).
    Side effects: one ``orders`` row, its ``order_lines``, an OrderEvent (created ->
    pending_payment). No email: schedule ``send_order_placed_email`` for bank transfers and
    cash on delivery.
    """
    errors: dict[str, list[str]] = {}
    try:
        checked_email = normalise_email(email)
    except InvalidEmail as error:
        errors["email"] = [error.detail]
        checked_email = ""
    first_price = lines[0].unit_price if lines else None
    currency = first_price.currency if isinstance(first_price, Money) else "XXX"
    order_lines = _checked_lines(lines, currency, errors)
    shipping_minor = _checked_money("shipping", shipping, currency, errors)
    tax_minor = _checked_money("tax", tax, currency, errors)
    if not isinstance(shipping_address, PostalAddress):
        errors["shipping_address"] = ["A postal address is required."]
    if not _is_whole(tax_rate_basis_points) or not (
        0 <= tax_rate_basis_points <= MAX_TAX_RATE_BASIS_POINTS
    ):
        errors["tax_rate_basis_points"] = [f"A whole number from 0 to {MAX_TAX_RATE_BASIS_POINTS}."]
    method_code = _text(shipping_method_code, 32)
    method_name = _text(shipping_method_name, 100)
    gateway = _text(payment_gateway, 32)
    if method_code is None or method_name is None:
        errors["shipping_method"] = ["A shipping method code and name are required."]
    if gateway is None:
        errors["payment_gateway"] = ["A payment gateway is required."]
    if visitor_id is not None and _text(visitor_id, VISITOR_ID_LENGTH) is None:
        errors["visitor_id"] = [f"1 to {VISITOR_ID_LENGTH} characters."]
    if user_id is not None and not _is_whole(user_id):
        errors["user_id"] = ["Must be a user id."]
    subtotal_minor = sum(line.line_total_minor for line in order_lines)
    total_minor = subtotal_minor + shipping_minor + tax_minor
    computed = Money(total_minor, currency) if not errors else None
    if expected_total is not None and computed is not None and expected_total != computed:
        errors["total"] = [
            f"Lines, shipping and tax add up to {computed.format()}, not {expected_total}."
        ]
    if errors:
        raise InvalidOrder("The order is not valid: " + "; ".join(sorted(errors)), fields=errors)

    with transaction():
        if user_id is not None and db.session.get(User, user_id) is None:
            raise InvalidOrder(fields={"user_id": ["No such user."]})
        order = Order(
            email=checked_email,
            user_id=user_id,
            status=OrderStatus.PENDING_PAYMENT,
            currency=currency,
            subtotal_minor=subtotal_minor,
            shipping_minor=shipping_minor,
            tax_minor=tax_minor,
            total_minor=total_minor,
            tax_rate_basis_points=tax_rate_basis_points,
            shipping_method_code=method_code,
            shipping_method_name=method_name,
            payment_gateway=gateway,
            visitor_id=visitor_id,
            **shipping_address.columns(prefix="ship_"),
        )
        _insert_with_new_number(order)
        for line in order_lines:
            line.order_id = order.id
        db.session.add_all(order_lines)
        record_event(order, None, OrderStatus.PENDING_PAYMENT, actor_user_id=user_id, note="placed")
        metrics.order_placed(currency, total_minor)
        return order


def send_order_placed_email(order: Order | int | str) -> None:
    """Email the order placed for an offline payment: for a bank transfer, "awaiting your
    bank transfer" (the amount, the order number as the payment reference and the
    ``BANK_TRANSFER_DETAILS`` setting); for cash on delivery, the confirmation that says to
    pay the amount on delivery. Both link to the order.

    Inside a transaction (the checkout's) it is sent after the commit, never for an order
    rolled back; outside one, at once. Raises OrderNotFound.
    """
    placed = read_order(order)
    schedule_order_email("cash_on_delivery" if placed.is_paid_on_delivery else "placed", placed.id)
