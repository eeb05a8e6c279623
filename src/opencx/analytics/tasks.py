"""Background work of the analytics engine."""

from __future__ import annotations

import logging
import threading

from opencx.analytics.sync import sync_to_analytics

log = logging.getLogger(__name__)


def sync_job(full: bool = False) -> dict[str, int]:
    """Copy new and changed operational rows into the analytics store; submit via opencx.jobs."""
    return sync_to_analytics(full=full).copied


def sync_periodically(*, interval_seconds: float, stop: threading.Event) -> None:
    """Keep the analytics store fresh while the server runs; a failed round is logged and retried."""
    while not stop.is_set():
        try:
            sync_to_analytics()
        except Exception:
            log.exception("analytics sync failed; retrying in %s s", interval_seconds)
        stop.wait(interval_seconds)
