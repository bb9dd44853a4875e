"""The carriers staff ship with, and how a tracking number becomes a tracking link.

A known carrier has a link template with ``{number}`` in it; ``other`` is any carrier staff
name themselves, with a link they give (or none). Tracking numbers are letters, digits, spaces
and dashes, so that they read the same in an email and fit in a link (quoted all the same).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

OTHER = "other"
TRACKING_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,63}$")


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    tracking_url_template: str | None

    def tracking_url(self, tracking_number: str) -> str | None:
        """The link to follow ``tracking_number`` (None without a template or a number)."""
        if not self.tracking_url_template or not tracking_number:
            return None
        return self.tracking_url_template.format(number=quote(tracking_number, safe=""))


CARRIERS: dict[str, Carrier] = {
    carrier.code: carrier
    for carrier in (
        Carrier("dhl", "DHL", "https://www.dhl.com/en/express/tracking.html?AWB={number}"),
        Carrier("ups", "UPS", "https://www.ups.com/track?tracknum={number}"),
        Carrier("fedex", "FedEx", "https://www.fedex.com/fedextrack/?trknbr={number}"),
        Carrier("usps", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"),
        Carrier(
            "royal_mail",
            "Royal Mail",
            "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
        ),
        Carrier(OTHER, "Other", None),
    )
}


def is_web_link(url: str) -> bool:
    """A link a customer may be sent to: http or https, with a host, no spaces."""
    return re.match(r"^https?://[^\s/?#]+[^\s]*$", url) is not None
