"""Live updates: events reach subscribers only once their transaction commits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from opencx.db import get_sessionmaker
from opencx.live import hub, publish_after_commit


def test_an_event_is_published_on_commit_and_dropped_on_rollback(settings_env: Path) -> None:
    async def scenario() -> list[dict[str, object]]:
        with hub.subscription("inbox:test") as subscription:
            session = get_sessionmaker()()
            try:
                # when a use case queues an event and its transaction rolls back
                publish_after_commit(session, "inbox:test", {"n": 1})
                session.rollback()
                # and another queues one and commits
                publish_after_commit(session, "inbox:test", {"n": 2})
                session.commit()
            finally:
                session.close()
            await asyncio.sleep(0)  # let call_soon_threadsafe run
            received = []
            while not subscription.queue.empty():
                received.append(subscription.queue.get_nowait())
            return received

    # then only the committed one arrives
    assert asyncio.run(scenario()) == [{"n": 2}]
    # and the topic is gone once nobody listens
    assert hub.count("inbox:test") == 0
