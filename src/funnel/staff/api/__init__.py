"""Staff operations over the JSON API: catalogue, stock, orders, refunds, customers.

Every operation needs a bearer token of an account holding the operation's permission
(``funnel.accounts.permissions``): 401 without a token, 403 ``permission_denied`` without
the permission. One blueprint; each subject's operations live in their own module below.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from funnel.core.api import API_PREFIX

bp = Blueprint(
    "staff_api",
    __name__,
    url_prefix=f"{API_PREFIX}/staff",
    description="Shop staff: catalogue, stock, orders, refunds and customers",
)

# Database integer ids fit in 32 bits; a larger number in a URL is a 404, not a driver error.
PRODUCT_ID = "<int(max=2147483647):product_id>"
VARIANT_ID = "<int(max=2147483647):variant_id>"
USER_ID = "<int(max=2147483647):user_id>"
ORDER_NUMBER = "<string(maxlength=40):number>"

from funnel.staff.api import catalog, customers, inventory, orders  # noqa: E402, F401  (routes)
