"""Closed-loop follow-ups of unhappy answers, and their history of status changes and notes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db import Base, BigId, OrgRecord


class FollowUpStatus(enum.StrEnum):
    open = "open"
    contacted = "contacted"
    resolved = "resolved"
    # The respondent changed the score to a non-detractor before anyone acted on it.
    cancelled = "cancelled"


class NoteAuthor(enum.StrEnum):
    user = "user"
    api_key = "api_key"
    system = "system"


class SurveyFollowUp(OrgRecord, Base):
    """One follow-up per detractor response: who calls the customer back, and by when."""

    __tablename__ = "survey_follow_ups"
    __table_args__ = (
        Index("ix_survey_follow_ups_org_status_due", "org_id", "status", "due_at"),
        Index("ix_survey_follow_ups_org_owner", "org_id", "owner_id"),
    )

    response_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("survey_responses.id", ondelete="CASCADE"), unique=True
    )
    survey_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"), default=None, index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # Copied from the response: metrics group by them without a join.
    agent_id: Mapped[int | None] = mapped_column(BigId, default=None)
    team: Mapped[str | None] = mapped_column(String(100), default=None)
    touchpoint_id: Mapped[int | None] = mapped_column(BigId, default=None)
    score: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[FollowUpStatus] = mapped_column(
        Enum(FollowUpStatus, native_enum=False, length=20), default=FollowUpStatus.open
    )
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime]
    contacted_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)


class SurveyFollowUpNote(OrgRecord, Base):
    """A note or a status change on a follow-up, by a user, an API key or the system."""

    __tablename__ = "survey_follow_up_notes"

    follow_up_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("survey_follow_ups.id", ondelete="CASCADE"), index=True
    )
    author_kind: Mapped[NoteAuthor] = mapped_column(Enum(NoteAuthor, native_enum=False, length=20))
    # Set only for notes by a signed-in user; an API key is not a person.
    author_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    author_name: Mapped[str] = mapped_column(String(200))
    status_from: Mapped[FollowUpStatus | None] = mapped_column(
        Enum(FollowUpStatus, native_enum=False, length=20), default=None
    )
    status_to: Mapped[FollowUpStatus | None] = mapped_column(
        Enum(FollowUpStatus, native_enum=False, length=20), default=None
    )
    text: Mapped[str] = mapped_column(Text, default="")
