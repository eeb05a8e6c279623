"""Survey metrics by agent, country, segment, touchpoint and period, and changes between periods."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.analytics import service
from opencx.analytics.sync import sync_to_analytics
from opencx.errors import InvalidInput, NotFound
from opencx.surveys import service as surveys
from opencx.surveys.schemas import SurveyIn
from tests.analytics.conftest import (
    A_START,
    ADA_NPS,
    B_END,
    BO_NPS,
    Feedback,
    answered_at,
    make_customer,
    period,
    record_score,
)
from tests.conftest import Tenant


def test_nps_by_agent_carries_the_agents_names(db_session: Session, feedback: Feedback) -> None:
    # when NPS is computed per agent over period B as a whole
    rows = service.compute_survey_scores(
        db_session, org_id=feedback.org_id, metric="nps", by="agent", grain="none", **period("b")
    )
    # then Ada has 10 promoters of 12 and Bo 3 of 6 (his 5 answers and the merged customer's)
    by_agent = {row.key: row for row in rows}
    ada, bo = by_agent[feedback.ada_id], by_agent[feedback.bo_id]
    assert (ada.label, ada.responses, ada.promoters, ada.detractors) == ("Ada", 12, 10, 0)
    assert ada.value == pytest.approx(100 * 10 / 12)
    assert (bo.label, bo.responses, bo.promoters, bo.detractors) == ("Bo", 6, 3, 2)
    assert all(row.period_start == period("b")["start"] for row in rows)
    assert ada.low is not None and ada.high is not None and ada.low < ada.value < ada.high


def test_country_comes_from_the_profile_a_customer_was_merged_into(
    db_session: Session, feedback: Feedback
) -> None:
    rows = service.compute_survey_scores(
        db_session, org_id=feedback.org_id, metric="nps", by="country", grain="none", **period("b")
    )
    by_country = {row.key: row for row in rows}
    # then the merged customer's answer counts for Belgium, its survivor's country
    assert by_country["BE"].responses == 1 and by_country["BE"].value == 100.0
    assert set(by_country) == {"NL", "PL", "BE", None}
    assert by_country[None].label == "Unknown country"
    assert sum(row.responses for row in rows) == len(ADA_NPS["b"]) + len(BO_NPS["b"]) + 1


def test_a_response_counts_once_in_each_segment_of_its_customer(
    db_session: Session, feedback: Feedback
) -> None:
    # given customer n in segments loyal (n % 3 in 0, 1), new (n % 3 == 1): Ada's period-B
    # NPS answers came from customers 13-24 and Bo's from 50-54, plus the merged VIP
    numbers = [*range(13, 25), *range(50, 55)]
    expected = {
        "loyal": sum(1 for n in numbers if n % 3 in (0, 1)),
        "new": sum(1 for n in numbers if n % 3 == 1),
        "vip": 1,
    }
    # when NPS is computed per segment
    rows = service.compute_survey_scores(
        db_session, org_id=feedback.org_id, metric="nps", by="segment", grain="none", **period("b")
    )
    # then each segment counts its customers' answers; customers without segments count nowhere
    assert {row.key: row.responses for row in rows} == expected


def test_month_and_week_grains_split_the_same_responses(
    db_session: Session, feedback: Feedback
) -> None:
    whole = {"start": A_START, "end": B_END}
    monthly = service.compute_survey_scores(
        db_session, org_id=feedback.org_id, metric="csat", by="agent", grain="month", **whole
    )
    weekly = service.compute_survey_scores(
        db_session, org_id=feedback.org_id, metric="csat", by="touchpoint", grain="week", **whole
    )
    # then every month starts on the 1st and every week on a Monday, and no answer is lost
    assert {row.period_start.day for row in monthly} == {1}
    assert {row.period_start.weekday() for row in weekly} == {0}
    assert sum(row.responses for row in monthly) == sum(row.responses for row in weekly) == 20
    assert {row.label for row in weekly} == {"Chat", "Phone line"}
    assert all(row.satisfied is not None and row.low is not None for row in weekly)


def test_response_rate_by_survey_counts_invitations(
    db_session: Session, feedback: Feedback
) -> None:
    rows = service.compute_survey_scores(
        db_session,
        org_id=feedback.org_id,
        metric="response_rate",
        by="survey",
        grain="none",
        start=A_START,
        end=B_END,
    )
    by_survey = {row.key: row for row in rows}
    csat = by_survey[feedback.csat_survey_id]
    # then 15 of the CSAT survey's 20 invitations were answered completely: the five who scored
    # 1-2 were then asked "what went wrong" and left it open
    assert (csat.label, csat.invitations, csat.responses, csat.value) == (
        "After service (csat)",
        20,
        15,
        0.75,
    )
    assert by_survey[feedback.nps_survey_id].invitations == 12 + 12 + 5 + 5 + 1


def test_a_survey_filter_keeps_only_that_surveys_answers(
    db_session: Session, feedback: Feedback
) -> None:
    rows = service.compute_survey_scores(
        db_session,
        org_id=feedback.org_id,
        metric="nps",
        by="agent",
        grain="none",
        survey_id=feedback.csat_survey_id,
        **period("b"),
    )
    assert rows == []


def test_change_between_periods_is_significant_for_ada_only(
    db_session: Session, feedback: Feedback
) -> None:
    # when NPS and CSAT of period A are compared with period B per agent
    a, b = period("a"), period("b")
    nps = service.compute_survey_score_change(
        db_session,
        org_id=feedback.org_id,
        metric="nps",
        by="agent",
        a_start=a["start"],
        a_end=a["end"],
        b_start=b["start"],
        b_end=b["end"],
    )
    by_agent = {row.key: row for row in nps}
    ada, bo = by_agent[feedback.ada_id], by_agent[feedback.bo_id]
    # then Ada's rise from -33 to 83 is significant, and Bo's from 0 to 17 is not
    assert ada.change is not None and ada.significant
    assert ada.change.difference == pytest.approx(100 * 10 / 12 - 100 * (2 - 6) / 12)
    assert ada.change.difference_low < ada.change.difference < ada.change.difference_high
    assert bo.change is not None and not bo.significant and bo.change.p_value > 0.05
    csat = service.compute_survey_score_change(
        db_session,
        org_id=feedback.org_id,
        metric="csat",
        by="agent",
        a_start=a["start"],
        a_end=a["end"],
        b_start=b["start"],
        b_end=b["end"],
    )
    (ada_csat,) = csat
    assert ada_csat.a and ada_csat.b and (ada_csat.a.satisfied, ada_csat.b.satisfied) == (4, 9)
    assert ada_csat.significant and ada_csat.change and ada_csat.change.difference == 0.5


def test_a_change_by_agent_keeps_answers_without_an_agent_as_their_own_group_last(
    db_session: Session, feedback: Feedback
) -> None:
    # given, besides the agents' answers, a promoter in period B credited to no agent
    customer_id = make_customer(db_session, feedback.org_id, 900)
    record_score(
        db_session,
        org_id=feedback.org_id,
        survey_id=feedback.nps_survey_id,
        customer_id=customer_id,
        score=10,
        at=answered_at("b", 1),
        agent_id=None,
        touchpoint_id=feedback.chat_id,
    )
    db_session.commit()
    sync_to_analytics()
    a, b = period("a"), period("b")
    # when the NPS change is computed per agent
    changes = service.compute_survey_score_change(
        db_session,
        org_id=feedback.org_id,
        metric="nps",
        by="agent",
        a_start=a["start"],
        a_end=a["end"],
        b_start=b["start"],
        b_end=b["end"],
    )
    # then the agents come first and the answers without one form the last group, with no test
    assert [row.key for row in changes][-1] is None
    no_agent = changes[-1]
    assert (no_agent.label, no_agent.a, no_agent.change) == ("No agent", None, None)
    assert no_agent.b is not None and no_agent.b.responses == 1


def test_bad_choices_and_periods_name_the_field(db_session: Session, feedback: Feedback) -> None:
    base = {"org_id": feedback.org_id, "metric": "nps", "by": "agent", "grain": "week"}
    for field, value in (("metric", "ltv"), ("by", "planet"), ("grain", "day")):
        with pytest.raises(InvalidInput) as raised:
            service.compute_survey_scores(db_session, **{**base, field: value}, **period("b"))
        assert raised.value.field == field
    b = period("b")
    with pytest.raises(InvalidInput) as raised:
        service.compute_survey_score_change(
            db_session,
            org_id=feedback.org_id,
            metric="nps",
            by="agent",
            a_start=b["start"],
            a_end=b["end"],
            b_start=b["end"],
            b_end=b["end"] - timedelta(days=1),
        )
    assert raised.value.field == "b_end"


def test_another_organizations_survey_or_agent_is_not_found(
    db_session: Session, feedback: Feedback, other_tenant: Tenant
) -> None:
    for filters in ({"survey_id": feedback.nps_survey_id}, {"agent_id": feedback.ada_id}):
        with pytest.raises(NotFound):
            service.compute_survey_scores(
                db_session,
                org_id=other_tenant.org_id,
                metric="nps",
                by="touchpoint",
                grain="week",
                **period("b"),
                **filters,
            )


def test_survey_scores_over_http(
    client: TestClient, feedback: Feedback, tenant: Tenant, other_tenant: Tenant
) -> None:
    b = period("b")
    query = {
        "metric": "nps",
        "by": "touchpoint",
        "grain": "none",
        "start": b["start"].isoformat(),
        "end": b["end"].isoformat(),
    }
    # when the API is asked for NPS per touchpoint
    answer = client.get("/api/v1/analytics/survey-scores", params=query, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    rows = answer.json()
    # then each row carries the touchpoint's id and name, the NPS and its interval
    assert {(row["key"], row["label"]) for row in rows} == {
        (feedback.chat_id, "Chat"),
        (feedback.phone_id, "Phone line"),
    }
    assert sum(row["responses"] for row in rows) == 18
    assert all(row["low"] <= row["value"] <= row["high"] for row in rows)
    # and another organization sees none of it
    other = client.get(
        "/api/v1/analytics/survey-scores", params=query, headers=other_tenant.headers
    )
    assert other.status_code == 200 and other.json() == []
    # and bad parameters are 422 naming the field
    for field, value in (("metric", "ltv"), ("by", "planet"), ("grain", "day")):
        bad = client.get(
            "/api/v1/analytics/survey-scores",
            params={**query, field: value},
            headers=tenant.headers,
        )
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == field


def test_survey_score_change_over_http(
    client: TestClient, feedback: Feedback, tenant: Tenant
) -> None:
    a, b = period("a"), period("b")
    query = {
        "metric": "csat",
        "by": "agent",
        "a_start": a["start"].isoformat(),
        "a_end": a["end"].isoformat(),
        "b_start": b["start"].isoformat(),
        "b_end": b["end"].isoformat(),
    }
    answer = client.get(
        "/api/v1/analytics/survey-score-change", params=query, headers=tenant.headers
    )
    assert answer.status_code == 200, answer.text
    (ada,) = answer.json()
    assert (ada["key"], ada["label"], ada["change"]["significant"]) == (
        feedback.ada_id,
        "Ada",
        True,
    )
    bad = client.get(
        "/api/v1/analytics/survey-score-change",
        params={**query, "a_end": a["start"].isoformat()},
        headers=tenant.headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "a_end"


def test_ces_means_and_their_change_per_touchpoint(db_session: Session, feedback: Feedback) -> None:
    # given a CES survey answered about the chat: 3, 4, 2, 3 in period A and 6, 7, 6, 5 in B
    survey = surveys.create_survey(
        db_session, org_id=feedback.org_id, data=SurveyIn(name="Effort", kind="ces")
    )
    surveys.publish_survey(db_session, org_id=feedback.org_id, survey_id=survey.id)
    for n, (when, score) in enumerate(
        [("a", 3), ("a", 4), ("a", 2), ("a", 3), ("b", 6), ("b", 7), ("b", 6), ("b", 5)]
    ):
        record_score(
            db_session,
            org_id=feedback.org_id,
            survey_id=survey.id,
            customer_id=make_customer(db_session, feedback.org_id, 2000 + n),
            score=score,
            at=answered_at(when, n),
            agent_id=feedback.bo_id,
            touchpoint_id=feedback.chat_id,
        )
    db_session.commit()
    sync_to_analytics()
    a, b = period("a"), period("b")
    # when the means are computed and compared
    (mean,) = service.compute_survey_scores(
        db_session, org_id=feedback.org_id, metric="ces", by="survey", grain="none", **b
    )
    (change,) = service.compute_survey_score_change(
        db_session,
        org_id=feedback.org_id,
        metric="ces",
        by="touchpoint",
        a_start=a["start"],
        a_end=a["end"],
        b_start=b["start"],
        b_end=b["end"],
    )
    # then period B's mean is 6 with sample sd sqrt(2/3), and the rise of 3 is significant
    margin = 1.959964 * math.sqrt(2 / 3) / 2
    assert (mean.label, mean.responses, mean.value) == ("Effort", 4, 6.0)
    assert mean.low == pytest.approx(6 - margin) and mean.high == pytest.approx(6 + margin)
    assert change.label == "Chat" and change.change is not None
    assert change.change.difference == 3.0 and change.significant


def test_asking_the_same_question_again_sees_responses_synced_since(
    db_session: Session, feedback: Feedback
) -> None:
    # given NPS per agent over period B, asked once
    def ada_responses() -> int:
        rows = service.compute_survey_scores(
            db_session,
            org_id=feedback.org_id,
            metric="nps",
            by="agent",
            grain="none",
            **period("b"),
        )
        return next(row.responses for row in rows if row.key == feedback.ada_id)

    before = ada_responses()
    # when Ada gets one more answer, the store is synced and the same question is asked again
    record_score(
        db_session,
        org_id=feedback.org_id,
        survey_id=feedback.nps_survey_id,
        customer_id=make_customer(db_session, feedback.org_id, 90),
        score=10,
        at=answered_at("b", 1),
        agent_id=feedback.ada_id,
        touchpoint_id=feedback.chat_id,
    )
    db_session.commit()
    sync_to_analytics()
    # then the answer counts: the SQL is reused, never the rows
    assert ada_responses() == before + 1
