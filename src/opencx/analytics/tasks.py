"""Background work of the analytics engine."""

from __future__ import annotations

from opencx.analytics.sync import sync_to_analytics


def sync_job(full: bool = False) -> dict[str, int]:
    """Copy new and changed operational rows into the analytics store; submit via opencx.jobs."""
    return sync_to_analytics(full=full).copied
