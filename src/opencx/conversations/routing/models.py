"""Routing of the service desk: agents' languages, skills, capacity and presence; teams; rules; queues."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.conversations.models import ConversationChannel
from opencx.db import Base, BigId, OrgRecord


class Presence(enum.StrEnum):
    online = "online"  # takes new conversations
    away = "away"  # keeps their conversations, takes no new ones
    offline = "offline"


class RoutingMode(enum.StrEnum):
    round_robin = "round_robin"  # the eligible agent assigned longest ago
    least_loaded = "least_loaded"  # the eligible agent with the fewest open conversations


class RoutingSettings(OrgRecord, Base):
    """One row per organization that routes: the default team, and the row routing locks.

    Every routing decision of an organization first updates this row, so decisions run one at
    a time (a row lock on PostgreSQL, the write lock on SQLite): capacity is never exceeded.
    """

    __tablename__ = "routing_settings"
    __table_args__ = (UniqueConstraint("org_id", name="uq_routing_settings_org"),)

    default_team_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("routing_teams.id", ondelete="SET NULL"), default=None
    )
    decisions: Mapped[int] = mapped_column(Integer, default=0)


class RoutingTeam(OrgRecord, Base):
    """A team with its queue; `name` is what conversations carry in `team`."""

    __tablename__ = "routing_teams"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_routing_team_name"),)

    name: Mapped[str] = mapped_column(String(100))
    mode: Mapped[RoutingMode] = mapped_column(
        Enum(RoutingMode, native_enum=False, length=20), default=RoutingMode.round_robin
    )


class RoutingAgent(OrgRecord, Base):
    """A user of the desk as routing sees them: languages, skills, capacity and presence."""

    __tablename__ = "routing_agents"
    __table_args__ = (UniqueConstraint("user_id", name="uq_routing_agent_user"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    # channel -> the most open conversations of that channel at once; a missing channel: none.
    capacity: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    presence: Mapped[Presence] = mapped_column(
        Enum(Presence, native_enum=False, length=20), default=Presence.offline
    )
    presence_changed_at: Mapped[datetime]
    # Set when the agent's last inbox socket closed; cleared when one opens.
    disconnected_at: Mapped[datetime | None] = mapped_column(default=None)
    last_assigned_at: Mapped[datetime | None] = mapped_column(default=None)


class RoutingTeamMember(OrgRecord, Base):
    __tablename__ = "routing_team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_routing_team_member"),)

    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("routing_teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )


class RoutingRule(OrgRecord, Base):
    """Conditions (all that are set must hold) that send a new conversation to a team."""

    __tablename__ = "routing_rules"
    __table_args__ = (Index("ix_routing_rules_org_position", "org_id", "position"),)

    position: Mapped[int] = mapped_column(Integer)
    channel: Mapped[ConversationChannel | None] = mapped_column(
        Enum(ConversationChannel, native_enum=False, length=20), default=None
    )
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    tag: Mapped[str | None] = mapped_column(String(100), default=None)
    touchpoint_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("touchpoints.id", ondelete="CASCADE"), default=None
    )
    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("routing_teams.id", ondelete="CASCADE"))


class RoutingQueueEntry(OrgRecord, Base):
    """A conversation waiting in its team's queue for an agent; gone once assigned."""

    __tablename__ = "routing_queue_entries"
    __table_args__ = (Index("ix_routing_queue_org_team_queued", "org_id", "team_id", "queued_at"),)

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("routing_teams.id", ondelete="CASCADE"))
    # The language the conversation needs (the message's, else the customer's); null: any.
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    queued_at: Mapped[datetime]
