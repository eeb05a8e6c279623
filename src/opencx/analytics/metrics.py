"""Metrics as functions from Ibis tables to an Ibis table; the same expression runs on every engine.

Each metric filters every input table on `org_id`, takes a half-open UTC date range
[start, end), and is listed in METRICS so the parity test runs it on DuckDB and on ClickHouse.
Weeks start on Monday (ISO); days and weeks are UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import partial

import ibis
import ibis.expr.types as ir

from opencx.analytics.tables import MOMENT


def _midnight(day: date) -> ir.TimestampScalar:
    return ibis.literal(datetime.combine(day, time(), tzinfo=UTC), type=MOMENT)


def _moment(value: datetime) -> ir.TimestampScalar:
    # Whole seconds: Ibis writes ClickHouse timestamp literals at second precision.
    return ibis.literal(value.astimezone(UTC).replace(microsecond=0), type=MOMENT)


def _week_start(moment: ir.TimestampValue) -> ir.DateValue:
    return moment.date().truncate("W")


def _of_survey(table: ir.Table, survey_id: int | None) -> ir.Table:
    # One survey's rows (its results page), or every survey's when None.
    return table if survey_id is None else table.filter(table.survey_id == survey_id)


def units_sold_per_product_per_week(
    order_lines: ir.Table,
    orders: ir.Table,
    products: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
) -> ir.Table:
    """Units sold and orders per product and ISO week of the order's placement."""
    placed = orders.filter(
        orders.org_id == org_id,
        orders.placed_at >= _midnight(start),
        orders.placed_at < _midnight(end),
    ).select(order_id=orders.id, week_start=_week_start(orders.placed_at))
    lines = order_lines.filter(order_lines.org_id == org_id).select(
        "order_id", "product_id", "quantity"
    )
    catalog = products.filter(products.org_id == org_id).select(
        product_id=products.id, sku=products.sku, product_name=products.name
    )
    # Count distinct orders by grouping per order first: ibis compiles nunique() to ClickHouse's
    # approximate uniq(), and these counts must be exact on every engine.
    per_order = (
        lines.join(placed, "order_id")
        .join(catalog, "product_id")
        .group_by(["product_id", "sku", "product_name", "week_start", "order_id"])
        .aggregate(units=ibis._.quantity.sum())
    )
    return per_order.group_by(["product_id", "sku", "product_name", "week_start"]).aggregate(
        units=per_order.units.sum(), orders=per_order.count()
    )


def events_per_touchpoint_per_day(
    events: ir.Table,
    touchpoints: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
) -> ir.Table:
    """Events and distinct known customers per touchpoint and UTC day."""
    happened = events.filter(
        events.org_id == org_id,
        events.occurred_at >= _midnight(start),
        events.occurred_at < _midnight(end),
    ).select("touchpoint_id", "customer_id", day=events.occurred_at.date())
    catalog = touchpoints.filter(touchpoints.org_id == org_id).select(
        touchpoint_id=touchpoints.id,
        touchpoint_key=touchpoints.key,
        touchpoint_name=touchpoints.name,
    )
    keys = ["touchpoint_id", "touchpoint_key", "touchpoint_name", "day"]
    # Distinct customers by grouping per customer first (exact, unlike ClickHouse's uniq()); the
    # group of anonymous events has a NULL customer_id, which count() of the column skips.
    per_customer = (
        happened.join(catalog, "touchpoint_id")
        .group_by([*keys, "customer_id"])
        .aggregate(events=ibis._.count())
    )
    return per_customer.group_by(keys).aggregate(
        events=per_customer.events.sum(), customers=per_customer.customer_id.count()
    )


def late_deliveries_per_week(
    deliveries: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    as_of: datetime,
) -> ir.Table:
    """Deliveries and late ones per ISO week of the promised date; open ones are late after `as_of`."""
    promised = deliveries.filter(
        deliveries.org_id == org_id,
        deliveries.promised_at >= _midnight(start),
        deliveries.promised_at < _midnight(end),
    )
    arrived_late = promised.delivered_at.notnull() & (promised.delivered_at > promised.promised_at)
    overdue = promised.delivered_at.isnull() & (promised.promised_at < _moment(as_of))
    late = ibis.ifelse(arrived_late | overdue, 1, 0)
    return (
        promised.mutate(week_start=_week_start(promised.promised_at), late=late)
        .group_by("week_start")
        .aggregate(
            deliveries=ibis._.count(),
            late=ibis._.late.sum(),
            late_share=ibis._.late.cast("float64").mean(),
        )
    )


