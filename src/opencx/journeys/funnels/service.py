"""Paths and funnels: saved funnel definitions (operational store) and their results (analytics).

Results read the analytics store, filled by the sync; definitions and the touchpoint catalog
(names, valid keys) come from the operational store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from datetime import date
from itertools import pairwise
from typing import Any

from ibis.backends import BaseBackend
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.analytics.engine import analytics_connection, query_rows
from opencx.analytics.service import check_period
from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.journeys import service as journeys
from opencx.journeys.funnels import metrics
from opencx.journeys.funnels.models import SavedFunnel
from opencx.journeys.funnels.schemas import (
    Breakdown,
    Direction,
    FunnelDefinition,
    FunnelGroup,
    FunnelIn,
    FunnelOut,
    FunnelQuery,
    FunnelResult,
    FunnelStepResult,
    JourneyFilter,
    PathRow,
    PathsResult,
    SankeyLink,
    SankeyNode,
    Transition,
    TransitionsResult,
)

DEFAULT_TRANSITIONS = 20
DEFAULT_PATHS = 15


# -- saved funnels ----------------------------------------------------------------------------


def _catalog(session: Session, *, org_id: int) -> dict[str, Any]:
    return {tp.key: tp for tp in journeys.list_touchpoints(session, org_id=org_id)}


def _check_steps(session: Session, *, org_id: int, definition: FunnelDefinition) -> None:
    """Every touchpoint key exists; no step repeats the one before (it would match itself)."""
    catalog = _catalog(session, org_id=org_id)
    for n, step in enumerate(definition.steps):
        if step.touchpoint_key is not None and step.touchpoint_key not in catalog:
            raise InvalidInput(
                f"steps[{n}].touchpoint_key", f"no touchpoint with key {step.touchpoint_key!r}"
            )
        if n and step == definition.steps[n - 1]:
            raise InvalidInput(f"steps[{n}]", "repeats the step before; merge the two steps")


def _get(session: Session, *, org_id: int, funnel_id: int) -> SavedFunnel:
    funnel = session.scalar(
        select(SavedFunnel).where(SavedFunnel.org_id == org_id, SavedFunnel.id == funnel_id)
    )
    if funnel is None:
        raise NotFound("funnel", funnel_id)
    return funnel


def _check_name(session: Session, *, org_id: int, name: str, funnel_id: int | None) -> None:
    taken = session.scalar(
        select(SavedFunnel.id).where(SavedFunnel.org_id == org_id, SavedFunnel.name == name)
    )
    if taken is not None and taken != funnel_id:
        raise Conflict(f"a funnel named {name!r} exists")


def list_funnels(session: Session, *, org_id: int) -> list[FunnelOut]:
    """The saved funnels, by name."""
    found = session.scalars(
        select(SavedFunnel).where(SavedFunnel.org_id == org_id).order_by(SavedFunnel.name)
    )
    return [FunnelOut.model_validate(funnel) for funnel in found]


def get_funnel(session: Session, *, org_id: int, funnel_id: int) -> FunnelOut:
    """One saved funnel."""
    return FunnelOut.model_validate(_get(session, org_id=org_id, funnel_id=funnel_id))


def create_funnel(session: Session, *, org_id: int, data: FunnelIn) -> FunnelOut:
    """Save a funnel; its touchpoint keys must exist and its name be new."""
    _check_steps(session, org_id=org_id, definition=data)
    _check_name(session, org_id=org_id, name=data.name, funnel_id=None)
    funnel = SavedFunnel(org_id=org_id, **_columns(data))
    session.add(funnel)
    session.flush()
    return FunnelOut.model_validate(funnel)


def update_funnel(session: Session, *, org_id: int, funnel_id: int, data: FunnelIn) -> FunnelOut:
    """Replace a saved funnel's name, steps, window and breakdown."""
    funnel = _get(session, org_id=org_id, funnel_id=funnel_id)
    _check_steps(session, org_id=org_id, definition=data)
    _check_name(session, org_id=org_id, name=data.name, funnel_id=funnel_id)
    for column, value in _columns(data).items():
        setattr(funnel, column, value)
    session.flush()
    return FunnelOut.model_validate(funnel)


def delete_funnel(session: Session, *, org_id: int, funnel_id: int) -> None:
    """Remove a saved funnel."""
    session.delete(_get(session, org_id=org_id, funnel_id=funnel_id))
    session.flush()


def _columns(data: FunnelIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "steps": [step.model_dump() for step in data.steps],
        "window_seconds": data.window_seconds,
        "breakdown": data.breakdown,
    }


# -- results ----------------------------------------------------------------------------------


def _where(where: JourneyFilter) -> metrics.EventFilter:
    return metrics.EventFilter(
        segment=where.segment or None,
        country=(where.country or "").upper() or None,
        channel=where.channel or None,
        device=where.device or None,
    )


def _tables(store: BaseBackend) -> tuple[Any, Any, Any]:
    return store.table("events"), store.table("touchpoints"), store.table("customers")


