"""Paths and funnels in and out: filters, funnel definitions, and their computed results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Breakdown = Literal["device", "channel", "country"]
Direction = Literal["after", "before"]
MAX_STEPS = 8
MAX_WINDOW_SECONDS = 90 * 86400


class JourneyFilter(BaseModel):
    """Which events count; each filter left empty counts every event."""

    segment: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=2)
    channel: str | None = Field(default=None, max_length=50)
    device: str | None = Field(default=None, max_length=50)


class FunnelStepIn(BaseModel):
    """An event matches the step when it is at this touchpoint, of this type, or both."""

    model_config = ConfigDict(extra="forbid")

    touchpoint_key: str | None = Field(default=None, min_length=1, max_length=100)
    event_type: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _names_something(self) -> FunnelStepIn:
        if self.touchpoint_key is None and self.event_type is None:
            raise ValueError("a step needs a touchpoint_key, an event_type or both")
        return self


class FunnelDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[FunnelStepIn] = Field(min_length=2, max_length=MAX_STEPS)
    window_seconds: int = Field(default=86400, ge=60, le=MAX_WINDOW_SECONDS)
    breakdown: Breakdown | None = None


class FunnelIn(FunnelDefinition):
    name: str = Field(min_length=1, max_length=200)


class FunnelOut(FunnelIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime


class FunnelQuery(FunnelDefinition):
    """An unsaved funnel computed over [start, end) for the events passing `filter`."""

    start: date
    end: date
    filter: JourneyFilter = Field(default_factory=JourneyFilter)


class FunnelStepResult(BaseModel):
    step: int
    label: str
    visitors: int
    conversion: float = Field(description="share of step-1 visitors who reached this step")
    step_conversion: float = Field(description="share of the previous step's visitors")
    drop_off: int = Field(description="visitors of the previous step who did not reach this one")
    median_seconds: float | None = Field(
        description="median time from the previous step, of visitors who reached this one"
    )


class FunnelGroup(BaseModel):
    group: str | None = Field(description="the breakdown's value; null: all visitors or unknown")
    steps: list[FunnelStepResult]


class FunnelResult(BaseModel):
    start: date
    end: date
    window_seconds: int
    breakdown: Breakdown | None
    total: FunnelGroup
    groups: list[FunnelGroup]


class Transition(BaseModel):
    from_touchpoint_id: int
    from_touchpoint: str
    to_touchpoint_id: int
    to_touchpoint: str
    transitions: int
    share: float = Field(description="share of all transitions in the period")


class TransitionsResult(BaseModel):
    start: date
    end: date
    total: int
    transitions: list[Transition]


class PathRow(BaseModel):
    touchpoints: list[str] = Field(description="the steps in time order; ends where it ended")
    sessions: int
    share: float


class SankeyNode(BaseModel):
    name: str


class SankeyLink(BaseModel):
    source: str
    target: str
    value: int


class PathsResult(BaseModel):
    start: date
    end: date
    touchpoint_key: str
    direction: Direction
    steps: int
    sessions: int = Field(description="sessions that visited the touchpoint")
    paths: list[PathRow]
    nodes: list[SankeyNode]
    links: list[SankeyLink]
