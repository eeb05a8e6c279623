"""A small shop's sessions, synced to the analytics store, whose paths and funnel are known.

Event types: product_view -> add_to_cart -> checkout_start -> purchase (the funnel).
- Nora (NL, loyal, desktop), session n: ad, product (view, cart), checkout (start, purchase),
  a minute apart: the whole funnel.
- An anonymous mobile visitor, session m: ad, product (view, cart): stops at the cart.
- Piotr (PL, mobile), no session id: product view; checkout start 10 minutes later; purchase
  40 minutes after that (a new 30-minute session). He skipped the cart, so the funnel keeps
  him at step 1.
- An anonymous desktop visitor, session c: only the live chat.
Transitions: ad -> product twice, product -> checkout twice (Nora's and Piotr's first session).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.journeys import service as journeys
from tests.conftest import Tenant
from tests.journeys.conftest import touchpoint

DAY = (datetime.now(UTC) - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
START = DAY.date() - timedelta(days=1)
END = DAY.date() + timedelta(days=2)
FUNNEL = [
    {"event_type": "product_view"},
    {"event_type": "add_to_cart"},
    {"touchpoint_key": "checkout", "event_type": "checkout_start"},
    {"event_type": "purchase"},
]


@dataclass
class Shop:
    org_id: int
    nora_id: int
    piotr_id: int


def _customer(session: Session, org_id: int, email: str, country: str, segments: list[str]) -> int:
    data = CustomerIn.model_validate(
        {
            "identities": [{"kind": "email", "value": email}],
            "country": country,
            "segments": segments,
        }
    )
    return customers.upsert_customer(session, org_id=org_id, data=data, source="test")[0].id


def _event(n: int, minutes: int, touchpoint_key: str, type_: str, **fields: object) -> dict:
    return {
        "event_id": f"shop-{n}",
        "touchpoint": touchpoint_key,
        "type": type_,
        "timestamp": (DAY + timedelta(minutes=minutes)).isoformat(),
        **fields,
    }


@pytest.fixture
def shop(db_session: Session, tenant: Tenant, other_tenant: Tenant) -> Shop:
    journeys.upsert_touchpoints(
        db_session,
        org_id=tenant.org_id,
        touchpoints=[
            touchpoint("ad", "awareness"),
            touchpoint("product"),
            touchpoint("checkout", "purchase"),
            touchpoint("live-chat", "service", channel="chat"),
        ],
    )
    nora = _customer(db_session, tenant.org_id, "nora@example.nl", "NL", ["loyal"])
    piotr = _customer(db_session, tenant.org_id, "piotr@example.pl", "PL", [])
    visits = [
        *(
            _event(n, n, key, type_, customer_id=nora, session_id="n", device="desktop")
            for n, (key, type_) in enumerate(
                [
                    ("ad", "ad_click"),
                    ("product", "product_view"),
                    ("product", "add_to_cart"),
                    ("checkout", "checkout_start"),
                    ("checkout", "purchase"),
                ]
            )
        ),
        *(
            _event(10 + n, n, key, type_, anonymous_id="anon-m", session_id="m", device="mobile")
            for n, (key, type_) in enumerate(
                [("ad", "ad_click"), ("product", "product_view"), ("product", "add_to_cart")]
            )
        ),
        _event(20, 0, "product", "product_view", customer_id=piotr, device="mobile"),
        _event(21, 10, "checkout", "checkout_start", customer_id=piotr, device="mobile"),
        _event(22, 50, "checkout", "purchase", customer_id=piotr, device="mobile"),
        _event(30, 5, "live-chat", "chat_started", anonymous_id="anon-c", session_id="c"),
    ]
    result = journeys.ingest_events(db_session, org_id=tenant.org_id, items=visits)
    assert result.accepted == len(visits), result
    # The other tenant's look-alike session must never count.
    journeys.upsert_touchpoints(
        db_session,
        org_id=other_tenant.org_id,
        touchpoints=[touchpoint("ad"), touchpoint("product")],
    )
    journeys.ingest_events(
        db_session,
        org_id=other_tenant.org_id,
        items=[
            _event(40 + n, n, key, "product_view", anonymous_id="x", session_id="n")
            for n, key in enumerate(["ad", "product", "ad", "product"])
        ],
    )
    db_session.commit()
    sync_to_analytics()
    return Shop(org_id=tenant.org_id, nora_id=nora, piotr_id=piotr)
