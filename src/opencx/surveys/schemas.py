"""Pydantic shapes of surveys, their questions in three languages, invitations and responses."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from opencx.customers.models import ConsentChannel
from opencx.db import RowId
from opencx.surveys.models import EmailSendStatus, SurveyKind, SurveyStatus, SurveyTrigger

LANGUAGES = ("en", "nl", "pl")
DEFAULT_LANGUAGE = "en"
KEY_PATTERN = r"^[a-z][a-z0-9_]*$"


def survey_language(language: str | None) -> str:
    """The language a customer's survey is shown in: theirs when offered, else English."""
    code = (language or "").lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


class LocalizedText(BaseModel):
    """One text in English (required), Dutch and Polish."""

    model_config = ConfigDict(extra="forbid")

    en: str = Field(min_length=1, max_length=1000)
    nl: str | None = Field(default=None, min_length=1, max_length=1000)
    pl: str | None = Field(default=None, min_length=1, max_length=1000)

    def in_language(self, language: str) -> str:
        """The text in `language`, falling back to English."""
        text: str | None = getattr(self, survey_language(language))
        return text or self.en


class QuestionKind(enum.StrEnum):
    rating = "rating"
    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    free_text = "free_text"


class ChoiceOption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=50, pattern=KEY_PATTERN)
    text: LocalizedText


class ShowIf(BaseModel):
    """Show a question only when an earlier question's answer matches every criterion given."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=50, pattern=KEY_PATTERN)
    at_most: int | None = Field(default=None, ge=-1000, le=1000)
    at_least: int | None = Field(default=None, ge=-1000, le=1000)
    any_of: list[str] | None = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _has_a_criterion(self) -> Self:
        if self.at_most is None and self.at_least is None and self.any_of is None:
            raise ValueError("give at_most, at_least or any_of")
        return self

    def holds(self, answer: Any) -> bool:
        """Whether an answer (None when unanswered) meets the condition."""
        if answer is None:
            return False
        if self.any_of is not None:
            chosen = set(answer) if isinstance(answer, list) else {answer}
            return bool(chosen & set(self.any_of))
        if not isinstance(answer, int):
            return False
        too_high = self.at_most is not None and answer > self.at_most
        too_low = self.at_least is not None and answer < self.at_least
        return not (too_high or too_low)


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=50, pattern=KEY_PATTERN)
    kind: QuestionKind
    text: LocalizedText
    required: bool = False
    scale_min: int = Field(default=1, ge=0, le=10, description="rating questions only")
    scale_max: int = Field(default=5, ge=1, le=10, description="rating questions only")
    low_label: LocalizedText | None = None
    high_label: LocalizedText | None = None
    options: list[ChoiceOption] = Field(default_factory=list, max_length=30)
    show_if: ShowIf | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind is QuestionKind.rating and self.scale_min >= self.scale_max:
            raise ValueError("scale_min must be below scale_max")
        choice = self.kind in (QuestionKind.single_choice, QuestionKind.multiple_choice)
        if choice and len(self.options) < 2:
            raise ValueError("a choice question needs at least two options")
        if not choice and self.options:
            raise ValueError("only choice questions have options")
        if len({o.key for o in self.options}) != len(self.options):
            raise ValueError("option keys must be unique")
        return self


class SurveyIn(BaseModel):
    """A new survey: a template (nps, csat, ces) with its questions, or custom questions."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: SurveyKind = SurveyKind.custom
    trigger: SurveyTrigger | None = Field(
        default=None, description="invite by itself after this interaction while active"
    )
    period_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="trigger periodic only: ask each consenting customer again after this many days",
    )
    questions: list[QuestionIn] | None = Field(
        default=None, min_length=1, max_length=50, description="default: the kind's template"
    )


class QuestionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[QuestionIn] = Field(min_length=1, max_length=50)


