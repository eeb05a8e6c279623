"""Benchmark: top-20 touchpoint transitions and a 4-step funnel on 10M events, ours vs pandas.

    .venv/bin/python benchmarks/journey_paths_funnels.py [--events 10000000] [--repeat 2]

Builds (or reuses) the synthetic analytics store of journey_store.py (10M events in ~2M
sessions), then times, in one run:
- ours: the Ibis metrics of opencx.journeys.funnels.metrics (touchpoint_transitions and
  funnel_conversion), compiled once and run on DuckDB as the service runs them (query_rows);
  the first run includes compiling, later runs reuse the compiled SQL.
- pandas: the same computation on DataFrames already in memory (loading them is timed apart
  and not counted): the same 30-minute sessions, the same collapsing of repeated touchpoints,
  and the same windowFunnel semantics. The script checks that both give the same numbers.
Targets (2 cores): transitions <= 3.5 s, funnel <= 2.5 s, each at least 3x faster than pandas.
Prints wall and CPU seconds and the load average: on a shared machine wall time moves with
the load (and the load moves between the runs of ours and of pandas); CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd
from journey_store import DEFAULT_PATH, STORE_END, build_store

from opencx.analytics.engine import connect, query_rows
from opencx.journeys.funnels import metrics

START = date(2026, 9, 1)
END = STORE_END.date()
GAP = metrics.SESSION_GAP_SECONDS
WINDOW = 86400
STEPS = (
    metrics.FunnelStep(event_type="product_view"),
    metrics.FunnelStep(event_type="add_to_cart"),
    metrics.FunnelStep(event_type="checkout_start"),
    metrics.FunnelStep(event_type="checkout_complete"),
)


def _timed(run: Callable[[], Any], repeat: int) -> tuple[list[tuple[float, float]], Any]:
    """(wall, CPU) seconds of each run: CPU time (all threads of this process) moves less with
    the machine's load than wall time does, so both are printed."""
    times, result = [], None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = run()
        times.append((time.perf_counter() - started, time.process_time() - cpu))
    return times, result


# -- pandas -------------------------------------------------------------------------------------


def pandas_transitions(events: pd.DataFrame) -> pd.Series:
    """Moves between different touchpoints within a session, per (from, to)."""
    with_id = events[events.session_id.notna()].sort_values(["session_id", "occurred_at", "id"])
    loose = events[events.session_id.isna()].copy()
    loose["visitor_customer_id"] = loose.customer_id.fillna(0)
    loose["visitor_anonymous_id"] = loose.anonymous_id.where(loose.customer_id.isna(), "")
    visitor = ["visitor_customer_id", "visitor_anonymous_id"]
    loose = loose.sort_values([*visitor, "occurred_at", "id"])
    seconds = loose.seconds
    previous = seconds.groupby([loose[c] for c in visitor], sort=False).shift()
    new_session = (previous.isna() | (seconds - previous > GAP)).astype("int64")
    loose["session_number"] = new_session.groupby([loose[c] for c in visitor], sort=False).cumsum()
    moves = []
    for part, keys in ((with_id, ["session_id"]), (loose, [*visitor, "session_number"])):
        before = part.touchpoint_id.groupby([part[k] for k in keys], sort=False).shift()
        changed = before.notna() & (before != part.touchpoint_id)
        moves.append(
            pd.DataFrame(
                {"from": before[changed].astype("int64"), "to": part.touchpoint_id[changed]}
            )
        )
    return pd.concat(moves).value_counts()


def pandas_funnel(events: pd.DataFrame) -> dict[int, int]:
    """Visitors reaching each step: windowFunnel's latest start per step, per visitor."""
    marks = [events.type == step.event_type for step in STEPS]
    relevant = events[np.logical_or.reduce(marks)].copy()
    relevant["vc"] = relevant.customer_id.fillna(0)
    relevant["va"] = relevant.anonymous_id.where(relevant.customer_id.isna(), "")
    relevant = relevant.sort_values(["vc", "va", "seconds"])
    groups = [relevant.vc, relevant.va]
    peers = [relevant.vc, relevant.va, relevant.seconds]
    level = pd.Series(0, index=relevant.index)
    reached = None
    for n, step in enumerate(STEPS, start=1):
        matches = relevant.type == step.event_type
        if reached is None:
            start = relevant.seconds.where(matches)
        else:
            start = reached.where(
                matches & reached.notna() & (relevant.seconds <= reached + WINDOW)
            )
        # The running max in time order; events of the same second see each other (step order).
        # (cummax leaves a NaN row NaN, so NaN becomes -inf for it and comes back after.)
        running = start.fillna(-np.inf).groupby(groups, sort=False).cummax()
        reached = running.groupby(peers, sort=False).transform("max").replace(-np.inf, np.nan)
        level = level.where(reached.isna(), n)
    per_visitor = level.groupby(groups, sort=False).max()
    return {n: int((per_visitor >= n).sum()) for n in range(1, len(STEPS) + 1)}


