"""Journey metrics: the map by stage and touchpoint, pain points and UX tasks, as Ibis functions.

Like `analytics.metrics`, each function filters every input table on `org_id`, takes a half-open
UTC period [start, end) and counts exactly on every engine (distinct customers by grouping, medians
and percentiles by ranking rows, never `nunique()`, `median()` or `quantile()`). Several parts are
stacked with UNION ALL and summed rather than joined: an unmatched row of a left join holds NULL on
DuckDB but a column's default on ClickHouse.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import ibis
import ibis.expr.types as ir

from opencx.analytics.metrics import (
    Metric,
    _midnight,
    _moment,
    _week_start,
    of_customers,
)
from opencx.analytics.tables import MOMENT
from opencx.journeys.models import JourneyStage

# The order customers move through; "next stage" means the one after in this list.
STAGES: tuple[str, ...] = tuple(stage.value for stage in JourneyStage)
# The views of a UX task report: the whole period, by device, by channel and per week.
TASK_VIEWS = ("overall", "device", "channel", "weeks")
# A complaint: an event of type complaint, or any contact whose properties say intent complaint.
COMPLAINT_INTENT = r'"intent"\s*:\s*"complaint"'
# An error event: a type naming an error or failure (checkout_error, payment_failed, ...).
ERROR_TYPE = r"(^|[_.:-])(error|errors|failed|failure)($|[_.:-])"
# A review of 1 or 2 stars.
LOW_RATING = r'"rating"\s*:\s*[12]([^0-9]|$)'
LATER_WITHIN = timedelta(days=30)  # how long after a touch an NPS answer counts as "what follows"


def _int(value: ir.Value | int) -> ir.IntegerValue:
    # Non-nullable Int64 on every engine: a cast to plain int64 is dropped where Ibis thinks the
    # type is int64 already, and ClickHouse's count() is UInt64, which does not stack with Int64.
    value = ibis.literal(value) if isinstance(value, int) else value
    return value.cast("!int64")


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    return _int(ibis.ifelse(condition, 1, 0))


def _stage_rank(stage: ir.StringValue) -> ir.IntegerValue:
    rank = ibis.cases(*((stage == name, n) for n, name in enumerate(STAGES)), else_=-1)
    return rank.cast("int64")


def _whole_seconds(moment: ir.TimestampValue) -> ir.IntegerValue:
    return moment.truncate("s").epoch_seconds().cast("int64")


def _in_period(table: ir.Table, column: str, *, org_id: int, start: date, end: date) -> ir.Table:
    return table.filter(
        table.org_id == org_id,
        table[column] >= _midnight(start),
        table[column] < _midnight(end),
    )


def _catalog(touchpoints: ir.Table, *, org_id: int) -> ir.Table:
    return touchpoints.filter(touchpoints.org_id == org_id).select(
        touchpoint_id=touchpoints.id,
        touchpoint_key=touchpoints.key,
        touchpoint_name=touchpoints.name,
        stage=touchpoints.stage,
        channel=touchpoints.channel,
        is_online=touchpoints.is_online,
    )


def _events_of_chosen(
    events: ir.Table,
    customers: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    segment: str | None,
    country: str | None,
) -> ir.Table:
    """The period's events, of the segment's and country's customers when either is given."""
    return of_customers(
        _in_period(events, "occurred_at", org_id=org_id, start=start, end=end),
        customers,
        org_id=org_id,
        country=country,
        segment=segment,
    )


