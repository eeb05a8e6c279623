"""Use cases of journeys: the touchpoint catalog and idempotent event ingestion."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from opencx.customers import service as customers
from opencx.customers.gdpr import register_erasure_hook, register_export_source
from opencx.customers.timeline import TimelineEntry, register_timeline_source
from opencx.db import utcnow
from opencx.errors import InvalidInput, NotFound
from opencx.ingestion import RowError
from opencx.journeys.models import Event, Touchpoint
from opencx.journeys.schemas import (
    EventIn,
    EventIngestResult,
    EventOut,
    TouchpointIn,
    event_list_adapter,
)
from opencx.settings import get_settings

# Trackers' clocks drift; an event stamped further ahead than this is a bug, not drift.
_MAX_CLOCK_AHEAD = timedelta(days=1)
# The timeline shows the newest few hundred entries; no source needs to return more.
_TIMELINE_LIMIT = 500


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


# -- touchpoints ------------------------------------------------------------------------------


def upsert_touchpoints(
    session: Session, *, org_id: int, touchpoints: list[TouchpointIn]
) -> list[Touchpoint]:
    """Create or update touchpoints by key; returns them in input order."""
    keys = [t.key for t in touchpoints]
    by_key = {
        t.key: t
        for t in session.scalars(
            select(Touchpoint).where(Touchpoint.org_id == org_id, Touchpoint.key.in_(keys))
        )
    }
    stored: list[Touchpoint] = []
    for item in touchpoints:
        touchpoint = by_key.get(item.key)
        if touchpoint is None:
            touchpoint = Touchpoint(org_id=org_id, **item.model_dump())
            session.add(touchpoint)
            by_key[item.key] = touchpoint
        else:
            for name, value in item.model_dump().items():
                setattr(touchpoint, name, value)
        stored.append(touchpoint)
    session.flush()
    return stored


def list_touchpoints(session: Session, *, org_id: int) -> list[Touchpoint]:
    """The touchpoint catalog, by key."""
    query = select(Touchpoint).where(Touchpoint.org_id == org_id).order_by(Touchpoint.key)
    return list(session.scalars(query))


def get_touchpoint(session: Session, *, org_id: int, touchpoint_id: int) -> Touchpoint:
    """One touchpoint of this organization."""
    touchpoint = session.scalar(
        select(Touchpoint).where(Touchpoint.org_id == org_id, Touchpoint.id == touchpoint_id)
    )
    if touchpoint is None:
        raise NotFound("touchpoint", touchpoint_id)
    return touchpoint


# -- events -----------------------------------------------------------------------------------


def _validate_events(items: list[Any]) -> tuple[list[tuple[int, EventIn]], list[RowError]]:
    """Validate the whole list in one pass; only when some item fails, set those items aside."""
    try:
        return list(enumerate(event_list_adapter.validate_python(items))), []
    except ValidationError as exc:
        rejected = [
            RowError(
                index=int(error["loc"][0]),
                field=".".join(str(part) for part in error["loc"][1:]),
                reason=error["msg"],
            )
            for error in exc.errors()
        ]
    bad = {error.index for error in rejected}
    good = [index for index in range(len(items)) if index not in bad]
    events = event_list_adapter.validate_python([items[index] for index in good])
    return list(zip(good, events, strict=True)), rejected


_EVENT_COLUMNS = [
    "org_id",
    "event_id",
    "customer_id",
    "anonymous_id",
    "session_id",
    "touchpoint_id",
    "type",
    "occurred_at",
    "device",
    "properties",
    "created_at",
    "updated_at",
]


@dataclass(frozen=True)
class _EventInsert:
    """INSERT ... ON CONFLICT DO NOTHING for events, compiled once per database dialect.

    Ingestion hands it driver-ready rows for one executemany: SQLAlchemy's per-row parameter
    processing cost as much as SQLite's own work (measured 18 ms against 9 ms per 1,000
    duplicate events). SQLAlchemy still writes the SQL and converts the timestamps.
    """

    sql: str
    to_db_time: Callable[[datetime], Any]

    def execute(self, session: Session, rows: list[dict[str, Any]]) -> int:
        """Insert the rows; returns how many were new."""
        return int(session.connection().exec_driver_sql(self.sql, rows).rowcount)


@lru_cache(maxsize=8)
def _event_insert(dialect: Dialect) -> _EventInsert:
    table = _table(Event)
    if dialect.name == "postgresql":
        compiled = (
            postgresql.insert(table)
            .on_conflict_do_nothing(index_elements=["org_id", "event_id"])
            .compile(dialect=dialect, column_keys=_EVENT_COLUMNS)
        )
    else:
        # Named parameters, so rows go to the driver as the dicts they are built as.
        compiled = (
            sqlite.insert(table)
            .on_conflict_do_nothing(index_elements=["org_id", "event_id"])
            .compile(dialect=sqlite.dialect(paramstyle="named"), column_keys=_EVENT_COLUMNS)
        )
    if dialect.name == "sqlite":
        # SQLAlchemy's SQLite text format for UTC datetimes, written directly: its processor
        # chain took 3 ms of a 1,000-event batch. tests/journeys check both agree.
        return _EventInsert(sql=compiled.string, to_db_time=sqlite_utc_text)
    return _EventInsert(sql=compiled.string, to_db_time=lambda value: value.astimezone(UTC))


def sqlite_utc_text(value: datetime) -> str:
    """An aware datetime as the UTC text SQLAlchemy stores on SQLite (YYYY-MM-DD HH:MM:SS.ffffff)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def ingest_events(
    session: Session, *, org_id: int, items: list[dict[str, Any]]
) -> EventIngestResult:
    """Store a batch of events once each; invalid items are reported by index and skipped.

    Idempotent by (org_id, event_id): an event already stored, or repeated within the batch,
    is counted as a duplicate and not stored again, also when two deliveries race.
    """
    max_batch = get_settings().events_max_batch
    if len(items) > max_batch:
        raise InvalidInput("events", f"at most {max_batch} events per batch, got {len(items)}")
    valid, rejected = _validate_events(items)

    keys = {event["touchpoint"] for _, event in valid}
    touchpoint_ids: dict[str, int] = {
        key: touchpoint_id
        for key, touchpoint_id in session.execute(
            select(Touchpoint.key, Touchpoint.id).where(
                Touchpoint.org_id == org_id, Touchpoint.key.in_(keys)
            )
        )
    }
    customer_ids = customers.find_existing_customer_ids(
        session,
        org_id=org_id,
        customer_ids=(e["customer_id"] for _, e in valid if e.get("customer_id") is not None),
    )

    insert = _event_insert(session.get_bind().dialect)
    now = utcnow()
    latest_allowed = now + _MAX_CLOCK_AHEAD
    db_now = insert.to_db_time(now)
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for index, event in valid:
        customer_id = event.get("customer_id")
        problem = None
        if customer_id is None and event.get("anonymous_id") is None:
            problem = ("customer_id", "customer_id or anonymous_id is required")
        elif customer_id is not None and customer_id not in customer_ids:
            problem = ("customer_id", f"no customer {customer_id} in this organization")
        elif event["touchpoint"] not in touchpoint_ids:
            problem = ("touchpoint", f"unknown touchpoint key {event['touchpoint']!r}")
        elif event["timestamp"] > latest_allowed:
            problem = ("timestamp", "more than 1 day in the future")
        if problem is not None:
            rejected.append(RowError(index=index, field=problem[0], reason=problem[1]))
            continue
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        rows.append(
            {
                "org_id": org_id,
                "event_id": event["event_id"],
                "customer_id": customer_id,
                "anonymous_id": event.get("anonymous_id"),
                "session_id": event.get("session_id"),
                "touchpoint_id": touchpoint_ids[event["touchpoint"]],
                "type": event["type"],
                "occurred_at": insert.to_db_time(event["timestamp"]),
                "device": event.get("device"),
                "properties": orjson.dumps(event.get("properties", {})).decode(),
                "created_at": db_now,
                "updated_at": db_now,
            }
        )
    accepted = insert.execute(session, rows) if rows else 0
    rejected.sort(key=lambda error: error.index)
    return EventIngestResult(
        received=len(items),
        accepted=accepted,
        duplicates=len(items) - len({error.index for error in rejected}) - accepted,
        rejected=rejected,
    )


