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

from opencx.analytics.tables import ANALYTICS_TABLES
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
    for table in ANALYTICS_TABLES:
        backend.raw_sql(table.duckdb_ddl())
    return backend


@contextmanager
def analytics_connection(url: str | None = None) -> Iterator[BaseBackend]:
    """Open the analytics store for one use and close it afterwards."""
    backend = connect(url)
    try:
        yield backend
    finally:
        backend.disconnect()
