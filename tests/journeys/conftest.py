"""Touchpoints and customers of two tenants, and a maker of tracker events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.journeys import service
from opencx.journeys.models import Event
from opencx.journeys.schemas import TouchpointIn
from tests.conftest import Tenant


@dataclass
class Journeys:
    org_id: int
    anna_id: int
    stranger_id: int  # a customer of the other tenant
    now: datetime


def touchpoint(key: str, stage: str = "consideration", channel: str = "web") -> TouchpointIn:
    return TouchpointIn(
        key=key,
        name=key.replace("-", " ").title(),
        stage=stage,
        channel=channel,
        is_online=channel in {"web", "app", "email", "chat", "social"},
        department="marketing",
    )


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    """A valid event of an anonymous web visitor, an hour ago, unless fields say otherwise."""
    return {
        "event_id": event_id,
        "anonymous_id": "anon-1",
        "session_id": "s-1",
        "touchpoint": "product-page",
        "type": "page_view",
        "timestamp": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "device": "mobile",
        "properties": {"path": "/lamps/desk-lamp"},
        **fields,
    }


def stored_events(session: Session, org_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(Event.org_id == org_id))


@pytest.fixture
def journeys(db_session: Session, tenant: Tenant, other_tenant: Tenant) -> Journeys:
    service.upsert_touchpoints(
        db_session,
        org_id=tenant.org_id,
        touchpoints=[touchpoint("product-page"), touchpoint("checkout", "purchase")],
    )
    service.upsert_touchpoints(
        db_session, org_id=other_tenant.org_id, touchpoints=[touchpoint("their-store", "purchase")]
    )

    def customer(org_id: int, email: str) -> int:
        data = CustomerIn.model_validate({"identities": [{"kind": "email", "value": email}]})
        return customers.upsert_customer(db_session, org_id=org_id, data=data, source="test")[0].id

    arranged = Journeys(
        org_id=tenant.org_id,
        anna_id=customer(tenant.org_id, "anna@example.nl"),
        stranger_id=customer(other_tenant.org_id, "stranger@example.com"),
        now=datetime.now(UTC),
    )
    db_session.commit()
    return arranged
