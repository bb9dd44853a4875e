"""The address book: each customer's addresses, with at most one default shipping address."""

from __future__ import annotations

import sqlalchemy as sa

from funnel.accounts import queries
from funnel.accounts.errors import AddressNotFound
from funnel.accounts.models import Address
from funnel.accounts.postal import PostalAddress
from funnel.core.database import transaction
from funnel.extensions import db


def add_address(
    user_id: int, address: PostalAddress, *, is_default_shipping: bool = False
) -> Address:
    """Add an address (checked when it was made: see ``postal``) to the user's book.

    The first address becomes the default shipping address, as does one marked default (the
    previous default is cleared). Side effect: inserts an ``addresses`` row.
    """
    with transaction() as session:
        has_default = session.scalar(
            sa.select(sa.func.count())
            .select_from(Address)
            .where(Address.user_id == user_id, Address.is_default_shipping.is_(True))
        )
        row = Address(user_id=user_id, **address.columns())
        row.is_default_shipping = is_default_shipping or not has_default
        session.add(row)
        session.flush()
        if row.is_default_shipping:
            _clear_other_defaults(user_id, row.id)
    return row


def remember_address(user_id: int, address: PostalAddress) -> Address:
    """Keep an address the customer typed elsewhere (at checkout) in their book, unless the
    book already holds the same one (every field equal, ignoring case): then that one is
    returned and nothing is written. A new address follows ``add_address``'s rules (the first
    becomes the default). Side effect: may insert an ``addresses`` row."""
    with transaction() as session:
        wanted = _comparable(address.columns())
        for row in session.scalars(sa.select(Address).where(Address.user_id == user_id)):
            if _comparable({name: getattr(row, name) for name in wanted}) == wanted:
                return row
        return add_address(user_id, address)


def _comparable(columns: dict[str, str | None]) -> dict[str, str]:
    return {name: (value or "").casefold() for name, value in columns.items()}


def update_address(
    user_id: int, address_id: int, address: PostalAddress, *, is_default_shipping: bool = False
) -> Address:
    """Change one of the user's addresses to ``address``.

    Raises AddressNotFound when the address is not the user's (nothing changes). Side effect:
    updates the row; marking it default clears the previous one.
    """
    with transaction() as session:
        row = _owned(user_id, address_id)
        for name, value in address.columns().items():
            setattr(row, name, value)
        row.is_default_shipping = is_default_shipping
        session.flush()
        if row.is_default_shipping:
            _clear_other_defaults(user_id, row.id)
    return row


def delete_address(user_id: int, address_id: int) -> None:
    """Delete one of the user's addresses.

    Raises AddressNotFound when it is not the user's (nothing changes). Side effect: when the
    default shipping address is deleted, the newest remaining address becomes the default.
    """
    with transaction() as session:
        address = _owned(user_id, address_id)
        was_default = address.is_default_shipping
        session.delete(address)
        session.flush()
        if was_default:
            successor = session.scalar(
                sa.select(Address)
                .where(Address.user_id == user_id)
                .order_by(Address.created_at.desc(), Address.id.desc())
                .limit(1)
            )
            if successor is not None:
                successor.is_default_shipping = True


def set_default_shipping_address(user_id: int, address_id: int) -> Address:
    """Make one of the user's addresses the default shipping address, clearing the previous one.

    Raises AddressNotFound when it is not the user's.
    """
    with transaction() as session:
        address = _owned(user_id, address_id)
        address.is_default_shipping = True
        session.flush()
        _clear_other_defaults(user_id, address.id)
    return address


def _owned(user_id: int, address_id: int) -> Address:
    address = queries.find_address(user_id, address_id)
    if address is None:
        raise AddressNotFound()
    return address


def _clear_other_defaults(user_id: int, keep_id: int) -> None:
    db.session.execute(
        sa.update(Address)
        .where(
            Address.user_id == user_id,
            Address.id != keep_id,
            Address.is_default_shipping.is_(True),
        )
        .values(is_default_shipping=False)
        .execution_options(synchronize_session=False)
    )
