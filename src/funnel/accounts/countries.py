"""ISO 3166-1 country codes, as the accounts domain names them (they live in ``core.countries``,
where the shop's settings, below accounts, read them too)."""

from funnel.core.countries import COUNTRIES, country_choices, is_country_code

__all__ = ["COUNTRIES", "country_choices", "is_country_code"]
