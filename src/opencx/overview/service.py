"""Use cases of the overview dashboard: the health of the whole experience, section by section.

Each section reads only through the domains' services, so each figure keeps its domain's
definition (an NPS and its interval, an active customer, a late delivery). SECTIONS at the end
lists them in page order; a domain adds its tile by adding one `Section` there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from opencx.analytics import service as analytics
from opencx.analytics.schemas import SurveyScore
from opencx.commerce import service as commerce
from opencx.conversations import sla_metrics
from opencx.customers import service as customers
from opencx.db import utcnow
from opencx.errors import InvalidInput, NotFound
from opencx.journeys import service as journeys
from opencx.journeys.maps import service as journey_maps
from opencx.journeys.schemas import JourneyStage
from opencx.overview.schemas import (
    PERIOD_DAYS,
    Activity,
    ChartTable,
    ClosedLoop,
    Feelings,
    OverviewFilterChoices,
    OverviewFilters,
    ScoresByTouchpoint,
    ScoreTile,
    ScoreTrend,
    ServiceDesk,
    SlaWeek,
    SurveyHealth,
    TopPainPoints,
    TouchpointScores,
)
from opencx.overview.sections import Cell, Chart, Section
from opencx.surveys import service as surveys
from opencx.surveys.follow_ups import service as follow_ups

WEEKS_CHARTED = 26
TOP_PAIN_POINTS = 5
TREND_WEEKS = 13  # the trend charts show at least this many weeks up to the period's end
MAX_PERIOD_DAYS = 366
METRIC_NAMES = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "response_rate": "Response rate"}
TOUCHPOINT_METRICS = ("nps", "csat", "ces")


def resolve_overview_filters(
    *,
    period: str = "30d",
    start: date | None = None,
    end: date | None = None,
    country: str | None = None,
    segment: str | None = None,
    today: date | None = None,
) -> OverviewFilters:
    """The filters of a request: the last 7, 30 or 90 days up to today, or custom days
    `start`..`end` (both included)."""
    today = today or utcnow().date()
    country, segment = (country or "").strip() or None, (segment or "").strip() or None
    if period in PERIOD_DAYS:
        end_day = today + timedelta(days=1)
        first = end_day - timedelta(days=PERIOD_DAYS[period])
    elif period == "custom":
        if start is None:
            raise InvalidInput("start", "is required for a custom period")
        if end is None:
            raise InvalidInput("end", "is required for a custom period")
        if end < start:
            raise InvalidInput("end", "must not be before start")
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise InvalidInput("end", f"the period may span at most {MAX_PERIOD_DAYS} days")
        first, end_day = start, end + timedelta(days=1)
    else:
        raise InvalidInput("period", f"must be one of {', '.join([*PERIOD_DAYS, 'custom'])}")
    return OverviewFilters(
        period=period,  # type: ignore[arg-type]
        start=first,
        end=end_day,
        country=country,
        segment=segment,
    )


def _trend_start(filters: OverviewFilters) -> date:
    """The Monday of the first charted week: the period's, or TREND_WEEKS before its end."""
    first = min(filters.start, filters.last_day - timedelta(weeks=TREND_WEEKS - 1))
    return first - timedelta(days=first.weekday())


def compute_survey_health(
    session: Session, *, org_id: int, filters: OverviewFilters, now: datetime
) -> SurveyHealth:
    """NPS, CSAT, CES and response rate over the period with the change vs the previous one, and
    their weekly trend (see `_trend_start`), for customers of the country and segment."""
    tiles, trends = [], []
    for metric, name in METRIC_NAMES.items():
        changes = analytics.compute_survey_score_change(
            session,
            org_id=org_id,
            metric=metric,
            by="all",
            a_start=filters.previous_start,
            a_end=filters.start,
            b_start=filters.start,
            b_end=filters.end,
            country=filters.country,
            segment=filters.segment,
        )
        change = changes[0] if changes else None  # by "all": one group, or none at all
        tiles.append(
            ScoreTile(
                metric=metric,  # type: ignore[arg-type]
                name=name,
                current=change and change.b,
                previous=change and change.a,
                change=change and change.change,
            )
        )
        weeks = analytics.compute_survey_scores(
            session,
            metric=metric,
            by="all",
            org_id=org_id,
            grain="week",
            start=_trend_start(filters),
            end=filters.end,
            country=filters.country,
            segment=filters.segment,
        )
        trends.append(ScoreTrend(metric=metric, name=name, weeks=weeks))
    return SurveyHealth(tiles=tiles, trends=trends)


