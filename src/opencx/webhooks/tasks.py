"""Background delivery of webhooks: one job per committed event, and a periodic dispatcher.

The job started after a response commits tries its deliveries at once; the dispatcher (a
thread in the server, or `opencx webhooks deliver` from cron) retries whatever is due, so a
delivery survives restarts: the outbox row is the only state.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from opencx.db import session_scope, utcnow
from opencx.webhooks import service
from opencx.webhooks.models import DeliveryStatus
from opencx.webhooks.schemas import DeliveryAttempt, DispatchReport

TIMEOUT = httpx.Timeout(5.0, connect=3.0)
USER_AGENT = "OpenCX-Webhooks/1"


def _post(attempt: DeliveryAttempt, now: datetime) -> tuple[int | None, str]:
    body = attempt.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-OpenCX-Event": attempt.event_type,
        "X-OpenCX-Delivery": attempt.delivery_key,
        "X-OpenCX-Timestamp": str(int(now.timestamp())),
        "X-OpenCX-Signature": service.sign(attempt.secret, body),
    }
    try:
        # No redirects: a receiver that moved must be registered again under its new URL.
        response = httpx.post(attempt.url, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return response.status_code, "" if response.is_success else f"HTTP {response.status_code}"


def _attempt(delivery_id: int, now: datetime, report: DispatchReport) -> None:
    with session_scope() as session:
        attempt = service.claim_delivery(session, delivery_id=delivery_id, now=now)
    if attempt is None:
        return
    status_code, error = _post(attempt, now)
    with session_scope() as session:
        outcome = service.record_attempt(
            session, delivery_id=delivery_id, now=now, status_code=status_code, error=error
        )
    report.attempted += 1
    if outcome is DeliveryStatus.delivered:
        report.delivered += 1
    elif outcome is DeliveryStatus.failed:
        report.failed += 1
    else:
        report.retrying += 1


def deliver_webhooks(delivery_ids: list[int], now: datetime | None = None) -> dict[str, int]:
    """Try these deliveries now (those not due or taken by another worker are skipped)."""
    report = DispatchReport()
    for delivery_id in delivery_ids:
        _attempt(delivery_id, now or utcnow(), report)
    return report.model_dump()


def deliver_due_webhooks(now: datetime | None = None, limit: int = 500) -> DispatchReport:
    """Try every delivery whose next attempt is due (at most `limit`), oldest first."""
    now = now or utcnow()
    with session_scope() as session:
        due = service.list_due_deliveries(session, now=now, limit=limit)
    report = DispatchReport()
    for delivery_id in due:
        _attempt(delivery_id, now, report)
    return report