class SurveyOut(BaseModel):
    id: int
    name: str
    kind: SurveyKind
    status: SurveyStatus
    trigger: SurveyTrigger | None
    period_days: int | None
    public_link_enabled: bool
    public_path: str | None = Field(
        description="the anonymous public link /s/p/{token} while enabled, else null"
    )
    version_id: int
    version: int = Field(description="the number of the newest version")
    published_at: datetime | None = Field(description="when the newest version was published")
    questions: list[QuestionIn]
    created_at: datetime


class PublicLinkIn(BaseModel):
    """Turn a survey's anonymous public link on or off, or give it a new token."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
    rotate: bool = Field(default=False, description="a new link; the old one stops working")


class InvitationIn(BaseModel):
    """Invite one customer; the source says what the feedback is about and whom it credits."""

    model_config = ConfigDict(extra="forbid")

    customer_id: RowId
    channel: ConsentChannel = Field(
        description="where the invitation goes (not 'any'); chat answers with a message to post"
    )
    touchpoint_id: RowId | None = None
    order_id: RowId | None = None
    conversation_id: RowId | None = None
    agent_id: RowId | None = Field(default=None, description="the user who served the customer")
    team: str | None = Field(default=None, min_length=1, max_length=100)
    valid_days: int = Field(default=14, ge=1, le=90)
    send_email: bool = Field(
        default=False,
        description="email the link by a background job with retries (channel email; needs "
        "OPENCX_SMTP_HOST); send_status tells how it went",
    )


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    survey_id: int
    customer_id: int | None = Field(description="null for a respondent of the public link")
    channel: str
    language: str
    touchpoint_id: int | None
    order_id: int | None
    conversation_id: int | None
    agent_id: int | None
    team: str | None
    expires_at: datetime
    sent_at: datetime | None
    send_status: EmailSendStatus | None = Field(
        description="queued, sending, sent or failed when OpenCX emails it; null otherwise"
    )
    send_attempts: int = Field(description="SMTP hand-overs tried")
    send_error: str | None = Field(description="why the last attempt failed")
    next_send_at: datetime | None = Field(description="when the next attempt is due")
    reminded_at: datetime | None = Field(description="when the one reminder email went out")
    token: str = Field(description="signed; the public page is /s/{token}")
    path: str
    url: str = Field(default="", description="the full link, as the server was reached")
    chat_message: str | None = Field(
        default=None,
        description="channel chat: the text with the link, in the customer's language, to post",
    )


class ResponseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    invitation_id: int
    survey_id: int
    version_id: int
    customer_id: int | None
    kind: SurveyKind
    channel: str
    language: str
    touchpoint_id: int | None
    agent_id: int | None
    team: str | None
    score: int | None
    answers: dict[str, Any]
    completed: bool
    submitted_at: datetime


class InteractionIn(BaseModel):
    """An interaction that happened (an order placed, a delivery delivered, a chat resolved)."""

    model_config = ConfigDict(extra="forbid")

    trigger: SurveyTrigger
    customer_id: RowId
    channel: ConsentChannel = Field(
        default=ConsentChannel.email, description="where the invitation would go (not 'any')"
    )
    touchpoint_id: RowId | None = None
    order_id: RowId | None = None
    conversation_id: RowId | None = None
    agent_id: RowId | None = None
    team: str | None = Field(default=None, min_length=1, max_length=100)


class SkippedSurvey(BaseModel):
    survey_id: int
    reason: str


class TriggerReport(BaseModel):
    """What an interaction caused: invitations made, and surveys that did not invite, with why."""

    invited: list[InvitationOut] = Field(default_factory=list)
    skipped: list[SkippedSurvey] = Field(default_factory=list)


class InvitationImport(BaseModel):
    """One invitation of a bulk import at its moment: to a survey, or by an interaction's trigger."""

    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime = Field(description="when the invitation was made (or the interaction was)")
    survey_id: RowId | None = Field(
        default=None, description="with invitation, as create_invitation"
    )
    invitation: InvitationIn | None = None
    interaction: InteractionIn | None = Field(
        default=None, description="instead: invite as record_interaction would"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if self.interaction is None and (self.survey_id is None or self.invitation is None):
            raise ValueError("give survey_id and invitation, or interaction")
        if self.interaction is not None and (self.survey_id or self.invitation):
            raise ValueError("give survey_id and invitation, or interaction, not both")
        return self


class DispatchReport(BaseModel):
    """What one round of due survey work did, over every organization."""

    periodic_invited: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    reminded: int = 0


# ---- the CX team's pages: builder, results, comments ----------------------------------------


class SurveyEditIn(BaseModel):
    """What the builder saves: name, trigger and the newest version's questions."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    trigger: SurveyTrigger | None = None
    period_days: int | None = Field(default=None, ge=1, le=3650)
    questions: list[QuestionIn] = Field(min_length=1, max_length=50)


class Headline(BaseModel):
    """A survey's figure over a period: NPS, CSAT (% satisfied), CES or mean score, 95% interval."""

    label: str
    value: float
    low: float | None
    high: float | None
    responses: int
    unit: str = ""


class SurveyOverview(BaseModel):
    survey: SurveyOut
    responses: int = Field(description="responses stored, answered completely or partly")
    headline: Headline | None


class TrendWeek(BaseModel):
    week_start: date
    responses: int
    value: float
    low: float | None
    high: float | None


class ScoreBar(BaseModel):
    score: int
    responses: int
    group: str = Field(
        description="detractor/passive/promoter (NPS) or low/neutral/high; '' custom"
    )


class BreakdownRow(BaseModel):
    """A survey's figure for one group of the breakdown (a touchpoint, agent, country...)."""

    key: int | str | None = Field(description="the group's id or value; null: none recorded")
    name: str
    responses: int
    value: float
    low: float | None
    high: float | None


class ResponseRate(BaseModel):
    invitations: int
    responses: int = Field(description="invitations answered completely")
    rate: float | None
    low: float | None
    high: float | None


class FeedbackItem(BaseModel):
    """One response as the team sees it: score, free-text answers and where it came from."""

    response_id: int
    survey_id: int
    survey_name: str
    kind: SurveyKind
    score: int | None
    completed: bool
    customer_id: int | None
    customer_name: str
    touchpoint_id: int | None
    touchpoint_name: str
    agent_id: int | None
    agent_name: str
    language: str
    submitted_at: datetime
    comments: list[tuple[str, str]] = Field(description="(question text in English, answer)")


class LiveFeed(BaseModel):
    """The newest responses; `stamp` changes whenever a matching response is added or updated."""

    stamp: str
    responses: int
    items: list[FeedbackItem]


class SurveyResults(BaseModel):
    survey: SurveyOut
    start: date
    end: date = Field(description="exclusive")
    weeks: int
    headline: Headline | None
    response_rate: ResponseRate
    trend: list[TrendWeek]
    distribution: list[ScoreBar]
    breakdown_by: str = Field(description="touchpoint, channel, agent, team, country, segment...")
    breakdown: list[BreakdownRow]
    live: LiveFeed


class NpsGroup(enum.StrEnum):
    promoter = "promoter"
    passive = "passive"
    detractor = "detractor"


class CommentFilter(BaseModel):
    """Which free-text answers the comments page lists; every criterion is optional."""

    model_config = ConfigDict(extra="forbid")

    survey_id: int | None = None
    score_min: int | None = Field(default=None, ge=0, le=10)
    score_max: int | None = Field(default=None, ge=0, le=10)
    group: NpsGroup | None = Field(default=None, description="NPS group: a score range")
    touchpoint_id: int | None = None
    agent_id: int | None = None
    language: str | None = Field(default=None, max_length=8)


class CommentPage(BaseModel):
    items: list[FeedbackItem]
    page: int
    page_size: int
    has_next: bool
    stamp: str
    surveys: list[tuple[int, str]]
    touchpoints: list[tuple[int, str]]
    agents: list[tuple[int, str]]
