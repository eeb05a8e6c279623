"""Surveys, their immutable published versions, invitations with signed tokens, and responses."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db import Base, BigId, OrgRecord


class SurveyKind(enum.StrEnum):
    nps = "nps"
    csat = "csat"
    ces = "ces"
    custom = "custom"


class SurveyStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    closed = "closed"


class SurveyTrigger(enum.StrEnum):
    """The interactions after which an active survey invites the customer by itself."""

    order_placed = "order_placed"
    delivery_delivered = "delivery_delivered"
    conversation_resolved = "conversation_resolved"
    # Not an interaction: every consenting customer is asked again each `period_days` (relationship NPS).
    periodic = "periodic"


class EmailSendStatus(enum.StrEnum):
    """Where an invitation email stands: waiting (or waiting to retry), being handed over, done."""

    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class Survey(OrgRecord, Base):
    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("public_token", name="uq_surveys_public_token"),)

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SurveyKind] = mapped_column(Enum(SurveyKind, native_enum=False, length=20))
    status: Mapped[SurveyStatus] = mapped_column(
        Enum(SurveyStatus, native_enum=False, length=20), default=SurveyStatus.draft
    )
    trigger: Mapped[SurveyTrigger | None] = mapped_column(
        Enum(SurveyTrigger, native_enum=False, length=30), default=None
    )
    # Trigger `periodic` only: ask each consenting customer again after this many days.
    period_days: Mapped[int | None] = mapped_column(Integer, default=None)
    # The anonymous public link /s/p/{public_token}; rotating it makes the old link invalid.
    public_token: Mapped[str | None] = mapped_column(String(64), default=None)
    public_link_enabled: Mapped[bool] = mapped_column(default=False)


class SurveyVersion(OrgRecord, Base):
    """The questions of a survey at one moment; once published it never changes."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "number", name="uq_survey_version_number"),)

    survey_id: Mapped[int] = mapped_column(BigId, ForeignKey("surveys.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class SurveyInvitation(OrgRecord, Base):
    """A personal invitation: who is asked, about what (the source), and until when."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        Index("ix_survey_invitations_org_customer", "org_id", "customer_id"),
        Index("ix_survey_invitations_org_send", "org_id", "send_status", "next_send_at"),
    )

    survey_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    # None for a respondent of the anonymous public link (channel `link`).
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), default=None
    )
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    touchpoint_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("touchpoints.id", ondelete="SET NULL"), default=None
    )
    order_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="SET NULL"), default=None
    )
    # The service desk does not exist yet; its conversation id is kept as given.
    conversation_id: Mapped[int | None] = mapped_column(BigId, default=None)
    agent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    team: Mapped[str | None] = mapped_column(String(100), default=None)
    expires_at: Mapped[datetime]
    # When the invitation email was handed to the SMTP server; the address itself is not kept.
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # Email sending by a background job: None when the invitation is not emailed by OpenCX.
    send_status: Mapped[EmailSendStatus | None] = mapped_column(
        Enum(EmailSendStatus, native_enum=False, length=10), default=None
    )
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_error: Mapped[str | None] = mapped_column(String(500), default=None)
    next_send_at: Mapped[datetime | None] = mapped_column(default=None)
    # The one reminder to an unanswered emailed invitation.
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)


class SurveyResponse(OrgRecord, Base):
    """The one response to an invitation; each submit updates it, so it never counts twice."""

    __tablename__ = "survey_responses"

    invitation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("survey_invitations.id", ondelete="CASCADE"), unique=True
    )
    survey_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(BigId, ForeignKey("survey_versions.id"))
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"), default=None, index=True
    )
    # Copied from the invitation so metrics group by source without a join.
    kind: Mapped[SurveyKind] = mapped_column(Enum(SurveyKind, native_enum=False, length=20))
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    touchpoint_id: Mapped[int | None] = mapped_column(BigId, default=None)
    agent_id: Mapped[int | None] = mapped_column(BigId, default=None)
    team: Mapped[str | None] = mapped_column(String(100), default=None)
    # The answer to the survey's first rating question (the NPS, CSAT or CES score).
    score: Mapped[int | None] = mapped_column(Integer, default=None)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    completed: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime]
