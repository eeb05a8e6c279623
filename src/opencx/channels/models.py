"""Tables of the channels: each organization's channel settings, and the facts of phone calls."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.conversations.models import ConversationChannel
from opencx.db import Base, BigId, OrgRecord


class ChannelSetting(OrgRecord, Base):
    """One organization's settings of one channel (tokens, secrets, ids, API base URL).

    Secrets are kept as given, like a webhook's secret: signatures and API calls need them
    in full. They are never shown back in full (see `channels.schemas.ChannelSettingsOut`).
    """

    __tablename__ = "channel_settings"
    __table_args__ = (UniqueConstraint("org_id", "channel", name="uq_channel_setting_channel"),)

    channel: Mapped[ConversationChannel] = mapped_column(
        Enum(ConversationChannel, native_enum=False, length=20)
    )
    values: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class CallDirection(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class CallStatus(enum.StrEnum):
    ringing = "ringing"  # started, not answered yet
    answered = "answered"
    ended = "ended"  # answered, then hung up
    missed = "missed"  # never answered


class VoiceCall(OrgRecord, Base):
    """One phone call as the telephony system reported it; its words are messages of the conversation."""

    __tablename__ = "voice_calls"
    __table_args__ = (UniqueConstraint("org_id", "call_id", name="uq_voice_call_call_id"),)

    # The telephony system's id of the call: every event of the call names it.
    call_id: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    direction: Mapped[CallDirection] = mapped_column(
        Enum(CallDirection, native_enum=False, length=20)
    )
    status: Mapped[CallStatus] = mapped_column(Enum(CallStatus, native_enum=False, length=20))
    from_number: Mapped[str | None] = mapped_column(String(32), default=None)
    to_number: Mapped[str | None] = mapped_column(String(32), default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    recording_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    agent_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    transcript_turns: Mapped[int] = mapped_column(Integer, default=0)
