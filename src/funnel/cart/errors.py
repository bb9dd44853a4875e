"""Cart errors, each with a stable ``code`` (the HTML pages show ``detail``; the API sends it)."""

from __future__ import annotations

from funnel.core.errors import AuthenticationRequired, NotFound, ValidationFailed


class InvalidQuantity(ValidationFailed):
    """A quantity that is not a whole number of at least 1."""

    code = "invalid_quantity"
    title = "The quantity is not valid"


class CartLineExceedsStock(ValidationFailed):
    """More units asked for than are available; ``extra["available"]`` says how many are."""

    code = "insufficient_stock"
    title = "Not enough stock"

    def __init__(self, available: int, detail: str | None = None) -> None:
        if detail is None:
            detail = (
                "This item is out of stock."
                if available <= 0
                else f"Only {available} left: choose a quantity from 1 to {available}."
            )
        super().__init__(detail, fields={"quantity": [detail]})
        self.available = available
        self.extra["available"] = available


class ProductUnavailable(ValidationFailed):
    """The variant's product is a draft or archived: it cannot be added to a cart."""

    code = "product_unavailable"
    title = "This product is no longer available"


class CartVariantNotFound(NotFound):
    code = "variant_not_found"
    title = "This product does not exist"


class CartNotFound(NotFound):
    code = "cart_not_found"
    title = "This cart does not exist"


class CartLineNotFound(NotFound):
    """No such line in this cart (another cart's line is not found either: 404, not 403)."""

    code = "cart_line_not_found"
    title = "This item is not in your cart"


class CartSecretInvalid(AuthenticationRequired):
    """A ``Cart-Secret`` (and no bearer token) that opens no cart of that id: the secret is
    the credential, so this is a 401 (the same for a wrong secret and an unknown cart)."""

    code = "cart_secret_invalid"
    title = "This cart secret does not open this cart"