def load_events(store_path: str) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(store_path, read_only=True) as store:
        return store.execute(
            "SELECT e.id, e.customer_id, e.anonymous_id, e.session_id, e.touchpoint_id, e.type, "
            "e.occurred_at, epoch(date_trunc('second', e.occurred_at))::BIGINT AS seconds "
            "FROM events e JOIN touchpoints t ON t.id = e.touchpoint_id AND t.org_id = 1 "
            "WHERE e.org_id = 1 AND e.occurred_at >= ? AND e.occurred_at < ? "
            "AND (e.customer_id IS NOT NULL OR e.anonymous_id IS NOT NULL)",
            [START, END],
        ).df()


# -- ours -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--path", default=str(DEFAULT_PATH))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    path = str(build_store(args.path, events=args.events, responses=args.responses))
    print(f"store {path}: {args.events:,} events; cores {os.cpu_count()}")

    store = connect(f"duckdb:///{path}")
    events, touchpoints = store.table("events"), store.table("touchpoints")
    period = {"org_id": 1, "start": START, "end": END}

    def transitions() -> list[dict[str, Any]]:
        return query_rows(
            store,
            ("bench.transitions", START, END),
            lambda: (
                metrics.touchpoint_transitions(events, touchpoints, **period)
                .order_by([ibis.desc("transitions"), "from_touchpoint_id", "to_touchpoint_id"])
                .limit(20)
            ),
        )

    def funnel() -> list[dict[str, Any]]:
        return query_rows(
            store,
            ("bench.funnel", START, END),
            lambda: metrics.funnel_conversion(
                events, touchpoints, **period, steps=STEPS, window_seconds=WINDOW
            ),
        )

    load = os.getloadavg()
    ours_transitions, top = _timed(transitions, args.repeat)
    ours_funnel, reached = _timed(funnel, args.repeat)
    store.disconnect()

    started = time.perf_counter()
    frame = load_events(path)
    loading = time.perf_counter() - started
    pandas_t, pandas_top = _timed(lambda: pandas_transitions(frame), 1)
    pandas_f, pandas_reached = _timed(lambda: pandas_funnel(frame), 1)
    load_after = os.getloadavg()

    # The same numbers, or the comparison means nothing.
    ours_moves = {(r["from_touchpoint_id"], r["to_touchpoint_id"]): r["transitions"] for r in top}
    theirs = {key: int(count) for key, count in pandas_top.head(20).items()}
    assert ours_moves == theirs, (ours_moves, theirs)
    ours_levels = {r["step"]: r["visitors"] for r in reached}
    assert ours_levels == pandas_reached, (ours_levels, pandas_reached)

    def line(name: str, ours: list[tuple[float, float]], pandas: float, target: float) -> None:
        wall, cpu = min(ours)
        pandas_wall, pandas_cpu = pandas
        print(
            f"{name:<19} ours first {ours[0][0]:5.2f} s, best {wall:5.2f} s wall"
            f" ({cpu:5.2f} s CPU; target <= {target} s) | pandas {pandas_wall:6.2f} s wall"
            f" ({pandas_cpu:6.2f} s CPU) | pandas/ours {pandas_wall / wall:4.1f}x wall,"
            f" {pandas_cpu / cpu:4.1f}x CPU (target >= 3x)"
        )

    print(f"events in period: {len(frame):,}; pandas load (not counted): {loading:.1f} s")
    line("top-20 transitions", ours_transitions, pandas_t[0], 3.5)
    line("4-step funnel", ours_funnel, pandas_f[0], 2.5)
    print(f"funnel visitors per step: {[ours_levels[n] for n in sorted(ours_levels)]}")
    print(
        "load average (1, 5, 15 min) before: "
        + ", ".join(f"{v:.2f}" for v in load)
        + "; after: "
        + ", ".join(f"{v:.2f}" for v in load_after)
    )


if __name__ == "__main__":
    main()
