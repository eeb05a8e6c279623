"""Pydantic shapes of the service desk: inbound messages, replies, conversations, macros."""

from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic_core import PydanticCustomError

from opencx.conversations.models import (
    AuthorKind,
    ConversationChannel,
    ConversationPriority,
    ConversationStatus,
    MessageDirection,
)
from opencx.customers.schemas import Customer360, IdentityIn
from opencx.db import RowId
from opencx.surveys.schemas import TriggerReport

MACRO_LANGUAGES = ("en", "nl", "pl")
DEFAULT_LANGUAGE = "en"
PLACEHOLDERS = (
    "customer.first_name",
    "customer.last_name",
    "conversation.id",
    "conversation.subject",
    "agent.name",
)
PLACEHOLDER = re.compile(r"\{([a-z_]+\.[a-z_]+)\}")
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


def macro_language(language: str | None) -> str:
    """The language a macro is rendered in for a customer: theirs when written, else English."""
    code = (language or "").lower()[:2]
    return code if code in MACRO_LANGUAGES else DEFAULT_LANGUAGE


def _tag_list(values: list[str]) -> list[str]:
    tags: list[str] = []
    for value in values:
        tag = value.strip().lower()
        if not tag:
            raise PydanticCustomError("tag", "tags must not be empty")
        if tag not in tags:
            tags.append(tag)
    return tags


Tags = Annotated[list[Annotated[str, Field(max_length=50)]], AfterValidator(_tag_list)]
TeamName = Annotated[str, Field(min_length=1, max_length=100)]


class AttachmentIn(BaseModel):
    """A file as the API receives it: name, type and base64 content."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    content_base64: str = Field(description="the file's bytes, base64-encoded")

    @field_validator("content_base64")
    @classmethod
    def _decodable(cls, value: str) -> str:
        try:
            content = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PydanticCustomError("base64", "not valid base64") from exc
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise PydanticCustomError("size", "larger than 25 MiB")
        return value

    @property
    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


@dataclass(frozen=True)
class InboundAttachment:
    """A file as a channel adapter hands it over."""

    filename: str
    content_type: str
    content: bytes


class InboundMessageIn(BaseModel):
    """A customer's message as every channel adapter normalizes it."""

    model_config = ConfigDict(extra="forbid")

    channel: ConversationChannel
    channel_message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="the channel's id of the message (email Message-ID); a redelivery is stored once",
    )
    thread_refs: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list,
        max_length=100,
        description="channel message ids this one answers (email In-Reply-To and References)",
    )
    sender: IdentityIn = Field(description="who wrote: the customer is found or created by it")
    sender_name: str | None = Field(default=None, max_length=200)
    subject: str = Field(default="", max_length=300)
    body: str = Field(default="", max_length=1_000_000)
    body_html: str | None = Field(default=None, max_length=5_000_000)
    received_at: AwareDatetime
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50)
    touchpoint_id: RowId | None = None

    @field_validator("subject")
    @classmethod
    def _one_line(cls, subject: str) -> str:
        return " ".join(subject.split())


class ReplyIn(BaseModel):
    """An agent's answer to the customer, sent on the conversation's channel."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=1_000_000)
    body_html: str | None = Field(default=None, max_length=5_000_000)
    author_user_id: RowId | None = Field(
        default=None, description="the agent; default the signed-in user"
    )

    @field_validator("body")
    @classmethod
    def _not_blank(cls, body: str) -> str:
        if not body.strip():
            raise PydanticCustomError("blank", "must not be blank")
        return body


class NoteIn(BaseModel):
    """An internal note: seen by agents, never sent."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=100_000)
    author_user_id: RowId | None = None

    @field_validator("body")
    @classmethod
    def _not_blank(cls, body: str) -> str:
        if not body.strip():
            raise PydanticCustomError("blank", "must not be blank")
        return body


class AssignIn(BaseModel):
    """Who handles the conversation; a field left out stays as it is, null clears it."""

    model_config = ConfigDict(extra="forbid")

    assignee_id: RowId | None = None
    team: TeamName | None = None