def compute_funnel(session: Session, *, org_id: int, query: FunnelQuery) -> FunnelResult:
    """Visitors, conversion, drop-off and median time per step, overall and per breakdown."""
    check_period(query.start, query.end)
    _check_steps(session, org_id=org_id, definition=query)
    catalog = _catalog(session, org_id=org_id)
    steps = tuple(metrics.FunnelStep(s.touchpoint_key, s.event_type) for s in query.steps)
    labels = [
        " · ".join(
            part
            for part in (
                catalog[s.touchpoint_key].name if s.touchpoint_key else None,
                s.event_type,
            )
            if part
        )
        for s in steps
    ]
    params: dict[str, Any] = {
        "org_id": org_id,
        "start": query.start,
        "end": query.end,
        "steps": steps,
        "window_seconds": query.window_seconds,
        "where": _where(query.filter),
    }
    with analytics_connection() as store:
        total = _funnel_groups(store, params, labels, by=None)
        groups = (
            _funnel_groups(store, params, labels, by=query.breakdown) if query.breakdown else []
        )
    return FunnelResult(
        start=query.start,
        end=query.end,
        window_seconds=query.window_seconds,
        breakdown=query.breakdown,
        total=total[0] if total else _empty_group(None, labels),
        groups=groups,
    )


def compute_saved_funnel(
    session: Session,
    *,
    org_id: int,
    funnel_id: int,
    start: date,
    end: date,
    where: JourneyFilter | None = None,
) -> FunnelResult:
    """A saved funnel's result over [start, end)."""
    funnel = get_funnel(session, org_id=org_id, funnel_id=funnel_id)
    query = FunnelQuery(
        steps=funnel.steps,
        window_seconds=funnel.window_seconds,
        breakdown=funnel.breakdown,
        start=start,
        end=end,
        filter=where or JourneyFilter(),
    )
    return compute_funnel(session, org_id=org_id, query=query)


def _cache_key(name: str, params: dict[str, Any], **more: Hashable) -> Hashable:
    return (name, *sorted(params.items()), *sorted(more.items()))


def _funnel_groups(
    store: BaseBackend, params: dict[str, Any], labels: list[str], *, by: Breakdown | None
) -> list[FunnelGroup]:
    events, touchpoints, customers = _tables(store)
    if store.name == "clickhouse":
        # ClickHouse's windowFunnel: the same rows as the expression (the parity test checks).
        sql = metrics.funnel_conversion_sql(events, touchpoints, customers, by=by, **params)
        counts = store.sql(sql).to_pyarrow().to_pylist()
    else:
        counts = query_rows(
            store,
            _cache_key("journeys.funnel_conversion", params, by=by),
            lambda: metrics.funnel_conversion(events, touchpoints, customers, by=by, **params),
        )
    times = query_rows(
        store,
        _cache_key("journeys.funnel_step_times", params, by=by),
        lambda: metrics.funnel_step_times(events, touchpoints, customers, by=by, **params),
    )
    reached: dict[str | None, dict[int, int]] = defaultdict(dict)
    for row in counts:
        reached[row["group_key"]][row["step"]] = row["visitors"]
    medians: dict[tuple[str | None, int], float] = {
        (row["group_key"], row["step"]): row["median_seconds_sum"] / row["median_rows"]
        for row in times
        if row["median_rows"]
    }
    groups = [
        FunnelGroup(
            group=group,
            steps=_step_results(
                labels, per_step, {step: medians.get((group, step)) for step in per_step}
            ),
        )
        for group, per_step in reached.items()
    ]
    return sorted(groups, key=lambda g: (-g.steps[0].visitors, g.group or ""))


def _step_results(
    labels: list[str], reached: dict[int, int], medians: dict[int, float | None]
) -> list[FunnelStepResult]:
    first = reached.get(1, 0)
    results = []
    previous = first
    for step, label in enumerate(labels, start=1):
        visitors = reached.get(step, 0)
        results.append(
            FunnelStepResult(
                step=step,
                label=label,
                visitors=visitors,
                conversion=visitors / first if first else 0.0,
                step_conversion=visitors / previous if previous else 0.0,
                drop_off=previous - visitors if step > 1 else 0,
                median_seconds=medians.get(step) if step > 1 else None,
            )
        )
        previous = visitors
    return results


def _empty_group(group: str | None, labels: list[str]) -> FunnelGroup:
    return FunnelGroup(group=group, steps=_step_results(labels, {}, {}))


