"""Customer 360 speed: bulk import, re-import, search and the 360 view; prints figures.

Usage: .venv/bin/python benchmarks/customers_import.py [DATABASE_URL] [--customers N]
Without a URL it uses a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from opencx import migrate
from opencx.auth import service as auth_service
from opencx.customers import service
from opencx.customers.models import ConsentChannel, ConsentPurpose
from opencx.db import make_engine
from opencx.domains import load_domains

PURPOSES = ["service", "surveys", "marketing", "analytics", "profiling"]
CHANNELS = ["email", "sms", "any", "web", "app"]


def customer_rows(count: int) -> list[dict[str, Any]]:
    """`count` customers with 2-3 identities and 5 consent decisions each."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        identities = [
            {"kind": "email", "value": f"Customer.{i}@Example.com"},
            {"kind": "phone", "value": f"+48 60{i:07d}"},
        ]
        if i % 2:
            identities.append({"kind": "external", "namespace": "shop", "value": f"S-{i}"})
        rows.append(
            {
                "first_name": f"First{i}",
                "last_name": f"Last{i}",
                "language": "pl",
                "country": "PL",
                "city": "Gdansk",
                "segments": ["newsletter"] if i % 3 else ["vip"],
                "attributes": {"loyalty_points": i % 500},
                "identities": identities,
                "consents": [
                    {
                        "purpose": PURPOSES[k],
                        "channel": CHANNELS[(i + k) % len(CHANNELS)],
                        "status": "granted" if (i + k) % 4 else "withdrawn",
                        "occurred_at": (start + timedelta(hours=i + k)).isoformat(),
                    }
                    for k in range(5)
                ],
            }
        )
    return rows


def timed(label: str, action: Callable[[], Any], repeat: int = 1) -> Any:
    started = time.perf_counter()
    for _ in range(repeat):
        result = action()
    elapsed = (time.perf_counter() - started) / repeat
    print(f"{label:<48} {elapsed * 1000:10.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", nargs="?")
    parser.add_argument("--customers", type=int, default=5000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="opencx-bench-")
    url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
    load_domains()
    migrate.upgrade(url)
    engine = make_engine(url)
    rows = customer_rows(args.customers)
    print(f"backend {engine.dialect.name}, {len(rows)} customers")
    with Session(engine) as session:
        org = auth_service.create_organization(session, name=f"Bench {time.time_ns()}")
        session.commit()

        def import_all() -> Any:
            report = service.import_customers(session, org_id=org.id, rows=rows, source="bench")
            session.commit()
            return report

        report = timed("import (validate + write, commit)", import_all)
        print(f"  created {report.created}, errors {len(report.errors)}")
        report = timed("re-import of the same rows (all duplicates)", import_all)
        print(f"  duplicates {report.duplicates}")
        timed(
            "search by email fragment, first page",
            lambda: service.list_customer_summaries(session, org_id=org.id, query="customer.42"),
            repeat=20,
        )
        timed(
            "filter by segment, first page",
            lambda: service.list_customers(session, org_id=org.id, segment="vip"),
            repeat=20,
        )
        some_id = service.list_customers(session, org_id=org.id, limit=1)[0][0].id
        timed(
            "customer 360 view",
            lambda: service.get_customer_360(session, org_id=org.id, customer_id=some_id),
            repeat=20,
        )
        timed(
            "may_contact",
            lambda: service.may_contact(
                session,
                org_id=org.id,
                customer_id=some_id,
                purpose=ConsentPurpose.marketing,
                channel=ConsentChannel.email,
            ),
            repeat=100,
        )


if __name__ == "__main__":
    main()
