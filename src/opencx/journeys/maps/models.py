"""UX task definitions: which events start a task, end it well, or show an error."""

from __future__ import annotations

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db import Base, OrgRecord


class JourneyTask(OrgRecord, Base):
    """A task customers try to do ("checkout"), measured from the event stream."""

    __tablename__ = "journey_tasks"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_journey_task_name"),)

    name: Mapped[str] = mapped_column(String(100))
    start_event: Mapped[str] = mapped_column(String(100))
    success_event: Mapped[str] = mapped_column(String(100))
    error_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # An attempt not finished within this many seconds counts as abandoned; None: no limit.
    abandon_after_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