def compute_transitions(
    session: Session,
    *,
    org_id: int,
    start: date,
    end: date,
    where: JourneyFilter | None = None,
    limit: int = DEFAULT_TRANSITIONS,
) -> TransitionsResult:
    """The most frequent moves from one touchpoint to another within a session."""
    check_period(start, end)
    names = {tp.id: tp.name for tp in journeys.list_touchpoints(session, org_id=org_id)}
    params: dict[str, Any] = {
        "org_id": org_id,
        "start": start,
        "end": end,
        "where": _where(where or JourneyFilter()),
    }
    with analytics_connection() as store:
        events, touchpoints, customers = _tables(store)
        rows = query_rows(
            store,
            _cache_key("journeys.touchpoint_transitions", params),
            lambda: metrics.touchpoint_transitions(events, touchpoints, customers, **params),
        )
    total = sum(row["transitions"] for row in rows)
    top = sorted(
        rows,
        key=lambda r: (-r["transitions"], r["from_touchpoint_id"], r["to_touchpoint_id"]),
    )[:limit]
    return TransitionsResult(
        start=start,
        end=end,
        total=total,
        transitions=[
            Transition(
                from_touchpoint_id=row["from_touchpoint_id"],
                from_touchpoint=names.get(
                    row["from_touchpoint_id"], f"#{row['from_touchpoint_id']}"
                ),
                to_touchpoint_id=row["to_touchpoint_id"],
                to_touchpoint=names.get(row["to_touchpoint_id"], f"#{row['to_touchpoint_id']}"),
                transitions=row["transitions"],
                share=row["transitions"] / total,
            )
            for row in top
        ],
    )


def compute_paths(
    session: Session,
    *,
    org_id: int,
    start: date,
    end: date,
    touchpoint_key: str,
    direction: Direction = "after",
    steps: int = 3,
    where: JourneyFilter | None = None,
    limit: int = DEFAULT_PATHS,
) -> PathsResult:
    """The most common paths of up to `steps` touchpoints after (or before) a touchpoint, and
    the Sankey of the top `limit` of them."""
    check_period(start, end)
    if not 1 <= steps <= metrics.MAX_PATH_STEPS:
        raise InvalidInput("steps", f"must be 1 to {metrics.MAX_PATH_STEPS}")
    catalog = journeys.list_touchpoints(session, org_id=org_id)
    names = {tp.id: tp.name for tp in catalog}
    anchor = next((tp for tp in catalog if tp.key == touchpoint_key), None)
    if anchor is None:
        raise InvalidInput("touchpoint_key", f"no touchpoint with key {touchpoint_key!r}")
    params: dict[str, Any] = {
        "org_id": org_id,
        "start": start,
        "end": end,
        "touchpoint_key": touchpoint_key,
        "steps": steps,
        "direction": direction,
        "where": _where(where or JourneyFilter()),
    }
    with analytics_connection() as store:
        events, touchpoints, customers = _tables(store)
        rows = query_rows(
            store,
            _cache_key("journeys.paths_from_touchpoint", params),
            lambda: metrics.paths_from_touchpoint(events, touchpoints, customers, **params),
        )
    sessions = sum(row["sessions"] for row in rows)
    columns = [f"step_{n}" for n in range(1, steps + 1)]
    top = sorted(rows, key=lambda r: (-r["sessions"], [r[c] or 0 for c in columns]))[:limit]
    paths = []
    links: dict[tuple[str, str], int] = defaultdict(int)
    after = direction == "after"
    for row in top:
        ids = [row[c] for c in columns]
        ids = ids[: ids.index(None)] if None in ids else ids
        visited = [names.get(i, f"#{i}") for i in ids]
        paths.append(
            PathRow(
                touchpoints=[anchor.name, *visited] if after else [*reversed(visited), anchor.name],
                sessions=row["sessions"],
                share=row["sessions"] / sessions,
            )
        )
        for source, target in _sankey_chain(anchor.name, visited, steps=steps, after=after):
            links[source, target] += row["sessions"]
    nodes = list(dict.fromkeys(name for pair in links for name in pair))
    return PathsResult(
        start=start,
        end=end,
        touchpoint_key=touchpoint_key,
        direction=direction,
        steps=steps,
        sessions=sessions,
        paths=paths,
        nodes=[SankeyNode(name=name) for name in nodes],
        links=[SankeyLink(source=s, target=t, value=v) for (s, t), v in links.items()],
    )


def list_event_types(*, org_id: int, start: date, end: date) -> list[str]:
    """The event types seen in [start, end), most frequent first: a funnel step's choices."""
    check_period(start, end)
    with analytics_connection() as store:
        rows = query_rows(
            store,
            ("journeys.event_types", org_id, start, end),
            lambda: metrics.event_types(store.table("events"), org_id=org_id, start=start, end=end),
        )
    return [row["type"] for row in rows]


def _sankey_chain(
    anchor: str, visited: list[str], *, steps: int, after: bool
) -> list[tuple[str, str]]:
    """The links of one path in time order. Node names carry their distance from the anchor
    (a Sankey needs each column's nodes apart); a path shorter than `steps` ends (or, looking
    back, starts) its session, shown as a node of its own."""
    sign = "+" if after else "-"
    chain = [anchor, *(f"{sign}{n} {name}" for n, name in enumerate(visited, start=1))]
    if len(visited) < steps:
        edge = "session ends" if after else "session starts"
        chain.append(f"{sign}{len(visited) + 1} {edge}")
    if not after:
        chain.reverse()
    return list(pairwise(chain))
