"""REST API of webhooks: register, list and delete receivers; read their deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.db import RowId, RowOffset
from opencx.webhooks import service
from opencx.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut

router = APIRouter(prefix="/api/v1", tags=["webhooks"])


@router.post("/webhooks", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
def create_webhook(body: WebhookIn, principal: ApiPrincipal, db: DbSession) -> WebhookCreated:
    """Register a receiver; the secret that signs its bodies is in this answer only."""
    return service.create_webhook(db, org_id=principal.org_id, data=body)


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(principal: ApiPrincipal, db: DbSession) -> list[WebhookOut]:
    return service.list_webhooks(db, org_id=principal.org_id)


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: RowId, principal: ApiPrincipal, db: DbSession) -> Response:
    service.delete_webhook(db, org_id=principal.org_id, webhook_id=webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    webhook_id: RowId,
    principal: ApiPrincipal,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: RowOffset = 0,
) -> list[DeliveryOut]:
    """Deliveries, newest first: status, attempts, next attempt and the last error."""
    return service.list_deliveries(
        db, org_id=principal.org_id, webhook_id=webhook_id, limit=limit, offset=offset
    )
