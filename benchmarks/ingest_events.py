"""Benchmark: event ingestion over HTTP, batches of 1,000, against the real app under uvicorn.

    .venv/bin/python benchmarks/ingest_events.py [--batches 100] [--ids time|random]
        [--concurrency 1] [--postgres ADMIN_URL] [--profile]

Starts `uvicorn opencx.app:create_app` in a subprocess on a free localhost port against a
fresh SQLite file in a temporary folder (or, with --postgres, a fresh PostgreSQL database made
through ADMIN_URL and dropped afterwards), posts the batches with httpx and prints events/s;
then posts the very same batches again (every event a duplicate) and prints that too. It checks
the counts the API answers and the rows stored, so a fast wrong answer cannot pass. Beside
wall-clock figures it prints the app server's CPU time per 1,000 events, which other load on
the machine does not skew (the CPU of PostgreSQL's own processes is not in it).

--ids chooses the event ids: `time` (time-ordered, like UUIDv7 from PostHog's tracker) or
`random` (UUIDv4, like Segment's): random keys land all over the unique index, which costs
SQLite and PostgreSQL more page writes. --profile then runs the same batches in-process (body
parse, service, commit; no HTTP) under cProfile and prints where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from opencx import migrate
from opencx.auth import service as auth_service
from opencx.customers import service as customers_service
from opencx.db import make_engine
from opencx.domains import load_domains
from opencx.journeys import service as journeys_service
from opencx.journeys.schemas import TouchpointIn

TOUCHPOINTS = 20
CUSTOMERS = 2_000
BATCH = 1_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): a figure that load cannot skew."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _time_ordered_id(rng: random.Random, at: datetime) -> str:
    """A UUIDv7-shaped id: 48 bits of milliseconds, then random bits."""
    millis = int(at.timestamp() * 1000)
    return f"{millis:012x}-{rng.getrandbits(64):016x}"


def make_batches(count: int, ids: str, customer_ids: list[int], seed: int = 7) -> list[bytes]:
    """`count` JSON bodies of BATCH events each; 60% from known customers, the rest anonymous."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=2)
    bodies = []
    for b in range(count):
        events = []
        for i in range(BATCH):
            at = start + timedelta(milliseconds=(b * BATCH + i) * 50)
            known = rng.random() < 0.6
            events.append(
                {
                    "event_id": _time_ordered_id(rng, at) if ids == "time" else str(uuid.uuid4()),
                    "customer_id": rng.choice(customer_ids) if known else None,
                    "anonymous_id": None if known else f"anon-{rng.randrange(50_000)}",
                    "session_id": f"s-{(b * BATCH + i) // 12}",
                    "touchpoint": f"tp-{rng.randrange(TOUCHPOINTS)}",
                    "type": rng.choice(("page_view", "add_to_cart", "search", "purchase")),
                    "timestamp": at.isoformat(),
                    "device": rng.choice(("mobile", "desktop", "tablet")),
                    "properties": {"path": f"/p/{rng.randrange(5000)}", "ref": "newsletter"},
                }
            )
        bodies.append(orjson.dumps({"events": events}))
    return bodies


def _add_touchpoints(session: Session, org_id: int) -> None:
    journeys_service.upsert_touchpoints(
        session,
        org_id=org_id,
        touchpoints=[
            TouchpointIn(
                key=f"tp-{n}",
                name=f"Touchpoint {n}",
                stage="consideration",
                channel="web",
                is_online=True,
                department="marketing",
            )
            for n in range(TOUCHPOINTS)
        ],
    )


def prepare(url: str) -> tuple[str, list[int]]:
    """Migrate, then make an organization, an API key, touchpoints and customers."""
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        org = auth_service.create_organization(session, name="Bench", slug="bench")
        _, secret = auth_service.create_api_key(session, org_id=org.id, name="bench")
        _add_touchpoints(session, org.id)
        rows = [
            {"identities": [{"kind": "external", "namespace": "bench", "value": f"c{n}"}]}
            for n in range(CUSTOMERS)
        ]
        report = customers_service.import_customers(
            session, org_id=org.id, rows=rows, source="benchmark"
        )
        assert report.ok, report.errors[:3]
        session.commit()
        customer_ids = list(session.scalars(sa.text("SELECT id FROM customers ORDER BY id")))
    engine.dispose()
    return secret, customer_ids


