"""The overview figures through the real services and database, at a fixed moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from opencx.commerce import service as commerce
from opencx.commerce.schemas import OrderIn, ProductIn
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.errors import InvalidInput
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.overview.service import (
    WEEKS_CHARTED,
    compute_activity,
    compute_overview,
    resolve_overview_filters,
)
from tests.conftest import Tenant

# A Wednesday: its ISO week began on Monday 2026-11-16.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
FILTERS = resolve_overview_filters(period="30d", today=NOW.date())


def add_customer(session: Session, org_id: int, email: str) -> int:
    customer, _ = customers.upsert_customer(
        session,
        org_id=org_id,
        data=CustomerIn.model_validate({"identities": [{"kind": "email", "value": email}]}),
        source="test",
    )
    return customer.id


def add_order(
    session: Session,
    org_id: int,
    external_id: str,
    placed_at: datetime,
    promised_at: datetime | None = None,
    delivered_at: datetime | None = None,
) -> None:
    deliveries = []
    if promised_at is not None:
        history = []
        if delivered_at is not None:
            history = [{"status": "delivered", "occurred_at": delivered_at}]
        deliveries = [{"promised_at": promised_at, "status_history": history}]
    commerce.create_order(
        session,
        org_id=org_id,
        data=OrderIn.model_validate(
            {
                "external_id": external_id,
                "channel": "web",
                "placed_at": placed_at,
                "lines": [{"sku": "MUG", "quantity": 1, "unit_price": "9.50"}],
                "deliveries": deliveries,
            }
        ),
    )


def add_events(session: Session, org_id: int, moments: list[datetime]) -> None:
    journeys.upsert_touchpoints(
        session,
        org_id=org_id,
        touchpoints=[
            TouchpointIn(
                key="web.home",
                name="Home page",
                stage="awareness",
                channel="web",
                is_online=True,
                department="marketing",
            )
        ],
    )
    journeys.ingest_events(
        session,
        org_id=org_id,
        items=[
            {
                "event_id": f"ev-{n}",
                "anonymous_id": "visitor",
                "touchpoint": "web.home",
                "type": "page_view",
                "timestamp": moment.isoformat(),
            }
            for n, moment in enumerate(moments)
        ],
    )


def test_overview_of_an_empty_organization_is_all_zeros(
    db_session: Session, tenant: Tenant
) -> None:
    overview = compute_activity(db_session, org_id=tenant.org_id, filters=FILTERS, now=NOW)
    assert (overview.customers, overview.orders_last_30_days) == (0, 0)
    assert (overview.late_deliveries_last_30_days, overview.events_last_7_days) == (0, 0)
    # the chart still gets its 26 weeks, oldest first, ending with the current week
    weeks = [w.week_start for w in overview.orders_per_week]
    assert len(weeks) == WEEKS_CHARTED
    assert weeks[-1] == date(2026, 11, 16)
    assert weeks[0] == date(2026, 11, 16) - timedelta(weeks=WEEKS_CHARTED - 1)
    assert all(w.orders == 0 for w in overview.orders_per_week)


def test_overview_counts_only_the_windows_and_this_organization(
    db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given customers (one merged away), orders, deliveries and events around the windows
    for org in (tenant.org_id, other_tenant.org_id):
        commerce.upsert_products(
            db_session, org_id=org, products=[ProductIn(sku="MUG", name="Mug", price="9.50")]
        )
    first = add_customer(db_session, tenant.org_id, "a@example.nl")
    duplicate = add_customer(db_session, tenant.org_id, "a.dup@example.nl")
    add_customer(db_session, tenant.org_id, "b@example.nl")
    customers.merge_customers(
        db_session,
        org_id=tenant.org_id,
        survivor_id=first,
        merged_id=duplicate,
        merged_by="test",
    )
    add_customer(db_session, other_tenant.org_id, "x@globex.example")
    monday = datetime(2026, 11, 16, tzinfo=UTC)
    add_order(db_session, tenant.org_id, "this-week-1", monday)  # the first moment of the week
    add_order(db_session, tenant.org_id, "this-week-2", NOW - timedelta(hours=1))
    add_order(db_session, tenant.org_id, "last-week", monday - timedelta(seconds=1))
    add_order(
        db_session,
        tenant.org_id,
        "late",
        NOW - timedelta(days=20),
        promised_at=NOW - timedelta(days=18),
        delivered_at=NOW - timedelta(days=15),
    )
    add_order(
        db_session,
        tenant.org_id,
        "on-time",
        NOW - timedelta(days=20),
        promised_at=NOW - timedelta(days=18),
        delivered_at=NOW - timedelta(days=19),
    )
    add_order(
        db_session,
        tenant.org_id,
        "overdue",
        NOW - timedelta(days=5),
        promised_at=NOW - timedelta(days=1),
    )
    add_order(db_session, tenant.org_id, "two-months-ago", NOW - timedelta(days=60))
    add_order(db_session, tenant.org_id, "a-year-ago", NOW - timedelta(days=365))
    add_order(db_session, other_tenant.org_id, "globex", NOW - timedelta(hours=2))
    add_events(
        db_session,
        tenant.org_id,
        [NOW - timedelta(days=1), NOW - timedelta(days=6, hours=23), NOW - timedelta(days=8)],
    )
    add_events(db_session, other_tenant.org_id, [NOW - timedelta(days=1)])
    db_session.commit()
    # when the overview is computed
    overview = compute_activity(db_session, org_id=tenant.org_id, filters=FILTERS, now=NOW)
    # then each figure counts its own window, for this organization only
    assert overview.customers == 2  # the merged-away profile is not a customer of its own
    assert overview.orders_last_30_days == 6
    assert overview.late_deliveries_last_30_days == 2  # delivered late, and overdue
    assert overview.events_last_7_days == 2
    per_week = {w.week_start: w.orders for w in overview.orders_per_week}
    assert per_week[date(2026, 11, 16)] == 2
    assert per_week[date(2026, 11, 9)] == 2  # last week's order and the overdue one
    assert per_week[date(2026, 10, 26)] == 2  # the late and the on-time one
    assert per_week[date(2026, 9, 14)] == 1  # two months ago
    assert sum(per_week.values()) == 7  # the order of a year ago is before the chart


def test_overview_refuses_a_moment_without_timezone(db_session: Session, tenant: Tenant) -> None:
    with pytest.raises(InvalidInput) as error:
        compute_overview(
            db_session, org_id=tenant.org_id, filters=FILTERS, now=datetime(2026, 11, 18)
        )
    assert error.value.field == "now"
