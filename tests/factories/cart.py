"""Factories for the cart domain.

``cart_with({variant: quantity, ...}, user=None)`` builds a cart through the services, as the
shop does (so its lines pass the same checks). ``CartFactory`` inserts a bare cart row, for
states the services would not make on their own (one last touched long ago).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory

from funnel.cart import services
from funnel.cart.models import Cart, new_token
from funnel.extensions import db


class CartFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Cart
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"

    token = factory.LazyFunction(new_token)
    user_id = None


def cart_with(quantities: Mapping[Any, int], *, user: Any = None) -> Cart:
    """A cart (the user's, or a guest's) holding ``{variant: quantity}``, added in that order."""
    cart = services.create_cart(user.id if user is not None else None)
    for variant, quantity in quantities.items():
        services.add_item(cart.id, variant.id, quantity)
    return db.session.get(Cart, cart.id) or cart
