"""Time `opencx demo` into fresh databases; print seconds per phase and rows per table.

Usage: .venv/bin/python benchmarks/demo_load.py [--customers N] [--postgres ADMIN_URL]
Runs the real command (`opencx migrate`, then `opencx demo`) in a subprocess against a fresh
SQLite file, and against a fresh PostgreSQL database when one is reachable (admin URL from
--postgres, else OPENCX_TEST_POSTGRES_URL, else postgres on 127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from opencx.db import Base
from opencx.domains import load_models

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
OPENCX = str(Path(sys.executable).with_name("opencx"))
PHASE = re.compile(r"^\s+(.+): ([0-9.]+) s$")


def run_demo(label: str, database_url: str, data_dir: Path, customers: int) -> None:
    env = {**os.environ, "OPENCX_DATABASE_URL": database_url, "OPENCX_DATA_DIR": str(data_dir)}
    subprocess.run([OPENCX, "migrate"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    done = subprocess.run(
        [OPENCX, "demo", "--customers", str(customers)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    print(f"\n== {label}: opencx demo --customers {customers}: {wall:.1f} s wall")
    for line in done.stdout.splitlines():
        if match := PHASE.match(line):
            print(f"  {match[1]:<26} {float(match[2]):6.1f} s")
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            if count:
                print(f"  {table.name:<26} {count:>8} rows")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--postgres", default=os.environ.get("OPENCX_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    load_models()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} before the runs")
    with tempfile.TemporaryDirectory() as folder:
        run_demo("SQLite", f"sqlite:///{folder}/opencx.db", Path(folder), args.customers)

    admin_url = args.postgres or DEFAULT_POSTGRES
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"opencx_bench_demo_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        print(f"\nPostgreSQL not reachable ({exc.orig}); skipped")
        return
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as folder:
            run_demo("PostgreSQL", url, Path(folder), args.customers)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
