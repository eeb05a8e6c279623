"""Benchmark: the overview page (`/`) over 1,000,000 survey responses in the analytics store.

    .venv/bin/python benchmarks/overview_page.py [--responses 1000000] [--runs 7]

A fresh SQLite operational store holds the organization, a manager and 50 touchpoints; the
analytics store (a DuckDB file) gets, straight through DuckDB SQL, 200,000 customers (country,
segments), `--responses` survey responses over the last 52 weeks (NPS, CSAT and CES surveys)
and as many invitations. The real app (TestClient, signed in through the form) then renders:
the first request of each question (Ibis compiles the SQL), the same page again (the median of
`--runs`), the page filtered by country and segment, the 90-day view, a CSV download, the first
visit after `opencx.overview.tasks.warm_overviews` (what the server's warming thread does) and
the live poll that finds nothing new (204). Prints the load average: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

TOUCHPOINTS = 50
CUSTOMERS = 200_000
PASSWORD = "bench-password-1"
EMAIL = "mia@bench.example"


def _prepare(responses: int) -> None:
    from opencx import migrate
    from opencx.analytics.engine import analytics_connection
    from opencx.auth import service as auth
    from opencx.auth.models import Role
    from opencx.db import session_scope
    from opencx.journeys import service as journeys
    from opencx.journeys.schemas import TouchpointIn

    migrate.upgrade()
    with session_scope() as session:
        org = auth.create_organization(session, name="Bench", slug="bench")
        auth.create_user(
            session, org_id=org.id, email=EMAIL, name="Mia", role=Role.manager, password=PASSWORD
        )
        journeys.upsert_touchpoints(
            session,
            org_id=org.id,
            touchpoints=[
                TouchpointIn(
                    key=f"tp-{n}",
                    name=f"Touchpoint {n}",
                    stage="service",
                    channel="chat",
                    is_online=True,
                    department="service",
                )
                for n in range(1, TOUCHPOINTS + 1)
            ],
        )
        org_id = org.id
    with analytics_connection() as store:
        con = store.con
        con.execute(
            f"""
            INSERT INTO customers (id, org_id, language, country, city, segments,
                                   merged_into_id, erased_at, created_at, updated_at)
            SELECT i, {org_id}, 'en', ['NL', 'PL', 'DE', 'BE', 'GB'][1 + i % 5], NULL,
                   CASE i % 4 WHEN 0 THEN ['loyal'] WHEN 1 THEN ['new']
                              WHEN 2 THEN ['loyal', 'vip'] ELSE [] END,
                   NULL, NULL, now(), now()
            FROM range(1, {CUSTOMERS + 1}) t(i)
            """
        )
        # Invitations over the last 52 weeks; most are answered, each answer by its invitee.
        con.execute(
            f"""
            INSERT INTO survey_invitations (id, org_id, survey_id, customer_id, channel,
                language, touchpoint_id, order_id, conversation_id, agent_id, team,
                expires_at, sent_at, created_at, updated_at)
            SELECT i, {org_id}, 1 + i % 6, (1 + hash(i) % {CUSTOMERS})::BIGINT, 'email', 'en',
                   CASE WHEN i % 50 = 0 THEN NULL ELSE (1 + hash(i * 7) % {TOUCHPOINTS})::BIGINT END,
                   NULL, NULL, NULL, 'Service',
                   now() + INTERVAL 30 DAY, t, t, t
            FROM (SELECT i, now() - to_seconds((hash(i * 13) % (364 * 86400))::BIGINT) AS t
                  FROM range(1, {responses + 1}) r(i))
            """
        )
        con.execute(
            """
            INSERT INTO survey_responses (id, org_id, invitation_id, survey_id, version_id,
                customer_id, kind, channel, language, touchpoint_id, agent_id, team, score,
                completed, submitted_at, created_at, updated_at)
            SELECT id, org_id, id, survey_id, survey_id, customer_id, kind, channel, language,
                   touchpoint_id, NULL, team,
                   CASE kind WHEN 'nps' THEN least(10, greatest(0, 7 + (hash(id) % 5)::BIGINT - touchpoint_id % 4))
                             WHEN 'csat' THEN (1 + hash(id) % 5)::BIGINT
                             ELSE (1 + hash(id) % 7)::BIGINT END,
                   hash(id * 3) % 10 <> 0,
                   created_at + INTERVAL 1 HOUR, created_at, created_at
            FROM (SELECT *, ['nps', 'nps', 'csat', 'csat', 'ces', 'nps'][1 + (survey_id - 1)] AS kind
                  FROM survey_invitations)
            """
        )
        con.execute("CHECKPOINT")


def _timed(client, path: str, runs: int, status: int = 200) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The first request's time and the median of `runs` more, in ms."""
    began = time.perf_counter()
    answer = client.get(path)
    first = (time.perf_counter() - began) * 1000
    assert answer.status_code == status, (path, answer.status_code, answer.text[:300])
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - began) * 1000)
    return first, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opencx-overview-bench-") as name:
        folder = Path(name)
        os.environ["OPENCX_DATA_DIR"] = str(folder)
        os.environ["OPENCX_DATABASE_URL"] = f"sqlite:///{folder / 'opencx.db'}"
        os.environ["OPENCX_ANALYTICS_URL"] = f"duckdb:///{folder / 'analytics.duckdb'}"
        began = time.perf_counter()
        _prepare(args.responses)
        print(
            f"{args.responses:,} responses and invitations, {CUSTOMERS:,} customers written in "
            f"{time.perf_counter() - began:.1f} s"
        )
        # The warming thread stays off: the first request below is a cold one, as after a
        # restart or on a new day without warming; the warmed first visit is timed after.
        os.environ["OPENCX_OVERVIEW_WARM_SECONDS"] = "0"
        from fastapi.testclient import TestClient

        from opencx.analytics import engine
        from opencx.app import create_app
        from opencx.overview.tasks import warm_overviews

        with TestClient(create_app()) as client:
            form = client.get("/login")
            token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
            signed_in = client.post(
                "/login",
                data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert signed_in.status_code == 303, "could not sign in"
            views = {
                "overview, last 30 days": ("/", 200),
                "overview, NL + loyal": ("/?country=NL&segment=loyal", 200),
                "overview, last 90 days": ("/?period=90d", 200),
                "CSV of the NPS trend": ("/overview/charts/scores/trend-nps.csv?period=7d", 200),
            }
            print(f"\n{'request':<32} {'first ms':>9} {'median ms':>10}   ({args.runs} runs)")
            for label, (path, status) in views.items():
                first, median = _timed(client, path, args.runs, status)
                print(f"{label:<32} {first:>9.0f} {median:>10.0f}")
            engine._compiled.clear()  # cold again, as on the next day
            began = time.perf_counter()
            warm_overviews()
            warming = time.perf_counter() - began
            first, median = _timed(client, "/", args.runs)
            print(f"{'overview, first after warming':<32} {first:>9.0f} {median:>10.0f}")
            print(f"(warm_overviews took {warming * 1000:.0f} ms, in the server's background)")
            stamp = client.get("/").text.split('data-stamp="')[1].split('"')[0]
            first, median = _timed(client, f"/?stamp={quote(stamp)}", args.runs, 204)
            print(f"{'live poll, nothing new (204)':<32} {first:>9.0f} {median:>10.0f}")
    print(f"load average (1, 5, 15 min): {' '.join(f'{n:.1f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
