"""The audit log: who on the staff changed what, when, from which address, before and after.

Services of any domain record an entry with one explicit call (``services.record``) inside
their own transaction, so that a change and its entry commit or roll back together. It knows
no other domain, like analytics; the staff pages read it through ``queries``.
"""
