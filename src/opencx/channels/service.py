"""Use cases of the channels: per-organization channel settings, webhooks in, replies out.

Adapters normalize what a channel delivered and `record_delivery` stores it; the senders of
the channels that can answer are registered with `conversations.service` at the bottom.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.channels import email, messaging, voice, webchat
from opencx.channels.adapter import ChannelAdapter
from opencx.channels.models import ChannelSetting
from opencx.channels.schemas import (
    CHANNEL_FIELDS,
    SENDING_FIELDS,
    WEBHOOK_SECRET,
    CallEventResult,
    ChannelConfig,
    ChannelFieldOut,
    ChannelSettingsIn,
    ChannelSettingsOut,
    SettingField,
)
from opencx.conversations import service as conversations
from opencx.conversations.models import ConversationChannel
from opencx.conversations.schemas import InboundResult, OutboundDelivery
from opencx.db import utcnow
from opencx.errors import NotFound
from opencx.settings import get_settings

# The webhook formats each messaging channel takes.
ADAPTERS: dict[ConversationChannel, ChannelAdapter] = {
    ConversationChannel.whatsapp: messaging.WhatsAppAdapter(),
    ConversationChannel.messenger: messaging.MessengerAdapter(),
    ConversationChannel.instagram: messaging.InstagramAdapter(),
    ConversationChannel.telegram: messaging.TelegramAdapter(),
}
META_CHANNELS = (
    ConversationChannel.whatsapp,
    ConversationChannel.messenger,
    ConversationChannel.instagram,
)


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


# --- channel settings -----------------------------------------------------------------------


def _setting_row(
    session: Session, *, org_id: int, channel: ConversationChannel
) -> ChannelSetting | None:
    return session.scalar(
        select(ChannelSetting).where(
            ChannelSetting.org_id == org_id, ChannelSetting.channel == channel
        )
    )


def _server_value(setting: SettingField) -> str:
    return str(getattr(get_settings(), setting.env, "") or "") if setting.env else ""


def get_channel_config(
    session: Session, *, org_id: int, channel: ConversationChannel
) -> ChannelConfig:
    """The channel's settings in effect: the organization's, else the server's (environment), else defaults."""
    row = _setting_row(session, org_id=org_id, channel=channel)
    own = row.values if row is not None else {}
    values = {}
    for setting in CHANNEL_FIELDS.get(channel, ()):
        value = own.get(setting.name) or _server_value(setting) or setting.default
        if value:
            values[setting.name] = value
    return ChannelConfig(channel=channel, values=values)


def _masked(value: str) -> str:
    # Enough to recognise which secret is set, never enough to use it.
    return f"…{value[-4:]}" if len(value) >= 12 else "…"


def _field_out(setting: SettingField, own: dict[str, str]) -> ChannelFieldOut:
    value, source = own.get(setting.name, ""), "organization"
    if not value:
        value, source = _server_value(setting), "server"
    if not value:
        value, source = setting.default, "default"
    if not value:
        source = "unset"
    return ChannelFieldOut(
        name=setting.name,
        label=setting.label,
        secret=setting.secret,
        value=_masked(value) if setting.secret and value else value,
        is_set=bool(value),
        source=source,
    )


def _settings_out(
    *, org_slug: str, channel: ConversationChannel, row: ChannelSetting | None
) -> ChannelSettingsOut:
    own = row.values if row is not None else {}
    fields = [_field_out(setting, own) for setting in CHANNEL_FIELDS[channel]]
    is_set = {f.name for f in fields if f.is_set}
    return ChannelSettingsOut(
        channel=channel,
        webhook_path=f"/api/v1/channels/{channel.value}/{org_slug}",
        receives=WEBHOOK_SECRET[channel] in is_set,
        sends=channel in SENDING_FIELDS and set(SENDING_FIELDS[channel]) <= is_set,
        fields=fields,
        updated_at=row.updated_at if row is not None else None,
    )


def list_channel_settings(session: Session, *, org_id: int) -> list[ChannelSettingsOut]:
    """Every configurable channel's settings as the organization sees them (secrets masked)."""
    slug = auth.get_organization(session, org_id=org_id).slug
    rows = {
        row.channel: row
        for row in session.scalars(select(ChannelSetting).where(ChannelSetting.org_id == org_id))
    }
    return [
        _settings_out(org_slug=slug, channel=channel, row=rows.get(channel))
        for channel in CHANNEL_FIELDS
    ]


