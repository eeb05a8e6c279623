"""Migrations: they build exactly the schema the models describe, and they are reversible."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from opencx import migrate
from opencx.db import Base, make_engine
from opencx.domains import load_models

load_models()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database with nothing in it, on each backend (not the shared test database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin_url = os.environ.get("OPENCX_TEST_POSTGRES_URL")
    if not admin_url:
        if os.environ.get("OPENCX_REQUIRE_POSTGRES") == "1":
            pytest.fail("OPENCX_REQUIRE_POSTGRES=1 but OPENCX_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests skipped: set OPENCX_TEST_POSTGRES_URL")
    name = f"opencx_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_builds_the_schema_of_the_models(empty_database: str) -> None:
    # given an empty database, when it is migrated to head
    migrate.upgrade(empty_database)
    # then autogenerate finds no difference between the models and the database
    engine = make_engine(empty_database)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_migrations_are_reversible(empty_database: str) -> None:
    # given a migrated database
    migrate.upgrade(empty_database)
    assert _tables(empty_database) == set(Base.metadata.tables)
    # when it is downgraded to base, then every table is gone
    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) == set()
    # and it upgrades again cleanly
    migrate.upgrade(empty_database)
    assert _tables(empty_database) == set(Base.metadata.tables)
