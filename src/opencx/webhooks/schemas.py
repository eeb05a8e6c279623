"""Pydantic shapes of webhooks and their deliveries."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from opencx.webhooks.models import DeliveryStatus

# The events a webhook may subscribe to.
EVENT_TYPES = ("survey.response.created", "survey.response.updated")


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http:// or https:// receiver")
    event_types: list[str] = Field(
        min_length=1, max_length=10, description=f"any of: {', '.join(EVENT_TYPES)}"
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="signs every body (HMAC-SHA256); generated when not given",
    )
    description: str = Field(default="", max_length=200)
    active: bool = True


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    event_types: list[str]
    description: str
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="shown only now; verify X-OpenCX-Signature with it")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    webhook_id: int
    delivery_key: str = Field(description="sent as X-OpenCX-Delivery, the same on every retry")
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


class DeliveryAttempt(BaseModel):
    """What one attempt sends: claimed from the outbox, posted outside any transaction."""

    delivery_id: int
    url: str
    event_type: str
    delivery_key: str
    body: str
    secret: str


class DispatchReport(BaseModel):
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
