"""Use cases of the channels: store what a channel delivered; adapters register their senders here."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.channels import email, messaging, webchat
from opencx.channels.adapter import ChannelAdapter
from opencx.conversations import service as conversations
from opencx.conversations.models import ConversationChannel
from opencx.conversations.schemas import InboundResult
from opencx.db import utcnow
from opencx.errors import NotFound
from opencx.settings import get_settings


class WebhookReport(BaseModel):
    """What one webhook call stored."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    conversation_ids: list[int] = Field(default_factory=list)


def record_delivery(
    session: Session,
    *,
    org_id: int,
    adapter: ChannelAdapter,
    raw: bytes,
    received_at: datetime | None = None,
) -> list[InboundResult]:
    """Store every message of one delivery of a channel; redelivered messages change nothing."""
    return [
        conversations.record_inbound_message(
            session, org_id=org_id, data=normalized.message, attachments=normalized.attachments
        )
        for normalized in adapter.normalize(raw, received_at=received_at or utcnow())
    ]


def _report(results: list[InboundResult]) -> WebhookReport:
    report = WebhookReport(received=len(results))
    for result in results:
        report.duplicates += int(result.duplicate)
        report.stored += int(not result.duplicate)
        if result.conversation.id not in report.conversation_ids:
            report.conversation_ids.append(result.conversation.id)
    return report


def _org_id(session: Session, org_slug: str) -> int:
    org_id = auth.find_organization_id(session, slug=org_slug)
    if org_id is None:
        raise NotFound("organization", org_slug)
    return org_id


def record_whatsapp_webhook(
    session: Session, *, org_slug: str, body: bytes, signature: str | None
) -> WebhookReport:
    """Check the signature, then store the customer messages of a WhatsApp Cloud API webhook."""
    app_secret = get_settings().whatsapp_app_secret
    if not app_secret:
        raise NotFound("channel", "whatsapp")
    messaging.check_whatsapp_signature(app_secret=app_secret, body=body, header=signature)
    org_id = _org_id(session, org_slug)
    return _report(
        record_delivery(session, org_id=org_id, adapter=messaging.WhatsAppAdapter(), raw=body)
    )


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
    org_id = _org_id(session, org_slug)
    return _report(
        record_delivery(session, org_id=org_id, adapter=messaging.TelegramAdapter(), raw=body)
    )


conversations.register_outbound_sender(ConversationChannel.email, email.send_email_reply)
conversations.register_outbound_sender(ConversationChannel.chat, webchat.send_chat_reply)
