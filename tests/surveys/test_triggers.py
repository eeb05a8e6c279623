"""Triggers: an interaction (an order placed, a delivery delivered) invites to the surveys set for it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.commerce import service as commerce
from opencx.commerce.schemas import ProductIn
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.surveys import service
from opencx.surveys.models import SurveyInvitation
from opencx.surveys.schemas import InteractionIn, SurveyIn
from tests.conftest import Tenant
from tests.surveys.conftest import NOW, Mailbox, World, make_customer, wait_for_jobs


def _survey(session: Session, world: World, kind: str, trigger: str | None, publish: bool) -> int:
    survey = service.create_survey(
        session, org_id=world.org_id, data=SurveyIn(name=kind, kind=kind, trigger=trigger)
    )
    if publish:
        service.publish_survey(session, org_id=world.org_id, survey_id=survey.id)
    return survey.id


def test_a_delivered_delivery_invites_to_the_active_surveys_of_that_trigger(
    db_session: Session, world: World
) -> None:
    # given an active NPS survey after delivery, a draft one, and an active one after orders
    after_delivery = _survey(db_session, world, "nps", "delivery_delivered", publish=True)
    _survey(db_session, world, "csat", "delivery_delivered", publish=False)
    _survey(db_session, world, "ces", "order_placed", publish=True)
    # when Anna's delivery is reported delivered, credited to a team
    report = service.record_interaction(
        db_session,
        org_id=world.org_id,
        data=InteractionIn(
            trigger="delivery_delivered", customer_id=world.anna_id, team="Logistics"
        ),
    )
    # then she is invited to the active delivery survey only, with the source recorded
    assert [i.survey_id for i in report.invited] == [after_delivery] and report.skipped == []
    assert report.invited[0].team == "Logistics" and report.invited[0].language == "nl"
    # when a second delivery arrives within the throttle period, the survey skips her, saying why
    again = service.record_interaction(
        db_session,
        org_id=world.org_id,
        data=InteractionIn(trigger="delivery_delivered", customer_id=world.anna_id),
    )
    assert again.invited == [] and "30 days" in again.skipped[0].reason
    # and a customer without survey consent is skipped, not failed
    silent = service.record_interaction(
        db_session,
        org_id=world.org_id,
        data=InteractionIn(trigger="delivery_delivered", customer_id=world.silent_id),
    )
    assert silent.invited == [] and "consent" in silent.skipped[0].reason


def test_the_trigger_api_and_other_tenants_customers(
    client: TestClient, db_session: Session, world: World, tenant: Tenant, other_tenant: Tenant
) -> None:
    _survey(db_session, world, "csat", "conversation_resolved", publish=True)
    stranger = make_customer(db_session, other_tenant.org_id, "Otto", "nl", channel="email")
    db_session.commit()
    # when a resolved conversation is reported over the API, then Piotr gets a link
    response = client.post(
        "/api/v1/survey-triggers",
        headers=tenant.headers,
        json={
            "trigger": "conversation_resolved",
            "customer_id": world.piotr_id,
            "conversation_id": 77,
            "channel": "email",
        },
    )
    assert response.status_code == 200, response.text
    (invitation,) = response.json()["invited"]
    assert invitation["conversation_id"] == 77 and invitation["path"].startswith("/s/")
    # and another organization's customer is 404, a channel of "any" is 422
    foreign = client.post(
        "/api/v1/survey-triggers",
        headers=tenant.headers,
        json={"trigger": "conversation_resolved", "customer_id": stranger},
    )
    assert foreign.status_code == 404
    vague = client.post(
        "/api/v1/survey-triggers",
        headers=tenant.headers,
        json={"trigger": "order_placed", "customer_id": world.anna_id, "channel": "any"},
    )
    assert vague.status_code == 422 and vague.json()["detail"][0]["loc"][-1] == "channel"
    periodic = client.post(
        "/api/v1/survey-triggers",
        headers=tenant.headers,
        json={"trigger": "periodic", "customer_id": world.anna_id},
    )
    assert periodic.status_code == 422 and periodic.json()["detail"][0]["loc"][-1] == "trigger"


def _shop(session: Session, world: World) -> int:
    """A product, and the web checkout touchpoint; returns the touchpoint id."""
    commerce.upsert_products(
        session, org_id=world.org_id, products=[ProductIn(sku="LAMP", name="Lamp", price=40)]
    )
    (checkout,) = journeys.upsert_touchpoints(
        session,
        org_id=world.org_id,
        touchpoints=[
            TouchpointIn(
                key="web-checkout",
                name="Checkout (web)",
                stage="purchase",
                channel="web",
                is_online=True,
                department="sales",
            )
        ],
    )
    session.commit()
    return checkout.id


def _order(external_id: str, customer_id: int, placed_at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "customer_id": customer_id,
        "channel": "web",
        "placed_at": placed_at.isoformat(),
        "lines": [{"sku": "LAMP", "quantity": 1, "unit_price": "40.00"}],
        **extra,
    }


def _invitations(session: Session) -> list[SurveyInvitation]:
    session.expire_all()
    return list(session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id)))


def test_placing_an_order_invites_the_customer_in_the_same_transaction(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    # given an active survey after orders, and the web checkout touchpoint
    survey_id = _survey(db_session, world, "csat", "order_placed", publish=True)
    checkout = _shop(db_session, world)
    db_session.commit()
    # when Anna places an order over the API
    placed = client.post(
        "/api/v1/orders", headers=tenant.headers, json=_order("A-1", world.anna_id, NOW)
    )
    assert placed.status_code == 201, placed.text
    # then she is invited to that survey, about that order, at the checkout, by email
    (invitation,) = _invitations(db_session)
    assert invitation.survey_id == survey_id and invitation.customer_id == world.anna_id
    assert invitation.order_id == placed.json()["id"] and invitation.touchpoint_id == checkout
    assert invitation.channel == "email"
    # when a customer without survey consent orders, then the order is stored, nobody invited
    silent = client.post(
        "/api/v1/orders", headers=tenant.headers, json=_order("S-1", world.silent_id, NOW)
    )
    assert silent.status_code == 201
    # and re-sending Anna's order (idempotent) invites nobody again
    client.post("/api/v1/orders", headers=tenant.headers, json=_order("A-1", world.anna_id, NOW))
    assert len(_invitations(db_session)) == 1


def test_an_import_of_old_orders_invites_nobody_but_recent_ones_do(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    _survey(db_session, world, "nps", "order_placed", publish=True)
    _shop(db_session, world)
    # when a year of history is imported, then no invitation is made
    history = [
        _order(f"H-{n}", customer, NOW - timedelta(days=30 + n))
        for n, customer in enumerate([world.anna_id, world.piotr_id, world.jane_id] * 5)
    ]
    imported = client.post(
        "/api/v1/orders/import", headers=tenant.headers, json={"orders": history}
    )
    assert imported.status_code == 200 and imported.json()["created"] == 15
    assert _invitations(db_session) == []
    # when an import holds an order of yesterday, then that customer is invited
    recent = [_order("R-1", world.piotr_id, NOW - timedelta(days=1))]
    client.post("/api/v1/orders/import", headers=tenant.headers, json={"orders": recent})
    assert [i.customer_id for i in _invitations(db_session)] == [world.piotr_id]


def test_a_delivery_becoming_delivered_invites_once(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    survey_id = _survey(db_session, world, "nps", "delivery_delivered", publish=True)
    _shop(db_session, world)
    promised = (NOW + timedelta(days=2)).isoformat()
    order = client.post(
        "/api/v1/orders",
        headers=tenant.headers,
        json=_order("D-1", world.jane_id, NOW, deliveries=[{"promised_at": promised}]),
    ).json()
    delivery_id = client.get(f"/api/v1/orders/{order['id']}", headers=tenant.headers).json()[
        "deliveries"
    ][0]["id"]
    status_url = f"/api/v1/deliveries/{delivery_id}/status"
    # when the carrier reports it shipped, then nobody is invited
    shipped = {"status": "shipped", "occurred_at": (NOW + timedelta(hours=1)).isoformat()}
    assert client.post(status_url, headers=tenant.headers, json=shipped).status_code == 200
    assert _invitations(db_session) == []
    # when it is delivered, then Jane is invited about that order
    delivered = {"status": "delivered", "occurred_at": (NOW + timedelta(hours=2)).isoformat()}
    assert client.post(status_url, headers=tenant.headers, json=delivered).status_code == 200
    (invitation,) = _invitations(db_session)
    assert (invitation.survey_id, invitation.order_id) == (survey_id, order["id"])
    # when "delivered" is reported again, then it is not a new interaction
    again = {"status": "delivered", "occurred_at": (NOW + timedelta(hours=3)).isoformat()}
    assert client.post(status_url, headers=tenant.headers, json=again).status_code == 200
    assert len(_invitations(db_session)) == 1


def test_with_email_configured_a_triggered_invitation_is_emailed(
    client: TestClient, db_session: Session, world: World, tenant: Tenant, mailbox: Mailbox
) -> None:
    _survey(db_session, world, "nps", "order_placed", publish=True)
    _shop(db_session, world)
    client.post("/api/v1/orders", headers=tenant.headers, json=_order("P-1", world.piotr_id, NOW))
    wait_for_jobs()
    (message,) = mailbox.to("piotr@example.com")
    assert message["Subject"].startswith("Krótkie pytanie")
    assert _invitations(db_session)[0].send_status == "sent"
