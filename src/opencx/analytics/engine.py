"""Connections to the analytics store: a DuckDB file by default, ClickHouse when configured.

A DuckDB file admits one process at a time, so connections are opened per use and closed
right after (`analytics_connection`); threads of one process may hold connections together.
Opening a file checks its tables once per process and per version of the file, not every time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend
from ibis.backends.duckdb.converter import DuckDBPyArrowData
from ibis.expr.schema import Schema

from opencx.analytics.tables import ANALYTICS_TABLES, SYNC_STATE_DDL
from opencx.settings import get_settings

DUCKDB_PREFIX = "duckdb:///"

# The version of each DuckDB file (see _file_version) whose tables this process checked last;
# the lock keeps two threads from rebuilding the same table at once.
_checked_files: dict[str, tuple[object, ...]] = {}
_check_lock = threading.Lock()


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
    if path == ":memory:":
        _create_tables(backend.con)
        return backend
    real_path = os.path.realpath(path)
    with _check_lock:
        if _checked_files.get(real_path) != _file_version(path):
            _create_tables(backend.con)
            _checked_files[real_path] = _file_version(path)
    return backend


def _file_version(path: str) -> tuple[object, ...]:
    """The file's identity and last write, and its write-ahead log's: a recreated or changed
    file (another process rebuilt it, a newer OpenCX dropped a column) is checked again.

    Reads leave both untouched, so reading a store checks it once per process.
    """
    main = os.stat(path)
    try:
        wal = os.stat(f"{path}.wal")
        log: tuple[int, int] | None = (wal.st_mtime_ns, wal.st_size)
    except FileNotFoundError:
        log = None
    return (main.st_dev, main.st_ino, main.st_mtime_ns, main.st_size, log)


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


# The connection a caller holds open for several queries (see reused_connection), per context.
_held: ContextVar[BaseBackend | None] = ContextVar("opencx_analytics_held", default=None)


@contextmanager
def analytics_connection(url: str | None = None) -> Iterator[BaseBackend]:
    """Open the analytics store for one use and close it afterwards (or lend the held one)."""
    held = _held.get()
    if held is not None and url is None:
        yield held
        return
    backend = connect(url)
    try:
        yield backend
    finally:
        backend.disconnect()


@contextmanager
def reused_connection() -> Iterator[None]:
    """Let every `analytics_connection()` inside the block share one connection.

    Opening a DuckDB connection costs more than a metric's query on a million rows, so a page
    that asks many questions (the overview) holds one for its whole request.
    """
    if _held.get() is not None:
        yield
        return
    with analytics_connection() as backend:
        token = _held.set(backend)
        try:
            yield
        finally:
            _held.reset(token)


# Compiled SQL and result schema of DuckDB queries, by the caller's key (see query_rows).
_compiled: dict[Hashable, tuple[str, Schema]] = {}
_compiled_lock = threading.Lock()
_COMPILED_KEPT = 512


def query_rows(
    store: BaseBackend, key: Hashable, build: Callable[[], ir.Table]
) -> list[dict[str, Any]]:
    """The rows of the expression `build()` makes; on DuckDB compiled once per `key`.

    Ibis takes longer to compile a metric than DuckDB to run it on a million rows, and pages ask
    the same questions again. Ibis writes values into the SQL (it has no bound parameters), so
    `key` must hold every value the expression depends on, not only its shape.
    """
    if store.name != "duckdb":
        return build().to_pyarrow().to_pylist()
    compiled = _compiled.get(key)
    if compiled is None:
        expression = build()
        compiled = (store.compile(expression), expression.schema())
        with _compiled_lock:
            if len(_compiled) >= _COMPILED_KEPT:
                _compiled.pop(next(iter(_compiled)))  # the oldest
            _compiled[key] = compiled
    sql, schema = compiled
    table = store.con.sql(sql).to_arrow_table()
    return DuckDBPyArrowData.convert_table(table, schema).to_pylist()
