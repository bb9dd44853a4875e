"""Keeping the funnel's daily summary: each visitor's stages per shop day.

The funnel reports count distinct visitors over periods of up to a year of events; counted
from the events, that is a distinct count over every event of the period on each request. The
summary (``models.FunnelVisitorDay``) holds one row per stage, visitor and shop day, with the
visitor's previous day at that stage, so that a report counts rows of an index instead
(``daily``). A day is summarised once it has ended and settled (``SETTLE_AFTER``): events are
written as they happen, so by then every event of the day is in. An event written late (a
batch of views kept while the database was away) is noted in ``late_funnel_events`` with it and
added by the next run, even to a day summarised already. The reports count the days after the
summarised ones (today, and any day a run has not reached yet) from the events themselves, so
their figures are exact and current whatever the summary holds.

Days are the shop's days: the summary is kept in one time zone, and a run in another (the
setting changed) starts it again from the first event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, delete, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from funnel.analytics.daily import STATE_ID, midnight
from funnel.analytics.models import (
    PRODUCT_STAGES,
    SETTLE_AFTER,
    FunnelEvent,
    FunnelProductVisitorDay,
    FunnelSummaryState,
    FunnelVisitorDay,
    LateFunnelEvent,
)
from funnel.core import clock
from funnel.core.database import transaction

LATE_EVENTS_AT_ONCE = 1000


@dataclass(frozen=True)
class SummaryRun:
    """What one run did."""

    time_zone: str
    days: int
    late_events: int
    summarised_through: date | None
    started_again: bool


def last_settled_day(now: datetime, zone: ZoneInfo) -> date:
    """The last shop day that ended at least ``SETTLE_AFTER`` before ``now``."""
    return (now - SETTLE_AFTER).astimezone(zone).date() - timedelta(days=1)


def summarise(time_zone: str, *, now: datetime | None = None) -> SummaryRun:
    """Bring the summary up to the last settled shop day in ``time_zone``: add the late
    events first, then each day not summarised yet, in order, each in its own transaction
    (a run that stops halfway keeps what it did). Started again from the first event when the
    summary was kept in another time zone. Runs one at a time: each transaction holds the
    state row's lock. Side effects: writes ``funnel_visitor_days``,
    ``funnel_product_visitor_days`` and the state row; deletes the late events it added."""
    zone = ZoneInfo(time_zone)
    last_day = last_settled_day(now or clock.utcnow(), zone)
    _make_state(zone.key)
    with transaction() as session:
        state, started_again = _locked_state(session, zone.key)
    late = _add_late_events(zone)
    with transaction() as session:
        through = _locked_state(session, zone.key)[0].summarised_through
    days = 0
    day = _first_day_to_summarise(through, zone, last_day)
    while day <= last_day:
        with transaction() as session:
            state, _ = _locked_state(session, zone.key)
            if state.summarised_through is not None and state.summarised_through >= day:
                day = state.summarised_through + timedelta(days=1)
                continue  # another run got here first
            _summarise_day(session, day, zone)
            state.summarised_through = day
        days += 1
        through = day
        day += timedelta(days=1)
    return SummaryRun(zone.key, days, late, through, started_again)


def start_again() -> None:
    """Forget the summary (the next run builds it from the first event): for events written
    into the past, as the demo loader does. Side effects: deletes every summary row."""
    with transaction() as session:
        session.execute(delete(FunnelVisitorDay))
        session.execute(delete(FunnelProductVisitorDay))
        session.execute(delete(LateFunnelEvent))
        session.execute(delete(FunnelSummaryState))


def _make_state(time_zone: str) -> None:
    """Make the state row before the first run, in a transaction of its own: runs then only
    ever lock a row that exists (locking a missing row takes a gap lock on MariaDB, and two
    first runs inserting into the gap deadlock)."""
    with transaction() as session:
        if session.get(FunnelSummaryState, STATE_ID) is not None:
            return
    try:
        with transaction() as session:
            session.add(FunnelSummaryState(id=STATE_ID, time_zone=time_zone))
    except IntegrityError:
        pass  # a concurrent first run made it


def _locked_state(session: Session, time_zone: str) -> tuple[FunnelSummaryState, bool]:
    """The state row, locked for this transaction; the summary emptied first when it was kept
    in another time zone. True when it was."""
    locked = select(FunnelSummaryState).where(FunnelSummaryState.id == STATE_ID).with_for_update()
    state = session.scalars(locked).one()
    if state.time_zone == time_zone:
        return state, False
    session.execute(delete(FunnelVisitorDay))
    session.execute(delete(FunnelProductVisitorDay))
    state.time_zone, state.summarised_through = time_zone, None
    return state, True


def _first_day_to_summarise(through: date | None, zone: ZoneInfo, last_day: date) -> date:
    if through is not None:
        return through + timedelta(days=1)
    with transaction() as session:
        first_event = session.scalar(select(func.min(FunnelEvent.occurred_at)))
    return first_event.astimezone(zone).date() if first_event else last_day + timedelta(days=1)


def _summarise_day(session: Session, day: date, zone: ZoneInfo) -> None:
    """One row per stage and visitor of ``day``'s events (and per stage, product and visitor
    of its views and adds to cart)."""
    in_day = (
        FunnelEvent.occurred_at >= midnight(day, zone),
        FunnelEvent.occurred_at < midnight(day + timedelta(days=1), zone),
    )
    _insert_day(session, FunnelVisitorDay, ("stage", "visitor_id"), day, *in_day)
    _insert_day(
        session,
        FunnelProductVisitorDay,
        ("stage", "product_id", "visitor_id"),
        day,
        FunnelEvent.stage.in_(PRODUCT_STAGES),
        FunnelEvent.product_id.is_not(None),
        *in_day,
    )


def _insert_day(
    session: Session,
    model: type[FunnelVisitorDay] | type[FunnelProductVisitorDay],
    keys: tuple[str, ...],
    day: date,
    *conditions: Any,
) -> None:
    """A row of ``model`` for each distinct ``keys`` of the events meeting ``conditions``,
    with the last earlier summarised day of the same keys as its previous day: every earlier
    day is summarised, so that is the previous one."""
    columns = [getattr(FunnelEvent, key) for key in keys]
    earlier = (
        select(func.max(model.day))
        .where(
            *(getattr(model, key) == column for key, column in zip(keys, columns, strict=True)),
            model.day < day,
        )
        .scalar_subquery()
    )
    session.execute(
        insert(model).from_select(
            [*keys, "day", "previous_day"],
            select(*columns, literal(day, Date), earlier).where(*conditions).group_by(*columns),
        )
    )


def _add_late_events(zone: ZoneInfo) -> int:
    """Add the late events of summarised days, ``LATE_EVENTS_AT_ONCE`` per transaction; the
    others are left to the run that summarises their day from the events. Returns how many
    late events there were."""
    total = 0
    while True:
        with transaction() as session:
            state, _ = _locked_state(session, zone.key)
            late = list(
                session.scalars(
                    select(LateFunnelEvent).order_by(LateFunnelEvent.id).limit(LATE_EVENTS_AT_ONCE)
                )
            )
            for event in late:
                day = event.occurred_at.astimezone(zone).date()
                through = state.summarised_through
                if through is not None and day <= through:
                    _add_visitor_day(session, event, day)
            # By id: a late event committed since the read above waits for the next round.
            session.execute(
                delete(LateFunnelEvent).where(LateFunnelEvent.id.in_([row.id for row in late])),
                execution_options={"synchronize_session": False},
            )
        total += len(late)
        if len(late) < LATE_EVENTS_AT_ONCE:
            return total


def _add_visitor_day(session: Session, event: LateFunnelEvent, day: date) -> None:
    """Add a late event's day among days summarised already (and its product's day, for a
    view or an add to cart): it becomes the previous day of the visitor's next day there."""
    _add_day(
        session,
        FunnelVisitorDay,
        {"stage": event.stage, "visitor_id": event.visitor_id},
        day,
    )
    if event.stage in PRODUCT_STAGES and event.product_id is not None:
        _add_day(
            session,
            FunnelProductVisitorDay,
            {"stage": event.stage, "product_id": event.product_id, "visitor_id": event.visitor_id},
            day,
        )


def _add_day(
    session: Session,
    model: type[FunnelVisitorDay] | type[FunnelProductVisitorDay],
    key: dict[str, object],
    day: date,
) -> None:
    same = [getattr(model, name) == value for name, value in key.items()]
    if session.scalars(select(model).where(*same, model.day == day)).first() is not None:
        return
    previous = session.scalar(select(func.max(model.day)).where(*same, model.day < day))
    following = session.scalars(
        select(model).where(*same, model.day > day).order_by(model.day).limit(1)
    ).one_or_none()
    session.add(model(**key, day=day, previous_day=previous))
    if following is not None:
        following.previous_day = day
    session.flush()
