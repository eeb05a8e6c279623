"""Pydantic shapes of sync reports and metric rows."""

from __future__ import annotations

from datetime import date

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
