"""The demo's planted story comes out as the top pain point in its weeks.

The Living Sale sells many Lento sofas; from two weeks into the campaign their deliveries run
late, customers track, chat, call and complain, and NPS after delivery falls. The pain-point
ranking must put the delivery touchpoints on top in those weeks, well above their usual level.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.demo.load import load_world
from opencx.demo.world import build_world
from opencx.journeys.maps import service

TODAY = date(2026, 11, 22)  # a fixed day: the same world on every run


def test_late_lento_deliveries_top_the_pain_points_in_the_campaigns_weeks(
    db_session: Session,
) -> None:
    # given the demo world of 500 customers (seed 42), loaded and synced
    world = build_world(customers=500, seed=42, today=TODAY)
    org_id = load_world(world).org_id
    sync_to_analytics()
    as_of = datetime.combine(TODAY, time(), tzinfo=UTC)
    story = (world.campaign.late_from, world.campaign.late_until)  # Lento deliveries late
    before = (world.campaign.start - timedelta(weeks=10), world.campaign.start)

    # when the pain points of the story's weeks and of the ten weeks before the campaign are ranked
    during = service.compute_pain_points(
        db_session, org_id=org_id, start=story[0], end=story[1], as_of=as_of
    )
    earlier = service.compute_pain_points(
        db_session, org_id=org_id, start=before[0], end=before[1], as_of=as_of
    )

    # then a delivery touchpoint is on top, and the top 3 are where the waiting customers went:
    # tracking, delivery updates and the desk's contact touchpoints
    top = during.pain_points[0]
    assert top.stage == "delivery", [p.key for p in during.pain_points]
    assert {p.key for p in during.pain_points[:3]} <= {
        "track-and-trace", "delivery-updates", "complaints-desk", "contact-form", "live-chat",
        "service-phone",
    }  # fmt: skip
    assert top.late_customers > 0
    # and its weekly impact is more than twice what it was before the campaign
    weeks_during = (story[1] - story[0]).days / 7
    usual = next(p for p in earlier.pain_points if p.key == top.key)
    assert top.impact / weeks_during > 2 * usual.impact / 10
    # and the complaints desk shows what the waiting customers wrote about the Lento sofa
    desk = next(p for p in during.pain_points if p.key == "complaints-desk")
    assert desk.comments and desk.complaints >= 5
    assert any("Lento" in c.text for p in during.pain_points for c in p.comments)
