"""Use case of the overview dashboard: one call that gathers each domain's headline figures.

It reads only through the domains' services, so each figure keeps its domain's definition
(an active customer, a late delivery).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from opencx.commerce import service as commerce
from opencx.customers import service as customers
from opencx.db import utcnow
from opencx.errors import InvalidInput
from opencx.journeys import service as journeys
from opencx.overview.schemas import Overview
from opencx.surveys.follow_ups import service as follow_ups

WEEKS_CHARTED = 26


def compute_overview(session: Session, *, org_id: int, now: datetime | None = None) -> Overview:
    """Customers, orders, late deliveries and the closed loop (30 days), events (7 days),
    orders per week."""
    now = now or utcnow()
    if now.tzinfo is None:
        raise InvalidInput("now", "must include a timezone")
    _, active_customers = customers.list_customers(session, org_id=org_id, limit=1)
    orders = commerce.compute_order_summary(session, org_id=org_id, now=now, weeks=WEEKS_CHARTED)
    events = journeys.count_events(session, org_id=org_id, start=now - timedelta(days=7), end=now)
    loop = follow_ups.compute_follow_up_summary(
        session, org_id=org_id, start=now - timedelta(days=30), now=now
    )
    return Overview(
        as_of=now,
        customers=active_customers,
        orders_last_30_days=orders.orders_last_30_days,
        late_deliveries_last_30_days=orders.late_deliveries_last_30_days,
        events_last_7_days=events,
        orders_per_week=orders.orders_per_week,
        follow_ups_last_30_days=loop,
    )
