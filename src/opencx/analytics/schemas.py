"""Pydantic shapes of sync reports and metric rows."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class SyncReport(BaseModel):
    copied: dict[str, int] = Field(
        default_factory=dict, description="rows new or changed since the last sync, per table"
    )
    removed: dict[str, int] = Field(
        default_factory=dict,
        description="rows gone from the operational store, per table (found by full syncs only)",
    )

    @property
    def total(self) -> int:
        return sum(self.copied.values())


class UnitsSoldWeek(BaseModel):
    product_id: int
    sku: str
    product_name: str
    week_start: date = Field(description="Monday of the ISO week (UTC)")
    units: int
    orders: int


class TouchpointEventsDay(BaseModel):
    touchpoint_id: int
    touchpoint_key: str
    touchpoint_name: str
    day: date = Field(description="UTC date")
    events: int
    customers: int = Field(description="distinct known customers; anonymous events not counted")


class LateDeliveriesWeek(BaseModel):
    week_start: date = Field(description="Monday of the ISO week (UTC) of the promised date")
    deliveries: int
    late: int = Field(
        description="delivered after the promise, or not delivered and the promise has passed"
    )
    late_share: float = Field(ge=0, le=1)


SurveyMetricName = Literal["nps", "csat", "ces", "response_rate"]
SurveyDimension = Literal[
    "all", "touchpoint", "channel", "agent", "team", "country", "segment", "survey", "language"
]
PeriodGrain = Literal["week", "month", "none"]
GroupKey = int | str | None


class SurveyScore(BaseModel):
    """One survey metric for one group and period, with its 95% interval."""

    metric: SurveyMetricName
    by: SurveyDimension
    key: GroupKey = Field(
        description="touchpoint, agent or survey id, or the channel, team, country, segment or "
        "language; null: responses without one"
    )
    label: str = Field(description="the group as people read it (touchpoint or agent name)")
    period_start: date = Field(
        description="Monday of the ISO week, first of the month, or the start (grain none)"
    )
    responses: int = Field(
        description="scored responses; for response_rate the invitations answered completely"
    )
    invitations: int | None = Field(default=None, description="response_rate only")
    value: float = Field(
        description="NPS (-100..100), CSAT share of 4-5 (0..1), CES mean (1..7) or response rate"
    )
    low: float | None = Field(description="95% interval, lower bound; null when unknown")
    high: float | None = Field(description="95% interval, upper bound; null when unknown")
    promoters: int | None = Field(default=None, description="NPS only: scores 9-10")
    passives: int | None = Field(default=None, description="NPS only: scores 7-8")
    detractors: int | None = Field(default=None, description="NPS only: scores 0-6")
    promoter_share: float | None = None
    passive_share: float | None = None
    detractor_share: float | None = None
    satisfied: int | None = Field(default=None, description="CSAT only: answers 4-5 of 5")


class ScoreChange(BaseModel):
    """A difference B - A of one metric between two samples, and whether it is significant."""

    difference: float
    difference_low: float = Field(description="95% interval of the difference, lower bound")
    difference_high: float = Field(description="95% interval of the difference, upper bound")
    standard_error: float
    z: float
    p_value: float = Field(ge=0, le=1, description="two-sided")
    significant: bool = Field(description="p < 0.05")


class SurveyScoreChange(BaseModel):
    """One group's metric in period A and period B, and the change from A to B."""

    metric: SurveyMetricName
    by: SurveyDimension
    key: GroupKey
    label: str
    a: SurveyScore | None = Field(description="period A; null: no responses then")
    b: SurveyScore | None = Field(description="period B; null: no responses then")
    change: ScoreChange | None = Field(
        description="null when either period has no responses, or neither shows any spread"
    )

    @property
    def significant(self) -> bool:
        return self.change is not None and self.change.significant


class AgentFeedbackSummary(BaseModel):
    """One agent's NPS and CSAT this period, the change from the previous one, and the trend."""

    user_id: int
    name: str
    nps: SurveyScoreChange | None = Field(description="a: previous period, b: this period")
    csat: SurveyScoreChange | None = Field(description="a: previous period, b: this period")
    nps_trend: list[float | None] = Field(description="NPS per week of `weeks`; null: none")


class AgentFeedbackOverview(BaseModel):
    start: date
    end: date = Field(description="exclusive")
    previous_start: date = Field(description="the previous period is [previous_start, start)")
    weeks: list[date] = Field(description="Mondays of the weeks in the period")
    agents: list[AgentFeedbackSummary]


