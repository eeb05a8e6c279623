"""Shared fixtures: a migrated database (SQLite and PostgreSQL), the app, organizations and keys.

Every test that uses `db_session`, `client` or a fixture built on them runs twice: on SQLite and
on PostgreSQL. PostgreSQL comes from OPENCX_TEST_POSTGRES_URL (an admin URL; a fresh database
is created per test run). Without it those runs are skipped, unless OPENCX_REQUIRE_POSTGRES=1,
in which case they fail: CI must never pass with the PostgreSQL half silently skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx import migrate
from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.db import Base, get_engine, get_sessionmaker, reset_caches
from opencx.domains import load_domains

load_domains()
PASSWORD = "correct horse battery"


def _postgres_admin_url() -> str | None:
    return os.environ.get("OPENCX_TEST_POSTGRES_URL")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A freshly migrated database for this test run, on each backend."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'opencx.db'}"
        migrate.upgrade(url)
        yield url
        return
    admin_url = _postgres_admin_url()
    if not admin_url:
        if os.environ.get("OPENCX_REQUIRE_POSTGRES") == "1":
            pytest.fail("OPENCX_REQUIRE_POSTGRES=1 but OPENCX_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests skipped: set OPENCX_TEST_POSTGRES_URL")
    name = f"opencx_test_{worker}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        if os.environ.get("OPENCX_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    reset_caches()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings_env(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point OpenCX at the test database and a per-test data folder (secret, DuckDB file)."""
    monkeypatch.setenv("OPENCX_DATABASE_URL", database_url)
    monkeypatch.setenv("OPENCX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPENCX_ANALYTICS_URL", f"duckdb:///{tmp_path / 'analytics.duckdb'}")
    monkeypatch.setenv("OPENCX_ENVIRONMENT", "test")
    monkeypatch.setenv("OPENCX_ANALYTICS_SYNC_SECONDS", "0")
    # Tests run the survey dispatcher themselves, with a controlled clock.
    monkeypatch.setenv("OPENCX_SURVEY_DISPATCH_SECONDS", "0")
    # Tests send due webhook deliveries themselves, with a controlled clock.
    monkeypatch.setenv("OPENCX_WEBHOOK_DELIVERY_SECONDS", "0")
    # Tests check SLAs themselves, with a controlled clock.
    monkeypatch.setenv("OPENCX_SLA_CHECK_SECONDS", "0")
    monkeypatch.setenv("OPENCX_TEXT_ENRICHMENT_SECONDS", "0")
    monkeypatch.setenv("OPENCX_TEXT_LEARNING_HOURS", "0")
    monkeypatch.setenv("OPENCX_OVERVIEW_WARM_SECONDS", "0")
    reset_caches()
    yield tmp_path
    _empty_all_tables()
    reset_caches()


def _empty_all_tables() -> None:
    engine = get_engine()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def db_session(settings_env: Path) -> Iterator[Session]:
    """A session on the test database; tests commit what they arrange."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def client(settings_env: Path) -> Iterator[TestClient]:
    from opencx.app import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@dataclass
class Tenant:
    """An organization with an admin user and an API key, as most tests need."""

    org_id: int
    slug: str
    admin_email: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def make_tenant(session: Session, slug: str) -> Tenant:
    org = auth_service.create_organization(session, name=slug.title(), slug=slug)
    email = f"admin@{slug}.example"
    auth_service.create_user(
        session,
        org_id=org.id,
        email=email,
        name=f"{slug} admin",
        role=Role.admin,
        password=PASSWORD,
    )
    _, secret = auth_service.create_api_key(session, org_id=org.id, name="tests")
    session.commit()
    return Tenant(org_id=org.id, slug=slug, admin_email=email, api_key=secret)


@pytest.fixture
def tenant(db_session: Session) -> Tenant:
    return make_tenant(db_session, "acme")


@pytest.fixture
def other_tenant(db_session: Session) -> Tenant:
    return make_tenant(db_session, "globex")


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form (CSRF cookie and field included)."""
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
