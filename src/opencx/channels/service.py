"""Use cases of the channels: store what a channel delivered; adapters register their senders here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from opencx.channels import email
from opencx.conversations import service as conversations
from opencx.conversations.models import ConversationChannel
from opencx.conversations.schemas import InboundResult


def record_email(
    session: Session, *, org_id: int, raw: bytes, received_at: datetime
) -> InboundResult:
    """Store one email (RFC 5322 bytes) in its conversation; a redelivery changes nothing."""
    normalized = email.parse_email(raw, received_at=received_at)
    return conversations.record_inbound_message(
        session, org_id=org_id, data=normalized.message, attachments=normalized.attachments
    )


conversations.register_outbound_sender(ConversationChannel.email, email.send_email_reply)
