"""Recording funnel events: the only code that writes ``funnel_events``.

Services of any domain call ``record_event`` with plain ids as the step happens (the product
page: product_view; the cart: add_to_cart; the checkout: checkout_started, payment_attempted,
order_paid). A ``None`` visitor id means the visitor is not tracked (Do Not Track, Global
Privacy Control, a bot): the call then records nothing, so callers need no condition of their
own. Recording joins the caller's transaction when one is open (the event commits or rolls
back with the step it describes), else opens its own.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from funnel.analytics import batches
from funnel.analytics.errors import InvalidFunnelEvent
from funnel.analytics.models import (
    DEDUPE_KEY_LENGTH,
    ORDER_REFERENCE_LENGTH,
    VISITOR_ID_LENGTH,
    FunnelEvent,
    FunnelProductVisitorDay,
    FunnelStage,
    FunnelVisitorDay,
)
from funnel.analytics.sources import VisitSource
from funnel.core import clock, metrics
from funnel.core.database import in_transaction, transaction

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 396  # 13 months


def _checked_text(name: str, value: str | None, length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > length:
        raise InvalidFunnelEvent(fields={name: [f"1 to {length} characters."]})
    return value


def _checked_id(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidFunnelEvent(fields={name: ["Must be a positive whole number."]})
    return value


def record_event(
    stage: FunnelStage | str,
    visitor_id: str | None,
    *,
    user_id: int | None = None,
    product_id: int | None = None,
    order_reference: str | None = None,
    dedupe_key: str | None = None,
) -> FunnelEvent | None:
    """Record that ``visitor_id`` reached ``stage`` now.

    ``dedupe_key`` makes the event happen at most once, even from concurrent requests (use
    ``f"order_paid:{reference}"`` for a payment the confirm page and a webhook may both see):
    the row is inserted in a SAVEPOINT and a duplicate is dropped without disturbing the
    caller's transaction. A product view or an add to cart outside a transaction goes to the
    process's batch when batching is on (``batches``): it is written within
    ``ANALYTICS_BATCH_MILLISECONDS``.
    Returns the event written, or None when none was written now (visitor not tracked, a
    duplicate, or kept for the batch: a batched event is a plain row, no ORM object, as it is
    counted on every product page).
    Raises InvalidFunnelEvent for an unknown stage or a malformed id. Side effects: one
    INSERT, in the caller's transaction if one is open (or later, batched).
    """
    try:
        checked_stage = FunnelStage(stage)
    except ValueError:
        raise InvalidFunnelEvent(fields={"stage": ["Unknown funnel stage."]}) from None
    if visitor_id is None:
        return None
    row = {
        "stage": checked_stage,
        "visitor_id": _checked_text("visitor_id", visitor_id, VISITOR_ID_LENGTH),
        "user_id": _checked_id("user_id", user_id),
        "product_id": _checked_id("product_id", product_id),
        "occurred_at": clock.utcnow(),
    }
    order_reference = _checked_text("order_reference", order_reference, ORDER_REFERENCE_LENGTH)
    dedupe_key = _checked_text("dedupe_key", dedupe_key, DEDUPE_KEY_LENGTH)
    batch = batches.batch_of(current_app)
    if batch is not None and _is_batched(checked_stage, order_reference, dedupe_key):
        batch.add(row)
        return None
    return _insert(FunnelEvent(**row, order_reference=order_reference, dedupe_key=dedupe_key))


# The stages a shopper reaches many times a visit, each on a step that commits before it is
# counted: a product view (a page that only reads) and an add to cart (its line committed).
BATCHED_STAGES = frozenset({FunnelStage.PRODUCT_VIEW, FunnelStage.ADD_TO_CART})


def _is_batched(stage: FunnelStage, order_reference: str | None, dedupe_key: str | None) -> bool:
    """A product view or an add to cart outside any transaction: written later with others
    (``batches``)."""
    return (
        stage in BATCHED_STAGES
        and order_reference is None
        and dedupe_key is None
        and not in_transaction()
    )


def _insert(event: FunnelEvent) -> FunnelEvent | None:
    """Insert ``event``: None when its ``dedupe_key`` was recorded already."""
    with transaction() as session:
        if event.dedupe_key is None:
            session.add(event)
            session.flush()
            metrics.funnel_event(event.stage.value)
            return event
        session.flush()  # the caller's pending work: its errors are not ours to swallow
        try:
            with session.begin_nested():
                session.add(event)
        except IntegrityError:
            return None  # recorded already (by this request earlier, or a concurrent one)
        metrics.funnel_event(event.stage.value)
        return event


def visit_key(visitor_id: str, day: date) -> str:
    """The dedupe key of a visitor's visit on ``day`` (UTC)."""
    return f"visit:{visitor_id}:{day.isoformat()}"


def record_visit(
    visitor_id: str | None, user_id: int | None = None, source: VisitSource | None = None
) -> bool:
    """Record ``visitor_id``'s visit for today (UTC), once per visitor and day, with where it
    came from and on what device when the edge knows (``sources.visit_source``).

    Returns True when this call recorded it, False when it was already recorded today (or the
    visitor is not tracked). Raises InvalidFunnelEvent for a malformed id.
    """
    if visitor_id is None:
        return False
    now = clock.utcnow()
    event = FunnelEvent(
        stage=FunnelStage.VISIT,
        visitor_id=_checked_text("visitor_id", visitor_id, VISITOR_ID_LENGTH),
        user_id=_checked_id("user_id", user_id),
        dedupe_key=visit_key(visitor_id, now.date()),
        occurred_at=now,
    )
    if source is not None:
        event.source, event.medium, event.campaign = source.source, source.medium, source.campaign
        event.landing_path, event.device = source.landing_path, source.device
    return _insert(event) is not None


def retention_days() -> int:
    """How long events are kept: ``ANALYTICS_RETENTION_DAYS`` (396, about 13 months)."""
    return int(current_app.config.get("ANALYTICS_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def delete_old_events(*, batch_size: int = 5000) -> int:
    """Delete events older than the retention period, in batches (each its own transaction,
    so that a large purge never holds locks for long), and the daily summary's days before
    them. Returns the number of events deleted."""
    cutoff = clock.utcnow() - timedelta(days=retention_days())
    total = 0
    while True:
        with transaction() as session:
            ids = list(
                session.scalars(
                    select(FunnelEvent.id)
                    .where(FunnelEvent.occurred_at < cutoff)
                    .order_by(FunnelEvent.id)
                    .limit(batch_size)
                )
            )
            if ids:
                session.execute(
                    delete(FunnelEvent).where(FunnelEvent.id.in_(ids)),
                    execution_options={"synchronize_session": False},
                )
        total += len(ids)
        if len(ids) < batch_size:
            with transaction() as session:
                # The daily summary's days whose events are gone (the day before the cutoff's
                # too: in the shop's time zone, it may have begun on the day before in UTC).
                for summary in (FunnelVisitorDay, FunnelProductVisitorDay):
                    session.execute(
                        delete(summary).where(summary.day < cutoff.date() - timedelta(days=1))
                    )
            if total:
                log.info("deleted %d funnel events older than %s", total, cutoff.isoformat())
            return total
