"""Periodic relationship NPS: every consenting customer is asked again once per period."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.surveys import service
from opencx.surveys.models import SurveyInvitation
from opencx.surveys.schemas import InvitationIn, SurveyIn
from opencx.surveys.tasks import dispatch_due_work
from tests.conftest import Tenant
from tests.surveys.conftest import NOW, Mailbox, World, wait_for_jobs


def _quarterly(session: Session, world: World) -> int:
    survey = service.create_survey(
        session,
        org_id=world.org_id,
        data=SurveyIn(name="Relationship NPS", kind="nps", trigger="periodic", period_days=91),
    )
    service.publish_survey(session, org_id=world.org_id, survey_id=survey.id)
    session.commit()
    return survey.id


def _invited(session: Session, survey_id: int) -> list[int | None]:
    session.expire_all()
    return sorted(
        session.scalars(
            select(SurveyInvitation.customer_id).where(SurveyInvitation.survey_id == survey_id)
        ),
        key=lambda customer_id: customer_id or 0,
    )


def test_a_quarterly_survey_asks_each_consenting_customer_once_per_quarter(
    db_session: Session, world: World, mailbox: Mailbox
) -> None:
    # given a quarterly relationship NPS, with the throttle off so only the period counts
    survey_id = _quarterly(db_session, world)
    org = auth.get_organization(db_session, org_id=world.org_id)
    org.settings = {**org.settings, service.THROTTLE_SETTING: 0}
    db_session.commit()
    consenting = sorted([world.anna_id, world.piotr_id, world.jane_id])
    # when the dispatcher runs, then every customer consenting by email is invited and emailed
    first = dispatch_due_work(now=NOW)
    wait_for_jobs()
    assert first.periodic_invited == 3 and _invited(db_session, survey_id) == consenting
    assert sorted(r[0] for r, _ in mailbox.messages) == [
        "anna@example.com",
        "jane@example.com",
        "piotr@example.com",
    ]
    # when it runs again within the quarter, then nobody is asked again
    assert dispatch_due_work(now=NOW + timedelta(days=90)).periodic_invited == 0
    # when the quarter has passed, then each is asked once more
    assert dispatch_due_work(now=NOW + timedelta(days=92)).periodic_invited == 3
    assert _invited(db_session, survey_id) == sorted(consenting * 2)


def test_periodic_invitations_respect_the_throttle_and_come_in_batches(
    db_session: Session, world: World, mailbox: Mailbox
) -> None:
    # given Anna was invited to another survey yesterday (throttle: 30 days)
    survey_id = _quarterly(db_session, world)
    service.create_invitation(
        db_session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=InvitationIn(customer_id=world.anna_id, channel="email"),
        now=NOW - timedelta(days=1),
    )
    db_session.commit()
    # when the dispatcher runs with batches of one, then one customer per round, never Anna
    assert dispatch_due_work(now=NOW, batch_size=1).periodic_invited == 1
    assert dispatch_due_work(now=NOW, batch_size=1).periodic_invited == 1
    assert dispatch_due_work(now=NOW, batch_size=1).periodic_invited == 0
    assert _invited(db_session, survey_id) == sorted([world.piotr_id, world.jane_id])
    # and once her throttle has passed, she is asked too
    assert dispatch_due_work(now=NOW + timedelta(days=30)).periodic_invited == 1
    wait_for_jobs()


def test_a_periodic_survey_needs_a_period_and_only_it_has_one(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    for body in (
        {"name": "R", "kind": "nps", "trigger": "periodic"},
        {"name": "R", "kind": "nps", "trigger": "order_placed", "period_days": 91},
    ):
        response = client.post("/api/v1/surveys", headers=tenant.headers, json=body)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == (
            "period_days"
        )
    created = client.post(
        "/api/v1/surveys",
        headers=tenant.headers,
        json={"name": "R", "kind": "nps", "trigger": "periodic", "period_days": 91},
    )
    assert created.status_code == 201 and created.json()["period_days"] == 91
