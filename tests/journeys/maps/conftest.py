"""A small journey, synced to the analytics store: four customers from an ad to a review.

Times (UTC) from T0, Monday 2 March 2026 10:00:
- Cas (NL, vip): ad, product page (+1 h), checkout in 2 minutes on desktop (+2 h), an order
  whose delivery was promised for +2 d and came at +6 d; "delayed" at +3 d, a complaint at +4 d,
  NPS 2 about the delivery at +7 d, a 1-star review at +10 d;
- Pia (PL): ad (+1 d), product page half an hour later, checkout on mobile that errors and is
  abandoned (+1 d 1 h);
- Ruud (NL): product page (+2 d), checkout on desktop with a product view on the way, 5 minutes;
- Sem (no country): a store order (+5 d) and nothing else;
- an anonymous visitor clicks an ad on mobile; the other tenant has its own checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.commerce import service as commerce
from opencx.commerce.schemas import OrderIn, ProductIn
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.surveys import service as surveys
from opencx.surveys.schemas import InvitationIn, SurveyIn
from tests.analytics.conftest import make_customer
from tests.conftest import Tenant

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
START, END = date(2026, 3, 2), date(2026, 4, 1)
TOUCHPOINTS = (
    ("ad", "awareness", "social", True),
    ("product-page", "consideration", "web", True),
    ("checkout", "purchase", "web", True),
    ("store-till", "purchase", "store", False),
    ("delivery-updates", "delivery", "email", True),
    ("complaints", "service", "email", True),
    ("reviews", "loyalty", "web", True),
)


@dataclass
class Journey:
    org_id: int
    other_org_id: int
    cas: int
    pia: int
    ruud: int
    sem: int
    touchpoint_ids: dict[str, int]
    admin_email: str


def _touchpoints(session: Session, org_id: int) -> dict[str, int]:
    stored = journeys.upsert_touchpoints(
        session,
        org_id=org_id,
        touchpoints=[
            TouchpointIn(
                key=key,
                name=key.replace("-", " ").capitalize(),
                stage=stage,
                channel=channel,
                is_online=online,
                department="service",
            )
            for key, stage, channel, online in TOUCHPOINTS
        ],
    )
    return {t.key: t.id for t in stored}


def _event(
    n: int, customer_id: int | None, touchpoint: str, type_: str, at: datetime, **fields: Any
) -> dict[str, Any]:
    return {
        "event_id": f"e-{n}",
        "customer_id": customer_id,
        "touchpoint": touchpoint,
        "type": type_,
        "timestamp": at,
        **fields,
    }


def _order(external_id: str, customer_id: int, placed: datetime, **fields: Any) -> OrderIn:
    return OrderIn.model_validate(
        {
            "external_id": external_id,
            "customer_id": customer_id,
            "placed_at": placed,
            "lines": [{"sku": "SOFA", "quantity": 1, "unit_price": "899.00"}],
            **fields,
        }
    )


@pytest.fixture
def journey(db_session: Session, tenant: Tenant, other_tenant: Tenant) -> Journey:
    org_id = tenant.org_id
    ids = _touchpoints(db_session, org_id)
    cas = make_customer(db_session, org_id, 1, country="NL", segments=["vip"])
    pia = make_customer(db_session, org_id, 2, country="PL")
    ruud = make_customer(db_session, org_id, 3, country="NL")
    sem = make_customer(db_session, org_id, 4)
    hour, day = timedelta(hours=1), timedelta(days=1)
    events = [
        _event(1, cas, "ad", "ad_click", T0, device="desktop"),
        _event(2, cas, "product-page", "product_view", T0 + hour, device="desktop"),
        _event(3, cas, "checkout", "checkout_start", T0 + 2 * hour, session_id="s1",
               device="desktop"),
        _event(4, cas, "checkout", "checkout_complete", T0 + 2 * hour + timedelta(seconds=120),
               session_id="s1", device="desktop"),
        _event(5, cas, "delivery-updates", "delivery_delayed", T0 + 3 * day),
        _event(6, cas, "complaints", "complaint", T0 + 4 * day,
               properties={"intent": "complaint", "text": "Where is my sofa? Promised days ago."}),
        _event(7, cas, "reviews", "review", T0 + 10 * day,
               properties={"rating": 1, "text": "Came four days late."}),
        _event(8, pia, "ad", "ad_click", T0 + day, device="mobile"),
        _event(9, pia, "product-page", "product_view", T0 + day + hour / 2, device="mobile"),
        _event(10, pia, "checkout", "checkout_start", T0 + day + hour, session_id="s2",
               device="mobile"),
        _event(11, pia, "checkout", "checkout_error", T0 + day + hour + timedelta(seconds=30),
               session_id="s2", device="mobile"),
        _event(12, ruud, "product-page", "product_view", T0 + 2 * day, device="desktop"),
        _event(13, ruud, "checkout", "checkout_start", T0 + 2 * day + hour, session_id="s3",
               device="desktop"),
        _event(14, ruud, "product-page", "product_view", T0 + 2 * day + hour + timedelta(minutes=1),
               session_id="s3", device="desktop"),
        _event(15, ruud, "checkout", "checkout_complete", T0 + 2 * day + hour + timedelta(minutes=5),
               session_id="s3", device="desktop"),
        _event(16, None, "ad", "ad_click", T0 + 3 * day, anonymous_id="anon-1", device="mobile"),
    ]  # fmt: skip
    result = journeys.ingest_events(db_session, org_id=org_id, items=events)
    assert result.accepted == len(events)
    commerce.upsert_products(
        db_session, org_id=org_id, products=[ProductIn(sku="SOFA", name="Sofa", price="899.00")]
    )
    commerce.create_order(
        db_session,
        org_id=org_id,
        data=_order(
            "WEB-1",
            cas,
            T0 + 2 * hour,
            channel="web",
            deliveries=[
                {
                    "carrier": "Home Delivery",
                    "promised_at": T0 + 2 * day,
                    "status_history": [
                        {"status": "delayed", "occurred_at": T0 + 3 * day},
                        {"status": "delivered", "occurred_at": T0 + 6 * day},
                    ],
                }
            ],
        ),
    )
    commerce.create_order(
        db_session,
        org_id=org_id,
        data=_order("STORE-1", sem, T0 + 5 * day, channel="store", store="Utrecht"),
    )
    survey = surveys.create_survey(
        db_session, org_id=org_id, data=SurveyIn(name="After delivery", kind="nps")
    )
    surveys.publish_survey(db_session, org_id=org_id, survey_id=survey.id)
    invitation = surveys.create_invitation(
        db_session,
        org_id=org_id,
        survey_id=survey.id,
        data=InvitationIn(customer_id=cas, channel="email", touchpoint_id=ids["delivery-updates"]),
        now=T0 + 7 * day,
    )
    surveys.record_answers(
        db_session,
        token=invitation.token,
        form={"shown": ["score"], "q_score": ["2"]},
        now=T0 + 7 * day,
    )
    # The other tenant: a customer who completes a checkout at its own touchpoints.
    other_ids = _touchpoints(db_session, other_tenant.org_id)
    stranger = make_customer(db_session, other_tenant.org_id, 9)
    journeys.ingest_events(
        db_session,
        org_id=other_tenant.org_id,
        items=[
            _event(1, stranger, "checkout", "checkout_start", T0, session_id="x", device="tablet"),
            _event(
                2,
                stranger,
                "complaints",
                "complaint",
                T0 + hour,
                properties={"intent": "complaint", "text": "Another tenant's complaint"},
            ),
        ],
    )
    assert other_ids
    db_session.commit()
    sync_to_analytics()
    return Journey(
        org_id=org_id,
        other_org_id=other_tenant.org_id,
        cas=cas,
        pia=pia,
        ruud=ruud,
        sem=sem,
        touchpoint_ids=ids,
        admin_email=tenant.admin_email,
    )