def nps_per_touchpoint_per_week(
    survey_responses: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None = None,
) -> ir.Table:
    """NPS responses, promoters (9-10), passives (7-8) and detractors (0-6) per touchpoint and week.

    Responses without a touchpoint form their own group (touchpoint_id NULL). Shares are of the
    scored responses; nps = 100 * (promoter share - detractor share).
    """
    survey_responses = _of_survey(survey_responses, survey_id)
    scored = survey_responses.filter(
        survey_responses.org_id == org_id,
        survey_responses.kind == "nps",
        survey_responses.score.notnull(),
        survey_responses.submitted_at >= _midnight(start),
        survey_responses.submitted_at < _midnight(end),
    )
    score = scored.score
    counted = scored.select(
        "touchpoint_id",
        week_start=_week_start(scored.submitted_at),
        promoter=ibis.ifelse(score >= 9, 1, 0),
        passive=ibis.ifelse((score >= 7) & (score <= 8), 1, 0),
        detractor=ibis.ifelse(score <= 6, 1, 0),
    )
    weekly = counted.group_by(["touchpoint_id", "week_start"]).aggregate(
        responses=ibis._.count(),
        promoters=ibis._.promoter.sum(),
        passives=ibis._.passive.sum(),
        detractors=ibis._.detractor.sum(),
    )
    total = weekly.responses.cast("float64")
    return weekly.mutate(
        promoter_share=weekly.promoters.cast("float64") / total,
        passive_share=weekly.passives.cast("float64") / total,
        detractor_share=weekly.detractors.cast("float64") / total,
        nps=((weekly.promoters - weekly.detractors) * 100).cast("float64") / total,
    )


def _scored(
    survey_responses: ir.Table,
    *,
    kind: str,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None,
) -> ir.Table:
    survey_responses = _of_survey(survey_responses, survey_id)
    scored = survey_responses.filter(
        survey_responses.org_id == org_id,
        survey_responses.kind == kind,
        survey_responses.score.notnull(),
        survey_responses.submitted_at >= _midnight(start),
        survey_responses.submitted_at < _midnight(end),
    )
    return scored.select("touchpoint_id", "score", week_start=_week_start(scored.submitted_at))


def csat_per_touchpoint_per_week(
    survey_responses: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None = None,
) -> ir.Table:
    """CSAT responses and satisfied ones (4-5 of 5) per touchpoint and ISO week."""
    scored = _scored(
        survey_responses, kind="csat", org_id=org_id, start=start, end=end, survey_id=survey_id
    )
    weekly = (
        scored.mutate(satisfied=ibis.ifelse(scored.score >= 4, 1, 0))
        .group_by(["touchpoint_id", "week_start"])
        .aggregate(responses=ibis._.count(), satisfied=ibis._.satisfied.sum())
    )
    return weekly.mutate(
        satisfied_share=weekly.satisfied.cast("float64") / weekly.responses.cast("float64")
    )


def ces_per_touchpoint_per_week(
    survey_responses: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None = None,
) -> ir.Table:
    """CES responses, mean score (1-7, higher is easier) and the integer sums behind it.

    The sum of squares (not a standard deviation) is returned so that intervals are computed
    exactly alike on every engine, also for a single response.
    """
    scored = _scored(
        survey_responses, kind="ces", org_id=org_id, start=start, end=end, survey_id=survey_id
    )
    weekly = (
        scored.mutate(square=scored.score * scored.score)
        .group_by(["touchpoint_id", "week_start"])
        .aggregate(
            responses=ibis._.count(),
            score_sum=ibis._.score.sum(),
            score_square_sum=ibis._.square.sum(),
        )
    )
    return weekly.mutate(
        mean_score=weekly.score_sum.cast("float64") / weekly.responses.cast("float64")
    )


def response_rate_per_touchpoint_per_week(
    survey_invitations: ir.Table,
    survey_responses: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None = None,
) -> ir.Table:
    """Invitations, and those answered completely, per touchpoint and ISO week of the invitation."""
    survey_invitations = _of_survey(survey_invitations, survey_id)
    invited = survey_invitations.filter(
        survey_invitations.org_id == org_id,
        survey_invitations.created_at >= _midnight(start),
        survey_invitations.created_at < _midnight(end),
    )
    completed = survey_responses.filter(
        survey_responses.org_id == org_id, survey_responses.completed
    ).select("invitation_id")
    # IN (subquery) rather than a left join: engines disagree on what an unmatched row holds.
    weekly = (
        invited.select(
            "touchpoint_id",
            week_start=_week_start(invited.created_at),
            answered=ibis.ifelse(invited.id.isin(completed.invitation_id), 1, 0),
        )
        .group_by(["touchpoint_id", "week_start"])
        .aggregate(invitations=ibis._.count(), responses=ibis._.answered.sum())
    )
    return weekly.mutate(
        response_rate=weekly.responses.cast("float64") / weekly.invitations.cast("float64")
    )


LOOP_CLOSED_WITHIN = 48 * 3600  # seconds


def _whole_seconds(moment: ir.TimestampValue) -> ir.IntegerValue:
    # Truncated first, so engines that keep or drop the fraction of a second agree.
    return moment.truncate("s").epoch_seconds().cast("int64")


