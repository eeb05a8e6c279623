"""Connections to the analytics store: a DuckDB file by default, ClickHouse when configured.

A DuckDB file admits one process at a time, so connections are opened per use and closed
right after (`analytics_connection`); threads of one process may hold connections together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import ibis
from ibis.backends import BaseBackend

from opencx.analytics.tables import ANALYTICS_TABLES, SYNC_STATE_DDL
from opencx.settings import get_settings

DUCKDB_PREFIX = "duckdb:///"


class AnalyticsUnavailable(RuntimeError):
    """The analytics store cannot be reached or is not supported; the message says why."""


def duckdb_path(url: str) -> str:
    """The file (or ':memory:') a duckdb:/// URL names."""
    return url.removeprefix(DUCKDB_PREFIX)


def connect(url: str | None = None) -> BaseBackend:
    """Open the analytics store named by `url` (default: the configured one) as an Ibis backend."""
    url = url or get_settings().resolved_analytics_url()
    if url.startswith(DUCKDB_PREFIX):
        return _connect_duckdb(duckdb_path(url))
    if url.startswith("clickhouse://"):
        try:
            return ibis.connect(url)
        except ImportError as exc:
            raise AnalyticsUnavailable(
                "OPENCX_ANALYTICS_URL is a ClickHouse URL but the ClickHouse client is not "
                "installed; run: pip install 'ibis-framework[clickhouse]'"
            ) from exc
    raise AnalyticsUnavailable(
        f"OPENCX_ANALYTICS_URL must start with {DUCKDB_PREFIX} or clickhouse://, got {url!r}"
    )


def _connect_duckdb(path: str) -> BaseBackend:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        # Ibis sets the session time zone to UTC, which day and week truncation rely on.
        backend = ibis.duckdb.connect(path)
    except duckdb.IOException as exc:
        raise AnalyticsUnavailable(
            f"cannot open the analytics store {path}: {exc}. A DuckDB file admits one process "
            "at a time; run the sync inside the server (jobs) or stop the other process."
        ) from exc
    _create_tables(backend.con)
    return backend


def _create_tables(store: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables; rebuild one whose columns changed in tables.py.

    A rebuilt table loses its watermark, so the next sync copies it whole: adding a column
    to an allow-list fills it for old rows too, instead of leaving them NULL.
    """
    store.execute(SYNC_STATE_DDL)
    columns: dict[str, list[str]] = {}
    for table_name, column_name in store.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall():
        columns.setdefault(table_name, []).append(column_name)
    for table in ANALYTICS_TABLES:
        held = columns.get(table.name)
        if held is not None and held != list(table.schema.names):
            store.execute(f'DROP TABLE "{table.name}"')
            store.execute("DELETE FROM _sync_state WHERE table_name = ?", [table.name])
        store.execute(table.duckdb_ddl())


@contextmanager
def analytics_connection(url: str | None = None) -> Iterator[BaseBackend]:
    """Open the analytics store for one use and close it afterwards."""
    backend = connect(url)
    try:
        yield backend
    finally:
        backend.disconnect()
