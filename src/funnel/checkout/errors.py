"""Checkout errors, each with a stable ``code`` (mapped once to an HTML page or problem+json)."""

from __future__ import annotations

from collections.abc import Sequence

from funnel.core.errors import Conflict, DomainError, NotFound, ValidationFailed


class CheckoutNotFound(NotFound):
    """No checkout for this browser (none started, another cart's, or closed)."""

    code = "checkout_not_found"
    title = "There is no checkout in progress"


class CheckoutInvalidInput(ValidationFailed):
    """A step's input breaks a rule; ``fields`` names each field and its messages."""

    code = "checkout_invalid_input"
    title = "Some fields are not valid"


class CartEmpty(Conflict):
    code = "cart_empty"
    title = "Your cart is empty"


class CartNeedsAttention(Conflict):
    """A line is no longer sold or asks for more than is available: fix the cart first."""

    code = "cart_needs_attention"
    title = "Some items in your cart need your attention"


class SoldOut(Conflict):
    """The stock cannot be reserved or taken; ``lines`` names the short lines in words."""

    code = "sold_out"
    title = "Sorry, some items are sold out"

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__("Not enough stock for: " + "; ".join(self.lines) + ".", lines=self.lines)


class HoldLimitReached(Conflict):
    """The cart asks for more of a variant than one customer may hold at a time (the
    ``RESERVATION_MAX_SHARE`` of its stock, counting their other checkouts); ``lines`` names
    them in words. The inventory's ``ReservationLimitReached``, said to the customer."""

    code = "reservation_limit_reached"
    title = "You cannot hold that many of these items at once"

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__(
            "Too many for one customer at a time: " + "; ".join(self.lines) + ".",
            lines=self.lines,
        )


class StepMissing(Conflict):
    """A step was skipped (e.g. paying before choosing a shipping method)."""

    code = "checkout_step_missing"
    title = "Please complete the previous step first"

    def __init__(self, step: str, detail: str | None = None) -> None:
        super().__init__(detail, step=step)
        self.step = step


class TotalsChanged(Conflict):
    """Prices, cart or shipping changed after the review: the customer reviews again."""

    code = "checkout_totals_changed"
    title = "Your order changed since you reviewed it. Please check it again."


class SubmitTokenInvalid(Conflict):
    """The pay form's one-time token is unknown or already used and no order came of it."""

    code = "checkout_submit_token_invalid"
    title = "This payment form has expired. Please check your order and pay again."


class AttemptOver(Conflict):
    """A payment arrived for a checkout attempt that is over: the checkout was completed,
    abandoned, or paid again meanwhile (its money is given back)."""

    code = "checkout_attempt_over"
    title = "This payment came after its checkout had moved on: it is given back."


class OrderInProgress(Conflict):
    """The checkout already has an order whose payment is under way."""

    code = "checkout_order_in_progress"
    title = "Your order has been placed and its payment is under way"

    def __init__(self, number: str) -> None:
        super().__init__(None, number=number)
        self.number = number


class CheckoutPaymentFailed(DomainError):
    """The payment was declined or could not be made: no order was placed, nothing was
    charged, and the checkout is open again to pay once more (an API answer: the pages say
    it with a message)."""

    code = "payment_failed"
    status = 402
    title = "The payment did not go through"


class FindingNotFound(NotFound):
    code = "finding_not_found"
    title = "No such reconciliation finding"


class FindingAlreadyResolved(Conflict):
    """A finding is resolved once: the note of what was done stays as it was written."""

    code = "finding_already_resolved"
    title = "This finding is resolved already"


class InvalidFindingResolution(ValidationFailed):
    """The note of the action taken is blank, too long, or holds a NUL character."""

    code = "invalid_finding_resolution"
    title = "Say what was done"
