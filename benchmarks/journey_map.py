"""The journey map, the pain-point ranking and a UX task on a large synthetic analytics store.

    PYTHONPATH=src .venv/bin/python benchmarks/journey_map.py [--events 10000000]
        [--responses 1000000] [--repeat 3]

Builds (or reuses) the store of benchmarks/journey_store.py (10M events in ~2M sessions, 1M
survey responses, orders, deliveries, conversations), points OPENCX_ANALYTICS_URL at it and
times the services as the pages call them, over the store's 90 days: `compute_journey_map`
(seven queries: touchpoints, devices, stages, NPS, CSAT, CES), the same for one country,
`rank_pain_points` and the checkout task's report (one query for its four views). The first run
of each includes compiling the Ibis expressions; later runs reuse the compiled SQL, as a server
does.
Prints seconds per run and the load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from journey_store import DEFAULT_PATH, ORG_ID, STORE_DAYS, STORE_END, build_store


def _timed(label: str, run: Callable[[], object], repeat: int) -> None:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    runs = ", ".join(f"{s:.2f}" for s in seconds)
    print(f"{label:<42} {min(seconds):6.2f} s best  (runs: {runs}; load {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args()

    started = time.perf_counter()
    path = build_store(args.path, events=args.events, responses=args.responses)
    print(f"store {path}: {time.perf_counter() - started:.1f} s to build or open")
    os.environ["OPENCX_ANALYTICS_URL"] = f"duckdb:///{Path(path).resolve()}"

    from opencx.journeys.maps import metrics, service
    from opencx.settings import get_settings

    get_settings.cache_clear()
    end = STORE_END.date()
    start = end - timedelta(days=STORE_DAYS)
    checkout = {
        "start_event": "checkout_start",
        "success_event": "checkout_complete",
        "error_events": ("checkout_error",),
        "abandon_after_seconds": 3600,
    }

    def task_report() -> None:
        from opencx.analytics.engine import analytics_connection, query_rows

        with analytics_connection() as store:
            query_rows(
                store,
                ("bench-task",),
                lambda: metrics.task_outcomes(
                    store.table("events"),
                    store.table("touchpoints"),
                    org_id=ORG_ID,
                    start=start,
                    end=end,
                    **checkout,
                ),
            )

    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs")
    _timed(
        "journey map (7 queries)",
        lambda: service.compute_journey_map(org_id=ORG_ID, start=start, end=end),
        args.repeat,
    )
    _timed(
        "journey map of one country",
        lambda: service.compute_journey_map(org_id=ORG_ID, start=start, end=end, country="PL"),
        args.repeat,
    )
    _timed(
        "pain-point ranking",
        lambda: service.rank_pain_points(org_id=ORG_ID, start=start, end=end, as_of=STORE_END),
        args.repeat,
    )
    _timed("checkout task report (1 query, 4 views)", task_report, args.repeat)
    top = service.rank_pain_points(org_id=ORG_ID, start=start, end=end, as_of=STORE_END)
    print("top pain points:", ", ".join(f"{p.key} {p.score:.0f}" for p in top.pain_points[:5]))


if __name__ == "__main__":
    main()
