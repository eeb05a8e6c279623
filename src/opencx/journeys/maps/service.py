"""Journey map, pain points and UX tasks for one organization.

The figures come from the analytics store (the metrics in `metrics.py`, after a sync); task
definitions and the example comments of a pain point come from the operational store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis.expr.types as ir
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opencx.analytics import metrics as analytics_metrics
from opencx.analytics.engine import analytics_connection, query_rows
from opencx.analytics.service import check_period
from opencx.customers import service as customers
from opencx.errors import InvalidInput, NotFound
from opencx.journeys.maps import metrics
from opencx.journeys.maps.models import JourneyTask
from opencx.journeys.maps.schemas import (
    JourneyMap,
    MapPage,
    PainComment,
    PainPoint,
    PainPointRanking,
    PainPointsPage,
    PainPointWeek,
    StageOnMap,
    TaskFigures,
    TaskIn,
    TaskOut,
    TaskReport,
    TasksPage,
    TouchpointOnMap,
)
from opencx.journeys.models import Event

COMMENTS_PER_PAIN_POINT = 3


def _median(seconds_sum: int, rows: int) -> float | None:
    return seconds_sum / rows if rows else None


def compute_journey_map(
    *,
    org_id: int,
    start: date,
    end: date,
    segment: str | None = None,
    country: str | None = None,
) -> JourneyMap:
    """Per stage and touchpoint: volume, customers, conversion, drop-off, time, scores, devices."""
    check_period(start, end)
    segment, country = segment or None, country or None
    filters: dict[str, Any] = {
        "org_id": org_id,
        "start": start,
        "end": end,
        "segment": segment,
        "country": country,
    }
    key = tuple(filters.values())
    with analytics_connection() as store:
        t = store.table
        places = query_rows(
            store,
            ("journey_touchpoints", *key),
            lambda: metrics.journey_touchpoints(
                t("events"), t("touchpoints"), t("customers"), **filters
            ),
        )
        devices = query_rows(
            store,
            ("journey_devices", *key),
            lambda: metrics.journey_devices(t("events"), t("customers"), **filters),
        )
        stages = query_rows(
            store,
            ("journey_stages", *key),
            lambda: metrics.journey_stages(
                t("events"),
                t("touchpoints"),
                t("orders"),
                t("deliveries"),
                t("conversations"),
                t("customers"),
                **filters,
            ),
        )
        scores = {
            kind: query_rows(
                store, (f"journey_{kind}", *key), _scores_by_touchpoint(store, kind, filters)
            )
            for kind in ("nps", "csat", "ces")
        }
        sentiment = query_rows(
            store, ("journey_sentiment", *key), _sentiment_by_touchpoint(store, filters)
        )
    return _assemble_map(places, devices, stages, scores, sentiment, filters)


def _sentiment_by_touchpoint(store: Any, filters: dict[str, Any]) -> Callable[[], ir.Table]:
    """Text analytics' sentiment per touchpoint (comments and customer messages), over the
    chosen customers' texts."""

    def of_chosen(name: str) -> ir.Table:
        return analytics_metrics.of_customers(
            store.table(name),
            store.table("customers"),
            org_id=filters["org_id"],
            country=filters["country"],
            segment=filters["segment"],
        )

    def build() -> ir.Table:
        return analytics_metrics.text_sentiment_by_group(
            store.table("text_analyses"),
            of_chosen("survey_responses"),
            store.table("conversation_messages"),
            of_chosen("conversations"),
            org_id=filters["org_id"],
            start=filters["start"],
            end=filters["end"],
            by="touchpoint",
            grain="none",
        )

    return build


def _scores_by_touchpoint(store: Any, kind: str, filters: dict[str, Any]) -> Callable[[], ir.Table]:
    """The surveys' own NPS/CSAT/CES metric per touchpoint, over the chosen customers' answers."""
    metric = {
        "nps": analytics_metrics.nps_by_group,
        "csat": analytics_metrics.csat_by_group,
        "ces": analytics_metrics.ces_by_group,
    }[kind]

    def build() -> ir.Table:
        return metric(
            store.table("survey_responses"),
            store.table("customers"),
            org_id=filters["org_id"],
            start=filters["start"],
            end=filters["end"],
            by="touchpoint",
            grain="none",
            country=filters["country"],
            segment=filters["segment"],
        )

    return build


