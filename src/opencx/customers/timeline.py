"""The customer timeline: every domain contributes entries through a registered source.

A domain registers a function `(session, org_id, customer_ids) -> list[TimelineEntry]` with
`register_timeline_source`; the timeline merges all sources in time order. Adding conversations
or survey responses later means registering one more source, not changing this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session


class TimelineEntry(BaseModel):
    occurred_at: datetime
    kind: str = Field(description="event, order, delivery, consent, conversation, feedback, ...")
    title: str
    detail: str = ""
    source_id: str = Field(description="the id of the row this entry shows, within its kind")
    data: dict[str, Any] = Field(default_factory=dict)


TimelineSource = Callable[[Session, int, list[int]], list[TimelineEntry]]
_sources: dict[str, TimelineSource] = {}


def register_timeline_source(name: str, source: TimelineSource) -> None:
    """Add (or replace) a named source of timeline entries."""
    _sources[name] = source


def collect_timeline(
    session: Session, *, org_id: int, customer_ids: list[int], limit: int = 500
) -> list[TimelineEntry]:
    """All entries for these customer ids (a profile and those merged into it), newest first."""
    entries: list[TimelineEntry] = []
    for source in _sources.values():
        entries.extend(source(session, org_id, customer_ids))
    entries.sort(key=lambda e: e.occurred_at, reverse=True)
    return entries[:limit]
