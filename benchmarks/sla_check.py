"""SLA speed: business-time arithmetic, the breach check over many open conversations, and
the breaching inbox queue; prints figures.

Usage: .venv/bin/python benchmarks/sla_check.py [DATABASE_URL] [--conversations N]
Without a URL it uses a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time as clock
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from opencx import migrate
from opencx.auth import service as auth_service
from opencx.conversations import service, sla
from opencx.conversations.business_hours import (
    OpeningHours,
    OpeningPeriod,
    add_business_minutes,
)
from opencx.conversations.schemas import InboundMessageIn, InboxView
from opencx.db import make_engine
from opencx.domains import load_domains

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _arithmetic() -> None:
    hours = OpeningHours(
        "Europe/Amsterdam", tuple(OpeningPeriod(d, time(9), time(17)) for d in range(5))
    )
    for minutes, label in ((30, "30 min"), (8 * 60, "8 h"), (24 * 60, "24 h (3 days)")):
        runs = 2000
        started = clock.perf_counter()
        for n in range(runs):
            add_business_minutes(T0 + timedelta(minutes=7 * n), minutes, hours)
        per_call = (clock.perf_counter() - started) / runs * 1e6
        print(f"add_business_minutes {label:>14}: {per_call:7.1f} µs per call")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?")
    parser.add_argument("--conversations", type=int, default=2000)
    args = parser.parse_args()
    load_domains()
    _arithmetic()
    folder = tempfile.mkdtemp()
    url = args.url or f"sqlite:///{Path(folder) / 'sla.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        org = auth_service.create_organization(
            session, name="Bench", slug=f"bench-{clock.time_ns()}"
        )
        session.commit()
        org_id = org.id
        costs = []
        for n in range(args.conversations):
            data = InboundMessageIn.model_validate(
                {
                    "channel": ["chat", "whatsapp", "email"][n % 3],
                    "channel_message_id": f"m-{n}",
                    "sender": {"kind": "social", "namespace": "bench", "value": f"c-{n}"},
                    "body": "Waar blijft mijn pakket?",
                    "received_at": (T0 + timedelta(seconds=n)).isoformat(),
                }
            )
            started = clock.perf_counter()
            service.record_inbound_message(session, org_id=org_id, data=data)
            costs.append(clock.perf_counter() - started)
            if n % 200 == 199:
                session.commit()
        session.commit()
        print(
            f"new conversation with its SLA clocks: p50 {statistics.median(costs) * 1000:.1f} ms "
            f"({args.conversations} conversations)"
        )
        for label, now in (
            ("first check (all breach)", T0 + timedelta(days=7)),
            ("second check (nothing new)", T0 + timedelta(days=7, minutes=1)),
        ):
            started = clock.perf_counter()
            report = sla.check_sla_breaches(
                session, org_id=org_id, now=now, limit=args.conversations
            )
            session.commit()
            took = clock.perf_counter() - started
            print(
                f"{label}: {took:.2f} s, {report.first_response_breached} first responses "
                f"and {report.resolution_breached} resolutions breached"
            )
        started = clock.perf_counter()
        service.get_inbox(session, org_id=org_id, user_id=0, now=T0 + timedelta(days=7))
        print(f"all-open queue, for comparison: {(clock.perf_counter() - started) * 1000:.0f} ms")
        started = clock.perf_counter()
        page = service.get_inbox(
            session, org_id=org_id, user_id=0, view=InboxView.breaching, now=T0 + timedelta(days=7)
        )
        print(
            f"breaching queue ({page.counts['breaching']} conversations, first 50 shown): "
            f"{(clock.perf_counter() - started) * 1000:.0f} ms"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