def _assemble_map(
    places: list[dict[str, Any]],
    devices: list[dict[str, Any]],
    stages: list[dict[str, Any]],
    scores: dict[str, list[dict[str, Any]]],
    sentiment: list[dict[str, Any]],
    filters: dict[str, Any],
) -> JourneyMap:
    device_mix: dict[int, dict[str, int]] = defaultdict(dict)
    for row in devices:
        device_mix[row["touchpoint_id"]][row["device"]] = row["events"]
    score_of = {
        kind: {row["group_key"]: row for row in rows if row["group_key"] is not None}
        for kind, rows in scores.items()
    }
    felt = {row["group_key"]: row["mean_score"] for row in sentiment if row["texts"]}
    per_stage: dict[str, list[TouchpointOnMap]] = defaultdict(list)
    for row in sorted(places, key=lambda r: -r["events"]):
        nps = score_of["nps"].get(row["touchpoint_id"])
        csat = score_of["csat"].get(row["touchpoint_id"])
        ces = score_of["ces"].get(row["touchpoint_id"])
        per_stage[row["stage"]].append(
            TouchpointOnMap(
                touchpoint_id=row["touchpoint_id"],
                key=row["touchpoint_key"],
                name=row["touchpoint_name"],
                channel=row["channel"],
                is_online=bool(row["is_online"]),
                events=row["events"],
                customers=row["customers"],
                sessions=row["sessions"],
                devices=dict(sorted(device_mix[row["touchpoint_id"]].items(), key=lambda d: -d[1])),
                nps=nps["nps"] if nps else None,
                nps_responses=nps["responses"] if nps else 0,
                csat=csat["satisfied_share"] if csat else None,
                csat_responses=csat["responses"] if csat else 0,
                ces=ces["mean_score"] if ces else None,
                ces_responses=ces["responses"] if ces else 0,
                sentiment=felt.get(row["touchpoint_id"]),
            )
        )
    reached = {row["stage"]: row for row in stages}
    result = []
    for n, stage in enumerate(metrics.STAGES):
        row = reached.get(stage, {})
        customers = row.get("customers", 0)
        converted = row.get("converted", 0)
        last = n == len(metrics.STAGES) - 1
        conversion = None if last or not customers else converted / customers
        median = _median(row.get("median_seconds_sum", 0), row.get("median_rows", 0))
        places_here = per_stage.get(stage, [])
        result.append(
            StageOnMap(
                stage=stage,
                customers=customers,
                converted=converted,
                conversion=conversion,
                drop_off=None if conversion is None else 1 - conversion,
                median_hours_to_next=None if median is None else median / 3600,
                online_events=sum(p.events for p in places_here if p.is_online),
                physical_events=sum(p.events for p in places_here if not p.is_online),
                touchpoints=places_here,
            )
        )
    return JourneyMap(
        start=filters["start"],
        end=filters["end"],
        segment=filters["segment"],
        country=filters["country"],
        stages=result,
    )


def _negatives(row: dict[str, Any]) -> int:
    # A contact is often seen twice, as a tracked complaint event and as the desk's conversation
    # it became: the larger of the two counts, so one contact is not one complaint too many.
    return int(
        max(row["complaints"], row["conversations"])
        + row["errors"]
        + row["low_reviews"]
        + row["low_scores"]
        + row["late_customers"]
    )


def _impact(row: dict[str, Any]) -> tuple[float, float, float | None]:
    """(impact, negative rate, later detractor share) of summed evidence rows.

    impact = reach x negative rate x (1 + later detractor share), where reach is the known
    customers there (once per week), the negative rate is negatives / reach (at most 1) and the
    later detractor share is of those who answered an NPS survey within 30 days after.
    """
    reach = row["customers"]
    negatives = _negatives(row)
    rate = min(negatives / reach, 1.0) if reach else (1.0 if negatives else 0.0)
    later = row["later_detractors"] / row["later_responders"] if row["later_responders"] else None
    return max(reach, negatives) * rate * (1 + (later or 0.0)), rate, later


