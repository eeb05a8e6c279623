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


SURVEY_DIMENSIONS = (
    "all",
    "touchpoint",
    "channel",
    "agent",
    "team",
    "country",
    "segment",
    "survey",
    "language",
)
PERIOD_GRAINS = ("week", "month", "none")
# Dimensions read straight off a response or invitation; country and segment come from the customer.
_SOURCE_COLUMNS = {
    "touchpoint": "touchpoint_id",
    "channel": "channel",
    "agent": "agent_id",
    "team": "team",
    "survey": "survey_id",
    "language": "language",
}


def _period_start(moment: ir.TimestampValue, *, grain: str, start: date) -> ir.DateValue:
    if grain == "week":
        return _week_start(moment)
    if grain == "month":
        return moment.date().truncate("M")
    if grain == "none":
        return ibis.literal(start, type="date")
    raise ValueError(f"grain must be one of {PERIOD_GRAINS}, got {grain!r}")


def customer_profiles(customers: ir.Table, *, org_id: int) -> ir.Table:
    """Each profile's country and segments, read from the profile it was merged into, if any.

    A merge fills the survivor's empty fields and adds the merged profile's segments to its own,
    so the survivor holds the best knowledge of the person. One merge step is followed.
    """
    profiles = customers.filter(customers.org_id == org_id)
    # Cast to a nullable type: ClickHouse fills unmatched rows of a left join with a NOT NULL
    # column's default (0), where DuckDB gives NULL.
    survivors = profiles.select(
        survivor_id=profiles.id.cast("int64"),
        survivor_country=profiles.country,
        survivor_segments=profiles.segments,
    )
    joined = profiles.left_join(survivors, profiles.merged_into_id == survivors.survivor_id)
    return joined.select(
        profile_id=joined.id,
        country=joined.survivor_country.coalesce(joined.country),
        segments=ibis.ifelse(
            joined.survivor_id.notnull(), joined.survivor_segments, joined.segments
        ),
    )


def _grouped_rows(rows: ir.Table, customers: ir.Table | None, *, by: str, org_id: int) -> ir.Table:
    """`rows` with a `group_key` column: the value of dimension `by` for each row.

    Country: rows of unknown customers form the NULL group. Segment: a row counts once in each
    segment of its customer, and rows of customers without segments count in none.
    """
    if by == "all":
        return rows.mutate(group_key=ibis.literal("all", type="string"))
    if by in _SOURCE_COLUMNS:
        return rows.mutate(group_key=rows[_SOURCE_COLUMNS[by]])
    if by not in ("country", "segment"):
        raise ValueError(f"by must be one of {SURVEY_DIMENSIONS}, got {by!r}")
    if customers is None:
        raise ValueError(f"grouping by {by} needs the customers table")
    profiles = customer_profiles(customers, org_id=org_id)
    if by == "country":
        joined = rows.left_join(profiles, rows.customer_id == profiles.profile_id)
        return joined.mutate(group_key=joined.country).drop("profile_id", "country", "segments")
    joined = rows.join(profiles, rows.customer_id == profiles.profile_id)
    return joined.mutate(group_key=joined.segments.unique().unnest()).drop(
        "profile_id", "country", "segments"
    )


def _of_customers(
    rows: ir.Table,
    customers: ir.Table | None,
    *,
    org_id: int,
    country: str | None,
    segment: str | None,
) -> ir.Table:
    """`rows` of customers in `country` and `segment` (each optional; read as in `_grouped_rows`)."""
    if country is None and segment is None:
        return rows
    if customers is None:
        raise ValueError("filtering by country or segment needs the customers table")
    profiles = customer_profiles(customers, org_id=org_id)
    if country is not None:
        profiles = profiles.filter(profiles.country == country)
    if segment is not None:
        profiles = profiles.filter(profiles.segments.contains(segment))
    return rows.filter(rows.customer_id.isin(profiles.profile_id))


def _scored_responses(
    survey_responses: ir.Table,
    customers: ir.Table | None,
    *,
    kind: str,
    org_id: int,
    start: date,
    end: date,
    by: str,
    grain: str,
    survey_id: int | None,
    agent_id: int | None,
    country: str | None = None,
    segment: str | None = None,
) -> ir.Table:
    scored = survey_responses.filter(
        survey_responses.org_id == org_id,
        survey_responses.kind == kind,
        survey_responses.score.notnull(),
        survey_responses.submitted_at >= _midnight(start),
        survey_responses.submitted_at < _midnight(end),
    )
    if survey_id is not None:
        scored = scored.filter(scored.survey_id == survey_id)
    if agent_id is not None:
        scored = scored.filter(scored.agent_id == agent_id)
    scored = _of_customers(scored, customers, org_id=org_id, country=country, segment=segment)
    scored = scored.mutate(
        period_start=_period_start(scored.submitted_at, grain=grain, start=start)
    )
    keyed = _grouped_rows(scored, customers, by=by, org_id=org_id)
    return keyed.select("group_key", "period_start", "score")


