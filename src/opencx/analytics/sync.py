"""Copy new and changed rows from the operational store into the analytics store.

Each table keeps a watermark (the newest `updated_at` copied) in the analytics store's
`_sync_state`. A sync reads rows with `updated_at >= watermark - OVERLAP` in batches, skips
those whose (id, updated_at) the store already holds, and upserts the rest by id. The overlap
catches rows committed late by concurrent writers with an older `updated_at`; re-reading them
is harmless. A full sync (the first one, or `full=True`) also removes rows that are gone from
the operational store, such as those of a deleted organization. The operational store is only
read, never written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import ibis.expr.datatypes as dt
import pyarrow as pa
import sqlalchemy as sa
from ibis.backends.sql.datatypes import DuckDBType

from opencx.analytics.engine import (
    DUCKDB_PREFIX,
    AnalyticsUnavailable,
    analytics_connection,
)
from opencx.analytics.schemas import SyncReport
from opencx.analytics.tables import ANALYTICS_TABLES, AnalyticsTable
from opencx.db import get_engine, make_engine
from opencx.settings import get_settings

OVERLAP = timedelta(minutes=2)

# Two syncs in one process would conflict on the same DuckDB tables; the second waits.
_sync_lock = threading.Lock()


def sync_to_analytics(
    *,
    database_url: str | None = None,
    analytics_url: str | None = None,
    batch_size: int = 100_000,
    full: bool = False,
) -> SyncReport:
    """Copy rows new or changed since the last sync; `full` re-reads every row (repairs gaps)."""
    analytics_url = analytics_url or get_settings().resolved_analytics_url()
    if not analytics_url.startswith(DUCKDB_PREFIX):
        raise AnalyticsUnavailable(
            f"the sync writes DuckDB stores only; {analytics_url!r} must be loaded another way "
            "(see docs/analytics.md)"
        )
    engine = make_engine(database_url) if database_url else get_engine()
    report = SyncReport()
    try:
        with _sync_lock, analytics_connection(analytics_url) as backend, engine.connect() as source:
            store: duckdb.DuckDBPyConnection = backend.con
            for table in ANALYTICS_TABLES:
                since = None if full else _since(store, table)
                copied, removed = _sync_table(store, source, table, since, batch_size)
                report.copied[table.name] = copied
                report.removed[table.name] = removed
    finally:
        if database_url:
            engine.dispose()
    return report


def _since(store: duckdb.DuckDBPyConnection, table: AnalyticsTable) -> datetime | None:
    row = store.execute(
        "SELECT watermark FROM _sync_state WHERE table_name = ?", [table.name]
    ).fetchone()
    return None if row is None else row[0].astimezone(UTC) - OVERLAP


def _sync_table(
    store: duckdb.DuckDBPyConnection,
    source: sa.Connection,
    table: AnalyticsTable,
    since: datetime | None,
    batch_size: int,
) -> tuple[int, int]:
    """Upsert one table's rows batch by batch, then move its watermark; rows copied and removed.

    Each batch commits on its own, so DuckDB never holds a million uncommitted rows in memory;
    the watermark moves only once every batch is in, so an interrupted sync re-reads them all.
    """
    full = since is None
    if full:
        store.execute("CREATE OR REPLACE TEMP TABLE sync_seen (id BIGINT)")
    copied = removed = 0
    for batch in _read_batches(source, table, since, batch_size):
        with _transaction(store):
            copied += _upsert(store, table, batch, remember_ids=full)
    with _transaction(store):
        if full:
            # Read as one snapshot: a held row missing from it was deleted at the source.
            gone = store.execute(
                f'DELETE FROM "{table.name}" WHERE id NOT IN (SELECT id FROM sync_seen)'
            ).fetchone()
            removed = int(gone[0]) if gone else 0
            store.execute("DROP TABLE sync_seen")
        store.execute(
            "INSERT OR REPLACE INTO _sync_state "
            f'SELECT ?, max(updated_at), now() FROM "{table.name}" HAVING count(*) > 0',
            [table.name],
        )
    return copied, removed


@contextmanager
def _transaction(store: duckdb.DuckDBPyConnection) -> Iterator[None]:
    store.begin()
    try:
        yield
        store.commit()
    except BaseException:
        store.rollback()
        raise


def _read_batches(
    source: sa.Connection, table: AnalyticsTable, since: datetime | None, batch_size: int
) -> Iterator[pa.Table]:
    """Stream the table's allowed columns as Arrow batches of raw driver values."""
    columns: list[sa.ColumnElement[Any]] = []
    for name in table.schema.names:
        column = table.source.c[name]
        if isinstance(column.type, sa.JSON):
            columns.append(sa.cast(column, sa.Text).label(name))
        else:
            # Raw driver values: DuckDB casts them in bulk, faster than per-value processors.
            columns.append(sa.type_coerce(column, sa.types.NullType()).label(name))
    query = sa.select(*columns)
    if since is not None:
        query = query.where(table.source.c.updated_at >= since)
    result = source.execution_options(stream_results=True, yield_per=batch_size).execute(query)
    for rows in result.partitions():
        arrays = [pa.array(column) for column in zip(*rows, strict=True)]
        yield pa.table(arrays, names=list(table.schema.names))


def _upsert(
    store: duckdb.DuckDBPyConnection, table: AnalyticsTable, batch: pa.Table, *, remember_ids: bool
) -> int:
    """Replace rows by id with the batch's rows, skipping rows already copied unchanged."""
    names = ", ".join(f'"{name}"' for name in table.schema.names)
    casts = ", ".join(f'{_cast(name, dtype)} AS "{name}"' for name, dtype in table.schema.items())
    store.register("incoming", batch)
    try:
        store.execute(
            f"CREATE OR REPLACE TEMP TABLE sync_changed AS SELECT * FROM (SELECT {casts} "
            f'FROM incoming) AS batch WHERE NOT EXISTS (SELECT 1 FROM "{table.name}" AS held '
            "WHERE held.id = batch.id AND held.updated_at = batch.updated_at)"
        )
        if remember_ids:
            store.execute("INSERT INTO sync_seen SELECT CAST(id AS BIGINT) FROM incoming")
    finally:
        store.unregister("incoming")
    store.execute(f'DELETE FROM "{table.name}" WHERE id IN (SELECT id FROM sync_changed)')
    store.execute(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM sync_changed')
    changed = store.execute("SELECT count(*) FROM sync_changed").fetchone()
    store.execute("DROP TABLE sync_changed")
    return int(changed[0]) if changed else 0


def _cast(name: str, dtype: dt.DataType) -> str:
    column, target = f'incoming."{name}"', DuckDBType.to_string(dtype)
    if dtype.is_array():
        return f"CAST(CAST({column} AS JSON) AS {target})"  # JSON text -> list
    return f"CAST({column} AS {target})"
