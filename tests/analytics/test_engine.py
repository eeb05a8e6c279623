"""Opening the analytics store: tables checked once per version of the file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from opencx.analytics.engine import analytics_connection
from opencx.analytics.tables import ANALYTICS_TABLES


def _tables(path: Path) -> set[str]:
    with duckdb.connect(str(path)) as store:
        return {row[0] for row in store.execute("SHOW TABLES").fetchall()}


def test_a_store_file_recreated_at_the_same_path_gets_its_tables_again(tmp_path: Path) -> None:
    # given a store opened once (its tables checked), then deleted and recreated empty
    path = tmp_path / "analytics.duckdb"
    with analytics_connection(f"duckdb:///{path}"):
        pass
    path.unlink()
    duckdb.connect(str(path)).close()
    assert _tables(path) == set()
    # when it is opened again by the same process
    with analytics_connection(f"duckdb:///{path}"):
        pass
    # then every analytics table is there again
    assert {table.name for table in ANALYTICS_TABLES} <= _tables(path)


def test_a_table_changed_by_another_connection_is_rebuilt_on_the_next_open(
    tmp_path: Path,
) -> None:
    # given a store opened once, then a table altered behind the engine's back
    path = tmp_path / "analytics.duckdb"
    with analytics_connection(f"duckdb:///{path}"):
        pass
    with duckdb.connect(str(path)) as store:
        store.execute('ALTER TABLE "customers" DROP COLUMN "city"')
    # when it is opened again
    with analytics_connection(f"duckdb:///{path}") as store:
        columns = list(store.table("customers").columns)
    # then the table has today's columns
    customers = next(table for table in ANALYTICS_TABLES if table.name == "customers")
    assert columns == list(customers.schema.names)
