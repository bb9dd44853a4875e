"""Carts: a guest's (found by a random token in a cookie) or a customer's (one per account).

``services`` writes (add, change, remove, merge at sign-in, clear at checkout, clean-up job),
``queries.cart_contents`` reads a cart with prices and availability from the catalogue and
inventory, ``web`` ties a browser to its cart, ``views`` are the ``/cart`` pages.
"""
