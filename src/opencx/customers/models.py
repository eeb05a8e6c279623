"""Customer 360: customers, their identities on every channel, consent history, merges, erasures."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db import Base, BigId, OrgRecord


class IdentityKind(enum.StrEnum):
    email = "email"
    phone = "phone"
    social = "social"  # namespace: the network (instagram, facebook, whatsapp, telegram, x, ...)
    external = "external"  # namespace: the other system (shopify, crm, pos, ...)


class ConsentPurpose(enum.StrEnum):
    service = "service"
    surveys = "surveys"
    marketing = "marketing"
    analytics = "analytics"
    profiling = "profiling"


class ConsentChannel(enum.StrEnum):
    email = "email"
    sms = "sms"
    phone = "phone"
    whatsapp = "whatsapp"
    social = "social"
    chat = "chat"
    post = "post"
    web = "web"
    app = "app"
    any = "any"  # a decision that covers every channel for the purpose


class ConsentStatus(enum.StrEnum):
    granted = "granted"
    withdrawn = "withdrawn"


class Customer(OrgRecord, Base):
    __tablename__ = "customers"

    first_name: Mapped[str | None] = mapped_column(String(200), default=None)
    last_name: Mapped[str | None] = mapped_column(String(200), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    city: Mapped[str | None] = mapped_column(String(200), default=None)
    segments: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set when this profile was merged into another; the row stays so history keeps its links.
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"), default=None, index=True
    )
    erased_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomerIdentity(OrgRecord, Base):
    __tablename__ = "customer_identities"
    __table_args__ = (
        UniqueConstraint("org_id", "kind", "namespace", "value", name="uq_identity_per_org"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[IdentityKind] = mapped_column(Enum(IdentityKind, native_enum=False, length=20))
    namespace: Mapped[str] = mapped_column(String(50), default="")
    value: Mapped[str] = mapped_column(String(320))


class ConsentRecord(OrgRecord, Base):
    """One consent decision; the current state is the latest record per purpose and channel."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_customer_purpose", "org_id", "customer_id", "purpose", "channel"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[ConsentPurpose] = mapped_column(
        Enum(ConsentPurpose, native_enum=False, length=20)
    )
    channel: Mapped[ConsentChannel] = mapped_column(
        Enum(ConsentChannel, native_enum=False, length=20)
    )
    status: Mapped[ConsentStatus] = mapped_column(Enum(ConsentStatus, native_enum=False, length=20))
    occurred_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(200))


class CustomerMerge(OrgRecord, Base):
    """Audit record: `merged_id` was found to be the same person as `survivor_id`."""

    __tablename__ = "customer_merges"

    survivor_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    merged_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    merged_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500), default="")
    moved: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CustomerErasure(OrgRecord, Base):
    """Audit record of a GDPR erasure; holds no personal data."""

    __tablename__ = "customer_erasures"

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    requested_by: Mapped[str] = mapped_column(String(200))
    rows_changed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
