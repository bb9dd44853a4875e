"""Shoppers' feedback: a message (and an optional email) sent from any storefront page, read,
handled and answered by email by the staff who read the reports."""
