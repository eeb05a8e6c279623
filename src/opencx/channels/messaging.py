"""Messaging channels: WhatsApp Cloud API, Messenger, Instagram and Telegram Bot API.

In: their webhook payloads, signatures checked, normalized. Meta (WhatsApp, Messenger,
Instagram) signs the raw body with the app secret (`X-Hub-Signature-256: sha256=<hex HMAC>`);
Telegram repeats the secret token given to setWebhook (`X-Telegram-Bot-Api-Secret-Token`).
Both are compared in constant time, before anything is parsed or stored.

Out: agents' replies through the channels' HTTP APIs (WhatsApp Cloud API messages, the
Messenger Platform Send API, Telegram sendMessage), at the base URL of the organization's
settings, with timeouts; a refusal becomes `DeliveryFailed` with the API's reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opencx.channels.adapter import NormalizedMessage
from opencx.channels.schemas import GRAPH_API_VERSION, ChannelConfig
from opencx.conversations.models import ConversationChannel
from opencx.conversations.schemas import InboundMessageIn, OutboundDelivery
from opencx.conversations.service import DeliveryFailed
from opencx.customers.models import IdentityKind
from opencx.errors import InvalidInput


class SignatureInvalid(Exception):
    """The webhook's signature or secret does not match: nothing is read or stored."""