@contextmanager
def running_server(  # type: ignore[no-untyped-def]
    url: str, data_dir: Path, workers: int = 1, settings: dict[str, str] | None = None
):
    """The real app under uvicorn in a subprocess (`settings`: more OPENCX_ variables); yields its
    base URL and process id."""
    port = _free_port()
    env = {
        **os.environ,
        **(settings or {}),
        "OPENCX_DATABASE_URL": url,
        "OPENCX_DATA_DIR": str(data_dir),
        "OPENCX_ANALYTICS_URL": f"duckdb:///{data_dir / 'analytics.duckdb'}",
        # Measure ingestion alone, not the periodic analytics sync running beside it.
        "OPENCX_ANALYTICS_SYNC_SECONDS": "0",
    }
    command = [sys.executable, "-m", "uvicorn", "opencx.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log", "--workers", str(workers)]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def post_all(
    base: str, secret: str, bodies: list[bytes], concurrency: int
) -> tuple[float, list[float], dict[str, int]]:
    """Post every body; returns wall seconds, per-request seconds and the summed counts."""
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    totals = {"received": 0, "accepted": 0, "duplicates": 0, "rejected": 0}
    latencies: list[float] = []

    def post(client: httpx.Client, body: bytes) -> tuple[float, dict[str, Any]]:
        began = time.perf_counter()
        response = client.post(f"{base}/api/v1/events", content=body, headers=headers)
        took = time.perf_counter() - began
        assert response.status_code == 200, response.text[:500]
        return took, response.json()

    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
        post(client, b'{"events": []}')  # warms the connection and the server's caches
        began = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            for took, result in pool.map(lambda body: post(client, body), bodies):
                latencies.append(took)
                for key in ("received", "accepted", "duplicates"):
                    totals[key] += result[key]
                totals["rejected"] += len(result["rejected"])
        wall = time.perf_counter() - began
    return wall, latencies, totals


def report(
    label: str, wall: float, cpu: float, latencies: list[float], totals: dict[str, int]
) -> None:
    events = totals["received"]
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"  {label:<22} {events / wall:>9,.0f} events/s   {len(latencies)} requests in "
        f"{wall:.2f} s; per request median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms; accepted {totals['accepted']:,}, "
        f"duplicates {totals['duplicates']:,}, rejected {totals['rejected']:,}\n"
        f"  {'':<22} server process CPU {cpu / events * 1e6:.1f} ms per 1,000 events "
        f"= {events / cpu:,.0f} events per CPU-second"
    )


def profile_in_process(url: str, bodies: list[bytes]) -> None:
    """Parse, ingest and commit the batches without HTTP, under cProfile; print the top costs."""
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        org = auth_service.create_organization(session, name="Profile", slug="profile")
        _add_touchpoints(session, org.id)
        session.commit()
        org_id = org.id
    # Same shape of batches, but anonymous: this organization has no customers.
    anonymous = []
    for body in bodies:
        events = orjson.loads(body)["events"]
        for event in events:
            event["customer_id"], event["anonymous_id"] = None, "anon"
        anonymous.append(orjson.dumps({"events": events}))
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for body in anonymous:
        with Session(engine) as session:
            items = orjson.loads(body)["events"]
            journeys_service.ingest_events(session, org_id=org_id, items=items)
            session.commit()
    profiler.disable()
    wall = time.perf_counter() - began
    engine.dispose()
    print(f"\n  in-process (no HTTP, under cProfile): {len(bodies) * BATCH / wall:,.0f} events/s")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


@contextmanager
def temporary_postgres(admin_url: str):  # type: ignore[no-untyped-def]
    name = f"opencx_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, data_dir: Path, args: argparse.Namespace) -> None:
    secret, customer_ids = prepare(url)
    bodies = make_batches(args.batches, args.ids, customer_ids)
    expected = args.batches * BATCH
    with running_server(url, data_dir) as (base, pid):
        cpu = _cpu_seconds(pid)
        wall, latencies, totals = post_all(base, secret, bodies, args.concurrency)
        cpu, used = _cpu_seconds(pid), _cpu_seconds(pid) - cpu
        assert totals["accepted"] == expected and totals["duplicates"] == 0, totals
        assert totals["rejected"] == 0, totals
        report("new events", wall, used, latencies, totals)
        wall, latencies, totals = post_all(base, secret, bodies, args.concurrency)
        used = _cpu_seconds(pid) - cpu
        assert totals["accepted"] == 0 and totals["duplicates"] == expected, totals
        report("re-post (duplicates)", wall, used, latencies, totals)
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT count(*) FROM events"))
    engine.dispose()
    assert stored == expected, f"{stored} rows stored, expected {expected}"
    print(f"  rows stored: {stored:,} (each event exactly once)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--ids", choices=("time", "random"), default="time")
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight")
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="also run on PostgreSQL")
    parser.add_argument("--profile", action="store_true", help="profile in-process too")
    args = parser.parse_args()
    load_domains()
    print(
        f"{args.batches} batches of {BATCH:,} events, {args.ids} ids, "
        f"{args.concurrency} in flight, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (WAL):")
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), args)
        if args.profile:
            bodies = make_batches(args.batches, args.ids, [1])
            profile_in_process(f"sqlite:///{Path(tmp) / 'profile.db'}", bodies)
        if args.postgres:
            print("PostgreSQL:")
            with temporary_postgres(args.postgres) as url:
                run(url, Path(tmp), args)


if __name__ == "__main__":
    main()
