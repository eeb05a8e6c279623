"""Conversations (tickets), their messages and attachments, and macros (canned replies)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db import Base, BigId, OrgRecord


class ConversationChannel(enum.StrEnum):
    email = "email"
    chat = "chat"
    whatsapp = "whatsapp"
    messenger = "messenger"
    instagram = "instagram"
    telegram = "telegram"
    voice = "voice"
    web_form = "web_form"


class ConversationStatus(enum.StrEnum):
    open = "open"
    pending = "pending"  # waiting for the customer
    resolved = "resolved"  # a new customer message reopens it
    closed = "closed"  # final: a new customer message starts a new conversation


class ConversationPriority(enum.StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class MessageDirection(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"
    note = "note"  # internal: never sent to the customer


class AuthorKind(enum.StrEnum):
    customer = "customer"
    agent = "agent"
    bot = "bot"
    system = "system"


class Conversation(OrgRecord, Base):
    """A ticket: one customer's matter on one channel, from first message to resolution."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_org_status", "org_id", "status"),
        Index("ix_conversations_org_customer", "org_id", "customer_id"),
    )

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[ConversationChannel] = mapped_column(
        Enum(ConversationChannel, native_enum=False, length=20)
    )
    subject: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[ConversationStatus] = mapped_column(
        Enum(ConversationStatus, native_enum=False, length=20), default=ConversationStatus.open
    )
    priority: Mapped[ConversationPriority] = mapped_column(
        Enum(ConversationPriority, native_enum=False, length=20),
        default=ConversationPriority.normal,
    )
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    team: Mapped[str | None] = mapped_column(String(100), default=None)
    touchpoint_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("touchpoints.id", ondelete="SET NULL"), default=None
    )
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    last_message_at: Mapped[datetime]
    # Set when this conversation was merged into another; its messages moved there.
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )


class Message(OrgRecord, Base):
    """One message of a conversation; a channel's message id is stored once per org and channel."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        UniqueConstraint(
            "org_id", "channel", "channel_message_id", name="uq_message_channel_message_id"
        ),
    )

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[ConversationChannel] = mapped_column(
        Enum(ConversationChannel, native_enum=False, length=20)
    )
    direction: Mapped[MessageDirection] = mapped_column(
        Enum(MessageDirection, native_enum=False, length=20)
    )
    author_kind: Mapped[AuthorKind] = mapped_column(Enum(AuthorKind, native_enum=False, length=20))
    author_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # The channel address of the customer side (email address, phone, handle): replies go there.
    address: Mapped[str | None] = mapped_column(String(320), default=None)
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text, default=None)
    channel_message_id: Mapped[str | None] = mapped_column(String(500), default=None)
    # The channel's thread hints as received or sent (email: In-Reply-To and References).
    thread_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    sent_at: Mapped[datetime]
    # Outbound only: why the channel did not take the message (kept, so it can be sent again).
    delivery_error: Mapped[str | None] = mapped_column(String(500), default=None)


class MessageAttachment(OrgRecord, Base):
    """A file that came with a message: metadata here, content under data_dir/attachments/."""

    __tablename__ = "message_attachments"

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversation_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigId)
    sha256: Mapped[str] = mapped_column(String(64))
    # Relative to the data dir, so the data dir can move.
    path: Mapped[str] = mapped_column(String(500))


class Macro(OrgRecord, Base):
    """A canned reply with a text per language and placeholders filled in when used."""

    __tablename__ = "macros"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_macro_name"),)

    name: Mapped[str] = mapped_column(String(200))
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BusinessHours(OrgRecord, Base):
    """When a team works (or, with team "", the organization by default): for SLA clocks."""

    __tablename__ = "business_hours"
    __table_args__ = (UniqueConstraint("org_id", "team", name="uq_business_hours_team"),)

    # "" is the organization's default; a team without its own hours uses it.
    team: Mapped[str] = mapped_column(String(100), default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    # [{"weekday": 0-6 (Monday 0), "opens": "09:00", "closes": "17:00"}]; closes <= opens: overnight.
    periods: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates, local


class SlaPolicy(OrgRecord, Base):
    """Targets for conversations of one channel and priority (of one team, or "" for all)."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        UniqueConstraint("org_id", "team", "channel", "priority", name="uq_sla_policy_scope"),
    )

    team: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[ConversationChannel] = mapped_column(
        Enum(ConversationChannel, native_enum=False, length=20)
    )
    priority: Mapped[ConversationPriority] = mapped_column(
        Enum(ConversationPriority, native_enum=False, length=20)
    )
    # None: no target of that kind.
    first_response_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    business_hours: Mapped[bool] = mapped_column(default=True)  # else calendar time
    warning_percent: Mapped[int] = mapped_column(Integer, default=20)


class ConversationSla(OrgRecord, Base):
    """A conversation's SLA clocks: its targets, due moments, and when each was met or breached.

    The resolution clock runs from `resolution_running_since` and stops while the conversation
    waits on the customer (pending): the open time used so far is `resolution_elapsed_seconds`.
    """

    __tablename__ = "conversation_slas"
    __table_args__ = (
        UniqueConstraint("org_id", "conversation_id", name="uq_conversation_sla_conversation"),
        Index("ix_conversation_slas_org_first_response_due", "org_id", "first_response_due_at"),
        Index("ix_conversation_slas_org_resolution_due", "org_id", "resolution_due_at"),
    )

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    # None: the built-in default targets applied.
    policy_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("sla_policies.id", ondelete="SET NULL"), default=None
    )
    business_hours: Mapped[bool] = mapped_column(default=True)
    warning_percent: Mapped[int] = mapped_column(Integer, default=20)
    started_at: Mapped[datetime]
    first_response_target_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    first_response_due_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_warn_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_met_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_warned_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_target_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    resolution_running_since: Mapped[datetime | None] = mapped_column(default=None)
    resolution_elapsed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    resolution_due_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_met_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_warned_at: Mapped[datetime | None] = mapped_column(default=None)
