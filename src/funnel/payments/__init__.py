"""Payments: taking money through gateways, knowing nothing of what is paid for.

A payment pays for an opaque ``payable_reference`` (an order number, say). Checkout calls
``funnel.payments.services``; gateways live in ``funnel.payments.gateways``.
"""
