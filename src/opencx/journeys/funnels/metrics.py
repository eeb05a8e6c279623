"""Paths and funnels over the analytics store's events, as Ibis expressions for every engine.

Sessions: an event with a session_id belongs to that session. An event without one belongs to
its visitor (the customer if known, else the anonymous id; events with neither are left out) and
starts a new session after 30 minutes without events of that visitor (the usual web analytics
rule). A step of a path is a touchpoint; consecutive events at the same touchpoint are one step,
so transitions count moves between different touchpoints.

Funnels count visitors (customer, else anonymous id): a visitor reaches step k when events
match steps 1..k in order (a later step may share the moment of the one before), all within the
conversion window after the step-1 event. Every step-1 event may start the chain; the longest
chain counts. That is ClickHouse's windowFunnel (default mode), which `funnel_conversion_sql`
uses there; the parity test holds both to the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from types import ModuleType
from typing import NamedTuple

import ibis
import ibis.expr.types as ir

SESSION_GAP_SECONDS = 30 * 60
BREAKDOWNS = ("device", "channel", "country")
MAX_PATH_STEPS = 5
NO_GROUP = "\x1f"


class FunnelStep(NamedTuple):
    """What an event must be to match a step: at this touchpoint (key), of this type, or both."""

    touchpoint_key: str | None = None
    event_type: str | None = None


class EventFilter(NamedTuple):
    """Which events count: by the customer's segment or country, touchpoint channel, device."""

    segment: str | None = None
    country: str | None = None
    channel: str | None = None
    device: str | None = None


NO_FILTER = EventFilter()


def _analytics() -> ModuleType:
    # Imported on use: opencx.analytics.metrics lists these metrics in METRICS, importing this.
    from opencx.analytics import metrics

    return metrics


def _filtered_events(
    events: ir.Table,
    touchpoints: ir.Table,
    customers: ir.Table | None,
    *,
    org_id: int,
    start: date,
    end: date,
    where: EventFilter,
) -> ir.Table:
    """The organization's events in [start, end) passing `where`, with visitor and channel."""
    happened = events.filter(
        events.org_id == org_id,
        events.occurred_at >= _analytics()._midnight(start),
        events.occurred_at < _analytics()._midnight(end),
        events.customer_id.notnull() | events.anonymous_id.notnull(),
    )
    if where.device is not None:
        happened = happened.filter(happened.device == where.device)
    catalog = touchpoints.filter(touchpoints.org_id == org_id).select(
        tp_id=touchpoints.id, touchpoint_key=touchpoints.key, channel=touchpoints.channel
    )
    if where.channel is not None:
        catalog = catalog.filter(catalog.channel == where.channel)
    # An inner join: events pointing at another organization's touchpoint do not count.
    joined = happened.join(catalog, happened.touchpoint_id == catalog.tp_id)
    selected = joined.select(
        "id",
        "customer_id",
        "session_id",
        "touchpoint_id",
        "touchpoint_key",
        "channel",
        "type",
        "occurred_at",
        "device",
        # The visitor: the customer if known, else the anonymous id (NULL when the customer is).
        visitor_anonymous_id=ibis.ifelse(
            joined.customer_id.isnull(), joined.anonymous_id, ibis.null("string")
        ),
    )
    if where.country is None and where.segment is None:
        return selected
    if customers is None:
        raise ValueError("filtering by country or segment needs the customers table")
    profiles = _analytics().customer_profiles(customers, org_id=org_id)
    if where.country is not None:
        profiles = profiles.filter(profiles.country == where.country)
    if where.segment is not None:
        profiles = profiles.filter(profiles.segments.contains(where.segment))
    matched = selected.join(profiles, selected.customer_id == profiles.profile_id)
    return matched.select(*selected.columns)


# The visitor as two never-NULL columns (customer id or 0, anonymous id or ""): joins on them
# match, where NULL keys would not.
VISITOR = ("visitor_customer_id", "visitor_anonymous_id")


