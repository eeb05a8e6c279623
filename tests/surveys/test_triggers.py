"""Triggers: an interaction (here a recorded delivery) invites the customer to the surveys set for it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.surveys import service
from opencx.surveys.schemas import InteractionIn, SurveyIn
from tests.conftest import Tenant
from tests.surveys.conftest import World, make_customer


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
