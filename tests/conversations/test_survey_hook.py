"""Resolving a conversation invites the customer to the surveys triggered by conversation_resolved."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.customers import service as customers
from opencx.customers.schemas import ConsentIn
from opencx.surveys import service as surveys
from opencx.surveys.models import SurveyInvitation
from opencx.surveys.schemas import SurveyIn
from tests.conftest import Tenant
from tests.conversations.conftest import NOW, inbound


def _active_csat(session: Session, org_id: int, trigger: str | None) -> int:
    survey = surveys.create_survey(
        session, org_id=org_id, data=SurveyIn(name="After service", kind="csat", trigger=trigger)
    )
    surveys.publish_survey(session, org_id=org_id, survey_id=survey.id)
    session.commit()
    return survey.id


def test_resolving_invites_the_customer_credited_to_agent_and_team(
    client: TestClient, db_session: Session, tenant: Tenant, agent_id: int
) -> None:
    h = tenant.headers
    # given an active CSAT survey triggered by conversation_resolved, and one that is not
    csat_id = _active_csat(db_session, tenant.org_id, "conversation_resolved")
    _active_csat(db_session, tenant.org_id, None)
    # and an email conversation of a customer who consents to surveys by email
    result = client.post(
        "/api/v1/conversations/messages", headers=h, json=inbound(message_id="<s1@x>")
    ).json()
    conversation = result["conversation"]
    customers.record_consent(
        db_session,
        org_id=tenant.org_id,
        customer_id=conversation["customer_id"],
        consent=ConsentIn(
            purpose="surveys",
            channel="email",
            status="granted",
            occurred_at=NOW - timedelta(days=1),
            source="web form",
        ),
    )
    db_session.commit()
    client.post(
        f"/api/v1/conversations/{conversation['id']}/assign",
        headers=h,
        json={"assignee_id": agent_id, "team": "Delivery"},
    )
    # when the agent resolves it
    resolved = client.patch(
        f"/api/v1/conversations/{conversation['id']}", headers=h, json={"status": "resolved"}
    )
    # then the resolve answers with the invitation made, in the same transaction
    assert resolved.status_code == 200, resolved.text
    report = resolved.json()["survey_triggers"]
    assert [i["survey_id"] for i in report["invited"]] == [csat_id]
    assert report["skipped"] == []
    db_session.expire_all()
    (invitation,) = db_session.scalars(select(SurveyInvitation)).all()
    assert invitation.survey_id == csat_id
    assert invitation.customer_id == conversation["customer_id"]
    assert invitation.conversation_id == conversation["id"]
    assert invitation.agent_id == agent_id
    assert invitation.team == "Delivery"
    assert invitation.channel == "email"
    assert invitation.language == "nl"


def test_a_refused_invitation_is_reported_and_the_resolve_stands(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    h = tenant.headers
    csat_id = _active_csat(db_session, tenant.org_id, "conversation_resolved")
    # given a customer who never consented to surveys
    conversation = client.post(
        "/api/v1/conversations/messages", headers=h, json=inbound(message_id="<s2@x>")
    ).json()["conversation"]
    # when the conversation is resolved
    resolved = client.patch(
        f"/api/v1/conversations/{conversation['id']}", headers=h, json={"status": "resolved"}
    )
    # then it is resolved, and the survey's refusal is reported with its reason
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["conversation"]["status"] == "resolved"
    assert body["survey_triggers"]["invited"] == []
    ((skipped),) = body["survey_triggers"]["skipped"]
    assert skipped["survey_id"] == csat_id and "consent" in skipped["reason"]
    db_session.expire_all()
    assert db_session.scalars(select(SurveyInvitation)).all() == []
    # and changing only the priority afterwards runs no trigger
    again = client.patch(
        f"/api/v1/conversations/{conversation['id']}", headers=h, json={"priority": "low"}
    )
    assert again.json()["survey_triggers"] is None
