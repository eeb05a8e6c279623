"""Pydantic shapes of routing: agents' routing profiles and presence, teams, rules, queues."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from opencx.auth.models import Role
from opencx.conversations.models import ConversationChannel
from opencx.conversations.routing.models import Presence, RoutingMode
from opencx.conversations.schemas import Tags, TeamName
from opencx.db import RowId

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
# What a new agent takes at once per channel until a manager says otherwise.
DEFAULT_CAPACITY: dict[ConversationChannel, int] = {
    ConversationChannel.email: 10,
    ConversationChannel.chat: 3,
    ConversationChannel.whatsapp: 5,
    ConversationChannel.messenger: 5,
    ConversationChannel.instagram: 5,
    ConversationChannel.telegram: 5,
    ConversationChannel.voice: 1,
    ConversationChannel.web_form: 10,
}


def _languages(values: list[str]) -> list[str]:
    codes: list[str] = []
    for value in values:
        code = value.strip().lower()
        if not LANGUAGE_CODE.match(code):
            raise PydanticCustomError(
                "language", "languages are ISO 639-1 codes such as en, nl, pl; got {value!r}",
                {"value": value},
            )  # fmt: skip
        if code not in codes:
            codes.append(code)
    return codes


Languages = Annotated[list[str], Field(max_length=20), AfterValidator(_languages)]
LanguageCode = Annotated[str, Field(pattern=LANGUAGE_CODE.pattern)]
Capacity = Annotated[int, Field(ge=0, le=1000)]


class AgentRoutingIn(BaseModel):
    """What routing knows of an agent; a channel left out of `capacity` is one they do not take."""

    model_config = ConfigDict(extra="forbid")

    languages: Languages = Field(default_factory=list, description="ISO 639-1 codes, e.g. nl, pl")
    skills: Tags = Field(default_factory=list, description="free tags matched to conversation tags")
    capacity: dict[ConversationChannel, Capacity] = Field(
        default_factory=lambda: dict(DEFAULT_CAPACITY),
        description="channel -> most open conversations at once (e.g. chat 3, email 10)",
    )
    teams: list[TeamName] = Field(default_factory=list, description="names of routing teams")


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presence: Presence


class AgentRoutingOut(BaseModel):
    user_id: int
    name: str
    role: Role
    configured: bool = Field(description="false: defaults shown, routing skips this user")
    languages: list[str]
    skills: list[str]
    capacity: dict[str, int]
    teams: list[str]
    presence: Presence
    presence_changed_at: datetime | None
    load: dict[str, int] = Field(description="open and pending conversations per channel")


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TeamName
    mode: RoutingMode = RoutingMode.round_robin
    is_default: bool = Field(default=False, description="gets what no rule matches")


class TeamOut(BaseModel):
    id: int
    name: str
    mode: RoutingMode
    is_default: bool
    members: list[int] = Field(description="user ids")
    waiting: int = Field(description="open conversations of the team with no assignee")


class RuleIn(BaseModel):
    """Conditions left null match anything; every condition set must hold."""

    model_config = ConfigDict(extra="forbid")

    channel: ConversationChannel | None = None
    language: LanguageCode | None = None
    tag: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    touchpoint_id: RowId | None = None
    team_id: RowId


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    channel: ConversationChannel | None
    language: str | None
    tag: str | None
    touchpoint_id: int | None
    team_id: int


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleIn] = Field(max_length=200, description="in order: the first match wins")


class QueuedConversation(BaseModel):
    conversation_id: int
    channel: ConversationChannel
    language: str | None
    queued_at: datetime


class TeamQueue(BaseModel):
    team: str
    mode: RoutingMode
    member: bool = Field(description="whether the asking user is in the team")
    waiting: list[QueuedConversation]


class DeskStatus(BaseModel):
    """What the inbox shows beside the queues: my presence and the team queues."""

    routing: bool = Field(description="whether the organization routes at all")
    presence: Presence | None
    presence_changed_at: datetime | None
    queues: list[TeamQueue]


class RoutingOverview(BaseModel):
    """Everything the routing settings page shows."""

    agents: list[AgentRoutingOut]
    teams: list[TeamOut]
    rules: list[RuleOut]
    touchpoints: dict[int, str]
