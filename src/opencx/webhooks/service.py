"""Webhooks: registration, the outbox written with the event, and recording delivery attempts.

Delivery is at least once: an attempt is claimed (a lease on the row) and committed before
the POST, so two workers never send one delivery at the same time, and a worker that dies
mid-POST leaves a row that is tried again after the lease. Receivers drop repeats by
X-OpenCX-Delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, event, select, update
from sqlalchemy.orm import Session

from opencx.db import utcnow
from opencx.errors import InvalidInput, NotFound
from opencx.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from opencx.webhooks.schemas import (
    EVENT_TYPES,
    DeliveryAttempt,
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)

# Waits after the 1st, 2nd, ... failed attempt; after the last one the delivery is failed.
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
)
# How long a claimed attempt holds its row before another worker may try again.
LEASE = timedelta(minutes=5)
SECRET_PREFIX = "whsec_"
# Ids of deliveries written in the session's transaction, sent to a job once it commits.
_PENDING = "opencx_webhook_deliveries"


def sign(secret: str, body: bytes) -> str:
    """The X-OpenCX-Signature value: sha256=<hex HMAC-SHA256(secret, raw body)>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidInput("url", "must start with http:// or https://")
    if not parts.hostname:
        raise InvalidInput("url", "must name a host")
    if parts.username or parts.password:
        raise InvalidInput("url", "must not carry a user name or password")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise InvalidInput("url", "has an invalid port") from None
    return url


def create_webhook(session: Session, *, org_id: int, data: WebhookIn) -> WebhookCreated:
    """Register a receiver; the answer carries the secret, shown only this once."""
    url = _check_url(data.url)
    if unknown := sorted(set(data.event_types) - set(EVENT_TYPES)):
        raise InvalidInput("event_types", f"unknown event type {unknown[0]!r}")
    secret = data.secret or SECRET_PREFIX + secrets.token_urlsafe(32)
    webhook = Webhook(
        org_id=org_id,
        url=url,
        event_types=sorted(set(data.event_types)),
        secret=secret,
        description=data.description,
        active=data.active,
    )
    session.add(webhook)
    session.flush()
    return WebhookCreated.model_validate(
        {**WebhookOut.model_validate(webhook).model_dump(), "secret": secret}
    )


def list_webhooks(session: Session, *, org_id: int) -> list[WebhookOut]:
    """The organization's webhooks, without their secrets."""
    rows = session.scalars(select(Webhook).where(Webhook.org_id == org_id).order_by(Webhook.id))
    return [WebhookOut.model_validate(w) for w in rows]


def _get_webhook(session: Session, *, org_id: int, webhook_id: int) -> Webhook:
    webhook = session.scalar(
        select(Webhook).where(Webhook.org_id == org_id, Webhook.id == webhook_id)
    )
    if webhook is None:
        raise NotFound("webhook", webhook_id)
    return webhook


def delete_webhook(session: Session, *, org_id: int, webhook_id: int) -> None:
    """Remove a webhook and its deliveries (pending ones are not sent)."""
    session.delete(_get_webhook(session, org_id=org_id, webhook_id=webhook_id))
    session.flush()


def list_deliveries(
    session: Session, *, org_id: int, webhook_id: int, limit: int = 100, offset: int = 0
) -> list[DeliveryOut]:
    """A webhook's deliveries, newest first, with their attempts and last error."""
    _get_webhook(session, org_id=org_id, webhook_id=webhook_id)
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.org_id == org_id, WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [DeliveryOut.model_validate(d) for d in rows]


def record_event(
    session: Session,
    *,
    org_id: int,
    event_type: str,
    data: dict[str, Any],
    now: datetime | None = None,
) -> list[int]:
    """Write one outbox row per active webhook of the event, in the caller's transaction.

    One indexed query when the organization has no webhooks. Once the transaction commits, a
    background job is asked to deliver them (see `_submit_after_commit`); the periodic
    dispatcher picks up whatever that job does not finish.
    """
    now = now or utcnow()
    hooks = session.execute(
        select(Webhook.id, Webhook.event_types).where(
            Webhook.org_id == org_id, Webhook.active.is_(True)
        )
    ).all()
    targets = [hook_id for hook_id, types in hooks if event_type in types]
    if not targets:
        return []
    body = json.dumps(
        {"event": event_type, "occurred_at": now.isoformat(), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    deliveries = [
        WebhookDelivery(
            org_id=org_id,
            webhook_id=hook_id,
            delivery_key=str(uuid.uuid4()),
            event_type=event_type,
            body=body,
            status=DeliveryStatus.pending,
            attempts=0,
            next_attempt_at=now,
            last_error="",
        )
        for hook_id in targets
    ]
    session.add_all(deliveries)
    session.flush()
    ids = [d.id for d in deliveries]
    session.info.setdefault(_PENDING, []).extend(ids)
    return ids


def list_due_deliveries(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    """Ids of pending deliveries whose next attempt is due, of every organization, oldest first.

    The dispatcher serves all tenants, like the analytics sync; each attempt then works on its
    own row, which carries its organization.
    """
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
    )


def claim_delivery(session: Session, *, delivery_id: int, now: datetime) -> DeliveryAttempt | None:
    """Take a due delivery for one attempt (None if not due, done, or taken by another worker)."""
    claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(
            attempts=WebhookDelivery.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=now + LEASE,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    row = session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.id == delivery_id, Webhook.org_id == WebhookDelivery.org_id)
    ).one()
    delivery, webhook = row
    return DeliveryAttempt(
        delivery_id=delivery.id,
        url=webhook.url,
        event_type=delivery.event_type,
        delivery_key=delivery.delivery_key,
        body=delivery.body,
        secret=webhook.secret,
    )


def record_attempt(
    session: Session,
    *,
    delivery_id: int,
    now: datetime,
    status_code: int | None,
    error: str = "",
) -> DeliveryStatus:
    """Record an attempt's outcome: 2xx delivers; otherwise wait per BACKOFF, then fail."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        # The webhook was deleted while the attempt was under way.
        return DeliveryStatus.failed
    delivery.last_status_code = status_code
    delivery.updated_at = now
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.last_error = ""
    else:
        delivery.last_error = (error or f"HTTP {status_code}")[:500]
        if delivery.attempts > len(BACKOFF):
            delivery.status = DeliveryStatus.failed
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
    session.flush()
    return delivery.status


@event.listens_for(Session, "after_commit")
def _submit_after_commit(session: Session) -> None:
    """Hand committed outbox rows to a background job; the request never waits for delivery."""
    ids = session.info.pop(_PENDING, None)
    if ids:
        # Imported here: tasks imports this module.
        from opencx import jobs
        from opencx.webhooks import tasks

        jobs.submit(tasks.deliver_webhooks, delivery_ids=ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: object) -> None:
    session.info.pop(_PENDING, None)
