"""The shop's settings: shipping, tax, bank transfer details, the shop's name and address, the
order number prefix; edited by admins on the staff settings page, stored in the database.

Low in the layers (beside analytics) so that every domain may read them with
``queries.current_settings()``; the environment gives a new shop its initial values.
"""
