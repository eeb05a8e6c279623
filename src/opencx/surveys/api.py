"""REST API of surveys: definitions, publishing, invitations with their links, responses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.db import RowId, RowOffset
from opencx.surveys import service
from opencx.surveys.schemas import (
    InteractionIn,
    InvitationIn,
    InvitationOut,
    PublicLinkIn,
    QuestionsIn,
    ResponseOut,
    SurveyIn,
    SurveyOut,
    TriggerReport,
)

router = APIRouter(prefix="/api/v1", tags=["surveys"])

REFUSED: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "not active, no consent for surveys on the channel, throttled; with "
        "send_email also email off or no address"
    }
}


@router.get("/surveys", response_model=list[SurveyOut])
def list_surveys(principal: ApiPrincipal, db: DbSession) -> list[SurveyOut]:
    return service.list_surveys(db, org_id=principal.org_id)


@router.post("/surveys", response_model=SurveyOut, status_code=status.HTTP_201_CREATED)
def create_survey(body: SurveyIn, principal: ApiPrincipal, db: DbSession) -> SurveyOut:
    """A draft survey from a template (nps, csat, ces) or custom questions."""
    return service.create_survey(db, org_id=principal.org_id, data=body)


@router.get("/surveys/{survey_id}", response_model=SurveyOut)
def read_survey(survey_id: RowId, principal: ApiPrincipal, db: DbSession) -> SurveyOut:
    return service.get_survey(db, org_id=principal.org_id, survey_id=survey_id)


@router.put(
    "/surveys/{survey_id}/questions",
    response_model=SurveyOut,
    responses={409: {"description": "the survey is closed"}},
)
def update_survey_questions(
    survey_id: RowId, body: QuestionsIn, principal: ApiPrincipal, db: DbSession
) -> SurveyOut:
    """Change the questions; a published version stays as it was and a new draft version starts."""
    return service.update_survey_questions(
        db, org_id=principal.org_id, survey_id=survey_id, questions=body.questions
    )


@router.post("/surveys/{survey_id}/publish", response_model=SurveyOut)
def publish_survey(survey_id: RowId, principal: ApiPrincipal, db: DbSession) -> SurveyOut:
    return service.publish_survey(db, org_id=principal.org_id, survey_id=survey_id)


@router.post("/surveys/{survey_id}/close", response_model=SurveyOut)
def close_survey(survey_id: RowId, principal: ApiPrincipal, db: DbSession) -> SurveyOut:
    return service.close_survey(db, org_id=principal.org_id, survey_id=survey_id)


@router.put("/surveys/{survey_id}/public-link", response_model=SurveyOut)
def update_public_link(
    survey_id: RowId, body: PublicLinkIn, principal: ApiPrincipal, db: DbSession
) -> SurveyOut:
    """Enable, disable or rotate the anonymous public link (`public_path` in the answer)."""
    return service.update_public_link(
        db, org_id=principal.org_id, survey_id=survey_id, enabled=body.enabled, rotate=body.rotate
    )


@router.post(
    "/surveys/{survey_id}/invitations",
    response_model=InvitationOut,
    status_code=status.HTTP_201_CREATED,
    responses=REFUSED,
)
def create_invitation(
    survey_id: RowId, body: InvitationIn, request: Request, principal: ApiPrincipal, db: DbSession
) -> InvitationOut:
    """Invite a customer; the answer carries the signed link to the public survey page."""
    invitation = service.create_invitation(
        db, org_id=principal.org_id, survey_id=survey_id, data=body
    )
    return invitation.model_copy(
        update={"url": f"{str(request.base_url).rstrip('/')}{invitation.path}"}
    )


@router.get("/survey-invitations/{invitation_id}", response_model=InvitationOut)
def read_invitation(
    invitation_id: RowId, request: Request, principal: ApiPrincipal, db: DbSession
) -> InvitationOut:
    """An invitation with its link and its email's send_status, attempts and last error."""
    invitation = service.get_invitation(db, org_id=principal.org_id, invitation_id=invitation_id)
    return invitation.model_copy(
        update={"url": f"{str(request.base_url).rstrip('/')}{invitation.path}"}
    )


@router.post("/survey-triggers", response_model=TriggerReport)
def record_interaction(
    body: InteractionIn, principal: ApiPrincipal, db: DbSession
) -> TriggerReport:
    """Report an interaction; every active survey with its trigger invites the customer if allowed."""
    return service.record_interaction(db, org_id=principal.org_id, data=body)


@router.get("/surveys/{survey_id}/responses", response_model=list[ResponseOut])
def list_responses(
    survey_id: RowId,
    principal: ApiPrincipal,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: RowOffset = 0,
) -> list[ResponseOut]:
    return service.list_responses(
        db, org_id=principal.org_id, survey_id=survey_id, limit=limit, offset=offset
    )