def _with_visitor(rows: ir.Table) -> ir.Table:
    return rows.mutate(
        visitor_customer_id=rows.customer_id.fill_null(0),
        visitor_anonymous_id=rows.visitor_anonymous_id.fill_null(""),
    )


def _session_parts(rows: ir.Table) -> list[tuple[ir.Table, list[str]]]:
    """`rows` split by how a session is known, each with the columns naming its session.

    Events with a session_id: that id. Events without: the visitor and the number of their
    30-minute session. Kept apart (not one concatenated key) so each part sorts on its own keys.
    """
    with_id = rows.filter(rows.session_id.notnull())
    loose = _with_visitor(rows.filter(rows.session_id.isnull()))
    seconds = _analytics()._whole_seconds(loose.occurred_at)
    order = [loose.occurred_at, loose.id]
    gapped = loose.mutate(
        seconds=seconds, previous=seconds.lag().over(group_by=list(VISITOR), order_by=order)
    )
    started = gapped.mutate(
        new_session=ibis.ifelse(
            gapped.previous.isnull() | (gapped.seconds - gapped.previous > SESSION_GAP_SECONDS),
            1,
            0,
        )
    )
    numbered = started.mutate(
        session_number=started.new_session.sum().over(
            group_by=list(VISITOR), order_by=[started.occurred_at, started.id], rows=(None, 0)
        )
    ).drop("seconds", "previous", "new_session")
    return [(with_id, ["session_id"]), (numbered, [*VISITOR, "session_number"])]


def _steps(part: ir.Table, session: list[str]) -> ir.Table:
    """A session part's steps: events whose touchpoint differs from the one before."""
    order = [part.occurred_at, part.id]
    previous = part.touchpoint_id.lag().over(group_by=session, order_by=order)
    changed = part.mutate(previous_touchpoint=previous)
    return changed.filter(
        changed.previous_touchpoint.isnull()
        | (changed.previous_touchpoint != changed.touchpoint_id)
    )


def touchpoint_transitions(
    events: ir.Table,
    touchpoints: ir.Table,
    customers: ir.Table | None = None,
    *,
    org_id: int,
    start: date,
    end: date,
    where: EventFilter = NO_FILTER,
) -> ir.Table:
    """Moves from one touchpoint to another within a session (consecutive events at one
    touchpoint are one step), counted per pair of touchpoints."""
    happened = _filtered_events(
        events, touchpoints, customers, org_id=org_id, start=start, end=end, where=where
    )
    moves = []
    for part, session in _session_parts(happened):
        order = [part.occurred_at, part.id]
        pairs = part.select(
            from_touchpoint_id=part.touchpoint_id.lag().over(group_by=session, order_by=order),
            to_touchpoint_id=part.touchpoint_id,
        )
        moves.append(pairs.filter(pairs.from_touchpoint_id != pairs.to_touchpoint_id))
    every = ibis.union(*moves)
    return every.group_by(["from_touchpoint_id", "to_touchpoint_id"]).aggregate(
        transitions=ibis._.count()
    )


def paths_from_touchpoint(
    events: ir.Table,
    touchpoints: ir.Table,
    customers: ir.Table | None = None,
    *,
    org_id: int,
    start: date,
    end: date,
    touchpoint_key: str,
    steps: int = 3,
    direction: str = "after",
    where: EventFilter = NO_FILTER,
) -> ir.Table:
    """Sessions per path of up to `steps` touchpoints after (or before) a session's first visit
    to `touchpoint_key`: columns step_1..step_N hold touchpoint ids (NULL where it ended)."""
    if not 1 <= steps <= MAX_PATH_STEPS:
        raise ValueError(f"steps must be 1 to {MAX_PATH_STEPS}, got {steps}")
    if direction not in ("after", "before"):
        raise ValueError(f"direction must be 'after' or 'before', got {direction!r}")
    happened = _filtered_events(
        events, touchpoints, customers, org_id=org_id, start=start, end=end, where=where
    )
    names = [f"step_{n}" for n in range(1, steps + 1)]
    paths = [
        _paths_of_part(
            _steps(part, session),
            session,
            touchpoint_key=touchpoint_key,
            steps=steps,
            after=direction == "after",
        ).select(*names)
        for part, session in _session_parts(happened)
    ]
    return ibis.union(*paths).group_by(names).aggregate(sessions=ibis._.count())