def compute_touchpoint_scores(
    session: Session, *, org_id: int, filters: OverviewFilters, now: datetime
) -> ScoresByTouchpoint:
    """NPS, CSAT and CES per touchpoint over the period, in journey order by stage (awareness to
    loyalty), busiest touchpoint first within a stage; responses without one come last."""
    stages = {
        touchpoint.id: str(touchpoint.stage)
        for touchpoint in journeys.list_touchpoints(session, org_id=org_id)
    }
    rows: dict[int | None, TouchpointScores] = {}
    for metric in TOUCHPOINT_METRICS:
        for score in analytics.compute_survey_scores(
            session,
            org_id=org_id,
            metric=metric,
            by="touchpoint",
            grain="none",
            start=filters.start,
            end=filters.end,
            country=filters.country,
            segment=filters.segment,
        ):
            key = score.key if isinstance(score.key, int) else None
            row = rows.setdefault(
                key,
                TouchpointScores(
                    touchpoint_id=key,
                    name=score.label,
                    stage=None if key is None else stages.get(key),
                ),
            )
            setattr(row, metric, score)
    journey = [str(stage) for stage in JourneyStage]

    def place(row: TouchpointScores) -> tuple[int, int, str]:
        stage = journey.index(row.stage) if row.stage in journey else len(journey)
        return stage, -row.responses, row.name

    ranked = sorted(rows.values(), key=place)
    return ScoresByTouchpoint(touchpoints=ranked)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def compute_closed_loop(
    session: Session, *, org_id: int, filters: OverviewFilters, now: datetime
) -> ClosedLoop:
    """Detractors' follow-ups opened in the period (of the country's and segment's customers);
    open and overdue now."""
    summary = follow_ups.compute_follow_up_summary(
        session,
        org_id=org_id,
        start=_midnight(filters.start),
        now=min(now, _midnight(filters.end)),
        country=filters.country,
        segment=filters.segment,
    )
    return ClosedLoop(summary=summary)


def compute_activity(
    session: Session, *, org_id: int, filters: OverviewFilters, now: datetime
) -> Activity:
    """Customers (of the country and segment), orders and late deliveries (30 days), events
    (7 days), orders per week (26 weeks): the operational store's headline figures."""
    _, active_customers = customers.list_customers(
        session, org_id=org_id, country=filters.country, segment=filters.segment, limit=1
    )
    orders = commerce.compute_order_summary(session, org_id=org_id, now=now, weeks=WEEKS_CHARTED)
    events = journeys.count_events(session, org_id=org_id, start=now - timedelta(days=7), end=now)
    return Activity(
        customers=active_customers,
        orders_last_30_days=orders.orders_last_30_days,
        late_deliveries_last_30_days=orders.late_deliveries_last_30_days,
        events_last_7_days=events,
        orders_per_week=orders.orders_per_week,
    )


def compute_service_desk(
    session: Session, *, org_id: int, filters: OverviewFilters, now: datetime
) -> ServiceDesk:
    """SLA attainment (first response, resolution) and the desk's first-contact resolution and
    median first response, of the conversations started in the period (of customers in the
    country and segment)."""
    chosen = {"country": filters.country, "segment": filters.segment}
    weeks: dict[date, SlaWeek] = {}
    for row in sla_metrics.compute_sla_attainment(
        org_id=org_id, start=filters.start, end=filters.end, by="channel", **chosen
    ):
        week = weeks.setdefault(row.week_start, SlaWeek(week_start=row.week_start))
        week.first_response_decided += row.first_response_decided
        week.first_response_met += row.first_response_met
        week.resolution_decided += row.resolution_decided
        week.resolution_met += row.resolution_met
    ordered = [weeks[monday] for monday in sorted(weeks)]
    total = SlaWeek(
        week_start=filters.start,
        **{
            name: sum(getattr(week, name) for week in ordered)
            for name in (
                "first_response_decided",
                "first_response_met",
                "resolution_decided",
                "resolution_met",
            )
        },
    )
    desk = analytics.compute_service_desk_measures(
        session,
        org_id=org_id,
        by="all",
        grain="none",
        start=filters.start,
        end=filters.end,
        **chosen,
    )
    return ServiceDesk(sla=total, sla_weeks=ordered, desk=desk[0] if desk else None)


