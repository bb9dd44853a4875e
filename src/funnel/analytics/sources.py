"""Where a visit came from, and on what kind of device: read once, at the visit.

Pure: plain functions of the request's parts. Kept with the visit event, never the full
referrer URL nor the user agent: the referring site's host name only, the landing page's path
without its query string, and a device class (phone, tablet or desktop).

The source is the link's ``utm_source`` when it has one, else the referring site, else
``(direct)``; the medium is ``utm_medium``, else ``referral`` for a referring site, else
``(none)``; the campaign is ``utm_campaign`` or none. A referrer on the shop's own host is no
source (a visitor moving between its pages after midnight).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

SOURCE_LENGTH = 100
MEDIUM_LENGTH = 50
CAMPAIGN_LENGTH = 100
LANDING_PATH_LENGTH = 200
DEVICE_LENGTH = 8
DIRECT = "(direct)"
NO_MEDIUM = "(none)"
REFERRAL = "referral"
PHONE, TABLET, DESKTOP = "phone", "tablet", "desktop"
DEVICES = (PHONE, TABLET, DESKTOP)

_TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|android(?!.*mobile)", re.I)
_PHONE = re.compile(r"mobi|iphone|ipod|android|windows phone|blackberry|opera mini", re.I)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class VisitSource:
    source: str
    medium: str
    campaign: str | None
    landing_path: str
    device: str


def _clean(text: str | None, length: int, *, lower: bool = True) -> str | None:
    """Text a report can show: no control characters, trimmed, at most ``length``; None when
    nothing is left."""
    if not text:
        return None
    cleaned = _UNPRINTABLE.sub("", text).strip()[:length].strip()
    if lower:
        cleaned = cleaned.lower()
    return cleaned or None


def device_class(user_agent: str) -> str:
    """``phone``, ``tablet`` or ``desktop`` from a user agent (tablets first: an Android
    tablet says Android without Mobile)."""
    if _TABLET.search(user_agent):
        return TABLET
    if _PHONE.search(user_agent):
        return PHONE
    return DESKTOP


def referring_host(referrer: str | None, own_host: str) -> str | None:
    """The referring site's host name, without ``www.``; None for none, or the shop's own."""
    if not referrer:
        return None
    try:
        host = (urlsplit(referrer).hostname or "").lower()
    except ValueError:
        return None
    own = own_host.lower().split(":")[0]
    if not host or host == own:
        return None
    return host.removeprefix("www.")


def visit_source(
    arguments: Mapping[str, str],
    referrer: str | None,
    own_host: str,
    path: str,
    user_agent: str,
) -> VisitSource:
    """What a visit's request says of where it came from (see the module's docstring)."""
    host = referring_host(referrer, own_host)
    source = _clean(arguments.get("utm_source"), SOURCE_LENGTH) or host or DIRECT
    medium = _clean(arguments.get("utm_medium"), MEDIUM_LENGTH) or (REFERRAL if host else NO_MEDIUM)
    return VisitSource(
        source=source[:SOURCE_LENGTH],
        medium=medium,
        campaign=_clean(arguments.get("utm_campaign"), CAMPAIGN_LENGTH),
        landing_path=_clean(path, LANDING_PATH_LENGTH, lower=False) or "/",
        device=device_class(user_agent),
    )