def nps_by_group(
    survey_responses: ir.Table,
    customers: ir.Table | None,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str = "touchpoint",
    grain: str = "week",
    survey_id: int | None = None,
    agent_id: int | None = None,
    country: str | None = None,
    segment: str | None = None,
) -> ir.Table:
    """NPS responses, promoters (9-10), passives (7-8), detractors (0-6) per group and period.

    `group_key` is the value of dimension `by` (NULL: responses without one); `period_start` is
    the Monday of the ISO week, the first of the month, or `start` for grain "none". Shares are
    of the scored responses; nps = 100 * (promoter share - detractor share).
    """
    scored = _scored_responses(
        survey_responses,
        customers,
        kind="nps",
        org_id=org_id,
        start=start,
        end=end,
        by=by,
        grain=grain,
        survey_id=survey_id,
        agent_id=agent_id,
        country=country,
        segment=segment,
    )
    score = scored.score
    counted = scored.select(
        "group_key",
        "period_start",
        promoter=ibis.ifelse(score >= 9, 1, 0),
        passive=ibis.ifelse((score >= 7) & (score <= 8), 1, 0),
        detractor=ibis.ifelse(score <= 6, 1, 0),
    )
    grouped = counted.group_by(["group_key", "period_start"]).aggregate(
        responses=ibis._.count(),
        promoters=ibis._.promoter.sum(),
        passives=ibis._.passive.sum(),
        detractors=ibis._.detractor.sum(),
    )
    total = grouped.responses.cast("float64")
    return grouped.mutate(
        promoter_share=grouped.promoters.cast("float64") / total,
        passive_share=grouped.passives.cast("float64") / total,
        detractor_share=grouped.detractors.cast("float64") / total,
        nps=((grouped.promoters - grouped.detractors) * 100).cast("float64") / total,
    )


def csat_by_group(
    survey_responses: ir.Table,
    customers: ir.Table | None,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str = "touchpoint",
    grain: str = "week",
    survey_id: int | None = None,
    agent_id: int | None = None,
    country: str | None = None,
    segment: str | None = None,
) -> ir.Table:
    """CSAT responses and satisfied ones (4-5 of 5) per group and period (see `nps_by_group`)."""
    scored = _scored_responses(
        survey_responses,
        customers,
        kind="csat",
        org_id=org_id,
        start=start,
        end=end,
        by=by,
        grain=grain,
        survey_id=survey_id,
        agent_id=agent_id,
        country=country,
        segment=segment,
    )
    grouped = (
        scored.mutate(satisfied=ibis.ifelse(scored.score >= 4, 1, 0))
        .group_by(["group_key", "period_start"])
        .aggregate(responses=ibis._.count(), satisfied=ibis._.satisfied.sum())
    )
    return grouped.mutate(
        satisfied_share=grouped.satisfied.cast("float64") / grouped.responses.cast("float64")
    )


def ces_by_group(
    survey_responses: ir.Table,
    customers: ir.Table | None,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str = "touchpoint",
    grain: str = "week",
    survey_id: int | None = None,
    agent_id: int | None = None,
    country: str | None = None,
    segment: str | None = None,
) -> ir.Table:
    """CES responses, mean score (1-7, higher is easier) and the integer sums behind it.

    The sum of squares (not a standard deviation) is returned so that intervals are computed
    exactly alike on every engine, also for a single response.
    """
    scored = _scored_responses(
        survey_responses,
        customers,
        kind="ces",
        org_id=org_id,
        start=start,
        end=end,
        by=by,
        grain=grain,
        survey_id=survey_id,
        agent_id=agent_id,
        country=country,
        segment=segment,
    )
    grouped = (
        scored.mutate(square=scored.score * scored.score)
        .group_by(["group_key", "period_start"])
        .aggregate(
            responses=ibis._.count(),
            score_sum=ibis._.score.sum(),
            score_square_sum=ibis._.square.sum(),
        )
    )
    return grouped.mutate(
        mean_score=grouped.score_sum.cast("float64") / grouped.responses.cast("float64")
    )


