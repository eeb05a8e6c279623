"""Webhook endpoints of the messaging channels; they authenticate by the channel's signature.

They are left out of the OpenAPI schema: WhatsApp and Telegram call them, not API clients,
and they take no API key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse

from opencx.auth.deps import DbSession
from opencx.channels import service
from opencx.channels.messaging import SignatureInvalid
from opencx.channels.service import WebhookReport

router = APIRouter(prefix="/api/v1/channels", tags=["channels"], include_in_schema=False)


async def _raw_body(request: Request) -> bytes:
    # Signatures cover the exact bytes sent, so the body is read raw, not parsed first.
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


def _refused(exc: SignatureInvalid) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc))


@router.get("/whatsapp/{org_slug}", response_class=PlainTextResponse)
def verify_whatsapp_subscription(
    org_slug: str,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=200)] = "",
) -> str:
    """Meta's handshake: echo the challenge when the verify token matches."""
    try:
        service.check_whatsapp_subscription(mode=mode, verify_token=verify_token)
    except SignatureInvalid as exc:
        raise _refused(exc) from exc
    return challenge


@router.post("/whatsapp/{org_slug}", response_model=WebhookReport)
def whatsapp_webhook(
    org_slug: str,
    body: RawBody,
    db: DbSession,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> WebhookReport:
    try:
        return service.record_whatsapp_webhook(
            db, org_slug=org_slug, body=body, signature=x_hub_signature_256
        )
    except SignatureInvalid as exc:
        raise _refused(exc) from exc


@router.post("/telegram/{org_slug}", response_model=WebhookReport)
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
