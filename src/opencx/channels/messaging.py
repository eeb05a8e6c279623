"""Messaging webhooks: WhatsApp Cloud API and Telegram Bot API payloads, their signatures, normalized.

WhatsApp signs the raw body with the app secret (`X-Hub-Signature-256: sha256=<hex HMAC>`);
Telegram repeats the secret token given to setWebhook (`X-Telegram-Bot-Api-Secret-Token`).
Both are compared in constant time, before anything is parsed or stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opencx.channels.adapter import NormalizedMessage
from opencx.conversations.models import ConversationChannel
from opencx.conversations.schemas import InboundMessageIn
from opencx.customers.models import IdentityKind
from opencx.errors import InvalidInput


class SignatureInvalid(Exception):
    """The webhook's signature or secret does not match: nothing is read or stored."""


def check_whatsapp_signature(*, app_secret: str, body: bytes, header: str | None) -> None:
    """Raise SignatureInvalid unless `header` is sha256=HMAC-SHA256(app_secret, body)."""
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not header or not hmac.compare_digest(header.strip().lower(), expected):
        raise SignatureInvalid("X-Hub-Signature-256 does not match the body")


def check_shared_secret(*, secret: str, given: str | None, name: str) -> None:
    """Raise SignatureInvalid unless `given` is `secret` (Telegram's token, Meta's verify token)."""
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        raise SignatureInvalid(f"{name} does not match")


class _Payload(BaseModel):
    # Both APIs add fields over time; read what is needed and ignore the rest.
    model_config = ConfigDict(extra="ignore")


class _WaText(_Payload):
    body: str = Field(max_length=100_000)


class _WaMedia(_Payload):
    caption: str = ""


class _WaMessage(_Payload):
    from_: str = Field(alias="from", min_length=1, max_length=32)
    id: str = Field(min_length=1, max_length=500)
    timestamp: int
    type: str
    text: _WaText | None = None
    image: _WaMedia | None = None
    document: _WaMedia | None = None
    video: _WaMedia | None = None


class _WaProfile(_Payload):
    name: str = ""


class _WaContact(_Payload):
    wa_id: str
    profile: _WaProfile = Field(default_factory=_WaProfile)


class _WaValue(_Payload):
    contacts: list[_WaContact] = Field(default_factory=list)
    messages: list[_WaMessage] = Field(default_factory=list)


class _WaChange(_Payload):
    field: str = ""
    value: _WaValue


class _WaEntry(_Payload):
    changes: list[_WaChange] = Field(default_factory=list)


class WhatsAppWebhook(_Payload):
    object: str
    entry: list[_WaEntry]


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("body", f"not JSON: {exc}") from exc


def _invalid(exc: ValidationError) -> InvalidInput:
    first = exc.errors()[0]
    return InvalidInput(".".join(str(p) for p in first["loc"]), first["msg"])


def _wa_body(message: _WaMessage) -> str:
    if message.text is not None:
        return message.text.body
    media = message.image or message.document or message.video
    caption = media.caption if media is not None else ""
    # Media content needs a Graph API download, which this adapter does not do yet.
    return f"[{message.type}] {caption}".strip()


def normalize_whatsapp(payload: Any) -> list[NormalizedMessage]:
    """The customer messages of a WhatsApp Cloud API webhook (status updates are left out)."""
    try:
        webhook = WhatsAppWebhook.model_validate(payload)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    found: list[NormalizedMessage] = []
    for entry in webhook.entry:
        for change in entry.changes:
            names = {c.wa_id: c.profile.name for c in change.value.contacts}
            for message in change.value.messages:
                try:
                    inbound = InboundMessageIn(
                        channel=ConversationChannel.whatsapp,
                        channel_message_id=message.id,
                        sender={"kind": IdentityKind.phone, "value": f"+{message.from_}"},
                        sender_name=names.get(message.from_) or None,
                        body=_wa_body(message),
                        received_at=datetime.fromtimestamp(message.timestamp, UTC),
                    )
                except ValidationError as exc:
                    raise _invalid(exc) from exc
                found.append(NormalizedMessage(message=inbound))
    return found


class _TgUser(_Payload):
    id: int
    first_name: str = ""
    last_name: str = ""
    is_bot: bool = False


class _TgChat(_Payload):
    id: int


class _TgMessage(_Payload):
    message_id: int
    date: int
    chat: _TgChat
    from_: _TgUser | None = Field(default=None, alias="from")
    text: str | None = Field(default=None, max_length=100_000)
    caption: str | None = None


class TelegramUpdate(_Payload):
    update_id: int
    message: _TgMessage | None = None


def normalize_telegram(payload: Any) -> list[NormalizedMessage]:
    """The customer message of a Telegram update (other update kinds and bots are left out)."""
    try:
        update = TelegramUpdate.model_validate(payload)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    message = update.message
    if message is None or message.from_ is None or message.from_.is_bot:
        return []
    sender = message.from_
    name = f"{sender.first_name} {sender.last_name}".strip()
    try:
        inbound = InboundMessageIn(
            channel=ConversationChannel.telegram,
            # message_id counts per chat, so the chat makes it unique.
            channel_message_id=f"{message.chat.id}:{message.message_id}",
            sender={"kind": IdentityKind.social, "namespace": "telegram", "value": str(sender.id)},
            sender_name=name or None,
            body=message.text if message.text is not None else (message.caption or ""),
            received_at=datetime.fromtimestamp(message.date, UTC),
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return [NormalizedMessage(message=inbound)]


class WhatsAppAdapter:
    """WhatsApp Cloud API webhooks behind the adapter interface."""

    channel = ConversationChannel.whatsapp

    def normalize(self, raw: bytes, *, received_at: datetime) -> list[NormalizedMessage]:
        return normalize_whatsapp(_json(raw))


class TelegramAdapter:
    """Telegram Bot API updates behind the adapter interface."""

    channel = ConversationChannel.telegram

    def normalize(self, raw: bytes, *, received_at: datetime) -> list[NormalizedMessage]:
        return normalize_telegram(_json(raw))
