"""A small shop for page tests: customers with identities, consent, orders, deliveries, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from opencx.commerce import service as commerce
from opencx.commerce.schemas import OrderIn, ProductIn
from opencx.customers import service as customers
from opencx.customers.schemas import ConsentIn, CustomerIn
from opencx.db import utcnow
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from tests.conftest import Tenant


@dataclass
class Shop:
    """Who is where in the arranged shop."""

    anna_id: int
    bram_id: int
    zofia_id: int
    stranger_id: int  # a customer of the other tenant
    now: datetime


def _customer(session: Session, org_id: int, **fields: object) -> int:
    customer, _ = customers.upsert_customer(
        session, org_id=org_id, data=CustomerIn.model_validate(fields), source="test"
    )
    return customer.id


@pytest.fixture
def shop(db_session: Session, tenant: Tenant, other_tenant: Tenant) -> Shop:
    """Three customers of `tenant` (Anna has orders, a late delivery, events and consent)."""
    org = tenant.org_id
    now = utcnow()
    anna = _customer(
        db_session,
        org,
        first_name="Anna",
        last_name="de Vries",
        country="NL",
        city="Utrecht",
        language="nl",
        segments=["loyal", "newsletter"],
        identities=[
            {"kind": "email", "value": "anna@example.nl"},
            {"kind": "social", "namespace": "instagram", "value": "@anna.home"},
        ],
    )
    bram = _customer(
        db_session,
        org,
        first_name="Bram",
        last_name="Peeters",
        country="BE",
        segments=["new"],
        identities=[{"kind": "email", "value": "bram@example.be"}],
    )
    zofia = _customer(
        db_session,
        org,
        first_name="Zofia",
        last_name="Nowak",
        country="PL",
        segments=["loyal"],
        identities=[{"kind": "phone", "value": "+48 601 234 567"}],
    )
    stranger = _customer(
        db_session,
        other_tenant.org_id,
        first_name="Greta",
        last_name="Globex",
        identities=[{"kind": "email", "value": "greta@globex.example"}],
    )
    for purpose, channel, status, days_ago, source in [
        ("marketing", "email", "granted", 40, "web signup form"),
        ("marketing", "email", "withdrawn", 3, "unsubscribe link"),
        ("surveys", "any", "granted", 40, "web signup form"),
    ]:
        customers.record_consent(
            db_session,
            org_id=org,
            customer_id=anna,
            consent=ConsentIn(
                purpose=purpose,
                channel=channel,
                status=status,
                occurred_at=now - timedelta(days=days_ago),
                source=source,
            ),
        )
    commerce.upsert_products(
        db_session,
        org_id=org,
        products=[ProductIn(sku="LAMP-1", name="Desk lamp", price="49.95")],
    )
    placed = now - timedelta(days=10)
    commerce.create_order(
        db_session,
        org_id=org,
        data=OrderIn.model_validate(
            {
                "external_id": "WEB-1001",
                "customer_id": anna,
                "channel": "web",
                "country": "NL",
                "placed_at": placed,
                "lines": [{"sku": "LAMP-1", "quantity": 2, "unit_price": "49.95"}],
                "deliveries": [
                    {
                        "carrier": "PostNL",
                        "promised_at": placed + timedelta(days=2),
                        "status_history": [
                            {"status": "shipped", "occurred_at": placed + timedelta(days=1)},
                            {"status": "delayed", "occurred_at": placed + timedelta(days=2)},
                        ],
                    }
                ],
            }
        ),
    )
    journeys.upsert_touchpoints(
        db_session,
        org_id=org,
        touchpoints=[
            TouchpointIn(
                key="web.product",
                name="Product page",
                stage="consideration",
                channel="web",
                is_online=True,
                department="marketing",
            )
        ],
    )
    journeys.ingest_events(
        db_session,
        org_id=org,
        items=[
            {
                "event_id": f"ev-{n}",
                "customer_id": anna,
                "touchpoint": "web.product",
                "type": "page_view",
                "timestamp": (now - timedelta(days=n)).isoformat(),
                "device": "mobile",
            }
            for n in (1, 2, 12)
        ],
    )
    db_session.commit()
    return Shop(anna_id=anna, bram_id=bram, zofia_id=zofia, stranger_id=stranger, now=now)
