"""Benchmark: what routing adds to an inbound message, and how fast a waiting queue drains.

    .venv/bin/python benchmarks/routing_decisions.py [--messages 300] [--agents 30]
        [--threads 4] [--postgres ADMIN_URL]

In process, against a fresh SQLite file (or a fresh PostgreSQL database made through
ADMIN_URL and dropped afterwards). Two organizations get the same `--messages` chat messages
(each from a new visitor, so each is a new conversation), sent by `--threads` threads at once:
one organization has no routing, the other three teams by language with `--agents` agents
online (chat capacity 3 each, so part of the messages waits in the queues). It prints messages
per second for both, then sets every agent's capacity to 1,000 and times serving the queues.
It checks that no agent is ever over capacity and every conversation is stored.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from ingest_events import temporary_postgres

from opencx import migrate
from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.db import reset_caches, session_scope
from opencx.domains import load_domains

TEXTS = {
    "nl": "Goedemiddag, mijn pakket is nog steeds niet geleverd. Wanneer komt mijn bestelling?",
    "pl": "Dzień dobry, moja paczka jeszcze nie dotarła. Kiedy dostanę zamówienie?",
    "en": "Hello, my parcel has not arrived yet. When will my order be delivered?",
}


def _organization(slug: str, agents: int, routed: bool) -> tuple[int, list[int]]:
    from opencx.conversations.routing import service as routing
    from opencx.conversations.routing.models import Presence
    from opencx.conversations.routing.schemas import AgentRoutingIn, RuleIn, TeamIn

    with session_scope() as session:
        org = auth_service.create_organization(session, name=slug, slug=slug)
        users = [
            auth_service.create_user(
                session, org_id=org.id, email=f"a{n}@{slug}.example", name=f"Agent {n}",
                role=Role.agent, password="benchmark-password",
            ).id
            for n in range(agents)
        ]  # fmt: skip
        if not routed:
            return org.id, users
        for n, language in enumerate(TEXTS):
            team = routing.create_team(
                session, org_id=org.id, data=TeamIn(name=f"service-{language}", is_default=n == 2)
            )
            routing.create_rule(
                session, org_id=org.id, data=RuleIn(language=language, team_id=team.id)
            )
        for n, user_id in enumerate(users):
            language = list(TEXTS)[n % 3]
            profile = AgentRoutingIn(
                languages=[language, "en"], capacity={"chat": 3}, teams=[f"service-{language}"]
            )
            routing.update_agent(session, org_id=org.id, user_id=user_id, data=profile)
            routing.set_presence(session, org_id=org.id, user_id=user_id, presence=Presence.online)
        return org.id, users


def _send(org_id: int, messages: int, threads: int, tag: str) -> tuple[float, list[float]]:
    from opencx.conversations import service as conversations
    from opencx.conversations.schemas import InboundMessageIn

    languages = list(TEXTS)

    def one(n: int) -> float:
        data = InboundMessageIn.model_validate(
            {
                "channel": "chat",
                "channel_message_id": f"{tag}-{n}",
                "sender": {"kind": "social", "namespace": "chat", "value": f"{tag}-visitor-{n}"},
                "body": TEXTS[languages[n % 3]],
                "received_at": datetime.now(UTC),
            }
        )
        started = time.perf_counter()
        with session_scope() as session:
            conversations.record_inbound_message(session, org_id=org_id, data=data)
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = list(pool.map(one, range(messages)))
    return time.perf_counter() - started, latencies


def _check(org_id: int, messages: int, capacity: int) -> tuple[int, int]:
    from opencx.conversations.models import Conversation

    with session_scope() as session:
        rows = session.execute(
            sa.select(Conversation.assignee_id, sa.func.count())
            .where(Conversation.org_id == org_id)
            .group_by(Conversation.assignee_id)
        ).all()
    stored = sum(count for _, count in rows)
    assert stored == messages, f"{stored} conversations stored, {messages} sent"
    over = [(user, count) for user, count in rows if user is not None and count > capacity]
    assert not over, f"agents over capacity: {over}"
    waiting = sum(count for user, count in rows if user is None)
    return stored - waiting, waiting


def run(url: str, args: argparse.Namespace) -> None:
    from opencx.conversations.routing import service as routing
    from opencx.conversations.routing.schemas import AgentRoutingIn

    migrate.upgrade(url)
    os.environ["OPENCX_DATABASE_URL"] = url
    reset_caches()
    load_domains()
    plain_org, _ = _organization("plain", args.agents, routed=False)
    routed_org, users = _organization("routed", args.agents, routed=True)
    # Warm up the language detector (it loads its model once per process).
    _send(plain_org, 3, 1, "warm")
    for label, org_id in (("without routing", plain_org), ("with routing", routed_org)):
        seconds, latencies = _send(org_id, args.messages, args.threads, label.replace(" ", "-"))
        latencies.sort()
        print(
            f"{label:16} {args.messages / seconds:7.1f} new conversations/s "
            f"(p50 {statistics.median(latencies) * 1000:.1f} ms, "
            f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms)"
        )
    assigned, waiting = _check(routed_org, args.messages, capacity=3)
    print(f"routed: {assigned} assigned (3 chats per agent at most), {waiting} waiting")
    # Every agent gets room: the whole queue is served in that one decision.
    started = time.perf_counter()
    with session_scope() as session:
        for n, user_id in enumerate(users):
            language = list(TEXTS)[n % 3]
            profile = AgentRoutingIn(
                languages=[language, "en"],
                capacity={"chat": 1000},
                teams=[f"service-{language}"],
            )
            routing.update_agent(session, org_id=routed_org, user_id=user_id, data=profile)
    seconds = time.perf_counter() - started
    assigned_after, waiting_after = _check(routed_org, args.messages, capacity=1000)
    print(
        f"queue of {waiting} served in {seconds * 1000:.0f} ms over {len(users)} profile saves "
        f"({waiting_after} still waiting, {assigned_after} assigned)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgres", help="admin URL; default SQLite")
    args = parser.parse_args()
    if args.postgres:
        with temporary_postgres(args.postgres) as url:
            print("PostgreSQL")
            run(url, args)
        return
    with tempfile.TemporaryDirectory() as folder:
        os.environ["OPENCX_DATA_DIR"] = folder
        print("SQLite")
        run(f"sqlite:///{Path(folder) / 'opencx.db'}", args)


if __name__ == "__main__":
    main()
