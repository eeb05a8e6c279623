"""Use cases of the channels: store what a channel delivered; adapters register their senders here."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.channels import email, messaging
from opencx.channels.adapter import NormalizedMessage
from opencx.conversations import service as conversations
from opencx.conversations.models import ConversationChannel
from opencx.conversations.schemas import InboundResult
from opencx.errors import InvalidInput, NotFound
from opencx.settings import get_settings


class WebhookReport(BaseModel):
    """What one webhook call stored."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    conversation_ids: list[int] = Field(default_factory=list)


def record_email(
    session: Session, *, org_id: int, raw: bytes, received_at: datetime
) -> InboundResult:
    """Store one email (RFC 5322 bytes) in its conversation; a redelivery changes nothing."""
    normalized = email.parse_email(raw, received_at=received_at)
    return conversations.record_inbound_message(
        session, org_id=org_id, data=normalized.message, attachments=normalized.attachments
    )


def _payload(body: bytes) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("body", f"not JSON: {exc}") from exc


def _record_all(
    session: Session, *, org_slug: str, messages: list[NormalizedMessage]
) -> WebhookReport:
    org_id = auth.find_organization_id(session, slug=org_slug)
    if org_id is None:
        raise NotFound("organization", org_slug)
    report = WebhookReport(received=len(messages))
    for normalized in messages:
        result = conversations.record_inbound_message(
            session, org_id=org_id, data=normalized.message, attachments=normalized.attachments
        )
        report.duplicates += int(result.duplicate)
        report.stored += int(not result.duplicate)
        if result.conversation.id not in report.conversation_ids:
            report.conversation_ids.append(result.conversation.id)
    return report


def record_whatsapp_webhook(
    session: Session, *, org_slug: str, body: bytes, signature: str | None
) -> WebhookReport:
    """Check the signature, then store the customer messages of a WhatsApp Cloud API webhook."""
    app_secret = get_settings().whatsapp_app_secret
    if not app_secret:
        raise NotFound("channel", "whatsapp")
    messaging.check_whatsapp_signature(app_secret=app_secret, body=body, header=signature)
    messages = messaging.normalize_whatsapp(_payload(body))
    return _record_all(session, org_slug=org_slug, messages=messages)


def check_whatsapp_subscription(*, mode: str | None, verify_token: str | None) -> None:
    """Meta's subscription handshake: the verify token must be the configured one."""
    expected = get_settings().whatsapp_verify_token
    if not expected:
        raise NotFound("channel", "whatsapp")
    if mode != "subscribe" or verify_token is None:
        raise messaging.SignatureInvalid("not a subscription request")
    messaging.check_shared_secret(secret=expected, given=verify_token, name="hub.verify_token")


def record_telegram_webhook(
    session: Session, *, org_slug: str, body: bytes, secret_token: str | None
) -> WebhookReport:
    """Check the secret token, then store the customer message of a Telegram update."""
    expected = get_settings().telegram_secret_token
    if not expected:
        raise NotFound("channel", "telegram")
    messaging.check_shared_secret(
        secret=expected, given=secret_token, name="X-Telegram-Bot-Api-Secret-Token"
    )
    messages = messaging.normalize_telegram(_payload(body))
    return _record_all(session, org_slug=org_slug, messages=messages)


conversations.register_outbound_sender(ConversationChannel.email, email.send_email_reply)
