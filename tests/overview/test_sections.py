"""The overview's sections through the real services, the analytics store and the database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from opencx.analytics import service as analytics
from opencx.analytics.sync import sync_to_analytics
from opencx.errors import InvalidInput, NotFound
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.overview import service
from opencx.overview.schemas import OverviewFilters
from tests.analytics.conftest import B_START, Feedback
from tests.conftest import Tenant
from tests.surveys.conftest import NOW

TODAY = NOW.date()


def custom(**fields: object) -> OverviewFilters:
    """Period B of the feedback world (four ISO weeks up to today), compared with period A."""
    return service.resolve_overview_filters(
        period="custom", start=B_START, end=TODAY, today=TODAY, **fields
    )


def test_filters_resolve_the_last_days_and_custom_days() -> None:
    # given today, when the last 7 days are asked for, then they end with today (end exclusive)
    week = service.resolve_overview_filters(period="7d", today=date(2026, 11, 30))
    assert (week.start, week.end, week.days) == (date(2026, 11, 24), date(2026, 12, 1), 7)
    assert week.previous_start == date(2026, 11, 17)
    # a custom period includes both days it names, and its query keeps them for links
    days = service.resolve_overview_filters(
        period="custom", start=date(2026, 10, 1), end=date(2026, 10, 31), country=" NL "
    )
    assert (days.start, days.end, days.country) == (date(2026, 10, 1), date(2026, 11, 1), "NL")
    assert days.query() == {
        "period": "custom",
        "start": "2026-10-01",
        "end": "2026-10-31",
        "country": "NL",
    }
    assert days.label == "2026-10-01_2026-10-31"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"period": "1y"}, "period"),
        ({"period": "custom", "end": date(2026, 1, 2)}, "start"),
        ({"period": "custom", "start": date(2026, 1, 2)}, "end"),
        ({"period": "custom", "start": date(2026, 1, 2), "end": date(2026, 1, 1)}, "end"),
        ({"period": "custom", "start": date(2024, 1, 1), "end": date(2026, 1, 1)}, "end"),
    ],
)
def test_bad_filters_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        service.resolve_overview_filters(**fields)  # type: ignore[arg-type]
    assert error.value.field == field


def test_score_tiles_show_the_period_its_interval_and_the_change(
    db_session: Session, feedback: Feedback
) -> None:
    # given feedback in period A and period B; when the overview shows period B
    filters = custom()
    health = service.compute_survey_health(
        db_session, org_id=feedback.org_id, filters=filters, now=NOW
    )
    tiles = {tile.metric: tile for tile in health.tiles}
    # then NPS counts every NPS answer of period B (Ada's 12, Bo's 5, the merged customer's 1)
    nps = tiles["nps"]
    assert nps.current is not None and nps.previous is not None
    assert nps.current.responses == 18
    assert 0 < nps.previous.responses <= 17  # the same number of days before: part of period A
    assert nps.current.low is not None and nps.current.low < nps.current.value
    # and the change is vs the same number of days before, as the analytics service computes it
    (expected,) = analytics.compute_survey_score_change(
        db_session,
        org_id=feedback.org_id,
        metric="nps",
        by="all",
        a_start=filters.previous_start,
        a_end=B_START,
        b_start=B_START,
        b_end=TODAY + timedelta(days=1),
    )
    assert nps.change == expected.change
    assert nps.change is not None and nps.change.difference > 0
    assert tiles["csat"].current is not None and tiles["csat"].current.responses == 10
    assert tiles["ces"].current is None  # no CES survey: nothing is made up
    assert tiles["response_rate"].current is not None
    # the weekly trend covers the period's weeks; its responses add up to the tile's
    nps_trend = next(trend for trend in health.trends if trend.metric == "nps")
    in_period = [w for w in nps_trend.weeks if w.period_start >= B_START]
    assert sum(w.responses for w in in_period) == 18


def test_country_and_segment_filters_apply_to_scores_and_touchpoints(
    db_session: Session, feedback: Feedback
) -> None:
    # given the scores of period B per country and per segment from the analytics service
    def grouped(by: str) -> dict[object, int]:
        return {
            score.key: score.responses
            for score in analytics.compute_survey_scores(
                db_session,
                org_id=feedback.org_id,
                metric="nps",
                by=by,
                grain="none",
                start=B_START,
                end=TODAY + timedelta(days=1),
            )
        }

    by_country, by_segment = grouped("country"), grouped("segment")
    for fields, expected in (
        ({"country": "NL"}, by_country["NL"]),
        ({"country": "BE"}, by_country["BE"]),  # the merged profile counts as its survivor's
        ({"segment": "new"}, by_segment["new"]),
    ):
        # when the overview is filtered
        filters = custom(**fields)
        health = service.compute_survey_health(
            db_session, org_id=feedback.org_id, filters=filters, now=NOW
        )
        touchpoints = service.compute_touchpoint_scores(
            db_session, org_id=feedback.org_id, filters=filters, now=NOW
        )
        # then the NPS tile and the touchpoint rows hold only those customers' responses
        nps = next(tile for tile in health.tiles if tile.metric == "nps")
        assert nps.current is not None and nps.current.responses == expected
        assert sum(row.nps.responses for row in touchpoints.touchpoints if row.nps) == expected
    # a country with no customers shows no scores rather than everyone's
    nobody = service.compute_survey_health(
        db_session, org_id=feedback.org_id, filters=custom(country="DE"), now=NOW
    )
    assert all(tile.current is None for tile in nobody.tiles)


def test_touchpoints_come_with_their_stage_and_busiest_first(
    db_session: Session, feedback: Feedback
) -> None:
    result = service.compute_touchpoint_scores(
        db_session, org_id=feedback.org_id, filters=custom(), now=NOW
    )
    names = [row.name for row in result.touchpoints]
    assert sorted(names) == ["Chat", "Phone line"]
    assert {row.stage for row in result.touchpoints} == {"service"}  # from the catalog
    counts = [row.responses for row in result.touchpoints]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == 18 + 10  # NPS and CSAT answers of period B


def test_chart_tables_hold_exactly_the_charted_data(
    db_session: Session, feedback: Feedback
) -> None:
    # given the overview of period B for NL
    filters = custom(country="NL")
    health = service.compute_survey_health(
        db_session, org_id=feedback.org_id, filters=filters, now=NOW
    )
    # when the NPS trend's data is asked for
    table = service.compute_overview_chart(
        db_session,
        org_id=feedback.org_id,
        filters=filters,
        section_key="scores",
        chart_key="trend-nps",
    )
    # then it has the charted weeks, values and intervals, and a file name with the period
    weeks = next(trend for trend in health.trends if trend.metric == "nps").weeks
    assert table.columns == ["week_start", "nps", "low_95", "high_95", "responses"]
    assert table.rows == [
        [w.period_start.isoformat(), w.value, w.low, w.high, w.responses] for w in weeks
    ]
    assert table.filename == f"trend-nps_{B_START.isoformat()}_{TODAY.isoformat()}_NL.csv"


def test_an_unknown_chart_or_section_is_not_found(db_session: Session, tenant: Tenant) -> None:
    filters = service.resolve_overview_filters(period="7d")
    for section, chart in (("nope", "trend-nps"), ("scores", "nope")):
        with pytest.raises(NotFound):
            service.compute_overview_chart(
                db_session,
                org_id=tenant.org_id,
                filters=filters,
                section_key=section,
                chart_key=chart,
            )


def test_the_stamp_changes_when_responses_are_synced_and_tenants_stay_apart(
    db_session: Session, feedback: Feedback, other_tenant: Tenant
) -> None:
    # given the overview's stamp of both organizations
    before = service.get_overview_stamp(db_session, org_id=feedback.org_id)
    other = service.get_overview_stamp(db_session, org_id=other_tenant.org_id)
    # then the other organization sees none of the feedback
    assert other.startswith("0.0.")
    health = service.compute_survey_health(
        db_session, org_id=other_tenant.org_id, filters=custom(), now=NOW
    )
    assert all(tile.current is None for tile in health.tiles)
    # and the stamp holds while nothing changes: a poll answers None
    page = service.poll_overview(db_session, org_id=feedback.org_id, filters=custom(), stamp=before)
    assert page is None


def test_the_stamp_changes_when_other_data_of_the_organization_is_synced(
    db_session: Session, feedback: Feedback, other_tenant: Tenant
) -> None:
    # given the overview's stamp of both organizations
    before = service.get_overview_stamp(db_session, org_id=feedback.org_id)
    other = service.get_overview_stamp(db_session, org_id=other_tenant.org_id)

    def add_touchpoint(org_id: int, key: str) -> None:
        journeys.upsert_touchpoints(
            db_session,
            org_id=org_id,
            touchpoints=[
                TouchpointIn(
                    key=key,
                    name=key,
                    stage="service",
                    channel="web",
                    is_online=True,
                    department="service",
                )
            ],
        )
        db_session.commit()
        sync_to_analytics()

    # when the other organization's new touchpoint is synced (no survey data)
    add_touchpoint(other_tenant.org_id, "other-help")
    # then only its own stamp changes
    assert service.get_overview_stamp(db_session, org_id=feedback.org_id) == before
    assert service.get_overview_stamp(db_session, org_id=other_tenant.org_id) != other
    # and the organization's own new touchpoint changes its stamp: a poll renders anew
    add_touchpoint(feedback.org_id, "help-centre")
    page = service.poll_overview(db_session, org_id=feedback.org_id, filters=custom(), stamp=before)
    assert page is not None


def test_touchpoints_follow_the_journey_stage_by_stage(
    db_session: Session, feedback: Feedback
) -> None:
    # given the phone line moved to the purchase stage, before service in the journey
    journeys.upsert_touchpoints(
        db_session,
        org_id=feedback.org_id,
        touchpoints=[
            TouchpointIn(
                key="phone",
                name="Phone line",
                stage="purchase",
                channel="phone",
                is_online=False,
                department="sales",
            )
        ],
    )
    db_session.commit()
    # when the scores by touchpoint are computed
    result = service.compute_touchpoint_scores(
        db_session, org_id=feedback.org_id, filters=custom(), now=NOW
    )
    # then the purchase stage's touchpoint comes first, whatever its number of responses
    assert [(row.stage, row.name) for row in result.touchpoints] == [
        ("purchase", "Phone line"),
        ("service", "Chat"),
    ]
