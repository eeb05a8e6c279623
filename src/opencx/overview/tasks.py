"""Background work of the overview: each organization's default view kept compiled.

Ibis writes the period's dates into the SQL it compiles, so the overview's queries are compiled
again when the day (and with it the default period) changes, which makes the first visit of a
day about a second slower than the next. Computing every organization's default overview in the
background now and then (and at start) makes that first visit a warm one.
"""

from __future__ import annotations

from datetime import datetime

from opencx.auth import service as auth
from opencx.db import session_scope, utcnow
from opencx.overview.service import compute_overview, resolve_overview_filters


def warm_overviews(now: datetime | None = None) -> int:
    """Compute every organization's overview with the default filters; returns how many."""
    now = now or utcnow()
    filters = resolve_overview_filters(today=now.date())
    with session_scope() as session:
        org_ids = auth.list_organization_ids(session)
        for org_id in org_ids:
            compute_overview(session, org_id=org_id, filters=filters, now=now)
    return len(org_ids)
