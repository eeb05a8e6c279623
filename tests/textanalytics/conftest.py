"""An organization whose NPS comments use its own words (furniture), and an inbound message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.conversations import service as conversations
from opencx.conversations.schemas import InboundMessageIn
from opencx.surveys import service as surveys
from opencx.surveys.schemas import InvitationIn, SurveyIn
from opencx.text.evaluation import LabelledText
from tests.conftest import Tenant
from tests.surveys.conftest import make_customer
from tests.text.test_learning import furniture_comments


@dataclass
class RatedWorld:
    org_id: int
    survey_id: int
    customer_id: int
    tokens: list[str]


def answer_nps(session: Session, world: RatedWorld, score: int, comment: str | None) -> str:
    """Invite the customer, answer score and comment through the public page's service."""
    invitation = surveys.create_invitation(
        session,
        org_id=world.org_id,
        survey_id=world.survey_id,
        data=InvitationIn(customer_id=world.customer_id, channel="email"),
    )
    form = {"shown": ["score", "why"], "q_score": [str(score)]}
    if comment is not None:
        form["q_why"] = [comment]
    surveys.record_answers(session, token=invitation.token, form=form)
    world.tokens.append(invitation.token)
    return invitation.token


def rate(session: Session, world: RatedWorld, comments: list[LabelledText]) -> None:
    """Answer one NPS survey per comment: detractor scores for complaints, promoter for praise."""
    for i, comment in enumerate(comments):
        score = (i % 7) if comment.label == "negative" else 9 + i % 2
        answer_nps(session, world, score, comment.text)


def make_rated_world(session: Session, org_id: int, per_class: int) -> RatedWorld:
    org = auth.get_organization(session, org_id=org_id)
    org.settings = {**org.settings, "survey_throttle_days": 0}
    survey = surveys.create_survey(
        session, org_id=org_id, data=SurveyIn(name="After delivery", kind="nps")
    )
    surveys.publish_survey(session, org_id=org_id, survey_id=survey.id)
    customer_id = make_customer(session, org_id, "Emma", "en", channel="email")
    world = RatedWorld(org_id, survey.id, customer_id, [])
    rate(session, world, furniture_comments(per_class))
    # passives (7-8) are not labelled examples, and a score without a comment is no text
    answer_nps(session, world, 7, "The sofa was fine I guess")
    answer_nps(session, world, 8, None)
    session.commit()
    return world


@pytest.fixture
def rated_world(db_session: Session, tenant: Tenant) -> RatedWorld:
    return make_rated_world(db_session, tenant.org_id, 60)


def send_message(session: Session, org_id: int, body: str, message_id: str) -> int:
    result = conversations.record_inbound_message(
        session,
        org_id=org_id,
        data=InboundMessageIn.model_validate(
            {
                "channel": "email",
                "channel_message_id": message_id,
                "sender": {"kind": "email", "value": "emma@example.com"},
                "subject": "My order",
                "body": body,
                "received_at": datetime.now(UTC),
            }
        ),
    )
    session.commit()
    return result.message.id
