"""Saved funnels: ordered steps, a conversion window and an optional breakdown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db import Base, OrgRecord


class SavedFunnel(OrgRecord, Base):
    __tablename__ = "saved_funnels"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_saved_funnel_name"),)

    name: Mapped[str] = mapped_column(String(200))
    # [{"touchpoint_key": "web-checkout" | null, "event_type": "checkout_start" | null}, ...]
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    window_seconds: Mapped[int] = mapped_column(Integer)
    breakdown: Mapped[str | None] = mapped_column(String(20), default=None)
