"""Survey answers reach the analytics store and show as NPS per touchpoint and week, with intervals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from opencx.analytics import service as analytics
from opencx.analytics.engine import analytics_connection
from opencx.analytics.sync import sync_to_analytics
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.surveys import service
from opencx.surveys.schemas import InvitationIn, SurveyIn
from tests.surveys.conftest import NOW, World, make_customer


def test_nps_interval_of_a_known_mix() -> None:
    # 50 promoters, 30 passives, 20 detractors: NPS 30, standard error 100 * sqrt(0.61 / 100)
    low, high = analytics.nps_interval(50, 20, 100)
    assert low == pytest.approx(30 - 15.308, abs=1e-3)
    assert high == pytest.approx(30 + 15.308, abs=1e-3)
    # all promoters: no spread, and never beyond 100
    assert analytics.nps_interval(5, 0, 5) == (100.0, 100.0)


def test_answers_show_as_nps_per_touchpoint_credited_to_the_right_place(
    db_session: Session, world: World
) -> None:
    # given two touchpoints and ten customers answering the NPS survey about them
    delivery, chat = journeys.upsert_touchpoints(
        db_session,
        org_id=world.org_id,
        touchpoints=[
            TouchpointIn(
                key="delivery",
                name="Delivery",
                stage="delivery",
                channel="web",
                is_online=True,
                department="logistics",
            ),
            TouchpointIn(
                key="chat",
                name="Chat",
                stage="service",
                channel="chat",
                is_online=True,
                department="service",
            ),
        ],
    )
    scores = {delivery.id: [10, 9, 9, 3, 7], chat.id: [2, 5, 8, 10, 6]}
    for touchpoint_id, values in scores.items():
        for n, score in enumerate(values):
            customer_id = make_customer(
                db_session, world.org_id, f"C{touchpoint_id}x{n}", "en", channel="email"
            )
            invitation = service.create_invitation(
                db_session,
                org_id=world.org_id,
                survey_id=world.nps_survey_id,
                data=InvitationIn(
                    customer_id=customer_id, channel="email", touchpoint_id=touchpoint_id
                ),
            )
            service.record_answers(
                db_session,
                token=invitation.token,
                form={
                    "shown": ["score", "why"],
                    "q_score": [str(score)],
                    "q_why": ["private words"],
                },
            )
    db_session.commit()
    # when the analytics store is synced and the metric computed
    sync_to_analytics()
    weeks = analytics.compute_nps_per_touchpoint_per_week(
        org_id=world.org_id,
        start=(NOW - timedelta(days=7)).date(),
        end=(NOW + timedelta(days=1)).date(),
    )
    # then each touchpoint has its own NPS: delivery 3 promoters, 1 detractor; chat 1 and 3
    by_touchpoint = {w.touchpoint_id: w for w in weeks}
    assert set(by_touchpoint) == {delivery.id, chat.id}
    assert (by_touchpoint[delivery.id].responses, by_touchpoint[delivery.id].nps) == (5, 40.0)
    assert by_touchpoint[chat.id].nps == -40.0
    assert by_touchpoint[chat.id].detractor_share == pytest.approx(0.6)
    for week in weeks:
        assert week.nps_low < week.nps < week.nps_high
    # and the detractors left "what went wrong" open, so their answers are not complete
    rates = analytics.compute_response_rate_per_touchpoint_per_week(
        org_id=world.org_id,
        start=(NOW - timedelta(days=7)).date(),
        end=(NOW + timedelta(days=1)).date(),
    )
    assert {(r.touchpoint_id, r.invitations, r.responses) for r in rates} == {
        (delivery.id, 5, 4),
        (chat.id, 5, 2),
    }
    # and the customers' words stayed in the operational store
    with analytics_connection() as store:
        copied = store.table("survey_responses")
        assert "answers" not in copied.columns
        texts = [name for name, dtype in copied.schema().items() if dtype.is_string()]
        rows = copied.select(texts).to_pyarrow().to_pylist()
    assert len(rows) == 10
    assert not [row for row in rows if "private words" in str(row)]


def test_share_and_mean_intervals_of_known_samples() -> None:
    # 8 of 10 satisfied: Wilson interval (0.490, 0.943)
    low, high = analytics.share_interval(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.49, 0.943)
    assert analytics.share_interval(3, 3)[1] == 1.0
    # scores 2, 4, 6: mean 4, sample sd 2, margin 1.96 * 2 / sqrt(3)
    assert analytics.mean_interval(3, 12, 4 + 16 + 36) == pytest.approx(
        (4 - 2.2632, 4 + 2.2632), abs=1e-4
    )
    assert analytics.mean_interval(1, 5, 25) is None


def test_csat_and_ces_answers_show_per_touchpoint(db_session: Session, world: World) -> None:
    # given a CSAT and a CES survey answered about the chat touchpoint
    (chat,) = journeys.upsert_touchpoints(
        db_session,
        org_id=world.org_id,
        touchpoints=[
            TouchpointIn(
                key="chat",
                name="Chat",
                stage="service",
                channel="chat",
                is_online=True,
                department="service",
            )
        ],
    )
    answers = {"csat": [5, 4, 2, 5], "ces": [7, 5, 3, 6]}
    for kind, values in answers.items():
        survey = service.create_survey(
            db_session, org_id=world.org_id, data=SurveyIn(name=kind, kind=kind)
        )
        service.publish_survey(db_session, org_id=world.org_id, survey_id=survey.id)
        for n, score in enumerate(values):
            customer_id = make_customer(
                db_session, world.org_id, f"{kind}{n}", "pl", channel="chat"
            )
            invitation = service.create_invitation(
                db_session,
                org_id=world.org_id,
                survey_id=survey.id,
                data=InvitationIn(customer_id=customer_id, channel="chat", touchpoint_id=chat.id),
            )
            service.record_answers(
                db_session,
                token=invitation.token,
                form={"shown": ["score"], "q_score": [str(score)]},
            )
    db_session.commit()
    # when synced and computed
    sync_to_analytics()
    period = {"start": (NOW - timedelta(days=7)).date(), "end": (NOW + timedelta(days=1)).date()}
    (csat,) = analytics.compute_csat_per_touchpoint_per_week(org_id=world.org_id, **period)
    (ces,) = analytics.compute_ces_per_touchpoint_per_week(org_id=world.org_id, **period)
    # then CSAT is 3 of 4 satisfied and CES the mean 5.25, each inside its interval
    assert (csat.touchpoint_id, csat.responses, csat.satisfied) == (chat.id, 4, 3)
    assert csat.share_low < csat.satisfied_share == 0.75 < csat.share_high
    assert (ces.responses, ces.mean_score) == (4, 5.25)
    assert ces.mean_low is not None and ces.mean_high is not None
    assert ces.mean_low < 5.25 < ces.mean_high


def test_response_rate_counts_only_complete_answers(db_session: Session, world: World) -> None:
    # given four invitations: one answered completely, one partly, two not at all
    tokens = [
        service.create_invitation(
            db_session,
            org_id=world.org_id,
            survey_id=world.nps_survey_id,
            data=InvitationIn(customer_id=customer_id, channel="email"),
        ).token
        for customer_id in (world.anna_id, world.piotr_id, world.jane_id)
    ]
    service.record_answers(
        db_session, token=tokens[0], form={"shown": ["score", "why"], "q_score": ["9"]}
    )
    service.record_answers(db_session, token=tokens[1], form={"shown": ["why"], "q_why": ["Hm"]})
    db_session.commit()
    # when synced and computed
    sync_to_analytics()
    (week,) = analytics.compute_response_rate_per_touchpoint_per_week(
        org_id=world.org_id,
        start=(NOW - timedelta(days=7)).date(),
        end=(NOW + timedelta(days=1)).date(),
    )
    # then 1 of 3 invitations counts as answered
    assert (week.touchpoint_id, week.invitations, week.responses) == (None, 3, 1)
    assert week.rate_low < week.response_rate < week.rate_high
