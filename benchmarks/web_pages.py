"""Time the web pages on the demo world: overview, customer list and search, customer 360.

Usage: .venv/bin/python benchmarks/web_pages.py [--customers N] [--database-url URL] [--runs N]
Without --database-url it loads a fresh demo world (`opencx migrate` + `opencx demo`) into a
temporary SQLite file. Pages are served by the real app in process (TestClient, signed in as the
demo admin); it prints the median and 95th percentile per page, and the page size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

OPENCX = str(Path(sys.executable).with_name("opencx"))
ADMIN = "admin@noordwind.example"
PASSWORD = "noordwind-demo"


def load_demo(database_url: str, customers: int) -> None:
    subprocess.run([OPENCX, "migrate"], check=True, capture_output=True)
    subprocess.run([OPENCX, "demo", "--customers", str(customers)], check=True, capture_output=True)


def busiest_customer(database_url: str) -> int:
    """The customer with the most events: the longest timeline to render."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT customer_id FROM events WHERE customer_id IS NOT NULL "
                "GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
    engine.dispose()
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="opencx-web-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'opencx.db'}"
    os.environ["OPENCX_DATABASE_URL"] = database_url
    os.environ["OPENCX_DATA_DIR"] = str(workdir)
    if not args.database_url:
        started = time.perf_counter()
        load_demo(database_url, args.customers)
        print(f"demo world with {args.customers} customers: {time.perf_counter() - started:.1f} s")

    from fastapi.testclient import TestClient

    from opencx.app import create_app

    customer_id = busiest_customer(database_url)
    pages = {
        "overview /": ("/", {}),
        "customers /customers": ("/customers", {}),
        "customers page 20": ("/customers?page=20", {}),
        "search by name (fragment)": (
            "/customers?q=jan",
            {"HX-Request": "true", "HX-Target": "customer-results"},
        ),
        "search by email (fragment)": (
            "/customers?q=gmail",
            {"HX-Request": "true", "HX-Target": "customer-results"},
        ),
        "filter NL + segment": ("/customers?country=NL&segment=loyal", {}),
        f"customer 360 /customers/{customer_id}": (f"/customers/{customer_id}", {}),
    }
    with TestClient(create_app()) as client:
        form = client.get("/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        signed_in = client.post(
            "/login",
            data={"email": ADMIN, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, "demo admin could not sign in"
        print(f"\n{'page':<42} {'median ms':>10} {'p95 ms':>8} {'KiB':>7}   ({args.runs} runs)")
        for label, (path, headers) in pages.items():
            client.get(path, headers=headers)  # warm caches and the template
            times: list[float] = []
            size = 0
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                size = len(response.content)
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"{label:<42} {statistics.median(times):>10.1f} {p95:>8.1f} {size / 1024:>7.1f}")


if __name__ == "__main__":
    main()
