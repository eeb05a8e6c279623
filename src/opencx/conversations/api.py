"""REST API of the service desk: conversations, their messages, agents' actions, macros."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import FileResponse

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.auth.models import Role
from opencx.auth.schemas import Principal
from opencx.conversations import service, sla, sla_metrics
from opencx.conversations.models import ConversationChannel, ConversationStatus
from opencx.conversations.schemas import (
    AssignIn,
    BusinessHoursIn,
    BusinessHoursOut,
    ConversationChange,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    ConversationPatch,
    ConversationSlaOut,
    InboundMessageIn,
    InboundResult,
    MacroIn,
    MacroOut,
    MacroRenderIn,
    MergeIn,
    MessageOut,
    NoteIn,
    RenderedMacro,
    ReplyIn,
    SlaAttainmentRow,
    SlaPolicyIn,
    SlaPolicyOut,
)
from opencx.db import RowId, RowOffset
from opencx.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["conversations"])

MERGED: dict[int | str, dict[str, Any]] = {
    409: {"description": "the conversation was merged into another"}
}


@router.get("/conversations", response_model=ConversationPage)
def list_conversations(
    principal: ApiPrincipal,
    db: DbSession,
    status: ConversationStatus | None = None,
    assignee_id: RowId | None = None,
    team: Annotated[str | None, Query(max_length=100)] = None,
    channel: ConversationChannel | None = None,
    customer_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: RowOffset = 0,
) -> ConversationPage:
    """Conversations with the most recent message first; filters combine."""
    return service.list_conversations(
        db,
        org_id=principal.org_id,
        status=status,
        assignee_id=assignee_id,
        team=team,
        channel=channel,
        customer_id=customer_id,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/conversations/messages",
    response_model=InboundResult,
    responses={
        201: {"description": "stored"},
        200: {"description": "a redelivery: stored before, nothing changed"},
    },
)
def record_inbound_message(
    body: InboundMessageIn, principal: ApiPrincipal, db: DbSession, response: Response
) -> InboundResult:
    """A customer's message from any channel: threaded into its conversation or a new one."""
    result = service.record_inbound_message(db, org_id=principal.org_id, data=body)
    response.status_code = status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED
    return result


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
def read_conversation(
    conversation_id: RowId, principal: ApiPrincipal, db: DbSession
) -> ConversationDetail:
    return service.get_conversation_detail(
        db, org_id=principal.org_id, conversation_id=conversation_id
    )


@router.get(
    "/conversations/{conversation_id}/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_attachment(
    conversation_id: RowId, attachment_id: RowId, principal: ApiPrincipal, db: DbSession
) -> FileResponse:
    """The attachment's bytes, with its content type and file name."""
    path, attachment = service.get_attachment_file(
        db, org_id=principal.org_id, conversation_id=conversation_id, attachment_id=attachment_id
    )
    return FileResponse(path, media_type=attachment.content_type, filename=attachment.filename)


@router.patch(
    "/conversations/{conversation_id}", response_model=ConversationChange, responses=MERGED
)
def update_conversation(
    conversation_id: RowId, body: ConversationPatch, principal: ApiPrincipal, db: DbSession
) -> ConversationChange:
    """Set status, priority or tags; resolving runs the survey triggers."""
    return service.update_conversation(
        db, org_id=principal.org_id, conversation_id=conversation_id, changes=body
    )


@router.post(
    "/conversations/{conversation_id}/replies",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    responses=MERGED,
)
def reply_to_conversation(
    conversation_id: RowId, body: ReplyIn, principal: ApiPrincipal, db: DbSession
) -> MessageOut:
    """Send a reply on the conversation's channel; `delivery_error` says if it did not go out."""
    return service.reply_to_conversation(
        db,
        org_id=principal.org_id,
        conversation_id=conversation_id,
        data=body,
        author_user_id=principal.user_id,
    )


@router.post(
    "/conversations/{conversation_id}/notes",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    responses=MERGED,
)
def add_note(
    conversation_id: RowId, body: NoteIn, principal: ApiPrincipal, db: DbSession
) -> MessageOut:
    return service.add_note(
        db,
        org_id=principal.org_id,
        conversation_id=conversation_id,
        data=body,
        author_user_id=principal.user_id,
    )


@router.post(
    "/conversations/{conversation_id}/assign", response_model=ConversationOut, responses=MERGED
)
def assign_conversation(
    conversation_id: RowId, body: AssignIn, principal: ApiPrincipal, db: DbSession
) -> ConversationOut:
    return service.assign_conversation(
        db, org_id=principal.org_id, conversation_id=conversation_id, data=body
    )


@router.post(
    "/conversations/{conversation_id}/merge", response_model=ConversationOut, responses=MERGED
)
def merge_conversations(
    conversation_id: RowId, body: MergeIn, principal: ApiPrincipal, db: DbSession
) -> ConversationOut:
    """Fold the duplicate `merged_id` into this conversation."""
    return service.merge_conversations(
        db, org_id=principal.org_id, survivor_id=conversation_id, merged_id=body.merged_id
    )


@router.get("/macros", response_model=list[MacroOut])
def list_macros(principal: ApiPrincipal, db: DbSession) -> list[MacroOut]:
    return service.list_macros(db, org_id=principal.org_id)


