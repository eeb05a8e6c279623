"""Pydantic shapes of the channels: each channel's settings, and the voice webhook's call events."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from opencx.channels.models import CallDirection, CallStatus
from opencx.conversations.models import ConversationChannel

GRAPH_API = "https://graph.facebook.com"
GRAPH_API_VERSION = "v21.0"
TELEGRAM_API = "https://api.telegram.org"
MAX_VALUE_LENGTH = 2000


@dataclass(frozen=True)
class SettingField:
    """One setting of a channel: a secret is never shown back in full."""

    name: str
    label: str
    secret: bool = False
    url: bool = False
    default: str = ""
    # The server-wide setting (opencx.settings.Settings attribute) used when the organization
    # has no value of its own: the environment configuration from before per-org settings.
    env: str = ""


def _meta_fields(channel: str, token_label: str, *, env: bool = False) -> tuple[SettingField, ...]:
    return (
        SettingField(
            "app_secret",
            "App secret (checks X-Hub-Signature-256)",
            secret=True,
            env=f"{channel}_app_secret" if env else "",
        ),
        SettingField(
            "verify_token",
            "Verify token (subscription handshake)",
            secret=True,
            env=f"{channel}_verify_token" if env else "",
        ),
        SettingField("access_token", token_label, secret=True),
        SettingField("api_base_url", "Graph API base URL", url=True, default=GRAPH_API),
        SettingField("api_version", "Graph API version", default=GRAPH_API_VERSION),
    )


CHANNEL_FIELDS: dict[ConversationChannel, tuple[SettingField, ...]] = {
    ConversationChannel.whatsapp: (
        *_meta_fields("whatsapp", "Access token (Cloud API, sends replies)", env=True),
        SettingField("phone_number_id", "Phone number id (sends replies)"),
    ),
    ConversationChannel.messenger: _meta_fields("messenger", "Page access token (sends replies)"),
    ConversationChannel.instagram: _meta_fields("instagram", "Page access token (sends replies)"),
    ConversationChannel.telegram: (
        SettingField(
            "secret_token",
            "Secret token (given to setWebhook)",
            secret=True,
            env="telegram_secret_token",
        ),
        SettingField("bot_token", "Bot token (sends replies)", secret=True),
        SettingField("api_base_url", "Bot API base URL", url=True, default=TELEGRAM_API),
    ),
    ConversationChannel.voice: (
        SettingField("signing_secret", "Signing secret (X-OpenCX-Signature)", secret=True),
    ),
}
# What switches a channel's webhook on, and what its replies need.
WEBHOOK_SECRET = {
    ConversationChannel.whatsapp: "app_secret",
    ConversationChannel.messenger: "app_secret",
    ConversationChannel.instagram: "app_secret",
    ConversationChannel.telegram: "secret_token",
    ConversationChannel.voice: "signing_secret",
}
SENDING_FIELDS = {
    ConversationChannel.whatsapp: ("access_token", "phone_number_id"),
    ConversationChannel.messenger: ("access_token",),
    ConversationChannel.instagram: ("access_token",),
    ConversationChannel.telegram: ("bot_token",),
}


def _check_value(setting: SettingField, value: str) -> str:
    value = value.strip()
    if len(value) > MAX_VALUE_LENGTH:
        raise PydanticCustomError("length", "at most 2000 characters")
    if setting.url and value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PydanticCustomError("url", "must be an http:// or https:// URL with a host")
        if parts.query or parts.fragment or parts.username:
            raise PydanticCustomError("url", "must have no query, fragment or user name")
        return value.rstrip("/")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise PydanticCustomError("token", "must not contain spaces or control characters")
    return value


class ChannelSettingsIn(BaseModel):
    """New settings of one channel: a value sets, "" or null clears, a field left out stays."""

    model_config = ConfigDict(extra="forbid")

    channel: ConversationChannel = Field(
        description="whatsapp, messenger, instagram, telegram or voice"
    )
    values: dict[str, str | None] = Field(
        default_factory=dict, description="setting name: value (see GET /channel-settings)"
    )

    @model_validator(mode="after")
    def _known_and_valid(self) -> ChannelSettingsIn:
        fields = CHANNEL_FIELDS.get(self.channel)
        if fields is None:
            raise PydanticCustomError(
                "channel",
                "channel: settings exist for whatsapp, messenger, instagram, telegram and voice",
            )
        by_name = {f.name: f for f in fields}
        checked: dict[str, str | None] = {}
        for name, value in self.values.items():
            setting = by_name.get(name)
            if setting is None:
                raise PydanticCustomError(
                    "setting",
                    "values.{name}: not a setting of {channel}; known: {known}",
                    {"name": name, "channel": self.channel.value, "known": ", ".join(by_name)},
                )
            try:
                checked[name] = None if value is None else _check_value(setting, value)
            except PydanticCustomError as exc:
                raise PydanticCustomError(
                    "setting", "values.{name}: {why}", {"name": name, "why": exc.message()}
                ) from exc
        self.values = checked
        return self


class ChannelFieldOut(BaseModel):
    name: str
    label: str
    secret: bool
    value: str = Field(description="the value; for a secret only its last 4 characters")
    is_set: bool
    source: Literal["organization", "server", "default", "unset"]


class ChannelSettingsOut(BaseModel):
    channel: ConversationChannel
    webhook_path: str = Field(description="where the channel posts its webhooks")
    receives: bool = Field(description="the webhook's secret is set: the webhook is on")
    sends: bool = Field(description="replies can be sent through the channel's API")
    fields: list[ChannelFieldOut]
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ChannelConfig:
    """A channel's settings in effect for one organization: its own, else the server's, else defaults."""

    channel: ConversationChannel
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "")


# --- voice ----------------------------------------------------------------------------------


class CallEvent(enum.StrEnum):
    started = "started"
    answered = "answered"
    ended = "ended"
    missed = "missed"
    transcript = "transcript"  # the transcript alone, when it comes after the call


class Speaker(enum.StrEnum):
    customer = "customer"
    agent = "agent"


class TranscriptTurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Speaker
    text: str = Field(min_length=1, max_length=20_000)
    offset_seconds: float | None = Field(
        default=None, ge=0, le=86_400, description="from the start of the call"
    )


class TranscriptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turns: list[TranscriptTurnIn] = Field(min_length=1, max_length=2000)


class CallEventIn(BaseModel):
    """One event of a phone call, as a telephony system posts it to the voice webhook."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    call_id: str = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    event: CallEvent
    direction: CallDirection
    from_: str = Field(alias="from", min_length=1, max_length=40)
    to: str = Field(min_length=1, max_length=40)
    occurred_at: AwareDatetime
    duration_seconds: int | None = Field(default=None, ge=0, le=86_400)
    recording_url: str | None = Field(default=None, max_length=2000)
    agent_email: str | None = Field(default=None, max_length=320)
    caller_name: str | None = Field(default=None, max_length=200)
    transcript: TranscriptIn | None = None

    @model_validator(mode="after")
    def _recording_is_a_link(self) -> CallEventIn:
        if self.recording_url is not None:
            parts = urlsplit(self.recording_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise PydanticCustomError(
                    "url", "recording_url: must be an http:// or https:// URL"
                )
        return self


class CallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: str
    conversation_id: int
    customer_id: int
    direction: CallDirection
    status: CallStatus
    from_number: str | None
    to_number: str | None
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    recording_url: str | None
    agent_user_id: int | None
    transcript_turns: int


class CallEventResult(BaseModel):
    """What one voice webhook did."""

    call: CallOut
    conversation_created: bool
    messages_stored: int
    duplicates: int