class ConversationPatch(BaseModel):
    """Change status, priority or tags; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    status: ConversationStatus | None = None
    priority: ConversationPriority | None = None
    tags: Tags | None = None


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merged_id: RowId = Field(description="the duplicate: its messages move here and it is closed")


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    channel: ConversationChannel
    direction: MessageDirection
    author_kind: AuthorKind
    author_user_id: int | None
    address: str | None
    body: str
    body_html: str | None
    channel_message_id: str | None
    thread_refs: list[str]
    sent_at: datetime
    delivery_error: str | None
    attachments: list[AttachmentOut] = Field(default_factory=list)


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    channel: ConversationChannel
    subject: str
    status: ConversationStatus
    priority: ConversationPriority
    tags: list[str]
    assignee_id: int | None
    team: str | None
    touchpoint_id: int | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    reopened_count: int
    last_message_at: datetime
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime


class ConversationDetail(ConversationOut):
    messages: list[MessageOut] = Field(default_factory=list)


class ConversationPage(BaseModel):
    total: int
    items: list[ConversationOut]


class InboundResult(BaseModel):
    """What an inbound message did: where it landed and whether it was new."""

    conversation: ConversationOut
    message: MessageOut
    customer_created: bool
    conversation_created: bool
    reopened: bool
    duplicate: bool = Field(description="the channel delivered this message before; nothing stored")


class ConversationChange(BaseModel):
    """A changed conversation; on resolving, what the survey triggers did."""

    conversation: ConversationOut
    survey_triggers: TriggerReport | None = Field(
        default=None, description="on resolving: surveys that invited the customer or skipped"
    )
    survey_trigger_error: str | None = Field(
        default=None, description="why the survey triggers could not run (the change stands)"
    )


@dataclass(frozen=True)
class OutboundDelivery:
    """What a channel adapter needs to send an agent's reply."""

    org_id: int
    conversation_id: int
    channel: ConversationChannel
    to: str
    subject: str
    body: str
    body_html: str | None
    in_reply_to: str | None
    references: list[str] = field(default_factory=list)


def _macro_texts(texts: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(texts) - set(MACRO_LANGUAGES))
    if unknown:
        raise PydanticCustomError(
            "language", "languages are en, nl and pl; not {unknown}", {"unknown": unknown}
        )
    if not texts.get(DEFAULT_LANGUAGE, "").strip():
        raise PydanticCustomError("required", "an English text (en) is required")
    for language, text in texts.items():
        for name in PLACEHOLDER.findall(text):
            if name not in PLACEHOLDERS:
                raise PydanticCustomError(
                    "placeholder",
                    "unknown placeholder {{{name}}} in {language}; known: {known}",
                    {"name": name, "language": language, "known": ", ".join(PLACEHOLDERS)},
                )
    return texts


MacroTexts = Annotated[
    dict[str, Annotated[str, Field(max_length=20_000)]], AfterValidator(_macro_texts)
]


class MacroIn(BaseModel):
    """A canned reply: a name and a text per language (en required; nl and pl fall back to it)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    texts: MacroTexts


class MacroOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    texts: dict[str, str]
    created_at: datetime
    updated_at: datetime


class MacroRenderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: RowId
    agent_id: RowId | None = Field(default=None, description="whose name fills {agent.name}")


class RenderedMacro(BaseModel):
    macro_id: int
    conversation_id: int
    language: str
    text: str


class InboxView(enum.StrEnum):
    """The agent inbox's queues; each holds open and pending conversations only."""

    mine = "mine"
    team = "team"  # assigned to a colleague or a team
    unassigned = "unassigned"
    open = "open"
    breaching = "breaching"  # an SLA target breached or about to be, soonest due first


class InboxRow(BaseModel):
    """One line of the inbox list."""

    conversation: ConversationOut
    customer_name: str
    last_message: str
    last_direction: MessageDirection | None
    waiting_since: datetime | None = Field(
        description="when the customer's unanswered message came; None when it is the desk's turn"
    )
    sla: SlaBadge | None = None


class InboxPage(BaseModel):
    """What the agent inbox shows: one queue, and the open conversation with its customer 360."""

    view: InboxView
    team: str | None = Field(default=None, description="only this team's conversations")
    counts: dict[str, int]
    rows: list[InboxRow]
    selected: ConversationDetail | None = None
    selected_sla: SlaBadge | None = None
    customer: Customer360 | None = None
    macros: list[MacroOut] = Field(default_factory=list)
    agent_names: dict[int, str] = Field(default_factory=dict)
    now: datetime


# --- SLA policies, business hours and conversation SLA clocks ------------------------------

SLA_MAX_MINUTES = 366 * 24 * 60


@lru_cache(maxsize=1)
def _known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _time_zone(name: str) -> str:
    # Only names of the IANA database: a key is a path inside it, so never open anything else.
    if name not in _known_time_zones():
        raise PydanticCustomError(
            "time_zone", "unknown time zone {name} (an IANA name: Europe/Amsterdam)", {"name": name}
        )
    return name


class OpeningPeriodIn(BaseModel):
    """Open on `weekday` (0 Monday ... 6 Sunday) from `opens` to `closes` (local, HH:MM).

    `closes` at or before `opens` runs past midnight; 00:00-00:00 is the whole day.
    """

    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(ge=0, le=6)
    opens: time
    closes: time


