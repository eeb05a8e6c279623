"""The touchpoint catalog and the events customers (or anonymous visitors) produce at them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db import Base, BigId, OrgRecord


class JourneyStage(enum.StrEnum):
    awareness = "awareness"
    consideration = "consideration"
    purchase = "purchase"
    delivery = "delivery"
    use = "use"
    service = "service"
    loyalty = "loyalty"


class Department(enum.StrEnum):
    marketing = "marketing"
    sales = "sales"
    service = "service"
    logistics = "logistics"
    product = "product"


class Touchpoint(OrgRecord, Base):
    __tablename__ = "touchpoints"
    __table_args__ = (UniqueConstraint("org_id", "key", name="uq_touchpoint_key"),)

    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[JourneyStage] = mapped_column(Enum(JourneyStage, native_enum=False, length=20))
    channel: Mapped[str] = mapped_column(String(50))
    is_online: Mapped[bool]
    department: Mapped[Department] = mapped_column(Enum(Department, native_enum=False, length=20))


class Event(OrgRecord, Base):
    """One thing that happened at a touchpoint; idempotent by (org_id, event_id)."""

    __tablename__ = "events"
    # Few indexes: each costs on every ingested event. The unique (org_id, event_id) also serves
    # lookups by org_id; (org_id, customer_id) serves the timeline, which sorts a customer's few
    # hundred rows itself (adding occurred_at to the index tripled insert cost on SQLite).
    # Reports read the analytics store, not this table.
    __table_args__ = (
        UniqueConstraint("org_id", "event_id", name="uq_event_id"),
        Index("ix_events_org_customer", "org_id", "customer_id"),
    )

    org_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"), default=None
    )
    anonymous_id: Mapped[str | None] = mapped_column(String(100), default=None)
    session_id: Mapped[str | None] = mapped_column(String(100), default=None)
    touchpoint_id: Mapped[int] = mapped_column(BigId, ForeignKey("touchpoints.id"))
    type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime]
    device: Mapped[str | None] = mapped_column(String(50), default=None)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
