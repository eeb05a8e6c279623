"""Pydantic shapes of the journey map, the pain-point ranking and UX tasks."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

EVENT_TYPE = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class TouchpointOnMap(BaseModel):
    """One touchpoint of a stage: who came, how, and how they felt."""

    touchpoint_id: int
    key: str
    name: str
    channel: str
    is_online: bool
    events: int
    customers: int = Field(description="distinct known customers")
    sessions: int
    devices: dict[str, int] = Field(description="events per device ('none': not given)")
    nps: float | None = None
    nps_responses: int = 0
    csat: float | None = Field(None, description="share satisfied (4-5 of 5)")
    csat_responses: int = 0
    ces: float | None = Field(None, description="mean score, 1-7, higher is easier")
    ces_responses: int = 0
    sentiment: float | None = Field(
        None, description="mean sentiment score of analysed comments and messages there, -1 to 1"
    )


class StageOnMap(BaseModel):
    stage: str
    customers: int = Field(description="distinct customers who reached the stage in the period")
    converted: int = Field(description="of them, those who reached the next stage afterwards")
    conversion: float | None = Field(description="converted / customers; None for the last stage")
    drop_off: float | None
    median_hours_to_next: float | None
    online_events: int
    physical_events: int
    touchpoints: list[TouchpointOnMap]


class JourneyMap(BaseModel):
    start: date
    end: date
    segment: str | None
    country: str | None
    stages: list[StageOnMap]


class PainPointWeek(BaseModel):
    week_start: date
    customers: int
    negatives: int
    impact: float


class PainComment(BaseModel):
    """What a customer wrote at the touchpoint (a complaint, a chat, a review)."""

    occurred_at: str
    type: str
    text: str


class PainPoint(BaseModel):
    """A touchpoint ranked by impact = reach x negative rate x (1 + later detractor share)."""

    touchpoint_id: int
    key: str
    name: str
    stage: str
    reach: int = Field(description="known customers there, counted once per ISO week")
    events: int
    complaints: int
    conversations: int
    errors: int
    low_reviews: int
    low_scores: int
    responses: int
    late_customers: int
    negatives: int = Field(
        description="complaints + conversations + errors + low reviews/scores + late"
    )
    negative_rate: float
    later_detractor_share: float | None = Field(
        description="of customers answering an NPS survey within 30 days after, the share 0-6"
    )
    impact: float
    score: float = Field(description="impact relative to the top pain point, 0-100")
    weeks: list[PainPointWeek]
    comments: list[PainComment] = Field(default_factory=list)


class PainPointRanking(BaseModel):
    start: date
    end: date
    segment: str | None = Field(default=None, description="only customers in the segment")
    country: str | None = Field(default=None, description="only customers of the country")
    pain_points: list[PainPoint]


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    start_event: str = Field(min_length=1, max_length=100, pattern=EVENT_TYPE)
    success_event: str = Field(min_length=1, max_length=100, pattern=EVENT_TYPE)
    error_events: list[str] = Field(default_factory=list, max_length=20)
    abandon_after_seconds: int | None = Field(None, ge=1, le=30 * 86400)


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    start_event: str
    success_event: str
    error_events: list[str]
    abandon_after_seconds: int | None


class TaskFigures(BaseModel):
    """One group's attempts: rates of success, errors and abandonment, time and clicks."""

    group: str | None = Field(description="device, channel or week; None: all attempts")
    attempts: int
    successes: int
    success_rate: float
    error_rate: float = Field(description="share of attempts with at least one error event")
    abandonment_rate: float
    median_seconds: float | None
    p90_seconds: float | None
    mean_clicks: float | None = Field(description="events from start to success, successes only")


class TaskReport(BaseModel):
    task: TaskOut
    start: date
    end: date
    overall: TaskFigures | None
    by_device: list[TaskFigures]
    by_channel: list[TaskFigures]
    weeks: list[TaskFigures]


class MapPage(BaseModel):
    """The journey map page: the map and the values its filters offer."""

    map: JourneyMap
    countries: list[str]
    segments: list[str]


class PainPointsPage(BaseModel):
    """The pain-points page: the ranking and the values its filters offer."""

    ranking: PainPointRanking
    countries: list[str]
    segments: list[str]


class TasksPage(BaseModel):
    """The tasks page: every task definition and the report of the chosen one."""

    tasks: list[TaskOut]
    report: TaskReport | None
