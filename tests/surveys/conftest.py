"""Customers with and without survey consent, and an active NPS survey, for one tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.surveys import service
from opencx.surveys.schemas import InvitationIn, SurveyIn
from tests.conftest import Tenant

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class World:
    org_id: int
    nps_survey_id: int
    anna_id: int  # Dutch, consents to surveys by email
    piotr_id: int  # Polish, consents to surveys by email
    jane_id: int  # no language, consents to surveys on any channel
    silent_id: int  # never gave survey consent


def make_customer(
    session: Session, org_id: int, name: str, language: str | None, **consent: str
) -> int:
    consents = (
        [
            {
                "purpose": "surveys",
                "status": "granted",
                "occurred_at": NOW - timedelta(days=400),
                **consent,
            }
        ]
        if consent
        else []
    )
    customer, _ = customers.upsert_customer(
        session,
        org_id=org_id,
        data=CustomerIn.model_validate(
            {
                "first_name": name,
                "language": language,
                "identities": [{"kind": "email", "value": f"{name.lower()}@example.com"}],
                "consents": consents,
            }
        ),
        source="test",
    )
    return customer.id


@pytest.fixture
def world(db_session: Session, tenant: Tenant) -> World:
    org_id = tenant.org_id
    survey = service.create_survey(
        db_session, org_id=org_id, data=SurveyIn(name="After delivery", kind="nps")
    )
    service.publish_survey(db_session, org_id=org_id, survey_id=survey.id)
    result = World(
        org_id=org_id,
        nps_survey_id=survey.id,
        anna_id=make_customer(db_session, org_id, "Anna", "nl", channel="email"),
        piotr_id=make_customer(db_session, org_id, "Piotr", "pl", channel="email"),
        jane_id=make_customer(db_session, org_id, "Jane", None, channel="any"),
        silent_id=make_customer(db_session, org_id, "Silent", "en"),
    )
    db_session.commit()
    return result


def invite(session: Session, world: World, customer_id: int, **source: object) -> str:
    """Invite a customer by email to the NPS survey; return the token."""
    invitation = service.create_invitation(
        session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=InvitationIn.model_validate(
            {"customer_id": customer_id, "channel": "email", **source}
        ),
    )
    session.commit()
    return invitation.token
