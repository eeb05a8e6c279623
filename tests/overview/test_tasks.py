"""Warming the overview: afterwards, the default view of every organization compiles nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from opencx.analytics import engine
from opencx.overview.service import compute_overview, resolve_overview_filters
from opencx.overview.tasks import warm_overviews
from tests.conftest import Tenant


def test_warming_compiles_every_organizations_default_overview(
    db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given two organizations (the session's rows committed, so the warming session sees them)
    db_session.commit()
    engine._compiled.clear()

    # when the overviews are warmed
    now = datetime(2026, 11, 30, 7, 45, tzinfo=UTC)
    warmed = warm_overviews(now=now)

    # then both were computed, and their queries compiled and kept
    assert warmed == 2
    kept = dict(engine._compiled)
    assert kept
    assert {key for key in kept if tenant.org_id in key} != set()
    assert {key for key in kept if other_tenant.org_id in key} != set()
    # and a visit to the default view later that hour compiles nothing new
    filters = resolve_overview_filters(today=now.date())
    compute_overview(db_session, org_id=tenant.org_id, filters=filters, now=now.replace(minute=59))
    assert engine._compiled.keys() == kept.keys()
