"""Live updates: publish events to topics once their transaction commits; sockets subscribe.

In-process by default: one server process holds every subscriber, which is what `opencx
serve` runs. Several workers or hosts need a shared bus (Redis pub/sub) instead; not built yet.
Publishing happens from worker threads (sync handlers), subscribers live on an event loop, so
each subscriber's queue is fed through its loop's `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

Event = dict[str, Any]
_PENDING = "opencx_live_pending"
# A subscriber that stops reading loses events beyond this, never blocks the publisher.
QUEUE_LIMIT = 1000


class Subscription:
    """One socket's view of some topics: events arrive in `queue` in publishing order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=QUEUE_LIMIT)

    def _offer(self, item: Event) -> None:
        if not self.queue.full():
            self.queue.put_nowait(item)

    def deliver(self, item: Event) -> None:
        self.loop.call_soon_threadsafe(self._offer, item)


class LiveHub:
    """Topics to subscribers, in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[str, set[Subscription]] = {}

    def publish(self, topic: str, item: Event) -> int:
        """Hand `item` to every subscriber of `topic`; returns how many there were."""
        with self._lock:
            subscribers = list(self._topics.get(topic, ()))
        for subscriber in subscribers:
            try:
                subscriber.deliver(item)
            except RuntimeError:  # its loop has closed: the socket is gone
                self.unsubscribe(subscriber, topic)
        return len(subscribers)

    def subscribe(self, subscription: Subscription, topic: str) -> None:
        with self._lock:
            self._topics.setdefault(topic, set()).add(subscription)

    def unsubscribe(self, subscription: Subscription, topic: str) -> None:
        with self._lock:
            subscribers = self._topics.get(topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._topics[topic]

    def count(self, topic: str) -> int:
        with self._lock:
            return len(self._topics.get(topic, ()))

    @contextmanager
    def subscription(self, *topics: str) -> Iterator[Subscription]:
        """Subscribe the calling event loop to `topics` for the block's duration."""
        subscription = Subscription(asyncio.get_running_loop())
        for topic in topics:
            self.subscribe(subscription, topic)
        try:
            yield subscription
        finally:
            for topic in topics:
                self.unsubscribe(subscription, topic)


hub = LiveHub()


def publish_after_commit(session: Session, topic: str, item: Event) -> None:
    """Publish `item` when `session` commits; a rollback drops it, so no one sees unstored data."""
    if not session.in_transaction():
        session.begin()  # so that a rollback of this unit of work is seen, even before any SQL
    session.info.setdefault(_PENDING, []).append((topic, item))


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    for topic, item in session.info.pop(_PENDING, []):
        hub.publish(topic, item)


# "soft": fires on every rollback() call, even one before any SQL ran (after_rollback does not).
@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_PENDING, None)
