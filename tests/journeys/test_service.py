"""Touchpoints and event ingestion through a real database: counts, indexes, idempotency."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.customers import service as customers
from opencx.customers.timeline import collect_timeline
from opencx.errors import InvalidInput, NotFound
from opencx.journeys import service
from opencx.journeys.models import Event, JourneyStage
from tests.conftest import Tenant
from tests.journeys.conftest import Journeys, event, stored_events, touchpoint


def test_upsert_touchpoints_updates_by_key(db_session: Session, journeys: Journeys) -> None:
    # when a known key comes again with another stage, beside a new key
    changed = touchpoint("checkout", "delivery")
    service.upsert_touchpoints(
        db_session,
        org_id=journeys.org_id,
        touchpoints=[changed, touchpoint("store-visit", "purchase", "store")],
    )
    db_session.commit()
    # then it is updated in place and the new one is added
    listed = service.list_touchpoints(db_session, org_id=journeys.org_id)
    assert [(t.key, t.stage, t.is_online) for t in listed] == [
        ("checkout", JourneyStage.delivery, True),
        ("product-page", JourneyStage.consideration, True),
        ("store-visit", JourneyStage.purchase, False),
    ]


def test_touchpoint_of_another_organization_is_not_found(
    db_session: Session, journeys: Journeys, other_tenant: Tenant
) -> None:
    (theirs,) = service.list_touchpoints(db_session, org_id=other_tenant.org_id)
    with pytest.raises(NotFound):
        service.get_touchpoint(db_session, org_id=journeys.org_id, touchpoint_id=theirs.id)


def test_mixed_batch_reports_exact_counts_and_indexes(
    db_session: Session, journeys: Journeys
) -> None:
    # given a batch of valid events, invalid ones and duplicates within the batch
    items = [
        event("e-1", customer_id=journeys.anna_id, anonymous_id=None),  # 0 ok
        event("e-2"),  # 1 ok
        event("e-1"),  # 2 repeats 0
        event("e-3", timestamp="2026-11-20T10:00:00"),  # 3 naive timestamp
        event("e-4", touchpoint="their-store"),  # 4 the other tenant's touchpoint
        event("e-5", customer_id=journeys.stranger_id),  # 5 the other tenant's customer
        event("e-6", anonymous_id=None),  # 6 nobody
        event("e-7", timestamp=(journeys.now + timedelta(days=2)).isoformat()),  # 7 future
        event("e-8", touchpoint=""),  # 8 empty key
        {"event_id": "e-9"},  # 9 almost nothing
        "not an event",  # 10
        event("e-10", timestamp=(journeys.now + timedelta(hours=20)).isoformat()),  # 11 ok
        event("e-2"),  # 12 repeats 1
    ]
    # when ingested
    result = service.ingest_events(db_session, org_id=journeys.org_id, items=items)
    db_session.commit()
    # then three are stored, two are duplicates and each rejection names its index and field
    assert (result.received, result.accepted, result.duplicates) == (13, 3, 2)
    rejected = {(r.index, r.field) for r in result.rejected}
    assert rejected == {
        (3, "timestamp"),
        (4, "touchpoint"),
        (5, "customer_id"),
        (6, "customer_id"),
        (7, "timestamp"),
        (8, "touchpoint"),
        (9, "touchpoint"),
        (9, "type"),
        (9, "timestamp"),
        (10, ""),
    }
    assert [r.index for r in result.rejected] == sorted(r.index for r in result.rejected)
    assert "timezone" in next(r.reason for r in result.rejected if r.index == 3)
    assert stored_events(db_session, journeys.org_id) == 3


def test_redelivered_batch_stores_nothing_twice(db_session: Session, journeys: Journeys) -> None:
    # given a stored batch
    first = [event(f"e-{n}") for n in range(5)]
    service.ingest_events(db_session, org_id=journeys.org_id, items=first)
    db_session.commit()
    # when it comes again, overlapping a new batch
    again = [*first[3:], event("e-5"), event("e-6")]
    result = service.ingest_events(db_session, org_id=journeys.org_id, items=again)
    db_session.commit()
    # then only the new events are stored
    assert (result.accepted, result.duplicates, result.rejected) == (2, 2, [])
    assert stored_events(db_session, journeys.org_id) == 7


def test_same_event_id_in_two_organizations_is_stored_for_each(
    db_session: Session, journeys: Journeys, other_tenant: Tenant
) -> None:
    service.ingest_events(db_session, org_id=journeys.org_id, items=[event("shared")])
    theirs = service.ingest_events(
        db_session, org_id=other_tenant.org_id, items=[event("shared", touchpoint="their-store")]
    )
    db_session.commit()
    assert theirs.accepted == 1
    assert stored_events(db_session, other_tenant.org_id) == 1


def test_more_events_than_the_batch_limit_are_refused_whole(
    db_session: Session, journeys: Journeys
) -> None:
    items = [event(f"e-{n}") for n in range(10_001)]
    with pytest.raises(InvalidInput) as error:
        service.ingest_events(db_session, org_id=journeys.org_id, items=items)
    assert error.value.field == "events"
    db_session.rollback()
    assert stored_events(db_session, journeys.org_id) == 0


def test_stored_event_keeps_what_was_sent(db_session: Session, journeys: Journeys) -> None:
    sent = event(
        "e-1",
        customer_id=journeys.anna_id,
        timestamp="2026-11-20T10:00:00.250+01:00",
        properties={"path": "/cart", "items": [1, 2], "coupon": None},
    )
    service.ingest_events(db_session, org_id=journeys.org_id, items=[sent])
    db_session.commit()
    (stored,) = service.list_events(db_session, org_id=journeys.org_id)
    assert stored.occurred_at == datetime(2026, 11, 20, 9, 0, 0, 250_000, tzinfo=UTC)
    assert stored.properties == {"path": "/cart", "items": [1, 2], "coupon": None}
    assert (stored.customer_id, stored.anonymous_id, stored.session_id, stored.device) == (
        journeys.anna_id,
        "anon-1",
        "s-1",
        "mobile",
    )
    where = service.get_touchpoint(
        db_session, org_id=journeys.org_id, touchpoint_id=stored.touchpoint_id
    )
    assert where.key == "product-page"


def test_list_events_filters_by_customer_newest_first(
    db_session: Session, journeys: Journeys
) -> None:
    items = [
        event("old", customer_id=journeys.anna_id, timestamp="2026-11-01T10:00:00Z"),
        event("new", customer_id=journeys.anna_id, timestamp="2026-11-02T10:00:00Z"),
        event("anonymous", timestamp="2026-11-03T10:00:00Z"),
    ]
    service.ingest_events(db_session, org_id=journeys.org_id, items=items)
    db_session.commit()
    annas = service.list_events(db_session, org_id=journeys.org_id, customer_ids=[journeys.anna_id])
    assert [e.event_id for e in annas] == ["new", "old"]
    assert len(service.list_events(db_session, org_id=journeys.org_id, limit=2)) == 2


def test_events_appear_on_the_customer_timeline(db_session: Session, journeys: Journeys) -> None:
    items = [event("e-1", customer_id=journeys.anna_id, type="add_to_cart", touchpoint="checkout")]
    service.ingest_events(db_session, org_id=journeys.org_id, items=items)
    db_session.commit()
    entries = collect_timeline(db_session, org_id=journeys.org_id, customer_ids=[journeys.anna_id])
    assert [(e.kind, e.title) for e in entries if e.kind == "event"] == [
        ("event", "add_to_cart at Checkout")
    ]


def test_erasure_keeps_events_but_clears_what_could_identify(
    db_session: Session, journeys: Journeys
) -> None:
    # given events of Anna and of an anonymous visitor
    items = [
        event("annas", customer_id=journeys.anna_id, properties={"email": "anna@example.nl"}),
        event("visitors", anonymous_id="anon-2", properties={"path": "/"}),
    ]
    service.ingest_events(db_session, org_id=journeys.org_id, items=items)
    db_session.commit()
    export = customers.export_customer(
        db_session, org_id=journeys.org_id, customer_id=journeys.anna_id
    )
    assert [e["event_id"] for e in export["events"]] == ["annas"]
    # when Anna is erased
    customers.erase_customer(
        db_session, org_id=journeys.org_id, customer_id=journeys.anna_id, requested_by="dpo"
    )
    db_session.commit()
    # then her event stays for the journey figures, without properties or tracking ids
    events = {e.event_id: e for e in service.list_events(db_session, org_id=journeys.org_id)}
    annas = events["annas"]
    assert (annas.properties, annas.anonymous_id, annas.session_id) == ({}, None, None)
    assert annas.type == "page_view"
    # and the anonymous visitor's event is untouched
    assert events["visitors"].properties == {"path": "/"}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ids=st.lists(st.integers(min_value=0, max_value=15), max_size=40),
    cut=st.integers(min_value=0, max_value=40),
)
def test_ingesting_in_any_split_stores_each_event_id_once(
    db_session: Session, journeys: Journeys, ids: list[int], cut: int
) -> None:
    # given events with repeated ids, sent as two batches split anywhere, and then all again
    prefix = uuid.uuid4().hex[:8]  # the database outlives one example
    items = [event(f"{prefix}-{n}") for n in ids]
    results = [
        service.ingest_events(db_session, org_id=journeys.org_id, items=part)
        for part in (items[:cut], items[cut:], items)
    ]
    db_session.commit()
    # then every distinct id is stored exactly once and every other item counts as a duplicate
    assert sum(r.accepted for r in results) == len(set(ids))
    assert sum(r.duplicates for r in results) == 2 * len(ids) - len(set(ids))
    assert all(r.rejected == [] for r in results)
    stored = db_session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.org_id == journeys.org_id, Event.event_id.like(f"{prefix}-%"))
    )
    assert stored == len(set(ids))


def test_fast_sqlite_time_text_matches_sqlalchemys_own_format() -> None:
    # given aware datetimes in several zones, with and without microseconds
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy.dialects import sqlite

    from opencx.db import UTCDateTime
    from opencx.journeys.service import sqlite_utc_text

    processor = UTCDateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert processor is not None
    moments = [
        datetime(2026, 11, 22, 7, 5, 3, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=timezone(timedelta(hours=2))),
        datetime(999, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    ]
    for moment in moments:
        # then the fast text equals what SQLAlchemy writes for the same value
        assert sqlite_utc_text(moment) == processor(moment)
