"""The journey map, pain points and UX task figures of a small known journey."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.errors import InvalidInput, NotFound
from opencx.journeys.maps import service
from opencx.journeys.maps.schemas import TaskIn
from opencx.surveys import service as surveys
from opencx.surveys.schemas import InvitationIn, SurveyIn
from opencx.textanalytics import service as textanalytics
from tests.journeys.maps.conftest import END, START, T0, TOUCHPOINTS, Journey

CHECKOUT = TaskIn(
    name="Checkout",
    start_event="checkout_start",
    success_event="checkout_complete",
    error_events=["checkout_error"],
    abandon_after_seconds=3600,
)


def test_the_map_counts_customers_conversion_and_time_per_stage(journey: Journey) -> None:
    # given the journey, synced
    # when the map of March is computed
    journey_map = service.compute_journey_map(org_id=journey.org_id, start=START, end=END)
    stages = {s.stage: s for s in journey_map.stages}
    # then the stages come in journey order, with who reached them and who went on
    assert [s.stage for s in journey_map.stages] == [
        "awareness", "consideration", "purchase", "delivery", "use", "service", "loyalty",
    ]  # fmt: skip
    assert (stages["awareness"].customers, stages["awareness"].converted) == (2, 2)
    assert stages["awareness"].median_hours_to_next == pytest.approx(0.75)  # 1 h and 30 min
    assert (stages["consideration"].customers, stages["consideration"].converted) == (3, 3)
    assert stages["consideration"].median_hours_to_next == pytest.approx(1.0)
    # and the store order of a customer no tracker saw counts in the purchase stage
    assert (stages["purchase"].customers, stages["purchase"].converted) == (4, 1)
    assert stages["purchase"].drop_off == pytest.approx(0.75)
    assert stages["purchase"].median_hours_to_next == pytest.approx(70.0)
    assert (stages["delivery"].customers, stages["delivery"].conversion) == (1, 0.0)
    assert stages["use"].customers == 0 and stages["use"].conversion is None
    assert stages["service"].median_hours_to_next == pytest.approx(6 * 24)
    assert stages["loyalty"].conversion is None and stages["loyalty"].customers == 1


def test_touchpoints_show_volume_devices_channel_and_scores(journey: Journey) -> None:
    journey_map = service.compute_journey_map(org_id=journey.org_id, start=START, end=END)
    places = {p.key: p for s in journey_map.stages for p in s.touchpoints}
    # then the ad has three clicks, two of known customers, mostly on mobile
    ad = places["ad"]
    assert (ad.events, ad.customers, ad.sessions) == (3, 2, 0)
    assert ad.devices == {"mobile": 2, "desktop": 1}
    assert places["checkout"].sessions == 3 and places["checkout"].is_online
    # and the delivery touchpoint carries its NPS (one detractor)
    delivery = places["delivery-updates"]
    assert (delivery.nps, delivery.nps_responses) == (-100.0, 1)
    assert delivery.csat is None and delivery.sentiment is None
    # and no touchpoint of the other tenant appears
    assert set(places) <= {key for key, *_ in TOUCHPOINTS}
    assert sum(p.events for p in places.values()) == 16


def test_segment_and_country_filters_keep_their_customers_only(journey: Journey) -> None:
    # when the map is narrowed to VIPs, then to Poland
    vip = service.compute_journey_map(org_id=journey.org_id, start=START, end=END, segment="vip")
    poland = service.compute_journey_map(org_id=journey.org_id, start=START, end=END, country="PL")
    # then only Cas (vip) or Pia (PL) counts, and the anonymous click drops out
    vip_places = {p.key: p for s in vip.stages for p in s.touchpoints}
    assert vip_places["ad"].events == 1 and vip.stages[2].customers == 1
    assert vip_places["delivery-updates"].nps == -100.0
    assert [s.customers for s in poland.stages[:3]] == [1, 1, 1]
    assert "delivery-updates" not in {p.key for s in poland.stages for p in s.touchpoints}


def test_pain_points_rank_late_delivery_and_complaints_above_the_rest(
    db_session: Session, journey: Journey
) -> None:
    # when the pain points of March are ranked, as of the end of the month
    ranking = service.compute_pain_points(
        db_session, org_id=journey.org_id, start=START, end=END, as_of=T0 + timedelta(days=30)
    )
    points = {p.key: p for p in ranking.pain_points}
    # then the delivery touchpoint leads: a late delivery and an NPS of 2, both followed by a
    # detractor answer: impact = reach 1 x rate 1 x (1 + 1) + ... as documented
    assert next(p.key for p in ranking.pain_points) == "delivery-updates"
    delivery = points["delivery-updates"]
    assert (delivery.late_customers, delivery.low_scores, delivery.negatives) == (1, 1, 2)
    assert delivery.later_detractor_share == 1.0
    assert delivery.impact == pytest.approx(4.0) and delivery.score == pytest.approx(100.0)
    # and the complaint and the checkout error follow, the 1-star review (no NPS after it) last
    assert {p.key for p in ranking.pain_points[1:3]} == {"complaints", "checkout"}
    assert points["complaints"].complaints == 1 and points["complaints"].score == 50.0
    assert points["checkout"].errors == 1
    assert points["checkout"].negative_rate == pytest.approx(1 / 3)
    assert ranking.pain_points[3].key == "reviews" and points["reviews"].low_reviews == 1
    # and touchpoints without a bad experience are not pain points
    assert "ad" not in points and "product-page" not in points
    # and each comes with what the customer wrote there, never another tenant's words
    assert [c.text for c in points["complaints"].comments] == [
        "Where is my sofa? Promised days ago."
    ]
    # and a weekly trend covering every week of the period
    assert points["complaints"].weeks[0].week_start == date(2026, 3, 2)
    assert len(points["complaints"].weeks) == 5
    assert sum(w.negatives for w in points["complaints"].weeks) == 1


def test_task_figures_give_rates_time_and_clicks(db_session: Session, journey: Journey) -> None:
    # given the checkout task
    task = service.create_task(db_session, org_id=journey.org_id, data=CHECKOUT)
    # when its report for March is computed
    report = service.compute_task_report(
        db_session, org_id=journey.org_id, task_id=task.id, start=START, end=END
    )
    # then three attempts: two done (2 and 5 minutes), one with an error and abandoned
    overall = report.overall
    assert overall is not None
    assert (overall.attempts, overall.successes) == (3, 2)
    assert overall.success_rate == pytest.approx(2 / 3)
    assert overall.error_rate == pytest.approx(1 / 3)
    assert overall.abandonment_rate == pytest.approx(1 / 3)
    assert overall.median_seconds == 210.0 and overall.p90_seconds == 300
    assert overall.mean_clicks == 2.5  # start+success, and start+view+success
    # and by device: desktop always succeeds, mobile errs
    devices = {f.group: f for f in report.by_device}
    assert (devices["desktop"].attempts, devices["desktop"].success_rate) == (2, 1.0)
    assert (devices["mobile"].error_rate, devices["mobile"].abandonment_rate) == (1.0, 1.0)
    assert [f.group for f in report.by_channel] == ["web"]
    assert [w.group for w in report.weeks] == ["2026-03-02"]


def test_an_attempt_past_the_timeout_is_abandoned(db_session: Session, journey: Journey) -> None:
    # given a task that must be done within a minute
    quick = service.create_task(
        db_session,
        org_id=journey.org_id,
        data=CHECKOUT.model_copy(update={"name": "Quick", "abandon_after_seconds": 60}),
    )
    report = service.compute_task_report(
        db_session, org_id=journey.org_id, task_id=quick.id, start=START, end=END
    )
    # then neither 2- nor 5-minute checkout counts as a success
    assert report.overall is not None and report.overall.successes == 0
    assert report.overall.median_seconds is None and report.overall.mean_clicks is None


def test_task_definitions_are_checked_and_scoped(db_session: Session, journey: Journey) -> None:
    task = service.create_task(db_session, org_id=journey.org_id, data=CHECKOUT)
    # a second task of the same name, a success equal to the start, an error equal to either
    with pytest.raises(InvalidInput) as taken:
        service.create_task(db_session, org_id=journey.org_id, data=CHECKOUT)
    assert taken.value.field == "name"
    with pytest.raises(InvalidInput) as same:
        service.create_task(
            db_session,
            org_id=journey.org_id,
            data=CHECKOUT.model_copy(update={"name": "X", "success_event": "checkout_start"}),
        )
    assert same.value.field == "success_event"
    with pytest.raises(InvalidInput) as error:
        service.create_task(
            db_session,
            org_id=journey.org_id,
            data=CHECKOUT.model_copy(update={"name": "Y", "error_events": ["checkout_complete"]}),
        )
    assert error.value.field == "error_events.0"
    # and another tenant can neither read nor see it
    with pytest.raises(NotFound):
        service.get_task(db_session, org_id=journey.other_org_id, task_id=task.id)
    assert service.list_tasks(db_session, org_id=journey.other_org_id) == []


def test_a_backwards_period_is_refused(db_session: Session, journey: Journey) -> None:
    with pytest.raises(InvalidInput) as refused:
        service.compute_journey_map(org_id=journey.org_id, start=END, end=START)
    assert refused.value.field == "end"


def test_a_touchpoint_with_analysed_negative_comments_shows_their_sentiment(
    db_session: Session, journey: Journey
) -> None:
    # given Pia (PL) comments angrily on the delivery updates, and the comment is analysed
    survey = surveys.create_survey(
        db_session, org_id=journey.org_id, data=SurveyIn(name="Delivery updates", kind="nps")
    )
    surveys.publish_survey(db_session, org_id=journey.org_id, survey_id=survey.id)
    moment = T0 + timedelta(days=8)
    invitation = surveys.create_invitation(
        db_session,
        org_id=journey.org_id,
        survey_id=survey.id,
        data=InvitationIn(
            customer_id=journey.pia,
            channel="email",
            touchpoint_id=journey.touchpoint_ids["delivery-updates"],
        ),
        now=moment,
    )
    surveys.record_answers(
        db_session,
        token=invitation.token,
        form={
            "shown": ["score", "why"],
            "q_score": ["1"],
            "q_why": ["Terrible, the parcel arrived broken and two weeks late, awful service"],
        },
        now=moment,
    )
    db_session.commit()
    textanalytics.analyze_pending_texts(db_session, org_id=journey.org_id)
    db_session.commit()
    sync_to_analytics()
    # when the map of March is computed
    journey_map = service.compute_journey_map(org_id=journey.org_id, start=START, end=END)
    places = {p.key: p for s in journey_map.stages for p in s.touchpoints}
    # then the delivery touchpoint shows a negative sentiment, the others none
    assert places["delivery-updates"].sentiment is not None
    assert places["delivery-updates"].sentiment < 0
    assert places["checkout"].sentiment is None
    # and the map of Dutch customers leaves Pia's comment out
    dutch = service.compute_journey_map(org_id=journey.org_id, start=START, end=END, country="NL")
    assert all(p.sentiment is None for s in dutch.stages for p in s.touchpoints)
