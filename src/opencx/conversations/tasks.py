"""Background work of the service desk: SLA breach and warning detection.

The server runs `check_slas` in a thread every `OPENCX_SLA_CHECK_SECONDS`; `opencx sla check`
runs one round (for cron). Each organization is one short transaction; a breach or warning is
marked once, so rounds may overlap or repeat without double events.
"""

from __future__ import annotations

from datetime import datetime

from opencx.auth import service as auth
from opencx.conversations import service, sla
from opencx.conversations.schemas import SlaCheckReport
from opencx.db import session_scope, utcnow
from opencx.live import publish_after_commit


def check_slas(*, now: datetime | None = None, limit: int = 1000) -> SlaCheckReport:
    """One round over every organization: mark breaches and warnings due by `now`, announce them."""
    now = now or utcnow()
    total = SlaCheckReport()
    with session_scope() as session:
        org_ids = auth.list_organization_ids(session)
    for org_id in org_ids:
        with session_scope() as session:
            report = sla.check_sla_breaches(session, org_id=org_id, now=now, limit=limit)
            for event in report.events:
                # The inbox refreshes its list: the breaching queue and the badges change.
                publish_after_commit(session, service.inbox_topic(org_id), event)
        total.first_response_breached += report.first_response_breached
        total.resolution_breached += report.resolution_breached
        total.warned += report.warned
        total.first_responses_recorded += report.first_responses_recorded
    return total
