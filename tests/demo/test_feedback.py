"""Demo surveys: invitations and answers that follow each customer's journey and tell the story."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.analytics import service as analytics
from opencx.analytics.sync import sync_to_analytics
from opencx.customers import service as customers_service
from opencx.customers.models import ConsentChannel, ConsentPurpose
from opencx.demo.feedback import DEMO_SURVEYS, DemoInvitation
from opencx.demo.load import load_world
from opencx.demo.world import DemoWorld, build_world
from opencx.journeys import service as journeys_service
from opencx.surveys import service as surveys_service
from opencx.surveys.models import SurveyInvitation, SurveyResponse, SurveyStatus
from opencx.text.language import detect_language

TODAY = date(2025, 11, 22)


@pytest.fixture(scope="module")
def full_world() -> DemoWorld:
    """The default size: the story needs thousands of customers to stand out of the noise."""
    return build_world(customers=5000, seed=42, today=TODAY)


def monday(moment: datetime) -> date:
    return moment.date() - timedelta(days=moment.weekday())


def score(invitation: DemoInvitation) -> int:
    return int(invitation.answers[-1].form["q_score"][0])


def answered(world: DemoWorld, survey: str) -> list[DemoInvitation]:
    return [i for i in world.feedback if i.survey == survey and i.answers]


def story_weeks(world: DemoWorld) -> set[date]:
    """Weeks in which at least three late Lento deliveries of the story were surveyed."""
    weeks = Counter(monday(i.at) for i in world.feedback if i.situation == "story")
    return {week for week, count in weeks.items() if count >= 3}


def nps(scores: list[int]) -> float:
    return 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


def test_the_same_seed_plans_the_same_feedback() -> None:
    # given two worlds of one seed and one of another
    first = build_world(customers=300, seed=7, today=TODAY)
    again = build_world(customers=300, seed=7, today=TODAY)
    other = build_world(customers=300, seed=8, today=TODAY)
    # then the same seed gives the same invitations, answers and comments, another does not
    assert first.feedback == again.feedback
    assert first.feedback != other.feedback
    assert any(i.answers for i in first.feedback)


def test_thousands_answer_at_realistic_rates_soon_after_the_interaction(
    full_world: DemoWorld,
) -> None:
    # given the feedback of the default world
    invitations = full_world.feedback
    responses = [i for i in invitations if i.answers]
    # then thousands are invited, and 20-35% answer, on every survey
    assert len(responses) >= 1500
    assert 0.2 <= len(responses) / len(invitations) <= 0.35
    assert {i.survey for i in responses} == {s.key for s in DEMO_SURVEYS}
    # and answers come within hours to days, while the 14-day link is valid, never in the future
    delays = sorted((i.answers[0].at - i.at).total_seconds() / 3600 for i in responses)
    assert delays[0] > 0
    assert 1 <= delays[len(delays) // 2] <= 12
    assert delays[-1] < 14 * 24
    assert max(a.at for i in responses for a in i.answers) < datetime.fromisoformat(
        f"{TODAY}T00:00:00+00:00"
    )
    # and some leave the score only, some detractors never say what went wrong
    assert any(not i.answers[0].form["q_why"] for i in responses)
    detractors = [i for i in responses if i.survey == "delivery" and score(i) <= 6]
    assert any(len(i.answers) == 1 for i in detractors)
    assert any(len(i.answers) == 2 for i in detractors)


def test_late_lento_deliveries_pull_the_delivery_nps_down_in_the_story_weeks(
    full_world: DemoWorld,
) -> None:
    # given delivery NPS answers per week of answering
    weeks = story_weeks(full_world)
    during, other = [], []
    for invitation in answered(full_world, "delivery"):
        (during if monday(invitation.answers[-1].at) in weeks else other).append(score(invitation))
    # then the weeks of late Lento deliveries score far below the rest of the year
    assert len(weeks) >= 4
    assert nps(during) < nps(other) - 20
    # and the Lento customers who waited are mostly detractors
    story = [score(i) for i in answered(full_world, "delivery") if i.situation == "story"]
    assert len(story) >= 30
    assert sum(s <= 6 for s in story) / len(story) > 0.6
    # and on-time deliveries are mostly promoters and passives
    on_time = [score(i) for i in answered(full_world, "delivery") if i.situation == "on_time"]
    assert sum(s >= 7 for s in on_time) / len(on_time) > 0.8


def test_service_csat_follows_the_contact_and_the_agent(full_world: DemoWorld) -> None:
    # given CSAT answers after service contacts
    service = answered(full_world, "service")
    satisfied: dict[str, list[bool]] = defaultdict(list)
    by_agent: dict[str, list[bool]] = defaultdict(list)
    for invitation in service:
        satisfied[invitation.situation].append(score(invitation) >= 4)
        by_agent[invitation.agent or ""].append(score(invitation) >= 4)
    share = {k: sum(v) / len(v) for k, v in satisfied.items()}
    # then complaints leave customers less satisfied than questions
    assert share["complaint"] < share["question"] - 0.15
    # and every answer is credited to an agent of the customer's language's team
    assert all(i.agent and i.team for i in service)
    assert {i.team for i in service} == {"service-nl", "service-pl", "service-uk"}
    # and some agents do better than others
    shares = sorted(sum(v) / len(v) for v in by_agent.values() if len(v) >= 20)
    assert len(shares) >= 4
    assert shares[-1] - shares[0] > 0.1


def test_comments_are_in_the_customers_language(full_world: DemoWorld) -> None:
    # given a sample of comments long enough to tell the language
    comments = [
        (full_world.customers[i.customer]["language"], text)
        for i in full_world.feedback
        for answer in i.answers[-1:]
        for field in ("q_why", "q_what_went_wrong")
        for text in answer.form.get(field, [])
        if len(text) >= 40
    ]
    sample = random.Random(3).sample(comments, 300)
    # then nearly all are detected as the customer's language (nl, pl or en)
    detected = Counter(detect_language(text).language == language for language, text in sample)
    assert detected[True] / len(sample) > 0.9
    assert {language for language, _ in sample} == {"nl", "pl", "en"}
    # and they are varied, not one sentence repeated
    texts = [text for _, text in comments]
    assert len(set(texts)) / len(texts) > 0.3


def test_the_feedback_loads_through_the_survey_service(db_session: Session) -> None:
    # given a small world
    world = build_world(customers=400, seed=11, today=TODAY)
    # when it is loaded
    report = load_world(world)
    org_id = report.org_id
    # then the four surveys are active, and every planned invitation and response is stored
    surveys = surveys_service.list_surveys(db_session, org_id=org_id)
    assert {s.name for s in surveys} == {s.name for s in DEMO_SURVEYS}
    assert {s.status for s in surveys} == {SurveyStatus.active}
    invitations = db_session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.org_id == org_id)
    ).all()
    responses = db_session.scalars(
        select(SurveyResponse).where(SurveyResponse.org_id == org_id)
    ).all()
    assert len(invitations) == len(world.feedback) == report.rows["survey invitations"]
    assert len(responses) == sum(1 for i in world.feedback if i.answers) > 50
    # and every response's customer had consented to surveys by email when invited
    invited_at = {i.id: i.created_at for i in invitations}
    for response in responses:
        assert response.customer_id is not None
        assert customers_service.may_contact(
            db_session, org_id=org_id, customer_id=response.customer_id,
            purpose=ConsentPurpose.surveys, channel=ConsentChannel.email,
            at=invited_at[response.invitation_id],
        )  # fmt: skip
    # and service answers name their agent and team, partial answers are not complete
    csat = [r for r in responses if r.kind.value == "csat"]
    assert csat and all(r.agent_id and r.team for r in csat)
    assert any(not r.completed for r in responses)
    # and after the sync, the analytics metric gives the plan's weekly delivery NPS
    sync_to_analytics()
    touchpoints = journeys_service.list_touchpoints(db_session, org_id=org_id)
    delivery = next(t.id for t in touchpoints if t.key == "delivery-updates")
    weeks = analytics.compute_nps_per_touchpoint_per_week(
        org_id=org_id, start=TODAY - timedelta(days=400), end=TODAY
    )
    measured = {w.week_start: w.nps for w in weeks if w.touchpoint_id == delivery}
    planned: dict[date, list[int]] = defaultdict(list)
    for invitation in answered(world, "delivery"):
        planned[monday(invitation.answers[-1].at)].append(score(invitation))
    assert measured == pytest.approx({week: nps(s) for week, s in planned.items()})