def update_channel_settings(
    session: Session, *, org_id: int, data: ChannelSettingsIn
) -> ChannelSettingsOut:
    """Set or clear the named settings of one channel; the others stay as they are."""
    row = _setting_row(session, org_id=org_id, channel=data.channel)
    if row is None:
        row = ChannelSetting(org_id=org_id, channel=data.channel, values={})
        session.add(row)
    values = dict(row.values)
    for name, value in data.values.items():
        if value:
            values[name] = value
        else:
            values.pop(name, None)
    # A new dict, so the JSON column sees the change.
    row.values = values
    row.updated_at = utcnow()
    session.flush()
    slug = auth.get_organization(session, org_id=org_id).slug
    return _settings_out(org_slug=slug, channel=data.channel, row=row)


# --- webhooks in ----------------------------------------------------------------------------


def _org_id(session: Session, org_slug: str) -> int:
    org_id = auth.find_organization_id(session, slug=org_slug)
    if org_id is None:
        raise NotFound("organization", org_slug)
    return org_id


def _webhook_config(
    session: Session, *, org_slug: str, channel: ConversationChannel
) -> tuple[int, ChannelConfig]:
    """The organization and its channel settings; 404 when the channel's webhook is off."""
    org_id = _org_id(session, org_slug)
    config = get_channel_config(session, org_id=org_id, channel=channel)
    if not config.get(WEBHOOK_SECRET[channel]):
        raise NotFound("channel", channel.value)
    return org_id, config


def record_meta_webhook(
    session: Session,
    *,
    org_slug: str,
    channel: ConversationChannel,
    body: bytes,
    signature: str | None,
) -> WebhookReport:
    """Check the signature, then store the customer messages of a WhatsApp, Messenger or Instagram webhook."""
    org_id, config = _webhook_config(session, org_slug=org_slug, channel=channel)
    messaging.check_body_signature(secret=config.get("app_secret"), body=body, header=signature)
    return _report(record_delivery(session, org_id=org_id, adapter=ADAPTERS[channel], raw=body))


def check_meta_subscription(
    session: Session,
    *,
    org_slug: str,
    channel: ConversationChannel,
    mode: str | None,
    verify_token: str | None,
) -> None:
    """Meta's subscription handshake: the verify token must be the organization's."""
    _, config = _webhook_config(session, org_slug=org_slug, channel=channel)
    expected = config.get("verify_token")
    if not expected:
        raise NotFound("channel", channel.value)
    if mode != "subscribe" or verify_token is None:
        raise messaging.SignatureInvalid("not a subscription request")
    messaging.check_shared_secret(secret=expected, given=verify_token, name="hub.verify_token")


def record_telegram_webhook(
    session: Session, *, org_slug: str, body: bytes, secret_token: str | None
) -> WebhookReport:
    """Check the secret token, then store the customer message of a Telegram update."""
    channel = ConversationChannel.telegram
    org_id, config = _webhook_config(session, org_slug=org_slug, channel=channel)
    messaging.check_shared_secret(
        secret=config.get("secret_token"),
        given=secret_token,
        name="X-Telegram-Bot-Api-Secret-Token",
    )
    return _report(record_delivery(session, org_id=org_id, adapter=ADAPTERS[channel], raw=body))


def record_voice_webhook(
    session: Session, *, org_slug: str, body: bytes, signature: str | None
) -> CallEventResult:
    """Check the signature, then record the call event (its facts, conversation and messages)."""
    org_id, config = _webhook_config(session, org_slug=org_slug, channel=ConversationChannel.voice)
    messaging.check_body_signature(
        secret=config.get("signing_secret"), body=body, header=signature, name="X-OpenCX-Signature"
    )
    return voice.record_call_event(session, org_id=org_id, event=voice.parse_call_event(body))


# --- replies out ----------------------------------------------------------------------------

ChannelSend = Callable[[ChannelConfig, OutboundDelivery], str]


def _sender(send: ChannelSend) -> conversations.OutboundSender:
    def deliver(session: Session, delivery: OutboundDelivery) -> str:
        config = get_channel_config(session, org_id=delivery.org_id, channel=delivery.channel)
        return send(config, delivery)

    return deliver


conversations.register_outbound_sender(ConversationChannel.email, email.send_email_reply)
conversations.register_outbound_sender(ConversationChannel.chat, webchat.send_chat_reply)
for _channel, _send in (
    (ConversationChannel.whatsapp, messaging.send_whatsapp_message),
    (ConversationChannel.messenger, messaging.send_meta_message),
    (ConversationChannel.instagram, messaging.send_meta_message),
    (ConversationChannel.telegram, messaging.send_telegram_message),
):
    conversations.register_outbound_sender(_channel, _sender(_send))