@router.post("/macros", response_model=MacroOut, status_code=status.HTTP_201_CREATED)
def create_macro(body: MacroIn, principal: ApiPrincipal, db: DbSession) -> MacroOut:
    return service.create_macro(db, org_id=principal.org_id, data=body)


@router.get("/macros/{macro_id}", response_model=MacroOut)
def read_macro(macro_id: RowId, principal: ApiPrincipal, db: DbSession) -> MacroOut:
    return service.get_macro(db, org_id=principal.org_id, macro_id=macro_id)


@router.put("/macros/{macro_id}", response_model=MacroOut)
def update_macro(
    macro_id: RowId, body: MacroIn, principal: ApiPrincipal, db: DbSession
) -> MacroOut:
    return service.update_macro(db, org_id=principal.org_id, macro_id=macro_id, data=body)


@router.delete("/macros/{macro_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_macro(macro_id: RowId, principal: ApiPrincipal, db: DbSession) -> Response:
    service.delete_macro(db, org_id=principal.org_id, macro_id=macro_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/macros/{macro_id}/render", response_model=RenderedMacro)
def render_macro(
    macro_id: RowId, body: MacroRenderIn, principal: ApiPrincipal, db: DbSession
) -> RenderedMacro:
    """The text in the conversation's customer's language, placeholders filled in."""
    return service.render_macro(
        db,
        org_id=principal.org_id,
        macro_id=macro_id,
        conversation_id=body.conversation_id,
        agent_id=body.agent_id or principal.user_id,
    )


# --- SLAs -------------------------------------------------------------------------------------

MANAGED: dict[int | str, dict[str, Any]] = {403: {"description": "for managers and admins"}}


def _managing(principal: Principal) -> None:
    if principal.role not in (Role.admin, Role.manager):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "SLA settings are for managers and admins")


@router.get("/conversations/{conversation_id}/sla", response_model=ConversationSlaOut)
def read_conversation_sla(
    conversation_id: RowId, principal: ApiPrincipal, db: DbSession
) -> ConversationSlaOut:
    """The conversation's SLA clocks: targets, due moments, met and breached."""
    found = sla.get_conversation_sla(db, org_id=principal.org_id, conversation_id=conversation_id)
    if found is None:
        raise NotFound("SLA of conversation", conversation_id)
    return found


@router.get("/sla/policies", response_model=list[SlaPolicyOut])
def list_sla_policies(
    principal: ApiPrincipal,
    db: DbSession,
    effective: bool = False,
    team: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> list[SlaPolicyOut]:
    """Stored policies; with `effective=true`, every channel and priority as a conversation
    (of `team`) gets it, built-in defaults included (`id` null)."""
    if effective:
        return sla.list_effective_policies(db, org_id=principal.org_id, team=team)
    return sla.list_sla_policies(db, org_id=principal.org_id)


@router.put("/sla/policies", response_model=SlaPolicyOut, responses=MANAGED)
def set_sla_policy(body: SlaPolicyIn, principal: ApiPrincipal, db: DbSession) -> SlaPolicyOut:
    """Set the targets of a channel and priority (for one team or all); open clocks follow."""
    _managing(principal)
    return sla.set_sla_policy(db, org_id=principal.org_id, data=body)


@router.delete(
    "/sla/policies/{policy_id}", status_code=status.HTTP_204_NO_CONTENT, responses=MANAGED
)
def delete_sla_policy(policy_id: RowId, principal: ApiPrincipal, db: DbSession) -> Response:
    """Remove a policy: the organization's or the built-in one applies again."""
    _managing(principal)
    sla.delete_sla_policy(db, org_id=principal.org_id, policy_id=policy_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sla/business-hours", response_model=list[BusinessHoursOut])
def list_business_hours(principal: ApiPrincipal, db: DbSession) -> list[BusinessHoursOut]:
    """The default hours (team null) first, then each team's own."""
    return sla.list_business_hours(db, org_id=principal.org_id)


@router.put("/sla/business-hours", response_model=BusinessHoursOut, responses=MANAGED)
def set_business_hours(
    body: BusinessHoursIn, principal: ApiPrincipal, db: DbSession
) -> BusinessHoursOut:
    """Set a team's (team null: the default) opening hours and holidays; open clocks follow."""
    _managing(principal)
    return sla.set_business_hours(db, org_id=principal.org_id, data=body)


@router.delete("/sla/business-hours", status_code=status.HTTP_204_NO_CONTENT, responses=MANAGED)
def delete_business_hours(
    principal: ApiPrincipal,
    db: DbSession,
    team: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> Response:
    """Remove a team's hours (it uses the default again) or, without team, the default."""
    _managing(principal)
    sla.delete_business_hours(db, org_id=principal.org_id, team=team)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sla/attainment", response_model=list[SlaAttainmentRow])
def read_sla_attainment(
    principal: ApiPrincipal,
    start: date,
    end: date,
    by: Literal["channel", "team", "agent"] = "channel",
) -> list[SlaAttainmentRow]:
    """Targets met in time per week of the clock start [start, end) and channel, team or agent
    (from the analytics store: as fresh as its last sync)."""
    return sla_metrics.compute_sla_attainment(org_id=principal.org_id, start=start, end=end, by=by)