def _paths_of_part(
    visits: ir.Table, session: list[str], *, touchpoint_key: str, steps: int, after: bool
) -> ir.Table:
    """One row per session of a part that visits the touchpoint: step_1..step_N."""
    numbered = visits.mutate(
        position=ibis.row_number().over(group_by=session, order_by=[visits.occurred_at, visits.id])
    )
    anchors = (
        numbered.filter(numbered.touchpoint_key == touchpoint_key)
        .group_by(session)
        .aggregate(anchor=ibis._.position.min())
    )
    # Sessions that stop at the touchpoint keep a row: a path of no steps.
    joined = numbered.join(anchors, session)
    offset = joined.position - joined.anchor if after else joined.anchor - joined.position
    near = joined.mutate(offset=offset).filter(ibis._.offset >= 0, ibis._.offset <= steps)
    columns = {
        f"step_{n}": ibis.ifelse(near.offset == n, near.touchpoint_id, ibis.null("int64")).max()
        for n in range(1, steps + 1)
    }
    return near.group_by(session).aggregate(**columns)


def _step_matches(rows: ir.Table, step: FunnelStep) -> ir.BooleanValue:
    condition = ibis.literal(True)
    if step.touchpoint_key is not None:
        condition &= rows.touchpoint_key == step.touchpoint_key
    if step.event_type is not None:
        condition &= rows.type == step.event_type
    return condition


def _funnel_rows(
    events: ir.Table,
    touchpoints: ir.Table,
    customers: ir.Table | None,
    *,
    org_id: int,
    start: date,
    end: date,
    steps: Sequence[FunnelStep],
    by: str | None,
    where: EventFilter,
) -> ir.Table:
    """Events matching any step: visitor, group_key, whole seconds and one 0/1 column a step."""
    if len(steps) < 2:
        raise ValueError("a funnel has at least two steps")
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {BREAKDOWNS}, got {by!r}")
    if by == "country" and customers is None:
        raise ValueError("a breakdown by country needs the customers table")
    happened = _filtered_events(
        events, touchpoints, customers, org_id=org_id, start=start, end=end, where=where
    )
    if by == "country":
        profiles = _analytics().customer_profiles(customers, org_id=org_id)
        joined = happened.left_join(profiles, happened.customer_id == profiles.profile_id)
        happened = joined.mutate(group_key=joined.country).drop(*profiles.columns)
    else:
        group = happened[by] if by else ibis.null("string")
        happened = happened.mutate(group_key=group.cast("string"))
    marks = {f"step_{n}": _step_matches(happened, step) for n, step in enumerate(steps, start=1)}
    any_step = ibis.literal(False)
    for mark in marks.values():
        any_step |= mark
    visits = _with_visitor(happened.filter(any_step))
    return visits.select(
        *VISITOR,
        "group_key",
        seconds=_analytics()._whole_seconds(visits.occurred_at),
        **{name: ibis.ifelse(mark, 1, 0) for name, mark in marks.items()},
    )


def _chains(rows: ir.Table, *, count: int, window_seconds: int) -> list[ir.Table]:
    """For every step-1 event, the earliest matching event of each later step (greedy chains).

    Level k holds (entity, group_key, started, at): chains that reached step k, `at`
    the moment of their step-k event. Taking the earliest next event leaves the most window.
    """
    rows = rows.mutate(
        entity=rows.visitor_customer_id.cast("string")
        + "|"
        + rows.visitor_anonymous_id
        + "|"
        + rows.group_key.fill_null("")
    )
    keys = ["entity", "group_key", "started"]
    first = rows.filter(rows.step_1 == 1)
    level = first.group_by(["entity", "group_key", first.seconds.name("started")])
    level = level.aggregate().mutate(at=ibis._.started)
    levels = [level]
    for n in range(2, count + 1):
        candidates = rows.filter(rows[f"step_{n}"] == 1).select(
            next_entity=rows.entity, next_at=rows.seconds
        )
        joined = level.join(candidates, level.entity == candidates.next_entity).filter(
            ibis._.next_at >= ibis._.at, ibis._.next_at <= ibis._.started + window_seconds
        )
        level = joined.group_by(keys).aggregate(at=ibis._.next_at.min())
        levels.append(level)
    return levels