def check_body_signature(
    *, secret: str, body: bytes, header: str | None, name: str = "X-Hub-Signature-256"
) -> None:
    """Raise SignatureInvalid unless `header` is sha256=HMAC-SHA256(secret, body)."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not header or not hmac.compare_digest(header.strip().lower().encode(), expected.encode()):
        raise SignatureInvalid(f"{name} does not match the body")


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


# --- Messenger and Instagram (Messenger Platform webhooks) ----------------------------------

# The `object` of each network's webhooks.
META_OBJECTS = {ConversationChannel.messenger: "page", ConversationChannel.instagram: "instagram"}


class _MetaAttachmentPayload(_Payload):
    url: str | None = Field(default=None, max_length=4000)
    title: str | None = Field(default=None, max_length=1000)


class _MetaAttachment(_Payload):
    type: str = Field(max_length=50)
    payload: _MetaAttachmentPayload | None = None


class _MetaMessage(_Payload):
    mid: str = Field(min_length=1, max_length=500)
    text: str | None = Field(default=None, max_length=100_000)
    attachments: list[_MetaAttachment] = Field(default_factory=list, max_length=50)
    is_echo: bool = False
    is_deleted: bool = False


class _MetaParty(_Payload):
    id: str = Field(min_length=1, max_length=100)


class _MetaEvent(_Payload):
    sender: _MetaParty | None = None
    recipient: _MetaParty | None = None
    timestamp: int | None = None  # milliseconds
    message: _MetaMessage | None = None


class _MetaEntry(_Payload):
    id: str = ""
    messaging: list[_MetaEvent] = Field(default_factory=list)


class MetaWebhook(_Payload):
    object: str
    entry: list[_MetaEntry]


def _meta_body(message: _MetaMessage) -> str:
    # Attachments stay on Meta's CDN: the message keeps their kind and link, not the bytes.
    lines = [message.text] if message.text else []
    for attachment in message.attachments:
        payload = attachment.payload or _MetaAttachmentPayload()
        lines.append(" ".join(p for p in (f"[{attachment.type}]", payload.title, payload.url) if p))
    return "\n".join(lines)


def normalize_meta(
    payload: Any, *, channel: ConversationChannel, received_at: datetime
) -> list[NormalizedMessage]:
    """The customer messages of a Messenger or Instagram webhook.

    Echoes (the page's own messages), deleted messages, delivery and read receipts and other
    events are left out.
    """
    try:
        webhook = MetaWebhook.model_validate(payload)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    if webhook.object != META_OBJECTS[channel]:
        raise InvalidInput("object", f"expected {META_OBJECTS[channel]!r} for {channel.value}")
    found: list[NormalizedMessage] = []
    for entry in webhook.entry:
        for event in entry.messaging:
            message = event.message
            if message is None or event.sender is None or message.is_echo or message.is_deleted:
                continue
            sent = (
                datetime.fromtimestamp(event.timestamp / 1000, UTC)
                if event.timestamp is not None
                else received_at
            )
            try:
                inbound = InboundMessageIn(
                    channel=channel,
                    channel_message_id=message.mid,
                    sender={
                        "kind": IdentityKind.social,
                        "namespace": channel.value,
                        "value": event.sender.id,
                    },
                    body=_meta_body(message),
                    received_at=sent,
                )
            except ValidationError as exc:
                raise _invalid(exc) from exc
            found.append(NormalizedMessage(message=inbound))
    return found


class MessengerAdapter:
    """Facebook Messenger webhooks (object "page") behind the adapter interface."""

    channel = ConversationChannel.messenger

    def normalize(self, raw: bytes, *, received_at: datetime) -> list[NormalizedMessage]:
        return normalize_meta(_json(raw), channel=self.channel, received_at=received_at)


class InstagramAdapter:
    """Instagram messaging webhooks (object "instagram") behind the adapter interface."""

    channel = ConversationChannel.instagram

    def normalize(self, raw: bytes, *, received_at: datetime) -> list[NormalizedMessage]:
        return normalize_meta(_json(raw), channel=self.channel, received_at=received_at)


# --- replies through the channels' HTTP APIs ------------------------------------------------

SEND_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# The longest text each API takes in one message.
MAX_TEXT = {
    ConversationChannel.whatsapp: 4096,
    ConversationChannel.messenger: 2000,
    ConversationChannel.instagram: 1000,
    ConversationChannel.telegram: 4096,
}


def _needed(config: ChannelConfig, *names: str) -> list[str]:
    values = [config.get(name) for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise DeliveryFailed(
            f"{config.channel.value} cannot send: set {', '.join(missing)} in Settings -> Channels"
        )
    return values


def _api_reason(answer: Any, text: str) -> str:
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if answer.get("description"):
            return str(answer["description"])
    return " ".join(text.split())[:200] or "no answer body"


def _post_json(
    url: str, payload: dict[str, Any], *, api: str, secret: str, headers: dict[str, str]
) -> dict[str, Any]:
    """POST JSON and return the JSON answer; any failure is DeliveryFailed, the secret left out."""
    try:
        with httpx.Client(timeout=SEND_TIMEOUT) as client:
            response = client.post(url, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{api} did not answer: {str(exc).replace(secret, '***')}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not response.is_success or not isinstance(answer, dict) or answer.get("ok") is False:
        reason = _api_reason(answer, response.text).replace(secret, "***")
        raise DeliveryFailed(f"{api} refused the message ({response.status_code}): {reason}")
    return answer


def _text(config: ChannelConfig, delivery: OutboundDelivery) -> str:
    limit = MAX_TEXT[config.channel]
    if len(delivery.body) > limit:
        raise DeliveryFailed(
            f"{config.channel.value} takes at most {limit} characters in a message; "
            f"this reply has {len(delivery.body)}"
        )
    return delivery.body


def _graph_url(config: ChannelConfig, path: str) -> str:
    return f"{config.get('api_base_url')}/{config.get('api_version') or GRAPH_API_VERSION}/{path}"


def send_whatsapp_message(config: ChannelConfig, delivery: OutboundDelivery) -> str:
    """Send a text through the WhatsApp Cloud API; returns its wamid."""
    token, phone_number_id = _needed(config, "access_token", "phone_number_id")
    answer = _post_json(
        _graph_url(config, f"{phone_number_id}/messages"),
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": delivery.to.lstrip("+"),
            "type": "text",
            "text": {"preview_url": False, "body": _text(config, delivery)},
        },
        api="the WhatsApp Cloud API",
        secret=token,
        headers={"Authorization": f"Bearer {token}"},
    )
    messages = answer.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        raise DeliveryFailed("the WhatsApp Cloud API answered without a message id")
    return str(messages[0].get("id"))[:500]


def send_meta_message(config: ChannelConfig, delivery: OutboundDelivery) -> str:
    """Send a text through the Messenger Platform Send API (Messenger, Instagram); returns its mid."""
    (token,) = _needed(config, "access_token")
    answer = _post_json(
        _graph_url(config, "me/messages"),
        {
            "recipient": {"id": delivery.to},
            "messaging_type": "RESPONSE",
            "message": {"text": _text(config, delivery)},
        },
        api=f"the {config.channel.value.title()} Send API",
        secret=token,
        headers={"Authorization": f"Bearer {token}"},
    )
    if not answer.get("message_id"):
        raise DeliveryFailed("the Send API answered without a message_id")
    return str(answer["message_id"])[:500]


def send_telegram_message(config: ChannelConfig, delivery: OutboundDelivery) -> str:
    """Send a text with the Bot API's sendMessage; returns <chat id>:<message id> as inbound ids are."""
    (token,) = _needed(config, "bot_token")
    chat_id: int | str = int(delivery.to) if delivery.to.lstrip("-").isdigit() else delivery.to
    answer = _post_json(
        f"{config.get('api_base_url')}/bot{token}/sendMessage",
        {"chat_id": chat_id, "text": _text(config, delivery)},
        api="the Telegram Bot API",
        secret=token,
        headers={},
    )
    result = answer.get("result")
    if not isinstance(result, dict) or "message_id" not in result:
        raise DeliveryFailed("the Telegram Bot API answered without a message_id")
    chat = result.get("chat")
    sent_chat = chat.get("id", chat_id) if isinstance(chat, dict) else chat_id
    return f"{sent_chat}:{result['message_id']}"
