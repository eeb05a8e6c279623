"""Pydantic shapes of the overview dashboard: its filters, its sections' data, a chart's table."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from opencx.analytics.schemas import ScoreChange, ServiceDeskMeasures, SurveyScore, TextSentiment
from opencx.commerce.schemas import OrdersWeek
from opencx.journeys.maps.schemas import PainPoint
from opencx.surveys.follow_ups.schemas import FollowUpSummary

PeriodChoice = Literal["7d", "30d", "90d", "custom"]
PERIOD_DAYS = {"7d": 7, "30d": 30, "90d": 90}


class OverviewFilters(BaseModel):
    """What every tile of the overview shows: a period of whole UTC days and whose customers.

    `start` and `end` (exclusive) are resolved from `period` and today, or given for "custom".
    The previous period is the same number of days just before.
    """

    model_config = ConfigDict(frozen=True)

    period: PeriodChoice = "30d"
    start: date
    end: date = Field(description="the UTC day after the period (exclusive)")
    country: str | None = Field(default=None, max_length=64)
    segment: str | None = Field(default=None, max_length=100)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def previous_start(self) -> date:
        return self.start - timedelta(days=self.days)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        """The period as a file name part: 2026-11-01_2026-11-30."""
        return f"{self.start.isoformat()}_{self.last_day.isoformat()}"

    def query(self, **changes: str | None) -> dict[str, str]:
        """The filters as URL parameters (for links and the CSV downloads)."""
        params: dict[str, str | None] = {"period": self.period}
        if self.period == "custom":
            params |= {"start": self.start.isoformat(), "end": self.last_day.isoformat()}
        params |= {"country": self.country, "segment": self.segment} | changes
        return {key: value for key, value in params.items() if value}


class Activity(BaseModel):
    """Headline figures of the operational store (fixed windows, as their domains define them)."""

    customers: int = Field(description="active profiles in the country and segment filtered on")
    orders_last_30_days: int
    late_deliveries_last_30_days: int = Field(
        description="promised in the last 30 days and delivered late or not yet delivered"
    )
    events_last_7_days: int
    orders_per_week: list[OrdersWeek] = Field(description="the last 26 ISO weeks, oldest first")


class ScoreTile(BaseModel):
    """One survey metric over the period: value, 95% interval and change vs the previous period."""

    metric: Literal["nps", "csat", "ces", "response_rate"]
    name: str = Field(description="NPS, CSAT, CES or Response rate")
    current: SurveyScore | None = Field(description="null: no responses in the period")
    previous: SurveyScore | None = Field(description="null: no responses in the previous period")
    change: ScoreChange | None


class ScoreTrend(BaseModel):
    """A metric per ISO week of the period (weeks without responses left out)."""

    metric: str
    name: str
    weeks: list[SurveyScore]


class TouchpointScores(BaseModel):
    """NPS, CSAT and CES of one touchpoint over the period."""

    touchpoint_id: int | None
    name: str
    stage: str | None = Field(default=None, description="its journey stage; null: no touchpoint")
    nps: SurveyScore | None = None
    csat: SurveyScore | None = None
    ces: SurveyScore | None = None

    @property
    def responses(self) -> int:
        return sum(score.responses for score in (self.nps, self.csat, self.ces) if score)


class SurveyHealth(BaseModel):
    """The voice of the customer over the period, filtered by country and segment."""

    tiles: list[ScoreTile]
    trends: list[ScoreTrend]


class ScoresByTouchpoint(BaseModel):
    """NPS, CSAT and CES per touchpoint over the period, filtered by country and segment."""

    touchpoints: list[TouchpointScores] = Field(
        description="in journey order (awareness to loyalty), busiest first within a stage"
    )


class ClosedLoop(BaseModel):
    """Detractors' follow-ups opened in the period, of the country's and segment's customers."""

    summary: FollowUpSummary


class ChartTable(BaseModel):
    """Exactly the data one chart draws, as a table (served as CSV)."""

    filename: str
    columns: list[str]
    rows: list[list[str | int | float | None]]


class OverviewFilterChoices(BaseModel):
    countries: list[str]
    segments: list[str]


class SlaWeek(BaseModel):
    """SLA targets decided and met in time, of the conversations whose clock started that week."""

    week_start: date
    first_response_decided: int = 0
    first_response_met: int = 0
    resolution_decided: int = 0
    resolution_met: int = 0

    @staticmethod
    def share(met: int, decided: int) -> float | None:
        return met / decided if decided else None

    @property
    def first_response_attainment(self) -> float | None:
        return self.share(self.first_response_met, self.first_response_decided)

    @property
    def resolution_attainment(self) -> float | None:
        return self.share(self.resolution_met, self.resolution_decided)


class ServiceDesk(BaseModel):
    """SLA attainment and the desk's measures of the conversations started in the period, of
    the customers in the country and segment."""

    sla: SlaWeek = Field(description="the whole period (week_start: the period's first day)")
    sla_weeks: list[SlaWeek] = Field(description="per ISO week of the clock start, oldest first")
    desk: ServiceDeskMeasures | None = Field(description="None: no conversation in the period")


class Feelings(BaseModel):
    """Sentiment of the analysed comments and customer messages of the period, with its weekly
    trend (see the survey trend's weeks), of the customers in the country and segment."""

    period: TextSentiment | None = Field(description="None: no analysed text in the period")
    weeks: list[TextSentiment | None] = Field(description="one per week, None: no text")
    week_starts: list[date]


class TopPainPoints(BaseModel):
    """The touchpoints that hurt most in the period (journeys' pain-point ranking), from the
    experiences of the customers in the country and segment."""

    pain_points: list[PainPoint]