class BusinessHoursIn(BaseModel):
    """A team's working hours (team null: the organization's default) and holidays."""

    model_config = ConfigDict(extra="forbid")

    team: TeamName | None = None
    time_zone: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_time_zone)]
    periods: list[OpeningPeriodIn] = Field(min_length=1, max_length=50)
    holidays: list[date] = Field(default_factory=list, max_length=500)

    @field_validator("holidays")
    @classmethod
    def _sorted_once(cls, holidays: list[date]) -> list[date]:
        return sorted(set(holidays))


class BusinessHoursOut(BaseModel):
    team: str | None
    time_zone: str
    periods: list[OpeningPeriodIn]
    holidays: list[date]
    configured: bool = Field(description="false: the built-in default (no row stored)")


class SlaPolicyIn(BaseModel):
    """Targets for one channel and priority, for every team (team null) or one team."""

    model_config = ConfigDict(extra="forbid")

    team: TeamName | None = None
    channel: ConversationChannel
    priority: ConversationPriority
    first_response_minutes: int | None = Field(default=None, ge=1, le=SLA_MAX_MINUTES)
    resolution_minutes: int | None = Field(default=None, ge=1, le=SLA_MAX_MINUTES)
    business_hours: bool = Field(default=True, description="count open time only; else calendar")
    warning_percent: int = Field(
        default=20, ge=1, le=90, description="about to breach when this share of the target is left"
    )


class SlaPolicyOut(BaseModel):
    """A policy in force: stored (`id`) or the built-in default (`id` null)."""

    id: int | None
    team: str | None
    channel: ConversationChannel
    priority: ConversationPriority
    first_response_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool
    warning_percent: int


class SlaState(enum.StrEnum):
    """Where a conversation's nearest SLA target stands."""

    ok = "ok"
    warning = "warning"  # about to breach
    breached = "breached"
    paused = "paused"  # waiting on the customer: the resolution clock stands still
    met = "met"  # every target met (or none left running)


class ConversationSlaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    conversation_id: int
    policy_id: int | None
    business_hours: bool
    warning_percent: int
    started_at: datetime
    first_response_target_minutes: int | None
    first_response_due_at: datetime | None
    first_response_met_at: datetime | None
    first_response_breached_at: datetime | None
    resolution_target_minutes: int | None
    resolution_due_at: datetime | None
    resolution_met_at: datetime | None
    resolution_breached_at: datetime | None
    resolution_elapsed_seconds: int


class SlaBadge(BaseModel):
    """What the inbox shows beside a conversation: the nearest target and its state."""

    state: SlaState
    target: str | None = Field(description="first_response or resolution; None when met")
    due_at: datetime | None


class SlaCheckReport(BaseModel):
    """What one breach check found: breaches and warnings marked now (each only once)."""

    first_response_breached: int = 0
    resolution_breached: int = 0
    warned: int = 0
    first_responses_recorded: int = 0
    events: list[dict[str, Any]] = Field(default_factory=list, exclude=True)


class SlaAttainmentRow(BaseModel):
    """Targets met and breached per week (of the conversation's start) and group."""

    week_start: date
    group: str | None = Field(
        description="channel, team name or agent user id; None: no team/agent"
    )
    conversations: int
    first_response_decided: int
    first_response_met: int
    first_response_attainment: float | None
    resolution_decided: int
    resolution_met: int
    resolution_attainment: float | None


class ImportedMessage(BaseModel):
    """One message of a conversation imported whole (from another desk, or the demo world)."""

    model_config = ConfigDict(extra="forbid")

    direction: MessageDirection
    author_kind: AuthorKind
    author_user_id: RowId | None = None
    address: str | None = Field(default=None, max_length=320)
    body: str = Field(default="", max_length=100_000)
    channel_message_id: str | None = Field(default=None, min_length=1, max_length=500)
    sent_at: AwareDatetime


class ConversationImport(BaseModel):
    """A past conversation: its messages and the moments it was resolved.

    Status, first response, resolution, reopenings and last activity follow from them by the
    rules the live service applies (see `conversations.service.import_conversations`).
    """

    model_config = ConfigDict(extra="forbid")

    customer_id: RowId
    channel: ConversationChannel
    subject: str = Field(default="", max_length=300)
    priority: ConversationPriority = ConversationPriority.normal
    tags: Tags = Field(default_factory=list, max_length=50)
    assignee_id: RowId | None = None
    team: TeamName | None = None
    touchpoint_id: RowId | None = None
    messages: list[ImportedMessage] = Field(min_length=1, max_length=1000)
    resolutions: list[AwareDatetime] = Field(
        default_factory=list, description="each time it was resolved, oldest first"
    )
    closed: bool = Field(default=False, description="closed after its last resolution")