def funnel_conversion(
    events: ir.Table,
    touchpoints: ir.Table,
    customers: ir.Table | None = None,
    *,
    org_id: int,
    start: date,
    end: date,
    steps: Sequence[FunnelStep],
    window_seconds: int = 86400,
    by: str | None = None,
    where: EventFilter = NO_FILTER,
) -> ir.Table:
    """Visitors reaching each step (1-based `step`) per group; steps nobody reached have no row."""
    rows = _funnel_rows(
        events,
        touchpoints,
        customers,
        org_id=org_id,
        start=start,
        end=end,
        steps=steps,
        by=by,
        where=where,
    )
    # ClickHouse's windowFunnel with as-of joins. Level k holds the step-k events that extend a
    # chain, with the moment the chain started. A step-k event extends the latest level-(k-1)
    # event at or before it (the same second counts: steps of one second go in step order) if
    # within the window of that chain's start. The latest is the one with the latest start (starts
    # only grow with time), which is the best chain to extend: windowFunnel keeps the same.
    # NULL groups join as a sentinel no device, channel or country is named.
    keyed = rows.mutate(group_key=rows.group_key.fill_null(NO_GROUP))
    # Without a breakdown every group is NULL: joining on it would only cost.
    keys = [*VISITOR, "group_key"] if by else list(VISITOR)
    level = keyed.filter(keyed.step_1 == 1).select(*keys, at=keyed.seconds, started=keyed.seconds)
    levels = [level]
    for n in range(2, len(steps) + 1):
        candidates = keyed.filter(keyed[f"step_{n}"] == 1).select(*keys, at=keyed.seconds)
        before = level.rename(before_at="at")
        joined = candidates.asof_join(before, on=candidates.at >= before.before_at, predicates=keys)
        level = joined.filter(
            joined.started.notnull(), joined.at <= joined.started + window_seconds
        ).select(*keys, "at", "started")
        levels.append(level)

    def visitors(level: ir.Table) -> ir.Table:
        distinct = level.group_by(keys).aggregate()
        if by:
            return distinct.group_by("group_key").aggregate(visitors=ibis._.count())
        # One row even when nobody reached the step; windowFunnel's count has none then.
        counted = distinct.aggregate(visitors=ibis._.count()).filter(ibis._.visitors > 0)
        return counted.mutate(group_key=ibis.literal(NO_GROUP))

    every = ibis.union(
        *(
            visitors(level).mutate(step=ibis.literal(n, type="int64"))
            for n, level in enumerate(levels, start=1)
        )
    )
    # Back to NULL: visitors without a breakdown value (or none asked for).
    return every.select(
        group_key=ibis.ifelse(every.group_key == NO_GROUP, ibis.null("string"), every.group_key),
        step=every.step,
        visitors=every.visitors,
    )


def funnel_conversion_sql(
    events: ir.Table,
    touchpoints: ir.Table,
    customers: ir.Table | None = None,
    *,
    org_id: int,
    start: date,
    end: date,
    steps: Sequence[FunnelStep],
    window_seconds: int = 86400,
    by: str | None = None,
    where: EventFilter = NO_FILTER,
) -> str:
    """`funnel_conversion` as ClickHouse SQL with windowFunnel (one pass per visitor)."""
    rows = _funnel_rows(
        events,
        touchpoints,
        customers,
        org_id=org_id,
        start=start,
        end=end,
        steps=steps,
        by=by,
        where=where,
    )
    matched = ibis.to_sql(rows, dialect="clickhouse")
    conditions = ", ".join(f"step_{n} = 1" for n in range(1, len(steps) + 1))
    return (
        "SELECT group_key, toInt64(step) AS step, toInt64(count()) AS visitors FROM ("
        f"SELECT group_key, windowFunnel({int(window_seconds)})"
        f"(toUInt64(seconds), {conditions}) AS level "
        f"FROM ({matched}) GROUP BY visitor_customer_id, visitor_anonymous_id, group_key"
        ") ARRAY JOIN range(1, level + 1) AS step GROUP BY group_key, step"
    )


