"""REST API of follow-ups: list, read, move status or owner with a note, write notes, settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.db import RowId, RowOffset
from opencx.surveys.follow_ups import service
from opencx.surveys.follow_ups.models import FollowUpStatus
from opencx.surveys.follow_ups.schemas import (
    FollowUpChange,
    FollowUpDetail,
    FollowUpPage,
    FollowUpSettings,
    NoteIn,
    NoteOut,
)

router = APIRouter(prefix="/api/v1", tags=["follow-ups"])


@router.get("/survey-follow-ups", response_model=FollowUpPage)
def list_follow_ups(
    principal: ApiPrincipal,
    db: DbSession,
    status: FollowUpStatus | None = None,
    owner_id: RowId | None = None,
    survey_id: RowId | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: RowOffset = 0,
) -> FollowUpPage:
    """Follow-ups to do first (by due time), then closed ones; `overdue`: past due and not closed."""
    return service.list_follow_ups(
        db,
        org_id=principal.org_id,
        status=status,
        owner_id=owner_id,
        survey_id=survey_id,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )


@router.get("/survey-follow-ups/{follow_up_id}", response_model=FollowUpDetail)
def read_follow_up(follow_up_id: RowId, principal: ApiPrincipal, db: DbSession) -> FollowUpDetail:
    """The follow-up with the customer's score, comments, source and notes."""
    return service.get_follow_up(db, org_id=principal.org_id, follow_up_id=follow_up_id)


@router.patch("/survey-follow-ups/{follow_up_id}", response_model=FollowUpDetail)
def change_follow_up(
    follow_up_id: RowId, body: FollowUpChange, principal: ApiPrincipal, db: DbSession
) -> FollowUpDetail:
    """Move the status (open -> contacted -> resolved, resolved -> open) or the owner."""
    return service.change_follow_up(
        db, org_id=principal.org_id, follow_up_id=follow_up_id, data=body, actor=principal
    )


@router.post(
    "/survey-follow-ups/{follow_up_id}/notes",
    response_model=NoteOut,
    status_code=status.HTTP_201_CREATED,
)
def add_follow_up_note(
    follow_up_id: RowId, body: NoteIn, principal: ApiPrincipal, db: DbSession
) -> NoteOut:
    """A note by the API key (recorded as such: it has no user author)."""
    return service.add_follow_up_note(
        db, org_id=principal.org_id, follow_up_id=follow_up_id, text=body.text, actor=principal
    )


@router.get("/survey-follow-up-settings", response_model=FollowUpSettings)
def read_follow_up_settings(principal: ApiPrincipal, db: DbSession) -> FollowUpSettings:
    return service.get_follow_up_settings(db, org_id=principal.org_id)


@router.put("/survey-follow-up-settings", response_model=FollowUpSettings)
def update_follow_up_settings(
    body: FollowUpSettings, principal: ApiPrincipal, db: DbSession
) -> FollowUpSettings:
    """Team leads by team, the default owner and the hours until a follow-up is due."""
    return service.update_follow_up_settings(db, org_id=principal.org_id, data=body)
