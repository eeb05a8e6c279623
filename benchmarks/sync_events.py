"""Benchmark: sync 1,000,000 events from the operational store into a fresh DuckDB file.

    .venv/bin/python benchmarks/sync_events.py [--events 1000000] [--postgres ADMIN_URL]

Fills a temporary SQLite database (or a fresh PostgreSQL database) with events spread over
90 days, times a full sync into a new DuckDB file, then adds 10,000 events and times the
incremental sync. Each sync runs in its own process so its peak memory (ru_maxrss) is its own;
the baseline is that process's peak after importing OpenCX, before the sync.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from opencx import migrate

TOUCHPOINTS = 20
CUSTOMERS = 10_000
CHUNK = 50_000
NOW = datetime.now(UTC).replace(tzinfo=None)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _event_rows(
    first: int, count: int, since: datetime, until: datetime, stamped: datetime | None
) -> Iterator[list[tuple[Any, ...]]]:
    """Events `first`..`first+count` spread over [since, until) (naive UTC), in chunks.

    Stored at `stamped`, or a few seconds after each occurred (a steady stream of ingestion).
    """
    rng = random.Random(first)
    chunk: list[tuple[Any, ...]] = []
    for n in range(first, first + count):
        occurred = since + (until - since) * (n - first) / count
        stamp = stamped or occurred + timedelta(seconds=rng.randrange(5))
        chunk.append(
            (
                1,
                f"ev-{n}",
                rng.randrange(1, CUSTOMERS + 1) if rng.random() < 0.6 else None,
                f"anon-{rng.randrange(200_000)}",
                f"s-{n // 8}",
                rng.randrange(1, TOUCHPOINTS + 1),
                rng.choice(("page_view", "add_to_cart", "purchase", "search")),
                occurred,
                rng.choice(("mobile", "desktop", None)),
                json.dumps({"path": f"/p/{rng.randrange(5000)}", "ref": "campaign"}),
                stamp,
                stamp,
            )
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


EVENT_COLUMNS = (
    "org_id, event_id, customer_id, anonymous_id, session_id, touchpoint_id, type, "
    "occurred_at, device, properties, created_at, updated_at"
)


def _insert_events(
    url: str, first: int, count: int, since: datetime, until: datetime, stamped: datetime | None
) -> None:
    """Bulk insert through the driver: executemany on SQLite, COPY on PostgreSQL."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        for chunk in _event_rows(first, count, since, until, stamped):
            if url.startswith("sqlite"):
                rows = [
                    (
                        *row[:7],
                        row[7].isoformat(" "),
                        *row[8:10],
                        *(t.isoformat(" ") for t in row[10:]),
                    )
                    for row in chunk
                ]
                raw.executemany(
                    f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({', '.join('?' * 12)})", rows
                )  # type: ignore[union-attr]
            else:
                with raw.cursor().copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as copy:  # type: ignore[union-attr]
                    for row in chunk:
                        copy.write_row(
                            (
                                *row[:7],
                                row[7].replace(tzinfo=UTC),
                                *row[8:10],
                                row[10].replace(tzinfo=UTC),
                                row[11].replace(tzinfo=UTC),
                            )
                        )
    engine.dispose()


def _seed(url: str, events: int) -> None:
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    stamp = NOW - timedelta(days=91)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO organizations (id, name, slug, settings, created_at, updated_at) "
                "VALUES (1, 'Bench', 'bench', '{}', :t, :t)"
            ),
            {"t": stamp},
        )
        conn.execute(
            sa.text(
                "INSERT INTO touchpoints (org_id, key, name, stage, channel, is_online, department,"
                " created_at, updated_at) VALUES (1, :key, :name, 'purchase', 'web', true, "
                "'sales', :t, :t)"
            ),
            [{"key": f"tp-{n}", "name": f"Touchpoint {n}", "t": stamp} for n in range(TOUCHPOINTS)],
        )
        conn.execute(
            sa.text(
                "INSERT INTO customers (org_id, language, country, segments, attributes, "
                "created_at, updated_at) VALUES (1, 'nl', 'NL', '[]', '{}', :t, :t)"
            ),
            [{"t": stamp}] * CUSTOMERS,
        )
    engine.dispose()
    _insert_events(url, 0, events, NOW - timedelta(days=90), NOW - timedelta(minutes=10), None)


def _measure_sync(database_url: str, analytics_url: str) -> dict[str, Any]:
    """Run in a child process: one sync, with its time and this process's peak memory."""
    from opencx.analytics.sync import sync_to_analytics

    baseline = _peak_mib()
    started = time.perf_counter()
    report = sync_to_analytics(database_url=database_url, analytics_url=analytics_url)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_mib": round(_peak_mib(), 1),
        "baseline_mib": round(baseline, 1),
        "events": report.copied["events"],
        "rows": report.total,
    }


def _sync_in_child(database_url: str, analytics_url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure-sync", database_url, analytics_url],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _run(database_url: str, events: int, folder: Path, label: str) -> None:
    started = time.perf_counter()
    _seed(database_url, events)
    print(f"[{label}] seeded {events:,} events in {time.perf_counter() - started:.1f} s")
    analytics = folder / f"{label}.duckdb"
    analytics_url = f"duckdb:///{analytics}"

    full = _sync_in_child(database_url, analytics_url)
    print(
        f"[{label}] full sync: {full['events']:,} events ({full['rows']:,} rows) in "
        f"{full['seconds']} s = {full['events'] / full['seconds']:,.0f} events/s; peak RSS "
        f"{full['peak_mib']} MiB (baseline after imports {full['baseline_mib']} MiB); "
        f"DuckDB file {analytics.stat().st_size / 2**20:.0f} MiB"
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    _insert_events(database_url, events, 10_000, now - timedelta(minutes=5), now, now)
    incremental = _sync_in_child(database_url, analytics_url)
    print(
        f"[{label}] incremental sync of 10,000 new events: {incremental['events']:,} events in "
        f"{incremental['seconds']} s; peak RSS {incremental['peak_mib']} MiB"
    )
    again = _sync_in_child(database_url, analytics_url)
    print(f"[{label}] sync with nothing new: {again['rows']} rows in {again['seconds']} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="admin URL; a fresh database is created and dropped")
    parser.add_argument("--measure-sync", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_sync:
        print(json.dumps(_measure_sync(*args.measure_sync)))
        return
    with tempfile.TemporaryDirectory(prefix="opencx-bench-") as tmp:
        folder = Path(tmp)
        _run(f"sqlite:///{folder / 'opencx.db'}", args.events, folder, "sqlite")
        if args.postgres:
            name = f"opencx_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = sa.make_url(args.postgres).set(database=name)
            try:
                _run(url.render_as_string(hide_password=False), args.events, folder, "postgresql")
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
