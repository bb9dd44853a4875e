"""Staff operations over the JSON API: catalogue, stock, orders, refunds, returns, customers,
audit log, reports, shoppers' feedback.

Every operation needs a bearer token of an account holding the operation's permission
(``funnel.accounts.permissions``): 401 without a token, 403 ``permission_denied`` without
the permission. One blueprint; each subject's operations live in their own module below.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from funnel.core.api import API_PREFIX
from funnel.staff.access import record_client_address

bp = Blueprint(
    "staff_api",
    __name__,
    url_prefix=f"{API_PREFIX}/staff",
    description=(
        "Shop staff: catalogue, stock, orders, refunds, failed payments, customers and the"
        " audit log; reports; shoppers' feedback"
    ),
)
record_client_address(bp)

# Database ids (1 to 2**31 - 1): any other number in a URL is a 404 for every method.
PRODUCT_ID = "<id:product_id>"
VARIANT_ID = "<id:variant_id>"
USER_ID = "<id:user_id>"
ORDER_NUMBER = "<string(maxlength=40):number>"

# the modules whose operations register on ``bp`` (routes)
from funnel.staff.api import (  # noqa: E402, F401
    audit,
    catalog,
    categories,
    customers,
    feedback,
    images,
    inventory,
    orders,
    payments,
    reports,
    returns,
)
