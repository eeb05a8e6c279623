"""REST API of the channels: webhook endpoints (signed by each channel), channel settings, calls.

The webhook endpoints are left out of the OpenAPI schema: WhatsApp, Messenger, Instagram,
Telegram and telephony systems call them, not API clients, and they take no API key; they
authenticate by the channel's signature or secret token.
"""

from __future__ import annotations

import enum
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.channels import service, voice
from opencx.channels.messaging import SignatureInvalid
from opencx.channels.models import CallStatus
from opencx.channels.schemas import CallEventResult, CallOut, ChannelSettingsIn, ChannelSettingsOut
from opencx.channels.service import WebhookReport
from opencx.conversations.models import ConversationChannel
from opencx.db import RowId, RowOffset

router = APIRouter(prefix="/api/v1", tags=["channels"])


class MetaChannel(enum.StrEnum):
    """The channels whose webhooks come in Meta's format."""

    whatsapp = "whatsapp"
    messenger = "messenger"
    instagram = "instagram"


async def _raw_body(request: Request) -> bytes:
    # Signatures cover the exact bytes sent, so the body is read raw, not parsed first.
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


def _refused(exc: SignatureInvalid) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc))


@router.post("/channels/telegram/{org_slug}", response_model=WebhookReport, include_in_schema=False)
def telegram_webhook(
    org_slug: str,
    body: RawBody,
    db: DbSession,
    x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None,
) -> WebhookReport:
    try:
        return service.record_telegram_webhook(
            db, org_slug=org_slug, body=body, secret_token=x_telegram_bot_api_secret_token
        )
    except SignatureInvalid as exc:
        raise _refused(exc) from exc


@router.post("/channels/voice/{org_slug}", response_model=CallEventResult, include_in_schema=False)
def voice_webhook(
    org_slug: str,
    body: RawBody,
    db: DbSession,
    x_opencx_signature: Annotated[str | None, Header()] = None,
) -> CallEventResult:
    """One call event (started, answered, ended, missed, transcript), signed with the org's secret."""
    try:
        return service.record_voice_webhook(
            db, org_slug=org_slug, body=body, signature=x_opencx_signature
        )
    except SignatureInvalid as exc:
        raise _refused(exc) from exc


@router.get(
    "/channels/{channel}/{org_slug}", response_class=PlainTextResponse, include_in_schema=False
)
def verify_meta_subscription(
    channel: MetaChannel,
    org_slug: str,
    db: DbSession,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=200)] = "",
) -> str:
    """Meta's handshake: echo the challenge when the verify token matches."""
    try:
        service.check_meta_subscription(
            db,
            org_slug=org_slug,
            channel=ConversationChannel(channel.value),
            mode=mode,
            verify_token=verify_token,
        )
    except SignatureInvalid as exc:
        raise _refused(exc) from exc
    return challenge


@router.post(
    "/channels/{channel}/{org_slug}", response_model=WebhookReport, include_in_schema=False
)
def meta_webhook(
    channel: MetaChannel,
    org_slug: str,
    body: RawBody,
    db: DbSession,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> WebhookReport:
    try:
        return service.record_meta_webhook(
            db,
            org_slug=org_slug,
            channel=ConversationChannel(channel.value),
            body=body,
            signature=x_hub_signature_256,
        )
    except SignatureInvalid as exc:
        raise _refused(exc) from exc


@router.get("/channel-settings", response_model=list[ChannelSettingsOut])
def list_channel_settings(principal: ApiPrincipal, db: DbSession) -> list[ChannelSettingsOut]:
    """Each channel's settings, where they come from, and its webhook path; secrets masked."""
    return service.list_channel_settings(db, org_id=principal.org_id)


@router.put("/channel-settings", response_model=ChannelSettingsOut)
def update_channel_settings(
    body: ChannelSettingsIn, principal: ApiPrincipal, db: DbSession
) -> ChannelSettingsOut:
    """Set ("value") or clear ("" or null) settings of one channel; the ones left out stay."""
    return service.update_channel_settings(db, org_id=principal.org_id, data=body)


@router.get("/voice-calls", response_model=list[CallOut])
def list_voice_calls(
    principal: ApiPrincipal,
    db: DbSession,
    conversation_id: RowId | None = None,
    call_status: Annotated[CallStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: RowOffset = 0,
) -> list[CallOut]:
    """Phone calls, newest first: direction, numbers, times, duration, recording link."""
    return voice.list_calls(
        db,
        org_id=principal.org_id,
        conversation_id=conversation_id,
        status=call_status,
        limit=limit,
        offset=offset,
    )