class TouchpointFeedback(BaseModel):
    touchpoint_id: int | None
    label: str
    nps: SurveyScore | None
    csat: SurveyScore | None


class AgentFeedback(BaseModel):
    """One agent's feedback: totals with the change, the trend per week, and per touchpoint."""

    user_id: int
    name: str
    start: date
    end: date = Field(description="exclusive")
    previous_start: date
    weeks: list[date]
    nps: SurveyScoreChange | None
    csat: SurveyScoreChange | None
    nps_trend: list[SurveyScore | None] = Field(description="per week of `weeks`")
    csat_trend: list[SurveyScore | None] = Field(description="per week of `weeks`")
    touchpoints: list[TouchpointFeedback]
    comments_path: str


class NpsWeek(BaseModel):
    touchpoint_id: int | None = Field(description="null: responses not tied to a touchpoint")
    week_start: date = Field(description="Monday of the ISO week (UTC) of the response")
    responses: int
    promoters: int = Field(description="scores 9-10")
    passives: int = Field(description="scores 7-8")
    detractors: int = Field(description="scores 0-6")
    promoter_share: float = Field(ge=0, le=1)
    passive_share: float = Field(ge=0, le=1)
    detractor_share: float = Field(ge=0, le=1)
    nps: float = Field(ge=-100, le=100)
    nps_low: float = Field(ge=-100, le=100, description="95% confidence interval, lower bound")
    nps_high: float = Field(ge=-100, le=100, description="95% confidence interval, upper bound")


class CsatWeek(BaseModel):
    touchpoint_id: int | None = Field(description="null: responses not tied to a touchpoint")
    week_start: date = Field(description="Monday of the ISO week (UTC) of the response")
    responses: int
    satisfied: int = Field(description="answers 4 or 5 of 5")
    satisfied_share: float = Field(ge=0, le=1, description="the CSAT")
    share_low: float = Field(ge=0, le=1, description="95% Wilson interval, lower bound")
    share_high: float = Field(ge=0, le=1, description="95% Wilson interval, upper bound")


class CesWeek(BaseModel):
    touchpoint_id: int | None = Field(description="null: responses not tied to a touchpoint")
    week_start: date = Field(description="Monday of the ISO week (UTC) of the response")
    responses: int
    mean_score: float = Field(description="mean of 1-7, higher is easier")
    score_sum: int = Field(description="sum of the scores (to combine weeks or touchpoints)")
    score_square_sum: int = Field(description="sum of the squared scores")
    mean_low: float | None = Field(description="95% interval, lower bound; null for one response")
    mean_high: float | None = Field(description="95% interval, upper bound; null for one response")


class ResponseRateWeek(BaseModel):
    touchpoint_id: int | None = Field(description="null: invitations not tied to a touchpoint")
    week_start: date = Field(description="Monday of the ISO week (UTC) of the invitation")
    invitations: int
    responses: int = Field(description="invitations answered completely")
    response_rate: float = Field(ge=0, le=1)
    rate_low: float = Field(ge=0, le=1, description="95% Wilson interval, lower bound")
    rate_high: float = Field(ge=0, le=1, description="95% Wilson interval, upper bound")


FollowUpGrouping = Literal["week", "owner", "team"]


class FollowUpWeek(BaseModel):
    week_start: date = Field(description="Monday of the ISO week (UTC) the follow-ups opened")
    owner_id: int | None = Field(default=None, description="with by=owner; null: unassigned")
    team: str | None = Field(default=None, description="with by=team; null: no team")
    follow_ups: int = Field(description="opened that week, not cancelled")
    contacted: int
    closed: int = Field(description="resolved by now")
    closed_within_48h: int = Field(description="resolved at most 48 hours after opening")
    closed_within_48h_share: float = Field(ge=0, le=1, description="of all opened that week")
    share_low: float = Field(ge=0, le=1, description="95% Wilson interval, lower bound")
    share_high: float = Field(ge=0, le=1, description="95% Wilson interval, upper bound")
    median_hours_to_close: float | None = Field(description="of those resolved; null if none")
    mean_hours_to_close: float | None = Field(description="of those resolved; null if none")


class ScoreCount(BaseModel):
    survey_id: int
    kind: str = Field(description="nps, csat, ces or custom")
    score: int
    responses: int


