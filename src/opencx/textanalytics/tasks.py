"""Background work: analyse pending texts batch by batch; relearn sentiment and topics on a schedule."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from opencx.auth import service as auth
from opencx.db import session_scope, utcnow
from opencx.textanalytics import service

log = logging.getLogger(__name__)


def enrich_texts(org_id: int) -> dict[str, int]:
    """Analyse an organization's pending texts, one transaction per batch; submit via opencx.jobs.

    Stops when nothing is pending or a round analysed nothing (what is left waits for its retry).
    """
    totals = {"analyzed": 0, "failed": 0, "removed": 0}
    while True:
        with session_scope() as session:
            report = service.analyze_pending_texts(session, org_id=org_id)
        for name in totals:
            totals[name] += getattr(report, name)
        if report.pending == 0 or report.analyzed == 0:
            return totals


def learn_sentiment(org_id: int) -> None:
    """Relearn an organization's sentiment models; submit via opencx.jobs."""
    with session_scope() as session:
        service.train_organization_sentiment(session, org_id=org_id)


def learn_topics(org_id: int) -> None:
    """Relearn an organization's topics from its analysed texts and assign them; via opencx.jobs."""
    with session_scope() as session:
        service.learn_organization_topics(session, org_id=org_id)


def _learning_due(org_id: int, every: timedelta) -> bool:
    with session_scope() as session:
        models = service.list_sentiment_models(session, org_id=org_id)
    return not models or min(m.trained_at for m in models) + every <= utcnow()


def _topic_learning_due(org_id: int, every: timedelta) -> bool:
    with session_scope() as session:
        models = service.list_topic_models(session, org_id=org_id)
    return not models or min(m.trained_at for m in models) + every <= utcnow()


def enrich_and_learn_periodically(
    *, enrichment_seconds: float, learning_hours: float, stop: threading.Event
) -> None:
    """While the server runs: relearn each organization's sentiment when due, analyse its new
    texts, then relearn its topics when due.

    A failed round is logged and the next one tries again; texts are never touched.
    """
    every = timedelta(hours=learning_hours)
    while not stop.is_set():
        try:
            with session_scope() as session:
                org_ids = auth.list_organization_ids(session)
            for org_id in org_ids:
                if stop.is_set():
                    break
                if learning_hours and _learning_due(org_id, every):
                    learn_sentiment(org_id)
                if enrichment_seconds:
                    enrich_texts(org_id)
                # topics are learned from analysed texts, so after the enrichment round
                if learning_hours and _topic_learning_due(org_id, every):
                    learn_topics(org_id)
        except Exception:
            log.exception("text analytics round failed; retrying in %s s", enrichment_seconds)
        stop.wait(enrichment_seconds or 60)
