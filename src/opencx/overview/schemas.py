"""Pydantic shape of the overview dashboard."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from opencx.commerce.schemas import OrdersWeek
from opencx.surveys.follow_ups.schemas import FollowUpSummary


class Overview(BaseModel):
    """Headline figures of one organization, live from the operational store."""

    as_of: datetime
    customers: int = Field(description="active profiles: not merged away, not erased")
    orders_last_30_days: int
    late_deliveries_last_30_days: int = Field(
        description="promised in the last 30 days and delivered late or not yet delivered"
    )
    events_last_7_days: int
    orders_per_week: list[OrdersWeek] = Field(description="the last 26 ISO weeks, oldest first")
    follow_ups_last_30_days: FollowUpSummary = Field(
        description="the closed loop: detractors' follow-ups opened in the last 30 days"
    )

    @property
    def is_empty(self) -> bool:
        """Nothing imported yet: no customers, orders or events."""
        return not (
            self.customers
            or self.events_last_7_days
            or any(week.orders for week in self.orders_per_week)
        )
