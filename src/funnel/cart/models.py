"""Cart tables: ``carts`` (a guest's, by token, or an account's) and their ``cart_lines``.

A line stores only the variant and the quantity: prices, titles and availability are read from
the catalogue and inventory every time the cart is shown, never kept from the moment of adding.
``carts.updated_at`` is touched by every change of the cart or its lines; the clean-up job
deletes carts untouched for ``CART_RETENTION_DAYS``. Lines go with their cart, and with their
variant (ON DELETE CASCADE).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

import funnel.accounts.models
import funnel.catalog.models  # noqa: F401  (users and variants: foreign keys refer to them)
from funnel.core.models import now
from funnel.extensions import db

TOKEN_LENGTH = 64


def new_token() -> str:
    """A random public token for a guest cart (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


class Cart(db.Model):
    __tablename__ = "carts"
    __table_args__ = (Index(None, "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), unique=True, default=new_token)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart", order_by="CartLine.id", lazy="raise", passive_deletes=True
    )

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    def __repr__(self) -> str:
        return f"<Cart {self.id} user={self.user_id}>"


class CartLine(db.Model):
    __tablename__ = "cart_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        UniqueConstraint("cart_id", "variant_id"),
        Index(None, "variant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=now)

    cart: Mapped[Cart] = relationship(back_populates="lines", lazy="raise")

    def __repr__(self) -> str:
        return f"<CartLine {self.cart_id} variant={self.variant_id} x{self.quantity}>"