def journey_touchpoints(
    events: ir.Table,
    touchpoints: ir.Table,
    customers: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    segment: str | None = None,
    country: str | None = None,
) -> ir.Table:
    """Events, sessions and distinct known customers per touchpoint.

    Each row carries the touchpoint's stage, channel and whether it is online. Anonymous events
    count in `events` and `sessions`, not in `customers`.
    """
    happened = _events_of_chosen(
        events, customers, org_id=org_id, start=start, end=end, segment=segment, country=country
    )
    # Grouped on ids only, the labels joined to the few result rows: a fraction of the work of
    # grouping ten million events on six label columns.
    keys = ["touchpoint_id"]
    happened = happened.select("touchpoint_id", "customer_id", "session_id")
    per_customer = happened.group_by([*keys, "customer_id"]).aggregate(events=ibis._.count())
    per_session = happened.filter(happened.session_id.notnull()).group_by([*keys, "session_id"])
    visits = ibis.union(
        per_customer.select(
            *keys,
            events=_int(per_customer.events),
            customers=_flag(per_customer.customer_id.notnull()),
            sessions=_int(0),
        ),
        per_session.aggregate().select(*keys, events=_int(0), customers=_int(0), sessions=_int(1)),
        distinct=False,
    )
    summed = visits.group_by(keys).aggregate(
        events=visits.events.sum(), customers=visits.customers.sum(), sessions=visits.sessions.sum()
    )
    return summed.join(_catalog(touchpoints, org_id=org_id), "touchpoint_id")


def journey_devices(
    events: ir.Table,
    customers: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    segment: str | None = None,
    country: str | None = None,
) -> ir.Table:
    """Events per touchpoint and device (the device mix of the map; "none" where unknown)."""
    happened = _events_of_chosen(
        events, customers, org_id=org_id, start=start, end=end, segment=segment, country=country
    )
    happened = happened.mutate(device=happened.device.fill_null("none"))
    return happened.group_by(["touchpoint_id", "device"]).aggregate(events=_int(ibis._.count()))


def _stage_moments(
    events: ir.Table,
    touchpoints: ir.Table,
    orders: ir.Table,
    deliveries: ir.Table,
    conversations: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
) -> ir.Table:
    """(customer_id, stage rank, moment) from every domain that knows a customer reached a stage.

    Events at touchpoints give every stage; orders the purchase, arrived deliveries the delivery
    and service-desk conversations the service stage, also for customers no tracker saw there.
    """
    catalog = _catalog(touchpoints, org_id=org_id)
    seen = _in_period(events, "occurred_at", org_id=org_id, start=start, end=end)
    seen = seen.filter(seen.customer_id.notnull()).join(catalog, "touchpoint_id")
    placed = _in_period(orders, "placed_at", org_id=org_id, start=start, end=end)
    placed = placed.filter(placed.customer_id.notnull())
    buyers = orders.filter(orders.org_id == org_id, orders.customer_id.notnull()).select(
        order_id=orders.id, buyer_id=orders.customer_id
    )
    arrived = _in_period(deliveries, "delivered_at", org_id=org_id, start=start, end=end)
    arrived = arrived.join(buyers, "order_id")
    contacted = _in_period(conversations, "created_at", org_id=org_id, start=start, end=end)
    contacted = contacted.filter(contacted.customer_id.notnull())

    def moments(customer: ir.Value, rank: ir.Value | int, moment: ir.Value) -> dict[str, ir.Value]:
        rank = ibis.literal(rank) if isinstance(rank, int) else rank
        return {"customer_id": customer, "rank": rank.cast("int64"), "moment": moment.cast(MOMENT)}

    return ibis.union(
        seen.select(**moments(seen.customer_id, _stage_rank(seen.stage), seen.occurred_at)),
        placed.select(**moments(placed.customer_id, STAGES.index("purchase"), placed.placed_at)),
        arrived.select(**moments(arrived.buyer_id, STAGES.index("delivery"), arrived.delivered_at)),
        contacted.select(
            **moments(contacted.customer_id, STAGES.index("service"), contacted.created_at)
        ),
        distinct=False,
    )


