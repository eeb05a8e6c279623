"""Survey feedback about two agents over two four-week periods, synced to the analytics store.

Ada improves clearly (NPS -33 -> 83, CSAT 4/10 -> 9/10); Bo stays where he was. Customers live
in NL, PL or nowhere known, in segments loyal/new; one answered under a profile that was later
merged into a Belgian VIP's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.surveys import service as surveys
from opencx.surveys.schemas import InvitationIn, SurveyIn
from tests.conftest import PASSWORD, Tenant
from tests.surveys.conftest import NOW

# Period B: this ISO week and the three before, up to today; period A: the four weeks before
# (what the agent feedback pages show and compare for ?weeks=4).
B_END = NOW.date() + timedelta(days=1)
B_START = NOW.date() - timedelta(days=NOW.date().weekday() + 21)
A_START = B_START - timedelta(weeks=4)
ADA_NPS = {"a": [10, 9, 8, 8, 7, 7, 6, 5, 4, 3, 2, 0], "b": [10] * 6 + [9] * 4 + [8, 7]}
ADA_CSAT = {"a": [5, 4, 4, 4, 3, 3, 2, 2, 1, 1], "b": [5] * 6 + [4] * 3 + [2]}
BO_NPS = {"a": [10, 9, 7, 6, 3], "b": [10, 9, 8, 5, 2]}
COUNTRIES = ["NL", "PL", None]
SEGMENTS: list[list[str]] = [["loyal"], ["loyal", "new"], []]


@dataclass
class Feedback:
    org_id: int
    ada_id: int  # agent
    bo_id: int  # agent
    manager_email: str
    ada_email: str
    analyst_email: str
    chat_id: int
    phone_id: int
    nps_survey_id: int
    csat_survey_id: int
    merged_customer_id: int  # answered NPS in period B, then merged into a Belgian VIP


def _user(session: Session, org_id: int, name: str, role: Role) -> tuple[int, str]:
    email = f"{name.lower()}@acme.example"
    user = auth.create_user(
        session, org_id=org_id, email=email, name=name, role=role, password=PASSWORD
    )
    return user.id, email


def make_customer(session: Session, org_id: int, n: int, **profile: object) -> int:
    """Customer number n, who agreed to surveys by email."""
    customer, _ = customers.upsert_customer(
        session,
        org_id=org_id,
        data=CustomerIn.model_validate(
            {
                "first_name": f"Customer {n}",
                "language": "en",
                "identities": [{"kind": "email", "value": f"customer{n}@example.com"}],
                "consents": [
                    {
                        "purpose": "surveys",
                        "status": "granted",
                        "channel": "email",
                        "occurred_at": NOW - timedelta(days=400),
                    }
                ],
                **profile,
            }
        ),
        source="test",
    )
    return customer.id


def record_score(
    session: Session,
    *,
    org_id: int,
    survey_id: int,
    customer_id: int,
    score: int,
    at: datetime,
    agent_id: int | None,
    touchpoint_id: int,
) -> None:
    """Invite the customer at `at` and record their score on the invitation's form."""
    invitation = surveys.create_invitation(
        session,
        org_id=org_id,
        survey_id=survey_id,
        data=InvitationIn(
            customer_id=customer_id,
            channel="email",
            touchpoint_id=touchpoint_id,
            agent_id=agent_id,
            team="Service",
        ),
        now=at,
    )
    surveys.record_answers(
        session,
        token=invitation.token,
        form={"shown": ["score", "why"], "q_score": [str(score)]},
        now=at,
    )


def answered_at(period: str, n: int) -> datetime:
    """The moment of answer n in period "a" or "b"."""
    first = A_START if period == "a" else B_START
    # Spread over the period at 10:00 UTC, up to yesterday (never in the future).
    span = (B_END - B_START).days - 1
    return datetime.combine(first + timedelta(days=(n * 5) % span), time(10), tzinfo=UTC)


@pytest.fixture
def feedback(db_session: Session, tenant: Tenant) -> Feedback:
    org_id = tenant.org_id
    ada_id, ada_email = _user(db_session, org_id, "Ada", Role.agent)
    bo_id, _ = _user(db_session, org_id, "Bo", Role.agent)
    _, manager_email = _user(db_session, org_id, "Mia", Role.manager)
    _, analyst_email = _user(db_session, org_id, "Ann", Role.analyst)
    chat, phone = journeys.upsert_touchpoints(
        db_session,
        org_id=org_id,
        touchpoints=[
            TouchpointIn(
                key=key,
                name=name,
                stage="service",
                channel=key,
                is_online=True,
                department="service",
            )
            for key, name in (("chat", "Chat"), ("phone", "Phone line"))
        ],
    )
    survey_ids = {}
    for kind in ("nps", "csat"):
        survey = surveys.create_survey(
            db_session, org_id=org_id, data=SurveyIn(name=f"After service ({kind})", kind=kind)
        )
        surveys.publish_survey(db_session, org_id=org_id, survey_id=survey.id)
        survey_ids[kind] = survey.id
    n = 0
    for agent_id, kind, scores in (
        (ada_id, "nps", ADA_NPS),
        (ada_id, "csat", ADA_CSAT),
        (bo_id, "nps", BO_NPS),
    ):
        for period, values in scores.items():
            for i, score in enumerate(values):
                n += 1
                customer_id = make_customer(
                    db_session,
                    org_id,
                    n,
                    country=COUNTRIES[n % 3],
                    segments=SEGMENTS[n % 3],
                )
                record_score(
                    db_session,
                    org_id=org_id,
                    survey_id=survey_ids[kind],
                    customer_id=customer_id,
                    score=score,
                    at=answered_at(period, i),
                    agent_id=agent_id,
                    touchpoint_id=(chat if i % 2 else phone).id,
                )
    # A profile with no country or segment answers, and is then merged into a Belgian VIP.
    merged_id = make_customer(db_session, org_id, 1000)
    record_score(
        db_session,
        org_id=org_id,
        survey_id=survey_ids["nps"],
        customer_id=merged_id,
        score=10,
        at=answered_at("b", 1),
        agent_id=bo_id,
        touchpoint_id=chat.id,
    )
    vip_id = make_customer(db_session, org_id, 1001, country="BE", segments=["vip"])
    customers.merge_customers(
        db_session, org_id=org_id, survivor_id=vip_id, merged_id=merged_id, merged_by="test"
    )
    db_session.commit()
    sync_to_analytics()
    return Feedback(
        org_id=org_id,
        ada_id=ada_id,
        bo_id=bo_id,
        manager_email=manager_email,
        ada_email=ada_email,
        analyst_email=analyst_email,
        chat_id=chat.id,
        phone_id=phone.id,
        nps_survey_id=survey_ids["nps"],
        csat_survey_id=survey_ids["csat"],
        merged_customer_id=merged_id,
    )


def period(which: str) -> dict[str, date]:
    """start and end of period "a" or "b"."""
    if which == "a":
        return {"start": A_START, "end": B_START}
    return {"start": B_START, "end": B_END}
