"""Cart use cases: the only code that writes carts and their lines.

Every function runs in ``with transaction():`` (joining the caller's, as the checkout's
``clear_cart`` does) and touches the cart's ``updated_at``. A change first locks the cart's row
(``SELECT ... FOR UPDATE``; SQLite's IMMEDIATE write transaction holds the whole database), so
that two requests changing one cart run one after the other.

Quantities are whole numbers from 1 to what the inventory says is available (stock minus other
customers' unexpired reservations). The cart does not hold stock: the checkout reserves it, and
the availability shown here can still change before then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update

from funnel.accounts.models import User
from funnel.cart import queries
from funnel.cart.errors import CartLineExceedsStock, CartLineNotFound, CartNotFound
from funnel.cart.models import Cart, CartLine
from funnel.cart.queries import reservation_holder
from funnel.catalog.models import Product, ProductStatus, Variant
from funnel.core import clock
from funnel.core.database import transaction
from funnel.core.errors import NotFound
from funnel.extensions import db
from funnel.inventory.queries import available_quantities
from funnel.inventory.services import release

DEFAULT_RETENTION_DAYS = 30
DELETE_BATCH_SIZE = 500


def _locked_cart(cart_id: int) -> Cart:
    if not queries.is_valid_id(cart_id):
        raise CartNotFound()
    cart = db.session.scalars(
        select(Cart).where(Cart.id == cart_id).with_for_update()
    ).one_or_none()
    if cart is None:
        raise CartNotFound()
    return cart


def _touch(cart: Cart) -> None:
    cart.updated_at = clock.utcnow()


def _line(cart_id: int, line_id: object) -> CartLine:
    if not queries.is_valid_id(line_id):
        raise CartLineNotFound()
    line = db.session.scalars(
        select(CartLine).where(CartLine.id == line_id, CartLine.cart_id == cart_id)
    ).one_or_none()
    if line is None:
        raise CartLineNotFound()
    return line


def create_cart(user_id: int | None = None) -> Cart:
    """A new guest cart (``user_id`` None), or the account's cart, made if it has none yet.

    An account has at most one cart (a unique constraint). Requests making it at once queue on
    the account's row (``SELECT ... FOR UPDATE``), so that they all get the same cart without a
    duplicate-key error (two such errors waiting on each other deadlock on MariaDB).
    Raises NotFound for an unknown account. Side effects: may insert a ``carts`` row.
    """
    return open_cart(user_id).cart


@dataclass(frozen=True)
class OpenedCart:
    cart: Cart
    is_new: bool  # False: the account's cart already existed


def open_cart(user_id: int | None = None) -> OpenedCart:
    """``create_cart``, also saying whether the cart is new (the API answers 201 or 200).

    A guest always gets a new cart; an account gets its one cart, made if it has none yet.
    Raises NotFound for an unknown account. Side effects: may insert a ``carts`` row.
    """
    with transaction():
        if user_id is None:
            cart = Cart()
            db.session.add(cart)
            db.session.flush()
            return OpenedCart(cart, is_new=True)
        account = db.session.scalar(select(User.id).where(User.id == user_id).with_for_update())
        if account is None:
            raise NotFound("This account does not exist.")
        # A locking read: it sees a cart committed by the request served just before, even
        # under REPEATABLE READ, where a plain read could answer from an older snapshot.
        existing = db.session.scalars(
            select(Cart).where(Cart.user_id == user_id).with_for_update()
        ).one_or_none()
        if existing is not None:
            return OpenedCart(existing, is_new=False)
        cart = Cart(user_id=user_id)
        db.session.add(cart)
        db.session.flush()
        return OpenedCart(cart, is_new=True)


@dataclass(frozen=True)
class AddedLine:
    """The line an add made or grew, and the product the shopper is told was added."""

    id: int
    variant_id: int
    quantity: int
    product_id: int
    product_title: str


_LINE_OF_VARIANT = select(CartLine.id, CartLine.quantity).where(
    CartLine.cart_id == bindparam("cart_id"), CartLine.variant_id == bindparam("variant_id")
)

_TOUCH_CART = update(Cart).where(Cart.id == bindparam("cart_id")).values(updated_at=bindparam("at"))
_SET_LINE_QUANTITY = (
    update(CartLine)
    .where(CartLine.id == bindparam("line_id"))
    .values(quantity=bindparam("quantity"))
)


def _lock_and_touch(cart_id: int) -> None:
    """Lock the cart's row by touching its ``updated_at``: one statement for both.

    Raises CartNotFound. An UPDATE holds the row as ``SELECT ... FOR UPDATE`` would, so that
    two changes of one cart still run one after the other.
    """
    if not queries.is_valid_id(cart_id):
        raise CartNotFound()
    touched = db.session.execute(_TOUCH_CART, {"cart_id": cart_id, "at": clock.utcnow()})
    if touched.rowcount != 1:  # type: ignore[attr-defined]
        raise CartNotFound()


def add_item(cart_id: int, variant_id: int, quantity: int) -> AddedLine:
    """Add ``quantity`` units of a variant; a line already holding it grows instead.

    Raises InvalidQuantity (not a whole number of at least 1), CartVariantNotFound,
    ProductUnavailable (draft or archived product), CartLineExceedsStock (the line would hold more
    than is available; the message gives the quantity left), CartNotFound. Nothing changes on
    error. Side effects: locks the cart's row; touches ``updated_at``.
    """
    quantity = queries.checked_quantity(quantity)
    with transaction():
        _lock_and_touch(cart_id)
        variant = queries.sellable_variant(variant_id)
        line = db.session.execute(
            _LINE_OF_VARIANT, {"cart_id": cart_id, "variant_id": variant.id}
        ).first()
        held = line.quantity if line is not None else 0
        queries.check_stock_for(queries.available_for_cart(cart_id, variant.id), held, quantity)
        if line is None:
            added = CartLine(cart_id=cart_id, variant_id=variant.id, quantity=quantity)
            db.session.add(added)
            db.session.flush()
            line_id = added.id
        else:
            line_id = line.id
            db.session.execute(
                _SET_LINE_QUANTITY, {"line_id": line_id, "quantity": held + quantity}
            )
        return AddedLine(
            line_id, variant.id, held + quantity, variant.product_id, variant.product_title
        )


def change_quantity(cart_id: int, line_id: int, quantity: int) -> CartLine:
    """Set a line's quantity (1 to what is available; removing is ``remove_line``).

    Lowering the quantity of a line whose product is no longer sold is allowed (the line stays
    flagged); raising it is not. Raises InvalidQuantity, CartLineNotFound (also for another
    cart's line), ProductUnavailable, CartLineExceedsStock, CartNotFound. Side effects: touches
    ``updated_at``.
    """
    quantity = queries.checked_quantity(quantity)
    with transaction():
        cart = _locked_cart(cart_id)
        line = _line(cart.id, line_id)
        if quantity != line.quantity:
            if quantity > line.quantity:
                queries.sellable_variant(line.variant_id)
            available = queries.available_for_cart(cart.id, line.variant_id)
            if quantity > available:
                raise CartLineExceedsStock(available)
            line.quantity = quantity
            _touch(cart)
        return line


def remove_line(cart_id: int, line_id: int) -> None:
    """Remove one line. Raises CartLineNotFound (also for another cart's line), CartNotFound."""
    with transaction():
        cart = _locked_cart(cart_id)
        line = _line(cart.id, line_id)
        db.session.delete(line)
        _touch(cart)


def clear_cart(cart_id: int) -> None:
    """Remove every line (the cart itself stays). Joins the caller's transaction: the checkout
    calls it while placing the order, so that both commit or neither does.

    An unknown cart is nothing to clear. Side effects: touches ``updated_at``.
    """
    with transaction():
        cart = db.session.scalars(
            select(Cart).where(Cart.id == cart_id).with_for_update()
        ).one_or_none()
        if cart is None:
            return
        db.session.execute(delete(CartLine).where(CartLine.cart_id == cart.id))
        _touch(cart)


def merge_guest_cart(guest_cart_id: int, user_id: int) -> int:
    """Move a guest cart's lines into the account's cart (made if needed); returns its id.

    Lines for the same variant add their quantities, capped by what is available; a guest line
    of a product no longer sold, or with nothing available, is dropped. The guest cart is then
    deleted. A cart that is not a guest cart (another account's) is left alone, and an unknown
    one (already merged by a concurrent request) is nothing to merge.
    Side effects: locks both carts' rows (in id order); releases the guest checkout's stock hold.
    """
    with transaction():
        user_cart = create_cart(user_id)
        carts = {
            cart.id: cart
            for cart in db.session.scalars(
                select(Cart)
                .where(Cart.id.in_({guest_cart_id, user_cart.id}))
                .order_by(Cart.id)
                .with_for_update()
            )
        }
        guest = carts.get(guest_cart_id)
        if guest is None or guest.id == user_cart.id or guest.user_id is not None:
            return user_cart.id
        # Locking reads: on MariaDB they see the latest lines, not the snapshot of the first read.
        guest_lines = list(
            db.session.scalars(
                select(CartLine).where(CartLine.cart_id == guest.id).with_for_update()
            )
        )
        # The guest's own checkout hold (if any) must not count against the merged lines: the
        # account's checkout will reserve afresh.
        release(reservation_holder(guest.id))
        own_lines = {
            line.variant_id: line
            for line in db.session.scalars(
                select(CartLine).where(CartLine.cart_id == user_cart.id).with_for_update()
            )
        }
        variant_ids = [line.variant_id for line in guest_lines]
        active = set(
            db.session.scalars(
                select(Variant.id)
                .join(Product, Product.id == Variant.product_id)
                .where(Variant.id.in_(variant_ids), Product.status == ProductStatus.ACTIVE)
            )
        )
        available = available_quantities(
            variant_ids, excluding_holder=reservation_holder(user_cart.id)
        )
        for guest_line in guest_lines:
            variant_id = guest_line.variant_id
            own = own_lines.get(variant_id)
            held = own.quantity if own is not None else 0
            wanted = min(held + guest_line.quantity, available.get(variant_id, 0))
            if variant_id not in active or wanted <= held:
                continue
            if own is None:
                db.session.add(
                    CartLine(cart_id=user_cart.id, variant_id=variant_id, quantity=wanted)
                )
            else:
                own.quantity = wanted
        db.session.execute(delete(CartLine).where(CartLine.cart_id == guest.id))
        db.session.delete(guest)
        _touch(user_cart)
        return user_cart.id


def delete_stale_carts(days: int = DEFAULT_RETENTION_DAYS) -> int:
    """Delete carts (guests' and accounts') untouched for ``days`` days, with their lines.

    Works in batches, each in its own transaction, locking the batch's carts first so that a
    request cannot touch one halfway through. Returns how many carts were deleted. Raises
    ValueError for ``days`` < 1.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError("days must be a whole number of 1 or more")
    cutoff = clock.utcnow() - timedelta(days=days)
    deleted = 0
    while True:
        with transaction():
            ids = list(
                db.session.scalars(
                    select(Cart.id)
                    .where(Cart.updated_at < cutoff)
                    .order_by(Cart.id)
                    .limit(DELETE_BATCH_SIZE)
                    .with_for_update()
                )
            )
            if ids:
                db.session.execute(delete(CartLine).where(CartLine.cart_id.in_(ids)))
                db.session.execute(delete(Cart).where(Cart.id.in_(ids)))
                deleted += len(ids)
        if len(ids) < DELETE_BATCH_SIZE:
            return deleted
