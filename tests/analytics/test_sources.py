"""Where a visit came from (US-64): UTM tags, the referring site's host, the landing page and a
device class, read from the request once and kept without the referrer URL or user agent."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from funnel.analytics import tracking
from funnel.analytics.models import FunnelEvent
from funnel.analytics.sources import (
    LANDING_PATH_LENGTH,
    SOURCE_LENGTH,
    VisitSource,
    device_class,
    visit_source,
)
from funnel.extensions import db

pytestmark = pytest.mark.story("US-64")
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari"
ANDROID_PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126 Mobile"
ANDROID_TABLET = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/126 Safari"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (IPHONE, "phone"),
        (ANDROID_PHONE, "phone"),
        (IPAD, "tablet"),
        (ANDROID_TABLET, "tablet"),
        (DESKTOP, "desktop"),
        ("", "desktop"),
    ],
)
def test_the_device_class_comes_from_the_user_agent(agent: str, device: str) -> None:
    assert device_class(agent) == device


def test_utm_tags_name_the_source_medium_and_campaign() -> None:
    source = visit_source(
        {"utm_source": " Newsletter ", "utm_medium": "EMAIL", "utm_campaign": "Winter-Sale"},
        "https://mail.example.net/inbox?id=42",
        "shop.example.com",
        "/c/coats",
        IPHONE,
    )

    assert source == VisitSource("newsletter", "email", "winter-sale", "/c/coats", "phone")


def test_a_referring_site_is_kept_as_its_host_only() -> None:
    source = visit_source(
        {}, "https://www.search.example/results?q=red+shoes&user=ann", "shop.test", "/", DESKTOP
    )

    assert (source.source, source.medium, source.campaign) == ("search.example", "referral", None)


@pytest.mark.parametrize(
    "referrer", [None, "", "http://shop.test:5000/p/mug", "not a url", "http://[::1"]
)
def test_no_referrer_or_the_shops_own_is_a_direct_visit(referrer: str | None) -> None:
    source = visit_source({}, referrer, "shop.test:5000", "/p/mug", DESKTOP)

    assert (source.source, source.medium, source.campaign) == ("(direct)", "(none)", None)
    assert source.landing_path == "/p/mug"


@given(
    arguments=st.dictionaries(
        st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "q"]), st.text(max_size=300)
    ),
    referrer=st.one_of(st.none(), st.text(max_size=300)),
    path=st.text(max_size=500),
    agent=st.text(max_size=300),
)
def test_any_request_gives_a_source_that_fits_its_columns(
    arguments: dict[str, str], referrer: str | None, path: str, agent: str
) -> None:
    source = visit_source(arguments, referrer, "shop.test", path, agent)

    assert 0 < len(source.source) <= SOURCE_LENGTH
    assert 0 < len(source.landing_path) <= LANDING_PATH_LENGTH
    assert source.device in ("phone", "tablet", "desktop")
    for text in (source.source, source.medium, source.campaign or "x", source.landing_path):
        assert not any(ord(character) < 32 or ord(character) == 127 for character in text)


@pytest.mark.own_app
def test_a_page_visit_keeps_where_it_came_from_and_not_the_referrer_or_agent(
    app: Flask,
) -> None:
    tracking.init_app(app)
    app.add_url_rule("/_test/landing", "test_landing", lambda: "landing")
    client: FlaskClient = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = ANDROID_PHONE

    client.get(
        "/_test/landing?utm_source=Friends&utm_campaign=spring",
        headers={"Referer": "https://www.social.example/post/123?who=ann"},
    )
    client.get("/_test/landing", headers={"Referer": "https://elsewhere.example/"})

    db.session.close()
    (visit,) = db.session.scalars(select(FunnelEvent)).all()
    assert (visit.source, visit.medium, visit.campaign) == ("friends", "referral", "spring")
    assert (visit.landing_path, visit.device) == ("/_test/landing", "phone")
    stored = " ".join(str(value) for value in vars(visit).values())
    assert "social.example/post" not in stored
    assert "Pixel" not in stored