def journey_stages(
    events: ir.Table,
    touchpoints: ir.Table,
    orders: ir.Table,
    deliveries: ir.Table,
    conversations: ir.Table,
    customers: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    segment: str | None = None,
    country: str | None = None,
) -> ir.Table:
    """Per stage: customers who reached it, those who reached the next stage after, and how fast.

    A customer reaches a stage at their first moment there in the period; they convert when they
    reach the next stage (in STAGES order) at or after that moment. The median time to the next
    stage comes as the sum and count of the one or two middle durations, in whole seconds.
    """
    moments = of_customers(
        _stage_moments(
            events,
            touchpoints,
            orders,
            deliveries,
            conversations,
            org_id=org_id,
            start=start,
            end=end,
        ),
        customers,
        org_id=org_id,
        country=country,
        segment=segment,
    )
    moments = moments.filter(moments.rank >= 0)
    firsts = moments.group_by(["customer_id", "rank"]).aggregate(first_at=moments.moment.min())
    later = moments.select(
        next_customer=moments.customer_id, next_rank=moments.rank, at=moments.moment
    )
    onward = firsts.join(
        later,
        [
            firsts.customer_id == later.next_customer,
            later.next_rank == firsts.rank + 1,
            later.at >= firsts.first_at,
        ],
    )
    converted = onward.group_by(["customer_id", "rank", "first_at"]).aggregate(
        next_at=onward.at.min()
    )
    rows = ibis.union(
        firsts.select(
            "customer_id",
            rank=_int(firsts.rank),
            reached=_int(1),
            converted=_int(0),
            seconds=_int(0),
        ),
        converted.select(
            "customer_id",
            rank=_int(converted.rank),
            reached=_int(0),
            converted=_int(1),
            seconds=_int(
                (_whole_seconds(converted.next_at) - _whole_seconds(converted.first_at)).fill_null(
                    0
                )
            ),
        ),
        distinct=False,
    )
    group = ["rank", "converted"]
    ranked = rows.mutate(
        position=ibis.row_number().over(group_by=group, order_by=["seconds", "customer_id"]),
        size=rows.customer_id.count().over(group_by=group),
    )
    middle = _flag(
        (ranked.converted == 1)
        & ((ranked.position == (ranked.size - 1) // 2) | (ranked.position == ranked.size // 2))
    )
    stages = ranked.mutate(middle=middle, middle_seconds=middle * ranked.seconds)
    return (
        stages.group_by("rank")
        .aggregate(
            customers=stages.reached.sum(),
            converted=stages.converted.sum(),
            median_seconds_sum=stages.middle_seconds.sum(),
            median_rows=stages.middle.sum(),
        )
        .mutate(stage=ibis.cases(*((ibis._.rank == n, name) for n, name in enumerate(STAGES))))
    )


PAIN_COLUMNS = (
    "events",
    "customers",
    "complaints",
    "errors",
    "low_reviews",
    "conversations",
    "responses",
    "low_scores",
    "late_customers",
    "later_responders",
    "later_detractors",
)


def _pain_part(table: ir.Table, **values: ir.Value | int) -> ir.Table:
    # Every part has the same columns and types, so the parts stack with UNION ALL.
    columns = {name: _int(values.get(name, 0)) for name in PAIN_COLUMNS}
    return table.select(touchpoint_id=table.touchpoint_id, week_start=table.week_start, **columns)


def pain_points_per_touchpoint_per_week(
    events: ir.Table,
    touchpoints: ir.Table,
    conversations: ir.Table,
    survey_responses: ir.Table,
    deliveries: ir.Table,
    orders: ir.Table,
    customers: ir.Table | None = None,
    *,
    org_id: int,
    start: date,
    end: date,
    as_of: datetime,
    segment: str | None = None,
    country: str | None = None,
) -> ir.Table:
    """The evidence of bad experiences per touchpoint and ISO week; the service ranks them.

    With a segment or country (and `customers`), only the events, answers and conversations of
    customers in them count (anonymous events drop out).

    - events, customers: what happened there and how many known customers it reached;
    - complaints: complaint events or contacts with intent complaint; errors: error events;
      low_reviews: reviews of 1-2 stars; conversations: service-desk conversations started there;
    - responses, low_scores: survey answers about it, and the low ones (NPS 0-6, CSAT 1-2, CES 1-3);
    - late_customers (delivery-stage touchpoints): customers there while a delivery of theirs was
      late (promised before their last touch of the week, and not arrived by their first);
    - later_responders, later_detractors: customers who answered an NPS survey within 30 days
      after their first touch of the week, and those of them who gave 0-6 (what followed).
    """

    def of_chosen(rows: ir.Table) -> ir.Table:
        return of_customers(rows, customers, org_id=org_id, country=country, segment=segment)

    catalog = _catalog(touchpoints, org_id=org_id)
    happened = of_chosen(_in_period(events, "occurred_at", org_id=org_id, start=start, end=end))
    happened = happened.join(catalog.select("touchpoint_id", "stage"), "touchpoint_id")
    # A plain substring test first: the regular expression then runs on the few rows that may
    # match (AND evaluates its right side only where the left holds), not on every event.
    properties = happened.properties.fill_null("")
    happened = happened.mutate(
        week_start=_week_start(happened.occurred_at),
        complaint=_flag(
            (happened.type == "complaint")
            | (properties.contains("complaint") & properties.re_search(COMPLAINT_INTENT))
        ),
        error=_flag(
            (happened.type.contains("err") | happened.type.contains("fail"))
            & happened.type.re_search(ERROR_TYPE)
        ),
        low_review=_flag((happened.type == "review") & properties.re_search(LOW_RATING)),
    )
    touches = happened.group_by(["touchpoint_id", "stage", "week_start", "customer_id"]).aggregate(
        events=ibis._.count(),
        complaints=ibis._.complaint.sum(),
        errors=ibis._.error.sum(),
        low_reviews=ibis._.low_review.sum(),
        first_at=ibis._.occurred_at.min(),
        last_at=ibis._.occurred_at.max(),
    )
    known = touches.filter(touches.customer_id.notnull())

    buyers = orders.filter(orders.org_id == org_id).select(
        order_id=orders.id, buyer_id=orders.customer_id
    )
    sent = deliveries.filter(deliveries.org_id == org_id).join(buyers, "order_id")
    now = _moment(as_of)
    late = sent.filter(
        (sent.delivered_at.notnull() & (sent.delivered_at > sent.promised_at))
        | (sent.delivered_at.isnull() & (sent.promised_at < now))
    ).select("buyer_id", "promised_at", until=sent.delivered_at.fill_null(now))
    waiting = known.filter(known.stage == "delivery").join(
        late,
        [
            known.customer_id == late.buyer_id,
            late.promised_at < known.last_at,
            late.until >= known.first_at,
        ],
    )
    waiting = waiting.group_by(["touchpoint_id", "week_start", "customer_id"]).aggregate(
        deliveries=ibis._.count()
    )

    nps = survey_responses.filter(
        survey_responses.org_id == org_id,
        survey_responses.kind == "nps",
        survey_responses.score.notnull(),
        survey_responses.customer_id.notnull(),
    ).select(responder_id=ibis._.customer_id, answered_at=ibis._.submitted_at, score=ibis._.score)
    followed = known.join(
        nps,
        [
            known.customer_id == nps.responder_id,
            nps.answered_at >= known.first_at,
            nps.answered_at < known.first_at + ibis.interval(days=LATER_WITHIN.days),
        ],
    )
    followed = followed.group_by(["touchpoint_id", "week_start", "customer_id"]).aggregate(
        detractor=_flag(followed.score <= 6).max()
    )

    answered = of_chosen(
        _in_period(survey_responses, "submitted_at", org_id=org_id, start=start, end=end)
    )
    answered = answered.filter(answered.score.notnull(), answered.touchpoint_id.notnull())
    low = (
        ((answered.kind == "nps") & (answered.score <= 6))
        | ((answered.kind == "csat") & (answered.score <= 2))
        | ((answered.kind == "ces") & (answered.score <= 3))
    )
    answered = answered.mutate(week_start=_week_start(answered.submitted_at), low=_flag(low))
    started = of_chosen(
        _in_period(conversations, "created_at", org_id=org_id, start=start, end=end)
    )
    started = started.filter(started.touchpoint_id.notnull())
    started = started.mutate(week_start=_week_start(started.created_at))

    parts = ibis.union(
        _pain_part(
            touches,
            events=touches.events,
            customers=_flag(touches.customer_id.notnull()),
            complaints=touches.complaints,
            errors=touches.errors,
            low_reviews=touches.low_reviews,
        ),
        _pain_part(waiting, late_customers=1),
        _pain_part(followed, later_responders=1, later_detractors=followed.detractor),
        _pain_part(answered, responses=1, low_scores=answered.low),
        _pain_part(started, conversations=1),
        distinct=False,
    )
    summed = parts.group_by(["touchpoint_id", "week_start"]).aggregate(
        **{name: parts[name].sum() for name in PAIN_COLUMNS}
    )
    return summed.join(
        catalog.select("touchpoint_id", "touchpoint_key", "touchpoint_name", "stage"),
        "touchpoint_id",
    )


def task_outcomes(
    events: ir.Table,
    touchpoints: ir.Table,
    *,
    org_id: int,
    start: date,
    end: date,
    start_event: str,
    success_event: str,
    error_events: tuple[str, ...] = (),
    abandon_after_seconds: int | None = None,
) -> ir.Table:
    """A UX task's attempts and outcomes, in one query for every view of TASK_VIEWS.

    An attempt starts at a `start_event` and lasts, in the same session (else the same anonymous
    visitor, else the same customer), until the next start there. It succeeds at the first
    `success_event` in it, within `abandon_after_seconds` when given; otherwise it is abandoned.
    Errors are `error_events` before the success (or in the whole attempt); clicks are the events
    from the start up to the success. Device and channel are those of the start event and its
    touchpoint. The median and 90th percentile of the time on task (successes, whole seconds)
    come as rows picked by rank: the sum and count of the one or two middle ones, and the
    nearest-rank 90th percentile.

    Rows: `view` (overall, device, channel, weeks), `group_key` (the device or channel; NULL
    otherwise), `period_start` (the week's Monday for weeks, else `start`) and the sums. The
    attempts are found once (one pass over the events) and summed per view.
    """
    happened = _in_period(events, "occurred_at", org_id=org_id, start=start, end=end)
    happened = happened.mutate(
        visit=happened.session_id.coalesce(
            happened.anonymous_id, happened.customer_id.cast("string")
        )
    ).filter(ibis._.visit.notnull())
    channels = touchpoints.filter(touchpoints.org_id == org_id).select(
        touchpoint_id=touchpoints.id, channel=touchpoints.channel
    )
    begun = happened.filter(happened.type == start_event)
    # The next start in the same visit ends an attempt (the period's end when none); of starts
    # at the same instant, only the last is an attempt.
    begun = begun.mutate(
        ends_at=begun.occurred_at.lead()
        .over(group_by=begun.visit, order_by=[begun.occurred_at, begun.id])
        .fill_null(_midnight(end))
    ).join(channels, "touchpoint_id")
    attempts = begun.select(
        attempt_id=begun.id,
        attempt_visit=begun.visit,
        started_at=begun.occurred_at,
        ends_at=begun.ends_at,
        week_start=_week_start(begun.occurred_at),
        device=begun.device.fill_null("none"),
        channel=begun.channel,
    )
    steps = happened.select(
        step_id=happened.id,
        step_visit=happened.visit,
        step_at=happened.occurred_at,
        step_type=happened.type,
    ).view()
    inside = attempts.join(
        steps,
        [
            attempts.attempt_visit == steps.step_visit,
            steps.step_at >= attempts.started_at,
            steps.step_at < attempts.ends_at,
        ],
    )
    success_seconds = _whole_seconds(inside.step_at) - _whole_seconds(inside.started_at)
    counts = inside.step_type == success_event
    if abandon_after_seconds is not None:
        counts = counts & (success_seconds <= abandon_after_seconds)
    inside = inside.mutate(
        success_rank=ibis.ifelse(counts, success_seconds, ibis.null("int64")),
        is_error=_flag(inside.step_type.isin(list(error_events))) if error_events else _int(0),
        seconds=success_seconds,
    )
    inside = inside.mutate(done_after=inside.success_rank.min().over(group_by=inside.attempt_id))
    before_done = inside.done_after.isnull() | (inside.seconds <= inside.done_after)
    per_attempt = inside.group_by(["attempt_id", "week_start", "device", "channel"]).aggregate(
        seconds=inside.done_after.min(),
        errors=(_flag(before_done) * inside.is_error).sum(),
        clicks=_flag(before_done).sum(),
    )
    outcome = per_attempt.mutate(
        succeeded=_flag(per_attempt.seconds.notnull()),
        seconds=per_attempt.seconds.fill_null(0),
        errored=_flag(per_attempt.errors > 0),
    )
    whole_period = ibis.literal(start, type="date")
    views = {  # TASK_VIEWS
        "overall": (ibis.null("string"), whole_period),
        "device": (outcome.device, whole_period),
        "channel": (outcome.channel, whole_period),
        "weeks": (ibis.null("string"), outcome.week_start),
    }
    return ibis.union(
        *(
            _task_view(outcome, view=view, group_key=group_key, period_start=period_start)
            for view, (group_key, period_start) in views.items()
        ),
        distinct=False,
    )


def _task_view(
    outcome: ir.Table, *, view: str, group_key: ir.Value, period_start: ir.Value
) -> ir.Table:
    """One view's sums over the attempts' outcomes: rates, clicks, median and p90 by rank."""
    keyed = outcome.mutate(group_key=group_key.cast("string"), period_start=period_start)
    group = ["period_start", "group_key", "succeeded"]
    ranked = keyed.mutate(
        position=ibis.row_number().over(group_by=group, order_by=["seconds", "attempt_id"]),
        size=keyed.attempt_id.count().over(group_by=group),
    )
    done = ranked.succeeded == 1
    middle = _flag(
        done & ((ranked.position == (ranked.size - 1) // 2) | (ranked.position == ranked.size // 2))
    )
    p90 = _flag(done & (ranked.position == (ranked.size * 9 + 9) // 10 - 1))
    summed = (
        ranked.mutate(middle=middle, p90=p90)
        .group_by(["period_start", "group_key"])
        .aggregate(
            attempts=_int(ibis._.count()),
            successes=_int(ibis._.succeeded.sum()),
            with_errors=_int(ibis._.errored.sum()),
            error_events=_int(ibis._.errors.sum()),
            success_clicks=_int((ibis._.clicks * ibis._.succeeded).sum()),
            success_seconds=_int((ibis._.seconds * ibis._.succeeded).sum()),
            median_seconds_sum=_int((ibis._.seconds * ibis._.middle).sum()),
            median_rows=_int(ibis._.middle.sum()),
            p90_seconds=_int((ibis._.seconds * ibis._.p90).sum()),
        )
    )
    return summed.mutate(view=ibis.literal(view))


# The parity test runs each entry on DuckDB and ClickHouse; options that compile differently get
# an entry each. Task options are an example task over the test data's event types.
_EXAMPLE_TASK: dict[str, Any] = {
    "start_event": "page_view",
    "success_event": "purchase",
    "error_events": ("add_to_cart", "checkout_error"),
}
JOURNEY_METRICS: tuple[Metric, ...] = (
    Metric(
        "journey_touchpoints",
        journey_touchpoints,
        ("events", "touchpoints", "customers"),
    ),
    Metric(
        "journey_touchpoints_of_a_segment",
        partial(journey_touchpoints, segment="vip", country="NL"),
        ("events", "touchpoints", "customers"),
    ),
    Metric("journey_devices", journey_devices, ("events", "customers")),
    Metric(
        "journey_devices_of_a_segment",
        partial(journey_devices, segment="vip", country="NL"),
        ("events", "customers"),
    ),
    Metric(
        "journey_stages",
        journey_stages,
        ("events", "touchpoints", "orders", "deliveries", "conversations", "customers"),
    ),
    Metric(
        "journey_stages_of_a_country",
        partial(journey_stages, country="PL"),
        ("events", "touchpoints", "orders", "deliveries", "conversations", "customers"),
    ),
    Metric(
        "pain_points_per_touchpoint_per_week",
        pain_points_per_touchpoint_per_week,
        ("events", "touchpoints", "conversations", "survey_responses", "deliveries", "orders"),
    ),
    Metric(
        "pain_points_per_touchpoint_per_week_of_a_segment",
        partial(pain_points_per_touchpoint_per_week, segment="vip", country="NL"),
        (
            "events",
            "touchpoints",
            "conversations",
            "survey_responses",
            "deliveries",
            "orders",
            "customers",
        ),
    ),
    Metric("task_outcomes", partial(task_outcomes, **_EXAMPLE_TASK), ("events", "touchpoints")),
    Metric(
        "task_outcomes_with_a_timeout",
        partial(task_outcomes, **_EXAMPLE_TASK, abandon_after_seconds=3 * 86400),
        ("events", "touchpoints"),
    ),
)