def follow_ups_per_week(
    survey_follow_ups: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str | None = None,
) -> ir.Table:
    """Follow-ups opened per ISO week (and per `by`: owner_id or team) and how fast they closed.

    Cancelled follow-ups (the score changed before anyone acted) are left out. A follow-up is
    closed when resolved; `closed_within_48h` counts those resolved at most 48 hours after
    opening. The median comes as the sum and count of the one or two middle durations (ranked
    by window functions, exact on every engine, unlike ClickHouse's median()).
    """
    keys = ["week_start", *([by] if by else [])]
    opened = survey_follow_ups.filter(
        survey_follow_ups.org_id == org_id,
        survey_follow_ups.status != "cancelled",
        survey_follow_ups.opened_at >= _midnight(start),
        survey_follow_ups.opened_at < _midnight(end),
    )
    is_closed = (opened.status == "resolved") & opened.resolved_at.notnull()
    seconds = _whole_seconds(opened.resolved_at) - _whole_seconds(opened.opened_at)
    base = opened.select(
        "id",
        *keys[1:],
        week_start=_week_start(opened.opened_at),
        contacted=ibis.ifelse(opened.contacted_at.notnull(), 1, 0),
        closed=ibis.ifelse(is_closed, 1, 0),
        seconds=ibis.ifelse(is_closed, seconds, 0),
    )
    group = [*keys, "closed"]
    ranked = base.mutate(
        position=ibis.row_number().over(group_by=group, order_by=["seconds", "id"]),
        size=base.id.count().over(group_by=group),
    )
    middle = (ranked.closed == 1) & (
        (ranked.position == (ranked.size - 1) // 2) | (ranked.position == ranked.size // 2)
    )
    weekly = (
        ranked.mutate(
            within=ibis.ifelse((ranked.closed == 1) & (ranked.seconds <= LOOP_CLOSED_WITHIN), 1, 0),
            middle=ibis.ifelse(middle, 1, 0),
        )
        .mutate(middle_seconds=ibis._.middle * ibis._.seconds)
        .group_by(keys)
        .aggregate(
            follow_ups=ibis._.count(),
            contacted=ibis._.contacted.sum(),
            closed=ibis._.closed.sum(),
            closed_within_48h=ibis._.within.sum(),
            close_seconds_sum=ibis._.seconds.sum(),
            median_seconds_sum=ibis._.middle_seconds.sum(),
            median_rows=ibis._.middle.sum(),
        )
    )
    return weekly.mutate(
        closed_within_48h_share=weekly.closed_within_48h.cast("float64")
        / weekly.follow_ups.cast("float64")
    )


def score_distribution_per_survey(
    survey_responses: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None = None,
) -> ir.Table:
    """Scored responses per survey, kind and score (the bars of a 0-10, 1-5 or 1-7 scale)."""
    survey_responses = _of_survey(survey_responses, survey_id)
    scored = survey_responses.filter(
        survey_responses.org_id == org_id,
        survey_responses.score.notnull(),
        survey_responses.submitted_at >= _midnight(start),
        survey_responses.submitted_at < _midnight(end),
    )
    return scored.group_by(["survey_id", "kind", "score"]).aggregate(responses=ibis._.count())


@dataclass(frozen=True)
class Metric:
    """A metric and the analytics tables it takes, in the order of its positional arguments."""

    name: str
    compute: Callable[..., ir.Table]
    tables: tuple[str, ...]


METRICS: tuple[Metric, ...] = (
    Metric(
        "units_sold_per_product_per_week",
        units_sold_per_product_per_week,
        ("order_lines", "orders", "products"),
    ),
    Metric(
        "events_per_touchpoint_per_day",
        events_per_touchpoint_per_day,
        ("events", "touchpoints"),
    ),
    Metric("late_deliveries_per_week", late_deliveries_per_week, ("deliveries",)),
    Metric("nps_per_touchpoint_per_week", nps_per_touchpoint_per_week, ("survey_responses",)),
    Metric("csat_per_touchpoint_per_week", csat_per_touchpoint_per_week, ("survey_responses",)),
    Metric("ces_per_touchpoint_per_week", ces_per_touchpoint_per_week, ("survey_responses",)),
    Metric(
        "response_rate_per_touchpoint_per_week",
        response_rate_per_touchpoint_per_week,
        ("survey_invitations", "survey_responses"),
    ),
    Metric("follow_ups_per_week", follow_ups_per_week, ("survey_follow_ups",)),
    Metric(
        "follow_ups_per_owner_per_week",
        partial(follow_ups_per_week, by="owner_id"),
        ("survey_follow_ups",),
    ),
    Metric(
        "follow_ups_per_team_per_week",
        partial(follow_ups_per_week, by="team"),
        ("survey_follow_ups",),
    ),
    Metric("score_distribution_per_survey", score_distribution_per_survey, ("survey_responses",)),
)