def response_rate_by_group(
    survey_invitations: ir.Table,
    survey_responses: ir.Table,
    customers: ir.Table | None,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str = "touchpoint",
    grain: str = "week",
    survey_id: int | None = None,
    agent_id: int | None = None,
    country: str | None = None,
    segment: str | None = None,
) -> ir.Table:
    """Invitations, and those answered completely, per group and period of the invitation."""
    invited = survey_invitations.filter(
        survey_invitations.org_id == org_id,
        survey_invitations.created_at >= _midnight(start),
        survey_invitations.created_at < _midnight(end),
    )
    if survey_id is not None:
        invited = invited.filter(invited.survey_id == survey_id)
    if agent_id is not None:
        invited = invited.filter(invited.agent_id == agent_id)
    invited = _of_customers(invited, customers, org_id=org_id, country=country, segment=segment)
    completed = survey_responses.filter(
        survey_responses.org_id == org_id, survey_responses.completed
    ).select("invitation_id")
    # IN (subquery) rather than a left join: engines disagree on what an unmatched row holds.
    invited = invited.mutate(
        period_start=_period_start(invited.created_at, grain=grain, start=start),
        answered=ibis.ifelse(invited.id.isin(completed.invitation_id), 1, 0),
    )
    grouped = (
        _grouped_rows(invited, customers, by=by, org_id=org_id)
        .group_by(["group_key", "period_start"])
        .aggregate(invitations=ibis._.count(), responses=ibis._.answered.sum())
    )
    return grouped.mutate(
        response_rate=grouped.responses.cast("float64") / grouped.invitations.cast("float64")
    )


_PER_TOUCHPOINT_PER_WEEK = {"touchpoint_id": "group_key", "week_start": "period_start"}


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
    return nps_by_group(
        survey_responses, None, org_id=org_id, start=start, end=end, survey_id=survey_id
    ).rename(_PER_TOUCHPOINT_PER_WEEK)


def csat_per_touchpoint_per_week(
    survey_responses: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None = None,
) -> ir.Table:
    """CSAT responses and satisfied ones (4-5 of 5) per touchpoint and ISO week."""
    return csat_by_group(
        survey_responses, None, org_id=org_id, start=start, end=end, survey_id=survey_id
    ).rename(_PER_TOUCHPOINT_PER_WEEK)


def ces_per_touchpoint_per_week(
    survey_responses: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    survey_id: int | None = None,
) -> ir.Table:
    """CES responses, mean score (1-7) and the integer sums behind it per touchpoint and week."""
    return ces_by_group(
        survey_responses, None, org_id=org_id, start=start, end=end, survey_id=survey_id
    ).rename(_PER_TOUCHPOINT_PER_WEEK)


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
    return response_rate_by_group(
        survey_invitations,
        survey_responses,
        None,
        org_id=org_id,
        start=start,
        end=end,
        survey_id=survey_id,
    ).rename(_PER_TOUCHPOINT_PER_WEEK)


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
    # Survey scores by every dimension: one entry per way the grouping compiles differently.
    Metric(
        "nps_by_agent_per_month",
        partial(nps_by_group, by="agent", grain="month"),
        ("survey_responses", "customers"),
    ),
    Metric(
        "nps_by_country_per_week",
        partial(nps_by_group, by="country", grain="week"),
        ("survey_responses", "customers"),
    ),
    Metric(
        "nps_by_segment_per_month",
        partial(nps_by_group, by="segment", grain="month"),
        ("survey_responses", "customers"),
    ),
    Metric(
        "csat_by_language_per_month",
        partial(csat_by_group, by="language", grain="month"),
        ("survey_responses", "customers"),
    ),
    Metric(
        "csat_by_segment_whole_period",
        partial(csat_by_group, by="segment", grain="none"),
        ("survey_responses", "customers"),
    ),
    Metric(
        "ces_by_country_whole_period",
        partial(ces_by_group, by="country", grain="none"),
        ("survey_responses", "customers"),
    ),
    Metric(
        "response_rate_by_segment_per_week",
        partial(response_rate_by_group, by="segment", grain="week"),
        ("survey_invitations", "survey_responses", "customers"),
    ),
    Metric(
        "response_rate_by_country_per_month",
        partial(response_rate_by_group, by="country", grain="month"),
        ("survey_invitations", "survey_responses", "customers"),
    ),
    # The overview's questions: every response as one group, filtered by country and segment.
    Metric(
        "nps_all_per_week_of_a_country_and_segment",
        partial(nps_by_group, by="all", grain="week", country="NL", segment="vip"),
        ("survey_responses", "customers"),
    ),
    Metric(
        "response_rate_all_of_a_segment",
        partial(response_rate_by_group, by="all", grain="none", segment="newsletter"),
        ("survey_invitations", "survey_responses", "customers"),
    ),
)