TextDimension = Literal["touchpoint", "channel", "agent"]
TextSourceKindName = Literal["survey_answer", "conversation_message"]


class TextSentiment(BaseModel):
    """Sentiment of analysed comments and/or customer messages in one group and period."""

    by: str
    key: GroupKey = Field(description="touchpoint or agent id, or the channel; null: none")
    label: str
    period_start: date = Field(description="Monday of the ISO week, first of the month, or start")
    texts: int
    negative: int
    neutral: int
    positive: int
    negative_share: float = Field(ge=0, le=1)
    neutral_share: float = Field(ge=0, le=1)
    positive_share: float = Field(ge=0, le=1)
    mean_score: float = Field(description="mean sentiment score, from -1 to 1")


class TextEmotions(BaseModel):
    """Plutchik's eight emotions of analysed texts in one group and period."""

    by: str
    key: GroupKey
    label: str
    period_start: date
    texts: int
    mean: dict[str, float] = Field(description="emotion -> mean probability")
    share: dict[str, float] = Field(
        description="emotion -> share of texts where it is present (probability >= 0.35)"
    )


class FeelingsWeek(BaseModel):
    week_start: date
    sentiment: TextSentiment | None = Field(description="all groups together; null: no texts")


class CustomerFeelings(BaseModel):
    """How customers feel: sentiment per week, and sentiment and emotions per group."""

    start: date
    end: date = Field(description="exclusive")
    by: str
    source_kind: str | None
    weeks: list[FeelingsWeek]
    sentiment: list[TextSentiment] = Field(description="per group, the whole period")
    emotions: list[TextEmotions] = Field(description="per group, the whole period")
    by_agent: list[TextSentiment] = Field(description="per agent, the whole period")


ServiceDeskDimension = Literal["channel", "team", "agent", "all"]


class ServiceDeskMeasures(BaseModel):
    """The service desk's measures for one group (channel, team, agent) and period.

    Conversations count in the period they started (the customer's first message); responses
    in the period they were sent. Times are in seconds from the start.
    """

    by: ServiceDeskDimension
    key: GroupKey = Field(
        description="channel, team, agent (user id), or 'all'; null: conversations without one"
    )
    label: str
    period_start: date = Field(
        description="Monday of the ISO week, first of the month, or the start (grain none)"
    )
    conversations: int = Field(
        default=0, description="started in the period (merged ones left out)"
    )
    answered: int = Field(default=0, description="with a first reply by a person")
    first_response_median_seconds: float | None = Field(
        default=None, description="median time to the first human reply; null: none answered"
    )
    first_response_p90_seconds: int | None = Field(
        default=None, description="90th percentile (nearest rank) of the first response time"
    )
    first_response_mean_seconds: float | None = None
    resolved: int = Field(default=0, description="resolved or closed now")
    resolution_median_seconds: float | None = Field(
        default=None, description="median time to the (last) resolution of those resolved"
    )
    resolution_p90_seconds: int | None = None
    resolution_mean_seconds: float | None = None
    first_contact_resolved: int = Field(
        default=0,
        description="resolved, never reopened, and no new conversation of the customer on the "
        "same topic (a shared tag, or an untagged one) within 7 days",
    )
    first_contact_resolution_rate: float | None = Field(
        default=None, ge=0, le=1, description="of the resolved conversations"
    )
    ever_resolved: int = Field(default=0, description="resolved at least once")
    reopened: int = Field(default=0, description="reopened at least once")
    reopen_rate: float | None = Field(
        default=None, ge=0, le=1, description="of the conversations resolved at least once"
    )
    responses: int = Field(default=0, description="replies sent in the period, by people or bot")
    human_responses: int = 0
    bot_responses: int = 0
    human_share: float | None = Field(default=None, ge=0, le=1, description="of the responses")


class ServiceDeskReport(BaseModel):
    """A team lead's view: the whole desk, each group, and the desk per week of the period."""

    by: ServiceDeskDimension
    start: date
    end: date = Field(description="exclusive")
    weeks: list[date] = Field(description="Mondays of the weeks in the period")
    total: ServiceDeskMeasures | None = Field(description="null: nothing in the period")
    groups: list[ServiceDeskMeasures]
    trend: list[ServiceDeskMeasures | None] = Field(
        description="the whole desk per week of `weeks`"
    )
