"""Pydantic shapes of follow-ups, their notes, and the organization's follow-up settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opencx.db import RowId
from opencx.surveys.follow_ups.models import FollowUpStatus, NoteAuthor
from opencx.surveys.models import SurveyKind

DEFAULT_DUE_HOURS = 48


class FollowUpSettings(BaseModel):
    """Who owns a new follow-up and how soon it is due (organizations.settings)."""

    model_config = ConfigDict(extra="forbid")

    team_owners: dict[str, RowId] = Field(
        default_factory=dict,
        description="team -> user id of its lead (setting survey_follow_up_owners)",
    )
    default_owner_id: RowId | None = Field(
        default=None,
        description="owner when the team has no lead (setting survey_follow_up_owner_id)",
    )
    due_hours: int = Field(
        default=DEFAULT_DUE_HOURS,
        ge=1,
        le=24 * 30,
        description="hours from opening until due (setting survey_follow_up_hours)",
    )


class FollowUpOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    response_id: int
    survey_id: int
    customer_id: int | None
    owner_id: int | None
    owner_name: str | None = None
    agent_id: int | None
    team: str | None
    touchpoint_id: int | None
    score: int | None
    status: FollowUpStatus
    opened_at: datetime
    due_at: datetime
    contacted_at: datetime | None
    resolved_at: datetime | None
    overdue: bool = Field(default=False, description="not resolved or cancelled, and past due")


class FollowUpPage(BaseModel):
    total: int
    items: list[FollowUpOut]


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author_kind: NoteAuthor = Field(description="user, api_key (no person) or system")
    author_id: int | None = Field(description="the user; null for API keys and the system")
    author_name: str
    status_from: FollowUpStatus | None
    status_to: FollowUpStatus | None
    text: str
    created_at: datetime


class FollowUpDetail(FollowUpOut):
    survey_name: str
    kind: SurveyKind
    channel: str
    language: str
    order_id: int | None
    conversation_id: int | None
    agent_name: str | None
    submitted_at: datetime
    comments: dict[str, str] = Field(description="the free-text answers, by question key")
    answers: dict[str, Any]
    notes: list[NoteOut] = Field(description="oldest first")


class FollowUpChange(BaseModel):
    """Change the status and/or the owner (null unassigns), with an optional note."""

    model_config = ConfigDict(extra="forbid")

    status: FollowUpStatus | None = None
    owner_id: RowId | None = None
    note: str = Field(default="", max_length=5000)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)


class FollowUpSummary(BaseModel):
    """The closed loop over a period, live from the operational store (cancelled ones left out)."""

    opened: int = Field(description="follow-ups opened in the period")
    closed_within_48h: int = Field(description="of those, resolved at most 48 hours after opening")
    open_now: int = Field(description="open or contacted now, whenever they were opened")
    overdue_now: int = Field(description="open or contacted now and past their due time")