def funnel_step_times(
    events: ir.Table,
    touchpoints: ir.Table,
    customers: ir.Table | None = None,
    *,
    org_id: int,
    start: date,
    end: date,
    steps: Sequence[FunnelStep],
    window_seconds: int = 86400,
    by: str | None = None,
    where: EventFilter = NO_FILTER,
) -> ir.Table:
    """Per group and step (2..N), the seconds from the step before in each visitor's first
    longest chain: visitors, the sum, and the middle one or two durations (the median is
    median_seconds_sum / median_rows; exact on every engine, unlike ClickHouse's median())."""
    rows = _funnel_rows(
        events,
        touchpoints,
        customers,
        org_id=org_id,
        start=start,
        end=end,
        steps=steps,
        by=by,
        where=where,
    )
    levels = _chains(rows, count=len(steps), window_seconds=window_seconds)
    keys = ["entity", "group_key", "started"]
    # Each visitor's chain: the one reaching the furthest step, and of those the earliest start.
    reach = ibis.union(
        *(
            level.select(*keys, reached=ibis.literal(n, type="int64"))
            for n, level in enumerate(levels, start=1)
        )
    )
    furthest = reach.group_by(keys).aggregate(reached=reach.reached.max())
    ranked = furthest.mutate(
        rank=ibis.row_number().over(
            group_by=furthest.entity, order_by=[furthest.reached.desc(), furthest.started]
        )
    )
    chosen = ranked.filter(ranked.rank == 0).select(
        chosen_entity=ranked.entity, chosen_started=ranked.started
    )
    durations = []
    for n in range(2, len(steps) + 1):
        before = levels[n - 2].select(
            before_entity=ibis._.entity, before_started=ibis._.started, before_at=ibis._.at
        )
        after = levels[n - 1]
        pair = after.join(
            before,
            [after.entity == before.before_entity, after.started == before.before_started],
        )
        picked = pair.join(
            chosen,
            [pair.entity == chosen.chosen_entity, pair.started == chosen.chosen_started],
        )
        durations.append(
            picked.select(
                "entity",
                "group_key",
                step=ibis.literal(n, type="int64"),
                seconds=(picked.at - picked.before_at).cast("int64"),
            )
        )
    every = ibis.union(*durations)
    group = [every.group_key, every.step]
    ordered = every.mutate(
        position=ibis.row_number().over(group_by=group, order_by=[every.seconds, every.entity]),
        size=every.entity.count().over(group_by=group),
    )
    middle = (ordered.position == (ordered.size - 1) // 2) | (ordered.position == ordered.size // 2)
    marked = ordered.mutate(middle=ibis.ifelse(middle, 1, 0))
    return (
        marked.mutate(middle_seconds=marked.middle * marked.seconds)
        .group_by(["group_key", "step"])
        .aggregate(
            visitors=ibis._.count(),
            seconds_sum=ibis._.seconds.sum(),
            median_seconds_sum=ibis._.middle_seconds.sum(),
            median_rows=ibis._.middle.sum(),
        )
    )


def event_types(
    events: ir.Table, *, org_id: int, start: date, end: date, limit: int = 100
) -> ir.Table:
    """The event types of the period with their events, most frequent first (step choices)."""
    happened = events.filter(
        events.org_id == org_id,
        events.occurred_at >= _analytics()._midnight(start),
        events.occurred_at < _analytics()._midnight(end),
    )
    counted = happened.group_by("type").aggregate(events=ibis._.count())
    return counted.order_by([ibis.desc("events"), "type"]).limit(limit)
