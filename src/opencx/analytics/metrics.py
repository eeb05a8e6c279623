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
from opencx.conversations.sla_metrics import sla_attainment_per_week
from opencx.text import EMOTIONS


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


def of_customers(
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
    scored = of_customers(scored, customers, org_id=org_id, country=country, segment=segment)
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
    invited = of_customers(invited, customers, org_id=org_id, country=country, segment=segment)
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


TEXT_DIMENSIONS = ("touchpoint", "channel", "agent")
TEXT_SOURCES = ("survey_answer", "conversation_message")
# An emotion counts as present in a text at this probability (the English model's threshold).
EMOTION_PRESENT_AT = 0.35
_TEXT_VALUES = ("sentiment", "sentiment_score", *EMOTIONS)


def _analysed_texts(
    text_analyses: ir.Table,
    survey_responses: ir.Table,
    conversation_messages: ir.Table,
    conversations: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str,
    grain: str,
    source_kind: str | None,
) -> ir.Table:
    """One row per analysed text with `group_key` and `period_start`, and its scores.

    A survey comment belongs to its response (touchpoint, channel, agent, submitted_at); a
    customer message to its conversation (touchpoint, assignee as agent) and its own channel
    and sent_at. Texts whose source is not in the store, or whose analysis failed, are left out.
    """
    if by not in TEXT_DIMENSIONS:
        raise ValueError(f"by must be one of {TEXT_DIMENSIONS}, got {by!r}")
    if source_kind is not None and source_kind not in TEXT_SOURCES:
        raise ValueError(f"source_kind must be one of {TEXT_SOURCES}, got {source_kind!r}")
    done = text_analyses.filter(
        text_analyses.org_id == org_id,
        text_analyses.status == "done",
        text_analyses.sentiment.notnull(),
    )
    kinds = TEXT_SOURCES if source_kind is None else (source_kind,)
    parts = []
    if "survey_answer" in kinds:
        responses = survey_responses.filter(
            survey_responses.org_id == org_id,
            survey_responses.submitted_at >= _midnight(start),
            survey_responses.submitted_at < _midnight(end),
        ).select(
            response_id=survey_responses.id,
            touchpoint=survey_responses.touchpoint_id,
            channel=survey_responses.channel,
            agent=survey_responses.agent_id,
            moment=survey_responses.submitted_at,
        )
        comments = done.filter(done.source_kind == "survey_answer")
        joined = comments.join(responses, comments.source_id == responses.response_id)
        parts.append(joined.select("touchpoint", "channel", "agent", "moment", *_TEXT_VALUES))
    if "conversation_message" in kinds:
        sent = conversation_messages.filter(
            conversation_messages.org_id == org_id,
            conversation_messages.sent_at >= _midnight(start),
            conversation_messages.sent_at < _midnight(end),
        ).select(
            message_id=conversation_messages.id,
            conversation_id=conversation_messages.conversation_id,
            channel=conversation_messages.channel,
            moment=conversation_messages.sent_at,
        )
        threads = conversations.filter(conversations.org_id == org_id).select(
            thread_id=conversations.id,
            touchpoint=conversations.touchpoint_id,
            agent=conversations.assignee_id,
        )
        messages = done.filter(done.source_kind == "conversation_message")
        joined = messages.join(sent, messages.source_id == sent.message_id).join(
            threads, sent.conversation_id == threads.thread_id
        )
        parts.append(joined.select("touchpoint", "channel", "agent", "moment", *_TEXT_VALUES))
    texts = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    return texts.mutate(
        group_key=texts[by], period_start=_period_start(texts.moment, grain=grain, start=start)
    ).select("group_key", "period_start", *_TEXT_VALUES)


def text_sentiment_by_group(
    text_analyses: ir.Table,
    survey_responses: ir.Table,
    conversation_messages: ir.Table,
    conversations: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str = "touchpoint",
    grain: str = "week",
    source_kind: str | None = None,
) -> ir.Table:
    """Analysed texts, negative / neutral / positive ones and their shares, and the mean score
    in [-1, 1] per group and period (see `_analysed_texts`; `source_kind` None: both kinds).

    The score's sum comes too, so that groups can be added up exactly.
    """
    texts = _analysed_texts(
        text_analyses,
        survey_responses,
        conversation_messages,
        conversations,
        org_id=org_id,
        start=start,
        end=end,
        by=by,
        grain=grain,
        source_kind=source_kind,
    )
    grouped = (
        texts.mutate(
            is_negative=ibis.ifelse(texts.sentiment == "negative", 1, 0),
            is_neutral=ibis.ifelse(texts.sentiment == "neutral", 1, 0),
            is_positive=ibis.ifelse(texts.sentiment == "positive", 1, 0),
        )
        .group_by(["group_key", "period_start"])
        .aggregate(
            texts=ibis._.count(),
            negative=ibis._.is_negative.sum(),
            neutral=ibis._.is_neutral.sum(),
            positive=ibis._.is_positive.sum(),
            score_sum=ibis._.sentiment_score.sum(),
        )
    )
    total = grouped.texts.cast("float64")
    return grouped.mutate(
        negative_share=grouped.negative.cast("float64") / total,
        neutral_share=grouped.neutral.cast("float64") / total,
        positive_share=grouped.positive.cast("float64") / total,
        mean_score=grouped.score_sum / total,
    )


def text_emotions_by_group(
    text_analyses: ir.Table,
    survey_responses: ir.Table,
    conversation_messages: ir.Table,
    conversations: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str = "touchpoint",
    grain: str = "week",
    source_kind: str | None = None,
) -> ir.Table:
    """Per group and period, for each of Plutchik's eight emotions: its mean probability
    (`<emotion>_mean`) and the share of texts where it is present, at or above
    EMOTION_PRESENT_AT (`<emotion>_share`), with the sums and counts behind them."""
    texts = _analysed_texts(
        text_analyses,
        survey_responses,
        conversation_messages,
        conversations,
        org_id=org_id,
        start=start,
        end=end,
        by=by,
        grain=grain,
        source_kind=source_kind,
    )
    texts = texts.filter(*(texts[name].notnull() for name in EMOTIONS))
    present_at = ibis.literal(EMOTION_PRESENT_AT, type="float64")
    flagged = texts.mutate(
        **{f"{name}_present": ibis.ifelse(texts[name] >= present_at, 1, 0) for name in EMOTIONS}
    )
    grouped = flagged.group_by(["group_key", "period_start"]).aggregate(
        texts=ibis._.count(),
        **{f"{name}_sum": flagged[name].sum() for name in EMOTIONS},
        **{f"{name}_texts": flagged[f"{name}_present"].sum() for name in EMOTIONS},
    )
    total = grouped.texts.cast("float64")
    return grouped.mutate(
        **{f"{name}_mean": grouped[f"{name}_sum"] / total for name in EMOTIONS},
        **{f"{name}_share": grouped[f"{name}_texts"].cast("float64") / total for name in EMOTIONS},
    )


# --- service desk ---------------------------------------------------------------------------

SERVICE_DESK_DIMENSIONS = ("channel", "team", "agent", "all")
# The conversation's column behind each dimension; "all" is one group for the whole desk.
_CONVERSATION_COLUMNS = {"channel": "channel", "team": "team", "agent": "assignee_id"}
REPEAT_CONTACT_DAYS = 7


def _desk_group(table: ir.Table, by: str) -> ir.Value:
    if by == "all":
        return ibis.literal("all", type="string")
    if by not in _CONVERSATION_COLUMNS:
        raise ValueError(f"by must be one of {SERVICE_DESK_DIMENSIONS}, got {by!r}")
    return table[_CONVERSATION_COLUMNS[by]]


def conversation_starts(
    conversations: ir.Table, conversation_messages: ir.Table, *, org_id: int
) -> ir.Table:
    """The organization's conversations (merged ones left out) with `started_at`.

    A conversation starts with the customer's first message (the first inbound `sent_at`; a
    conversation without one starts when it was created). A merged conversation's messages
    moved to its survivor, so the survivor starts with the earliest of them.
    """
    inbound = conversation_messages.filter(
        conversation_messages.org_id == org_id, conversation_messages.direction == "inbound"
    )
    first = inbound.group_by(first_of=inbound.conversation_id.cast("int64")).aggregate(
        first_inbound_at=inbound.sent_at.min()
    )
    own = conversations.filter(
        conversations.org_id == org_id, conversations.merged_into_id.isnull()
    )
    joined = own.left_join(first, own.id == first.first_of)
    return joined.mutate(started_at=joined.first_inbound_at.coalesce(joined.created_at)).drop(
        "first_of", "first_inbound_at"
    )


def _repeated_contacts(started: ir.Table) -> ir.Table:
    """Ids of resolved conversations followed by another of the same customer on the same topic.

    "Another": a conversation started after this one began and at most REPEAT_CONTACT_DAYS
    after it was (last) resolved. "Same topic": the two share a tag, or either has no tags
    (then the topic is unknown and the later contact is counted against the earlier one).
    Equality joins only, so every engine runs them; the time window is a filter after the join.
    """
    window = ibis.interval(days=REPEAT_CONTACT_DAYS)
    earlier = started.filter(started.resolved_at.notnull()).select(
        a_id=started.id,
        a_customer=started.customer_id,
        a_started=started.started_at,
        a_deadline=started.resolved_at + window,
        a_tags=started.tags,
    )
    later = started.select(
        b_id=started.id,
        b_customer=started.customer_id,
        b_started=started.started_at,
        b_tags=started.tags,
    )

    def within(pairs: ir.Table) -> ir.Table:
        return pairs.filter(
            pairs.a_id != pairs.b_id,
            pairs.b_started > pairs.a_started,
            pairs.b_started <= pairs.a_deadline,
        ).select(repeated_id=pairs.a_id)

    a_tagged = earlier.select(
        "a_id", "a_customer", "a_started", "a_deadline", a_tag=earlier.a_tags.unnest()
    )
    b_tagged = later.select("b_id", "b_customer", "b_started", b_tag=later.b_tags.unnest())
    shared = within(
        a_tagged.join(
            b_tagged,
            [a_tagged.a_customer == b_tagged.b_customer, a_tagged.a_tag == b_tagged.b_tag],
        )
    )
    any_topic = earlier.join(later, earlier.a_customer == later.b_customer)
    unknown = within(
        any_topic.filter((any_topic.a_tags.length() == 0) | (any_topic.b_tags.length() == 0))
    )
    return shared.union(unknown)


def conversation_measures(
    conversations: ir.Table,
    conversation_messages: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str = "channel",
    grain: str = "week",
) -> ir.Table:
    """First response and resolution times, first-contact resolution and reopenings per group.

    Conversations started in [start, end) (see `conversation_starts`), per `group_key` (the
    channel, team or assignee; "all": the whole desk) and period of their start. Times are whole
    seconds from the start: first response to the first human reply (`first_response_at`),
    resolution to the last resolution (`resolved_at`, of conversations resolved or closed now).
    Medians come as the sum and count of the one or two middle values, the 90th percentile as
    the value at rank ceil(0.9 n) (nearest rank), ranked by window functions: exact on every
    engine, unlike ClickHouse's quantile(). First-contact resolution: resolved now, never
    reopened, and no repeat contact (see `_repeated_contacts`).
    """
    keys = ["group_key", "period_start"]
    started = conversation_starts(conversations, conversation_messages, org_id=org_id)
    repeated = _repeated_contacts(started)
    period = started.filter(
        started.started_at >= _midnight(start), started.started_at < _midnight(end)
    )
    answered = period.first_response_at.notnull()
    resolved = period.status.isin(["resolved", "closed"]) & period.resolved_at.notnull()
    opened = _whole_seconds(period.started_at)
    base = period.select(
        "id",
        group_key=_desk_group(period, by),
        period_start=_period_start(period.started_at, grain=grain, start=start),
        answered=ibis.ifelse(answered, 1, 0),
        response_seconds=ibis.ifelse(
            answered, _whole_seconds(period.first_response_at) - opened, 0
        ),
        resolved=ibis.ifelse(resolved, 1, 0),
        resolution_seconds=ibis.ifelse(resolved, _whole_seconds(period.resolved_at) - opened, 0),
        reopened=ibis.ifelse(period.reopened_count > 0, 1, 0),
        ever_resolved=ibis.ifelse(period.resolved_at.notnull() | (period.reopened_count > 0), 1, 0),
        first_contact=ibis.ifelse(
            resolved & (period.reopened_count == 0) & ~period.id.isin(repeated.repeated_id), 1, 0
        ),
    )
    ranked = base
    for flag, seconds in (("answered", "response_seconds"), ("resolved", "resolution_seconds")):
        group = [*keys, flag]
        position = ibis.row_number().over(group_by=group, order_by=[seconds, "id"])
        size = base.id.count().over(group_by=group)
        ranked = ranked.mutate(**{f"{flag}_position": position, f"{flag}_size": size})
    columns = {}
    for flag, seconds, name in (
        ("answered", "response_seconds", "response"),
        ("resolved", "resolution_seconds", "resolution"),
    ):
        position, size = ranked[f"{flag}_position"], ranked[f"{flag}_size"]
        counted = ranked[flag] == 1
        middle = counted & ((position == (size - 1) // 2) | (position == size // 2))
        # Nearest rank: the ceil(0.9 n)-th value, counted from 0.
        p90 = counted & (position == (size * 9 + 9) // 10 - 1)
        columns[f"{name}_middle"] = ibis.ifelse(middle, 1, 0)
        columns[f"{name}_middle_seconds"] = ibis.ifelse(middle, ranked[seconds], 0)
        columns[f"{name}_p90_seconds"] = ibis.ifelse(p90, ranked[seconds], 0)
    flagged = ranked.mutate(**columns)
    return flagged.group_by(keys).aggregate(
        conversations=flagged.count(),
        answered=flagged.answered.sum(),
        response_seconds_sum=flagged.response_seconds.sum(),
        response_median_seconds_sum=flagged.response_middle_seconds.sum(),
        response_median_rows=flagged.response_middle.sum(),
        response_p90_seconds=flagged.response_p90_seconds.sum(),
        resolved=flagged.resolved.sum(),
        resolution_seconds_sum=flagged.resolution_seconds.sum(),
        resolution_median_seconds_sum=flagged.resolution_middle_seconds.sum(),
        resolution_median_rows=flagged.resolution_middle.sum(),
        resolution_p90_seconds=flagged.resolution_p90_seconds.sum(),
        ever_resolved=flagged.ever_resolved.sum(),
        reopened=flagged.reopened.sum(),
        first_contact_resolved=flagged.first_contact.sum(),
    )


def response_authors(
    conversations: ir.Table,
    conversation_messages: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    by: str = "channel",
    grain: str = "week",
) -> ir.Table:
    """Responses (outbound messages) sent in [start, end) by people and by the bot, per group.

    `group_key` is the conversation's channel, team or assignee (the bot answers in an agent's
    conversations too), or "all"; the period is that of the message.
    """
    sent = conversation_messages.filter(
        conversation_messages.org_id == org_id,
        conversation_messages.direction == "outbound",
        conversation_messages.author_kind.isin(["agent", "bot"]),
        conversation_messages.sent_at >= _midnight(start),
        conversation_messages.sent_at < _midnight(end),
    ).select("conversation_id", "author_kind", "sent_at")
    own = conversations.filter(conversations.org_id == org_id)
    joined = sent.join(own, sent.conversation_id == own.id)
    counted = joined.select(
        group_key=_desk_group(joined, by),
        period_start=_period_start(joined.sent_at, grain=grain, start=start),
        human=ibis.ifelse(joined.author_kind == "agent", 1, 0),
        bot=ibis.ifelse(joined.author_kind == "bot", 1, 0),
    )
    grouped = counted.group_by(["group_key", "period_start"]).aggregate(
        responses=counted.count(),
        human_responses=counted.human.sum(),
        bot_responses=counted.bot.sum(),
    )
    return grouped.mutate(
        human_share=grouped.human_responses.cast("float64") / grouped.responses.cast("float64")
    )


@dataclass(frozen=True)
class Metric:
    """A metric and the analytics tables it takes, in the order of its positional arguments."""

    name: str
    compute: Callable[..., ir.Table]
    tables: tuple[str, ...]
    # A per-backend override: same arguments as `compute`, gives ClickHouse SQL (native
    # functions such as windowFunnel); the parity test holds it to `compute`'s rows on DuckDB.
    clickhouse_sql: Callable[..., str] | None = None


_TEXT_TABLES = ("text_analyses", "survey_responses", "conversation_messages", "conversations")
# Journey paths and funnels build on the helpers above, so they are imported here, last.
from opencx.journeys.funnels import metrics as journey_funnels  # noqa: E402

# A funnel of the kinds of steps users build: by event type, by touchpoint and type.
_EXAMPLE_FUNNEL = {
    "steps": (
        journey_funnels.FunnelStep(event_type="page_view"),
        journey_funnels.FunnelStep(event_type="add_to_cart"),
        journey_funnels.FunnelStep(touchpoint_key="tp-2", event_type="purchase"),
    ),
    "window_seconds": 7 * 86400,
}
# Domains' metrics modules use the helpers above, so they are imported here, after them
# (opencx.journeys.maps imports this module first for the same reason).
from opencx.journeys.maps.metrics import JOURNEY_METRICS  # noqa: E402

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
    # How customers feel: sentiment and emotions of comments and messages.
    Metric(
        "text_sentiment_by_touchpoint_per_week",
        text_sentiment_by_group,
        _TEXT_TABLES,
    ),
    Metric(
        "message_sentiment_by_agent_per_week",
        partial(text_sentiment_by_group, by="agent", source_kind="conversation_message"),
        _TEXT_TABLES,
    ),
    Metric(
        "comment_sentiment_by_channel_per_month",
        partial(text_sentiment_by_group, by="channel", grain="month", source_kind="survey_answer"),
        _TEXT_TABLES,
    ),
    Metric(
        "text_emotions_by_channel_per_week",
        partial(text_emotions_by_group, by="channel"),
        _TEXT_TABLES,
    ),
    Metric(
        "comment_emotions_by_agent_whole_period",
        partial(text_emotions_by_group, by="agent", grain="none", source_kind="survey_answer"),
        _TEXT_TABLES,
    ),
    # Journey paths and funnels: one entry per way the filters and breakdowns compile.
    Metric(
        "touchpoint_transitions",
        journey_funnels.touchpoint_transitions,
        ("events", "touchpoints"),
    ),
    Metric(
        "touchpoint_transitions_of_a_segment_on_web",
        partial(
            journey_funnels.touchpoint_transitions,
            where=journey_funnels.EventFilter(segment="vip", channel="web"),
        ),
        ("events", "touchpoints", "customers"),
    ),
    Metric(
        "paths_after_touchpoint",
        partial(journey_funnels.paths_from_touchpoint, touchpoint_key="tp-0", steps=3),
        ("events", "touchpoints"),
    ),
    Metric(
        "paths_before_touchpoint_of_a_country_on_mobile",
        partial(
            journey_funnels.paths_from_touchpoint,
            touchpoint_key="tp-1",
            steps=2,
            direction="before",
            where=journey_funnels.EventFilter(country="NL", device="mobile"),
        ),
        ("events", "touchpoints", "customers"),
    ),
    Metric(
        "funnel_conversion",
        partial(journey_funnels.funnel_conversion, **_EXAMPLE_FUNNEL),
        ("events", "touchpoints"),
        clickhouse_sql=partial(journey_funnels.funnel_conversion_sql, **_EXAMPLE_FUNNEL),
    ),
    Metric(
        "funnel_conversion_by_country",
        partial(journey_funnels.funnel_conversion, by="country", **_EXAMPLE_FUNNEL),
        ("events", "touchpoints", "customers"),
        clickhouse_sql=partial(
            journey_funnels.funnel_conversion_sql, by="country", **_EXAMPLE_FUNNEL
        ),
    ),
    Metric(
        "funnel_conversion_by_device",
        partial(journey_funnels.funnel_conversion, by="device", **_EXAMPLE_FUNNEL),
        ("events", "touchpoints"),
        clickhouse_sql=partial(
            journey_funnels.funnel_conversion_sql, by="device", **_EXAMPLE_FUNNEL
        ),
    ),
    Metric(
        "funnel_conversion_by_channel_generic",
        partial(journey_funnels.funnel_conversion, by="channel", **_EXAMPLE_FUNNEL),
        ("events", "touchpoints"),
    ),
    Metric(
        "funnel_step_times_by_device",
        partial(journey_funnels.funnel_step_times, by="device", **_EXAMPLE_FUNNEL),
        ("events", "touchpoints"),
    ),
    Metric("event_types", journey_funnels.event_types, ("events",)),
    *JOURNEY_METRICS,
    # Service desk SLAs: targets met in time per channel, team and agent.
    Metric(
        "sla_attainment_per_channel_per_week",
        partial(sla_attainment_per_week, by="channel"),
        ("conversation_slas", "conversations"),
    ),
    Metric(
        "sla_attainment_per_team_per_week",
        partial(sla_attainment_per_week, by="team"),
        ("conversation_slas", "conversations"),
    ),
    Metric(
        "sla_attainment_per_agent_per_week",
        partial(sla_attainment_per_week, by="agent_id"),
        ("conversation_slas", "conversations"),
    ),
    # Service desk measures per channel, team, agent (assignee) and week or the whole period.
    *(
        Metric(
            f"conversation_measures_by_{by}_{grain}",
            partial(conversation_measures, by=by, grain=grain),
            ("conversations", "conversation_messages"),
        )
        for by, grain in (("channel", "week"), ("team", "week"), ("agent", "none"), ("all", "week"))
    ),
    *(
        Metric(
            f"response_authors_by_{by}_{grain}",
            partial(response_authors, by=by, grain=grain),
            ("conversations", "conversation_messages"),
        )
        for by, grain in (("channel", "week"), ("agent", "month"), ("all", "none"))
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