def compute_feelings(
    session: Session, *, org_id: int, filters: OverviewFilters, now: datetime
) -> Feelings:
    """Shares negative and positive and the mean sentiment score of the texts of the period,
    and per week (see `_trend_start`), all channels together, of the country's and segment's
    customers."""

    def sentiment(start: date, grain: str) -> list[Any]:
        return analytics.compute_text_sentiment(
            session,
            org_id=org_id,
            by="channel",
            start=start,
            end=filters.end,
            grain=grain,
            country=filters.country,
            segment=filters.segment,
        )

    period = analytics.combine_text_sentiment(sentiment(filters.start, "none"), filters.start)
    weekly = sentiment(_trend_start(filters), "week")
    mondays = _mondays(_trend_start(filters), filters.end)
    return Feelings(
        period=period,
        weeks=[
            analytics.combine_text_sentiment(
                [row for row in weekly if row.period_start == monday], monday
            )
            for monday in mondays
        ],
        week_starts=mondays,
    )


def _mondays(first: date, end: date) -> list[date]:
    return [first + timedelta(weeks=n) for n in range((end - first + timedelta(days=6)).days // 7)]


def compute_top_pain_points(
    session: Session, *, org_id: int, filters: OverviewFilters, now: datetime
) -> TopPainPoints:
    """The five touchpoints with the highest pain-point impact in the period."""
    ranking = journey_maps.compute_pain_points(
        session,
        org_id=org_id,
        start=filters.start,
        end=filters.end,
        as_of=min(now, _midnight(filters.end)),
        limit=TOP_PAIN_POINTS,
        segment=filters.segment,
        country=filters.country,
    )
    return TopPainPoints(pain_points=ranking.pain_points)


def _trend_rows(metric: str) -> Chart:
    def table(health: SurveyHealth) -> list[list[Cell]]:
        trend = next(trend for trend in health.trends if trend.metric == metric)
        return [
            [week.period_start.isoformat(), week.value, week.low, week.high, week.responses]
            for week in trend.weeks
        ]

    name = METRIC_NAMES[metric]
    return Chart(
        key=f"trend-{metric.replace('_', '-')}",
        title=f"{name} per week",
        columns=("week_start", metric, "low_95", "high_95", "responses"),
        table=table,
    )


def _score_cells(score: SurveyScore | None) -> list[Cell]:
    return [None, None] if score is None else [score.value, score.responses]


def _touchpoint_rows(scores: ScoresByTouchpoint) -> list[list[Cell]]:
    return [
        [
            row.touchpoint_id,
            row.name,
            row.stage,
            *_score_cells(row.nps),
            *_score_cells(row.csat),
            *_score_cells(row.ces),
        ]
        for row in scores.touchpoints
    ]


def _orders_rows(activity: Activity) -> list[list[Cell]]:
    return [[week.week_start.isoformat(), week.orders] for week in activity.orders_per_week]


def _sla_rows(desk: ServiceDesk) -> list[list[Cell]]:
    return [
        [
            week.week_start.isoformat(),
            week.first_response_attainment,
            week.first_response_met,
            week.first_response_decided,
            week.resolution_attainment,
            week.resolution_met,
            week.resolution_decided,
        ]
        for week in desk.sla_weeks
    ]


def _sentiment_rows(feelings: Feelings) -> list[list[Cell]]:
    return [
        [monday.isoformat(), None, None, None, 0]
        if week is None
        else [
            monday.isoformat(),
            week.negative_share,
            week.positive_share,
            week.mean_score,
            week.texts,
        ]
        for monday, week in zip(feelings.week_starts, feelings.weeks, strict=True)
    ]


def _pain_rows(top: TopPainPoints) -> list[list[Cell]]:
    return [
        [n, point.touchpoint_id, point.name, point.stage, point.score, point.reach, point.negatives]
        for n, point in enumerate(top.pain_points, start=1)
    ]


SECTIONS: list[Section] = [
    Section(
        key="scores",
        title="Customer scores",
        compute=compute_survey_health,
        template="overview/_scores.html",
        charts=tuple(_trend_rows(metric) for metric in METRIC_NAMES),
    ),
    Section(
        key="touchpoints",
        title="Scores by touchpoint",
        compute=compute_touchpoint_scores,
        template="overview/_touchpoints.html",
        charts=(
            Chart(
                key="touchpoints",
                title="Scores by touchpoint",
                columns=(
                    "touchpoint_id",
                    "touchpoint",
                    "stage",
                    "nps",
                    "nps_responses",
                    "csat",
                    "csat_responses",
                    "ces",
                    "ces_responses",
                ),
                table=_touchpoint_rows,
            ),
        ),
    ),
    Section(
        key="closed-loop",
        title="Closed loop",
        compute=compute_closed_loop,
        template="overview/_closed_loop.html",
    ),
    Section(
        key="service-desk",
        title="Service desk",
        compute=compute_service_desk,
        template="overview/_service_desk.html",
        charts=(
            Chart(
                key="sla-per-week",
                title="SLA attainment per week",
                columns=(
                    "week_start",
                    "first_response_attainment",
                    "first_response_met",
                    "first_response_decided",
                    "resolution_attainment",
                    "resolution_met",
                    "resolution_decided",
                ),
                table=_sla_rows,
            ),
        ),
    ),
    Section(
        key="feelings",
        title="How customers feel",
        compute=compute_feelings,
        template="overview/_feelings.html",
        charts=(
            Chart(
                key="sentiment-per-week",
                title="Sentiment per week",
                columns=("week_start", "negative_share", "positive_share", "mean_score", "texts"),
                table=_sentiment_rows,
            ),
        ),
    ),
    Section(
        key="pain-points",
        title="Top pain points",
        compute=compute_top_pain_points,
        template="overview/_pain_points.html",
        charts=(
            Chart(
                key="pain-points",
                title="Top pain points",
                columns=(
                    "rank",
                    "touchpoint_id",
                    "touchpoint",
                    "stage",
                    "score",
                    "reach",
                    "negatives",
                ),
                table=_pain_rows,
            ),
        ),
    ),
    Section(
        key="activity",
        title="Activity",
        compute=compute_activity,
        template="overview/_activity.html",
        charts=(
            Chart(
                key="orders-per-week",
                title="Orders per week",
                columns=("week_start", "orders"),
                table=_orders_rows,
            ),
        ),
    ),
]


@dataclass(frozen=True)
class OverviewPage:
    """The whole page: each section with its data, and what the filters offer."""

    as_of: datetime
    filters: OverviewFilters
    choices: OverviewFilterChoices
    sections: list[tuple[Section, BaseModel]]
    stamp: str


def list_overview_filter_choices(session: Session, *, org_id: int) -> OverviewFilterChoices:
    """The countries and segments of active customers, for the filters."""
    directory = customers.get_customer_directory(session, org_id=org_id, limit=1)
    return OverviewFilterChoices(countries=directory.countries, segments=directory.segments)


def get_overview_stamp(session: Session, *, org_id: int) -> str:
    """Changes when survey responses arrive (operational store), or when the sync copies any of
    the organization's rows the sections read (responses, conversations, SLA clocks, texts,
    events, orders, deliveries, ...: every table of the analytics store)."""
    operational = surveys.get_response_stamp(session, org_id=org_id)
    return f"{operational}|{analytics.get_data_stamp(org_id=org_id)}"


def _now(now: datetime | None) -> datetime:
    now = now or utcnow()
    if now.tzinfo is None:
        raise InvalidInput("now", "must include a timezone")
    return now


def compute_overview(
    session: Session, *, org_id: int, filters: OverviewFilters, now: datetime | None = None
) -> OverviewPage:
    """Every section of the overview for the filters, in SECTIONS order."""
    now = _now(now)
    with analytics.sharing_one_connection():
        stamp = get_overview_stamp(session, org_id=org_id)
        sections = [
            (section, section.compute(session, org_id=org_id, filters=filters, now=now))
            for section in SECTIONS
        ]
    return OverviewPage(
        as_of=now,
        filters=filters,
        choices=list_overview_filter_choices(session, org_id=org_id),
        sections=sections,
        stamp=stamp,
    )


def poll_overview(
    session: Session,
    *,
    org_id: int,
    filters: OverviewFilters,
    stamp: str,
    now: datetime | None = None,
) -> OverviewPage | None:
    """The overview anew, or None while `stamp` still holds (a cheap check)."""
    if get_overview_stamp(session, org_id=org_id) == stamp:
        return None
    return compute_overview(session, org_id=org_id, filters=filters, now=now)


def compute_overview_chart(
    session: Session,
    *,
    org_id: int,
    filters: OverviewFilters,
    section_key: str,
    chart_key: str,
    now: datetime | None = None,
) -> ChartTable:
    """Exactly the data one chart of the overview draws, for the filters, as a table."""
    section = next((s for s in SECTIONS if s.key == section_key), None)
    if section is None:
        raise NotFound("overview section", section_key)
    chart = section.chart(chart_key)
    if chart is None:
        raise NotFound("chart", chart_key)
    with analytics.sharing_one_connection():
        data = section.compute(session, org_id=org_id, filters=filters, now=_now(now))
    scope = "".join(
        "_" + re.sub(r"[^A-Za-z0-9-]+", "-", part)
        for part in (filters.country, filters.segment)
        if part
    )
    return ChartTable(
        filename=f"{chart.key}_{filters.label}{scope}.csv",
        columns=list(chart.columns),
        rows=chart.table(data),
    )