def list_events(
    session: Session,
    *,
    org_id: int,
    customer_ids: list[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Event]:
    """Events, newest first; only those of the given customers when customer_ids is set."""
    query = select(Event).where(Event.org_id == org_id)
    if customer_ids is not None:
        query = query.where(Event.customer_id.in_(customer_ids))
    query = query.order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def count_events(session: Session, *, org_id: int, start: datetime, end: datetime) -> int:
    """How many events happened in [start, end)."""
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise InvalidInput(name, "must include a timezone")
    total = session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.org_id == org_id, Event.occurred_at >= start, Event.occurred_at < end)
    )
    return total or 0


# -- customer timeline and GDPR ---------------------------------------------------------------


def _event_timeline(session: Session, org_id: int, customer_ids: list[int]) -> list[TimelineEntry]:
    query = (
        select(Event, Touchpoint.name)
        .join(Touchpoint, Touchpoint.id == Event.touchpoint_id)
        .where(Event.org_id == org_id, Event.customer_id.in_(customer_ids))
        .order_by(Event.occurred_at.desc())
        .limit(_TIMELINE_LIMIT)
    )
    return [
        TimelineEntry(
            occurred_at=event.occurred_at,
            kind="event",
            title=f"{event.type} at {touchpoint_name}",
            detail=event.device or "",
            source_id=str(event.id),
            data={"touchpoint_id": event.touchpoint_id, "session_id": event.session_id},
        )
        for event, touchpoint_name in session.execute(query)
    ]


def _export_events(
    session: Session, org_id: int, customer_ids: list[int]
) -> dict[str, list[dict[str, Any]]]:
    query = (
        select(Event)
        .where(Event.org_id == org_id, Event.customer_id.in_(customer_ids))
        .order_by(Event.occurred_at, Event.id)
    )
    return {
        "events": [
            EventOut.model_validate(e).model_dump(mode="json") for e in session.scalars(query)
        ]
    }


def _erase_event_personal_data(
    session: Session, org_id: int, customer_ids: list[int]
) -> dict[str, int]:
    """Events stay for journey aggregates; properties and tracking ids that could identify go."""
    result = session.execute(
        update(Event)
        .where(Event.org_id == org_id, Event.customer_id.in_(customer_ids))
        .values(properties={}, anonymous_id=None, session_id=None, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return {"events": result.rowcount}  # type: ignore[attr-defined]


register_timeline_source("events", _event_timeline)
register_export_source("journeys", _export_events)
register_erasure_hook("journeys", _erase_event_personal_data)