def rank_pain_points(
    *,
    org_id: int,
    start: date,
    end: date,
    as_of: datetime | None = None,
    limit: int = 10,
    segment: str | None = None,
    country: str | None = None,
) -> PainPointRanking:
    """Touchpoints ranked by impact in [start, end), each with its weekly trend (no comments);
    with a segment or country, from the experiences of customers in them."""
    check_period(start, end)
    segment, country = segment or None, country or None
    # To the hour: an open delivery counts as late from the hour after its promise, and pages
    # asking again within the hour reuse the compiled query (the moment is part of its SQL).
    as_of = (as_of or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    with analytics_connection() as store:
        t = store.table
        weekly = query_rows(
            store,
            ("pain_points", org_id, start, end, as_of, segment, country),
            lambda: metrics.pain_points_per_touchpoint_per_week(
                t("events"),
                t("touchpoints"),
                t("conversations"),
                t("survey_responses"),
                t("deliveries"),
                t("orders"),
                t("customers"),
                org_id=org_id,
                start=start,
                end=end,
                as_of=as_of,
                segment=segment,
                country=country,
            ),
        )
    totals: dict[int, dict[str, Any]] = {}
    weeks: dict[int, list[PainPointWeek]] = defaultdict(list)
    for row in sorted(weekly, key=lambda r: r["week_start"]):
        total = totals.setdefault(
            row["touchpoint_id"],
            {**{c: 0 for c in metrics.PAIN_COLUMNS}, **{k: row[k] for k in _LABELS}},
        )
        for column in metrics.PAIN_COLUMNS:
            total[column] += row[column]
        weeks[row["touchpoint_id"]].append(
            PainPointWeek(
                week_start=row["week_start"],
                customers=row["customers"],
                negatives=_negatives(row),
                impact=_impact(row)[0],
            )
        )
    ranked = sorted(
        ((_impact(total), touchpoint_id, total) for touchpoint_id, total in totals.items()),
        key=lambda item: (-item[0][0], item[1]),
    )
    top = ranked[0][0][0] if ranked and ranked[0][0][0] > 0 else 1.0
    pain_points = [
        PainPoint(
            touchpoint_id=touchpoint_id,
            key=total["touchpoint_key"],
            name=total["touchpoint_name"],
            stage=total["stage"],
            reach=total["customers"],
            events=total["events"],
            complaints=total["complaints"],
            conversations=total["conversations"],
            errors=total["errors"],
            low_reviews=total["low_reviews"],
            low_scores=total["low_scores"],
            responses=total["responses"],
            late_customers=total["late_customers"],
            negatives=_negatives(total),
            negative_rate=rate,
            later_detractor_share=later,
            impact=impact,
            score=100 * impact / top,
            weeks=_every_week(weeks[touchpoint_id], start, end),
        )
        for (impact, rate, later), touchpoint_id, total in ranked[:limit]
        if impact > 0
    ]
    return PainPointRanking(
        start=start, end=end, segment=segment, country=country, pain_points=pain_points
    )


def compute_pain_points(
    session: Session,
    *,
    org_id: int,
    start: date,
    end: date,
    as_of: datetime | None = None,
    limit: int = 10,
    segment: str | None = None,
    country: str | None = None,
) -> PainPointRanking:
    """The pain-point ranking with example comments from the operational store for each."""
    ranking = rank_pain_points(
        org_id=org_id,
        start=start,
        end=end,
        as_of=as_of,
        limit=limit,
        segment=segment,
        country=country,
    )
    for point in ranking.pain_points:
        point.comments = list_pain_comments(
            session,
            org_id=org_id,
            touchpoint_id=point.touchpoint_id,
            start=start,
            end=end,
            segment=ranking.segment,
            country=ranking.country,
        )
    return ranking


_LABELS = ("touchpoint_key", "touchpoint_name", "stage")


def _every_week(found: list[PainPointWeek], start: date, end: date) -> list[PainPointWeek]:
    """The weeks of [start, end) in order, those without evidence as zeros (a trend has no gaps)."""
    by_week = {week.week_start: week for week in found}
    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday < end:
        weeks.append(
            by_week.get(monday)
            or PainPointWeek(week_start=monday, customers=0, negatives=0, impact=0.0)
        )
        monday += timedelta(weeks=1)
    return weeks


_NEGATIVE_INTENTS = ("complaint",)


def list_pain_comments(
    session: Session,
    *,
    org_id: int,
    touchpoint_id: int,
    start: date,
    end: date,
    limit: int = COMMENTS_PER_PAIN_POINT,
    segment: str | None = None,
    country: str | None = None,
) -> list[PainComment]:
    """The latest texts customers wrote at a touchpoint in [start, end), complaints first (of
    customers in the segment and country, when given).

    Read from the operational store (texts never go to the analytics store).
    """
    conditions = [
        Event.org_id == org_id,
        Event.touchpoint_id == touchpoint_id,
        Event.occurred_at >= datetime.combine(start, datetime.min.time(), tzinfo=UTC),
        Event.occurred_at < datetime.combine(end, datetime.min.time(), tzinfo=UTC),
    ]
    if segment or country:
        chosen = customers.select_profile_ids(
            session, org_id=org_id, country=country, segment=segment
        )
        conditions.append(Event.customer_id.in_(chosen))
    found = session.execute(
        select(Event.occurred_at, Event.type, Event.properties)
        .where(*conditions)
        .order_by(Event.occurred_at.desc())
        .limit(500)
    ).all()
    written = [
        (occurred_at, type_, properties)
        for occurred_at, type_, properties in found
        if isinstance(properties, dict) and isinstance(properties.get("text"), str)
    ]

    def unhappy(item: tuple[Any, str, dict[str, Any]]) -> bool:
        properties = item[2]
        rating = properties.get("rating")
        return (
            properties.get("intent") in _NEGATIVE_INTENTS
            or item[1] == "complaint"
            or (isinstance(rating, int) and rating <= 2)
        )

    written.sort(key=lambda item: not unhappy(item))  # stable: latest first within each group
    return [
        PainComment(occurred_at=occurred_at.isoformat(), type=type_, text=properties["text"][:500])
        for occurred_at, type_, properties in written[:limit]
    ]


def _check_task(data: TaskIn) -> None:
    if data.success_event == data.start_event:
        raise InvalidInput("success_event", "must differ from start_event")
    for n, name in enumerate(data.error_events):
        if not name or len(name) > 100:
            raise InvalidInput(f"error_events.{n}", "must be an event type of 1-100 characters")
        if name in (data.start_event, data.success_event):
            raise InvalidInput(f"error_events.{n}", "must differ from the start and success events")


def list_tasks(session: Session, *, org_id: int) -> list[JourneyTask]:
    return list(
        session.scalars(
            select(JourneyTask).where(JourneyTask.org_id == org_id).order_by(JourneyTask.name)
        )
    )


def get_task(session: Session, *, org_id: int, task_id: int) -> JourneyTask:
    task = session.scalar(
        select(JourneyTask).where(JourneyTask.org_id == org_id, JourneyTask.id == task_id)
    )
    if task is None:
        raise NotFound("task", task_id)
    return task


def _name_taken(session: Session, *, org_id: int, name: str, task_id: int | None) -> bool:
    found = session.scalar(
        select(JourneyTask.id).where(JourneyTask.org_id == org_id, JourneyTask.name == name)
    )
    return found is not None and found != task_id


def create_task(session: Session, *, org_id: int, data: TaskIn) -> JourneyTask:
    """Save a task definition; its name is unique in the organization."""
    _check_task(data)
    if _name_taken(session, org_id=org_id, name=data.name, task_id=None):
        raise InvalidInput("name", "a task of this name exists")
    task = JourneyTask(org_id=org_id, **data.model_dump())
    session.add(task)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create of the same name
        raise InvalidInput("name", "a task of this name exists") from exc
    return task


def update_task(session: Session, *, org_id: int, task_id: int, data: TaskIn) -> JourneyTask:
    task = get_task(session, org_id=org_id, task_id=task_id)
    _check_task(data)
    if _name_taken(session, org_id=org_id, name=data.name, task_id=task_id):
        raise InvalidInput("name", "a task of this name exists")
    for field, value in data.model_dump().items():
        setattr(task, field, value)
    session.flush()
    return task


def delete_task(session: Session, *, org_id: int, task_id: int) -> None:
    session.delete(get_task(session, org_id=org_id, task_id=task_id))
    session.flush()


def _figures(row: dict[str, Any], group: str | None) -> TaskFigures:
    attempts, successes = row["attempts"], row["successes"]
    return TaskFigures(
        group=group,
        attempts=attempts,
        successes=successes,
        success_rate=successes / attempts,
        error_rate=row["with_errors"] / attempts,
        abandonment_rate=(attempts - successes) / attempts,
        median_seconds=_median(row["median_seconds_sum"], row["median_rows"]),
        p90_seconds=row["p90_seconds"] if successes else None,
        mean_clicks=row["success_clicks"] / successes if successes else None,
    )


def compute_task_report(
    session: Session, *, org_id: int, task_id: int, start: date, end: date
) -> TaskReport:
    """A task's success, error and abandonment rates, time on task and clicks, by group and week."""
    check_period(start, end)
    task = get_task(session, org_id=org_id, task_id=task_id)
    definition: dict[str, Any] = {
        "start_event": task.start_event,
        "success_event": task.success_event,
        "error_events": tuple(task.error_events),
        "abandon_after_seconds": task.abandon_after_seconds,
    }
    with analytics_connection() as store:
        rows = query_rows(
            store,
            ("task", org_id, start, end, *definition.values()),
            lambda: metrics.task_outcomes(
                store.table("events"),
                store.table("touchpoints"),
                org_id=org_id,
                start=start,
                end=end,
                **definition,
            ),
        )
    found: dict[str, list[dict[str, Any]]] = {view: [] for view in metrics.TASK_VIEWS}
    for row in rows:
        found[row["view"]].append(row)
    return TaskReport(
        task=TaskOut.model_validate(task),
        start=start,
        end=end,
        overall=_figures(found["overall"][0], None) if found["overall"] else None,
        by_device=sorted(
            (_figures(r, r["group_key"]) for r in found["device"]), key=lambda f: -f.attempts
        ),
        by_channel=sorted(
            (_figures(r, r["group_key"]) for r in found["channel"]), key=lambda f: -f.attempts
        ),
        weeks=[
            _figures(r, r["period_start"].isoformat())
            for r in sorted(found["weeks"], key=lambda r: r["period_start"])
        ],
    )


def get_map_page(
    session: Session,
    *,
    org_id: int,
    start: date,
    end: date,
    segment: str | None = None,
    country: str | None = None,
) -> MapPage:
    """The journey map with the countries and segments its filters offer."""
    journey_map = compute_journey_map(
        org_id=org_id, start=start, end=end, segment=segment, country=country
    )
    directory = customers.get_customer_directory(session, org_id=org_id, limit=1)
    return MapPage(map=journey_map, countries=directory.countries, segments=directory.segments)


def get_pain_points_page(
    session: Session,
    *,
    org_id: int,
    start: date,
    end: date,
    segment: str | None = None,
    country: str | None = None,
) -> PainPointsPage:
    """The pain-point ranking with the countries and segments its filters offer."""
    ranking = compute_pain_points(
        session, org_id=org_id, start=start, end=end, segment=segment, country=country
    )
    directory = customers.get_customer_directory(session, org_id=org_id, limit=1)
    return PainPointsPage(
        ranking=ranking, countries=directory.countries, segments=directory.segments
    )


def get_tasks_page(
    session: Session, *, org_id: int, task_id: int | None, start: date, end: date
) -> TasksPage:
    """Every task definition, and the report of the chosen task (else the first)."""
    tasks = list_tasks(session, org_id=org_id)
    chosen = task_id if task_id is not None else (tasks[0].id if tasks else None)
    report = (
        compute_task_report(session, org_id=org_id, task_id=chosen, start=start, end=end)
        if chosen is not None
        else None
    )
    return TasksPage(tasks=[TaskOut.model_validate(t) for t in tasks], report=report)
